package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeEdgecore is just enough of edgecore to drive the watch phase: an
// ingress socket that acknowledges every message and turns it into a
// MODIFIED event, and a watch endpoint.
type fakeEdgecore struct {
	n    int
	mu   sync.Mutex
	subs map[chan []byte]bool
}

func (f *fakeEdgecore) serveSocket(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			sc := bufio.NewScanner(c)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var m struct {
					Header struct {
						MsgID string `json:"msg_id"`
					} `json:"header"`
					Route struct {
						Resource string `json:"resource"`
					} `json:"route"`
					Content json.RawMessage `json:"content"`
				}
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					continue
				}
				ev := append(append([]byte(`{"type":"MODIFIED","object":`), m.Content...), "}\n"...)
				f.mu.Lock()
				for ch := range f.subs {
					ch <- ev
				}
				f.mu.Unlock()
				fmt.Fprintf(c, `{"header":{"msg_id":"x","parent_msg_id":%q},"route":{"operation":"response","resource":%q},"content":"OK"}`+"\n", m.Header.MsgID, m.Route.Resource)
			}
		}()
	}
}

func (f *fakeEdgecore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("watch") != "true" {
		fmt.Fprint(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}`)
		return
	}
	ch := make(chan []byte, 10000)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("resourceVersion") == "0" {
		for i := 0; i < f.n; i++ {
			fmt.Fprintf(w, `{"type":"ADDED","object":%s}`+"\n", makePod(i, 1, -1))
		}
	}
	w.(http.Flusher).Flush()
	for {
		select {
		case ev := <-ch:
			_, _ = w.Write(ev)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// startFake serves a fakeEdgecore's socket; the caller serves its HTTP side.
func startFake(t *testing.T, n int) (*fakeEdgecore, string) {
	t.Helper()
	f := &fakeEdgecore{n: n, subs: map[chan []byte]bool{}}
	sock := filepath.Join(t.TempDir(), "edgecore.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go f.serveSocket(l)
	return f, sock
}

func TestWatchPhaseAgainstFake(t *testing.T) {
	const n = 50
	f, sock := startFake(t, n)
	srv := httptest.NewServer(f)
	defer srv.Close()

	b := &bench{cfg: config{updateRate: 50, updateDur: 300 * time.Millisecond, initTimeout: 10 * time.Second, reqTimeout: 5 * time.Second}}
	tg := newTarget("fake", srv.URL, nil)
	tg.newSink = b.socketSink(sock)
	for _, fromRV0 := range []bool{true, false} {
		ds := &dataSet{n: n, ours: true}
		r := b.watchPhase(tg, n, 20, watchMode{fromRV0: fromRV0}, ds)
		if fromRV0 && (r.initialNA != "" || r.initial <= 0) {
			t.Errorf("initial: %q %v", r.initialNA, r.initial)
		}
		if r.latNA != "" || len(r.lat) != 15*20 || len(r.ack) != 15 {
			t.Errorf("fromRV0=%v: latency %q %s: %d deliveries, %d acks", fromRV0, r.latNA, r.latNote, len(r.lat), len(r.ack))
		}
		t.Logf("fromRV0=%v initial %v p50 %v p99 %v (%s)", fromRV0, r.initial, percentile(r.lat, .5), percentile(r.lat, .99), r.latNote)
	}
	// A server without watch gives n/a, quickly.
	srv405 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(405) }))
	defer srv405.Close()
	t405 := newTarget("fake", srv405.URL, nil)
	t405.newSink = b.socketSink(sock)
	r := b.watchPhase(t405, n, 5, watchMode{fromRV0: true}, &dataSet{n: n, ours: true})
	if r.initialNA == "" || r.latNA == "" || r.initialNA[:3] != "n/a" {
		t.Errorf("405: %q %q", r.initialNA, r.latNA)
	}
}
