package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Watch over HTTP/2 (TLS, as Go's server negotiates it and client-go uses
// it): a stream cannot take its connection over, so it goes through the
// ResponseWriter; the properties that matter must hold there too.

// h2Env is a watch server behind an HTTP/2 TLS server that counts its
// connections and the protocol of its watch requests.
type h2Env struct {
	*watchEnv
	h2Watch  atomic.Int64 // watch requests served over HTTP/2
	h1Watch  atomic.Int64 // ... over HTTP/1.x
	clientCA []byte       // PEM of the server's certificate

	mu         sync.Mutex
	watchConns map[net.Conn]bool // connections that carried watches
}

// watchConnCount is how many connections carried watch requests.
func (env *h2Env) watchConnCount() int {
	env.mu.Lock()
	defer env.mu.Unlock()
	return len(env.watchConns)
}

func newH2Env(tb testing.TB, hopts watchhub.Options) *h2Env {
	tb.Helper()
	e := newTestEnv(tb, dao.Options{})
	hub := watchhub.New(metaclient.New(e.store), hopts)
	e.store.SetSubscriber(hub)
	e.h.watch = newWatchServer(e.h, hub, WatchOptions{})
	env := &h2Env{watchConns: map[net.Conn]bool{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			env.mu.Lock()
			env.watchConns[connOf(r.Context())] = true
			env.mu.Unlock()
			if r.ProtoMajor == 2 {
				env.h2Watch.Add(1)
			} else {
				env.h1Watch.Add(1)
			}
		}
		e.h.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnContext = e.h.ConnContext
	srv.StartTLS()
	tb.Cleanup(func() {
		e.h.Stop()
		srv.CloseClientConnections()
		srv.Close()
		hub.Close()
	})
	env.watchEnv = &watchEnv{testEnv: e, hub: hub, srv: srv}
	env.clientCA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return env
}

// h2Client is an HTTP client with its own HTTP/2 connection pool.
func (env *h2Env) h2Client() *http.Client {
	tr := env.srv.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	return &http.Client{Transport: tr}
}

func (env *h2Env) restConfig() *rest.Config {
	return &rest.Config{Host: env.srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: env.clientCA}}
}

// client-go informers of one clientset share one HTTP/2 connection, as
// client-go does for all the informers of a client, and each receives every
// event.
func TestWatchHTTP2InformersShareOneConnection(t *testing.T) {
	env := newH2Env(t, watchhub.Options{})
	env.put(t, pod("default", "seed", nil, "n1", "Running"), node("n0"))
	cs, err := kubernetes.NewForConfig(env.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	// As a client-go program does before it starts its informers (and so
	// that their first requests do not race to dial).
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	type seen struct {
		mu     sync.Mutex
		events map[string]int // name → events (add/update) received
	}
	record := func(s *seen) cache.ResourceEventHandler {
		add := func(obj interface{}) {
			m, ok := obj.(interface{ GetName() string })
			if !ok {
				return
			}
			s.mu.Lock()
			s.events[m.GetName()]++
			s.mu.Unlock()
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj interface{}) { add(obj) }}
	}
	pods, nodes := &seen{events: map[string]int{}}, &seen{events: map[string]int{}}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(record(pods)); err != nil {
		t.Fatal(err)
	}
	if _, err := factory.Core().V1().Nodes().Informer().AddEventHandler(record(nodes)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("%v did not sync", typ)
		}
	}
	waitFor(t, "both informers' watches", func() bool { return env.h2Watch.Load() >= 2 })

	const updates = 50
	for i := 0; i < updates; i++ {
		env.put(t, pod("default", fmt.Sprintf("p%d", i%5), nil, "n1", "Running"), node(fmt.Sprintf("n%d", i%3)))
	}
	count := func(s *seen) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, c := range s.events {
			n += c
		}
		return n
	}
	// seed + every update (each put is a new revision of the object).
	waitFor(t, "every event at both informers", func() bool { return count(pods) == 1+updates && count(nodes) == 1+updates })
	lister := factory.Core().V1().Pods().Lister()
	p, err := lister.Pods("default").Get("p4")
	if err != nil || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("informer cache: %v %v", p, err)
	}
	if n := env.watchConnCount(); n != 1 {
		t.Fatalf("watches over %d connections, want one HTTP/2 connection shared by the informers", n)
	}
	if env.h1Watch.Load() != 0 {
		t.Fatalf("%d watches over HTTP/1.x", env.h1Watch.Load())
	}
}

// h2Watch is one JSON watch read line by line.
type h2Watch struct {
	body io.ReadCloser
	r    *bufio.Reader
}

func openH2Watch(t *testing.T, c *http.Client, url string) *h2Watch {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("watch: %s %s", resp.Proto, resp.Status)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &h2Watch{body: resp.Body, r: bufio.NewReaderSize(resp.Body, 64<<10)}
}

// next returns the next event's type and object name.
func (w *h2Watch) next() (typ, name string, err error) {
	line, err := w.r.ReadBytes('\n')
	if err != nil {
		return "", "", err
	}
	var ev struct {
		Type   string `json:"type"`
		Object struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"object"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return "", "", fmt.Errorf("frame %.80q: %v", line, err)
	}
	return ev.Type, ev.Object.Metadata.Name, nil
}

// 100 watchers on one HTTP/2 connection, and on 100 connections: each
// receives every update, in order.
func TestWatchHTTP2ManyWatchers(t *testing.T) {
	const watchers, updates = 100, 30
	for _, tc := range []struct {
		name  string
		conns int
	}{{"one connection", 1}, {"a connection each", watchers}} {
		t.Run(tc.name, func(t *testing.T) {
			env := newH2Env(t, watchhub.Options{})
			env.put(t, pod("default", "seed", nil, "n1", "Running"))
			url := fmt.Sprintf("%s/api/v1/namespaces/default/pods?watch=true&resourceVersion=%d", env.srv.URL, env.store.Revision())
			clients := make([]*http.Client, tc.conns)
			for i := range clients {
				clients[i] = env.h2Client()
			}
			ws := make([]*h2Watch, watchers)
			for i := range ws {
				ws[i] = openH2Watch(t, clients[i%tc.conns], url)
			}
			for i := 0; i < updates; i++ {
				env.put(t, pod("default", fmt.Sprintf("p%d", i), nil, "n1", "Running"))
			}
			var wg sync.WaitGroup
			errs := make(chan error, watchers)
			for i, w := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := 0; k < updates; k++ {
						typ, name, err := w.next()
						if err != nil || typ != "ADDED" || name != fmt.Sprintf("p%d", k) {
							errs <- fmt.Errorf("watcher %d, event %d: %s %s %v", i, k, typ, name, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := env.watchConnCount(); n != tc.conns {
				t.Fatalf("watches over %d connections, want %d", n, tc.conns)
			}
			if n := env.h2Watch.Load(); n != watchers {
				t.Fatalf("%d watches over HTTP/2, want %d", n, watchers)
			}
		})
	}
}

// Handler.Stop (SIGTERM) ends an HTTP/2 watch stream cleanly: the client
// reads the end of the body (END_STREAM), not a stream reset.
func TestWatchHTTP2CleanEndOnStop(t *testing.T) {
	env := newH2Env(t, watchhub.Options{})
	env.put(t, pod("default", "a", nil, "n1", "Running"))
	w := openH2Watch(t, env.h2Client(), env.srv.URL+"/api/v1/namespaces/default/pods?watch=true&resourceVersion=0")
	if typ, name, err := w.next(); err != nil || typ != "ADDED" || name != "a" {
		t.Fatalf("%s %s %v", typ, name, err)
	}
	env.h.Stop()
	if _, _, err := w.next(); err != io.EOF {
		t.Fatalf("after Stop: %v, want the clean end of the stream (EOF)", err)
	}
	ws := env.h.watch.(*watchServer)
	waitFor(t, "the stream to end as shutdown", func() bool { return metricValue(ws.ended[endShutdown]) == 1 })
}

// A stalled stream on a shared HTTP/2 connection is evicted and cut off
// (its stream reset) while another stream on the same connection receives
// every event: the connection is not lost for the others.
func TestWatchHTTP2StalledStreamCutOff(t *testing.T) {
	policy := watchhub.EvictionPolicy{MaxQueueEvents: 5, CutOffGrace: 200 * time.Millisecond, WriteTimeout: time.Hour}
	env := newH2Env(t, watchhub.Options{Eviction: policy})
	env.put(t, pod("default", "seed", nil, "n1", "Running"))
	url := fmt.Sprintf("%s/api/v1/namespaces/default/pods?watch=true&resourceVersion=%d", env.srv.URL, env.store.Revision())
	c := env.h2Client()
	stalled := openH2Watch(t, c, url) // never read until the end
	reader := openH2Watch(t, c, url)
	ws := env.h.watch.(*watchServer)

	// The stalled stream takes Go's client stream window (4 MiB) of 64 KiB
	// objects, then blocks; its queue of 5 overflows.
	big := strings.Repeat("x", 64<<10)
	const n = 120
	got := make(chan error, 1)
	var read atomic.Int64
	go func() {
		for k := 0; k < n; k++ {
			typ, name, err := reader.next()
			if err != nil || typ != "ADDED" || name != fmt.Sprintf("p%d", k) {
				got <- fmt.Errorf("event %d: %s %s %v", k, typ, name, err)
				return
			}
			read.Add(1)
		}
		got <- nil
	}()
	for i := 0; i < n; i++ {
		p := pod("default", fmt.Sprintf("p%d", i), nil, "n1", "Running")
		p["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{"big": big}
		env.put(t, p)
		// The reader keeps within its queue of 5; the stalled one does not
		// read at all.
		waitFor(t, "the reader", func() bool { return read.Load() >= int64(i-1) || len(got) > 0 })
	}
	if err := <-got; err != nil {
		t.Fatalf("the reading stream on the shared connection: %v", err)
	}
	waitFor(t, "the stalled stream to end as evicted", func() bool { return metricValue(ws.ended[endEvicted]) == 1 })
	// The stalled client finds what was buffered, then the reset stream.
	_, err := io.Copy(io.Discard, stalled.r)
	if err == nil {
		t.Fatal("the stalled stream ended cleanly; want it cut off")
	}
	if n := env.watchConnCount(); n != 1 {
		t.Fatalf("watches over %d connections, want 1", n)
	}
}
