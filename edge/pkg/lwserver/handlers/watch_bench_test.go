package handlers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// watchBenchPod is a pod of about 4 KB (DESIGN §4's seeded pods).
func watchBenchPod(ns, name string, i int) map[string]interface{} {
	p := pod(ns, name, map[string]interface{}{"app": fmt.Sprintf("app-%d", i%100), "tier": "web"}, "edge-1", "Running")
	p["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{"pad": strings.Repeat("x", 3800)}
	return p
}

// timedHub publishes to the hub and records when each revision was
// published (the start of delivery latency).
type timedHub struct {
	hub *watchhub.Hub
	mu  sync.Mutex
	at  map[int64]time.Time
}

func (t *timedHub) Publish(evs []event.Event) {
	now := time.Now()
	t.mu.Lock()
	for _, ev := range evs {
		t.at[ev.Revision] = now
	}
	t.mu.Unlock()
	t.hub.Publish(evs)
}

func newBenchWatchEnv(b *testing.B, pods int) (*watchEnv, *timedHub) {
	b.Helper()
	e := newTestEnv(b, dao.Options{})
	hub := watchhub.New(metaclient.New(e.store), watchhub.Options{MaxWatchers: 100000})
	th := &timedHub{hub: hub, at: map[int64]time.Time{}}
	e.store.SetSubscriber(th)
	e.h.SetWatchServer(NewWatchServer(e.h, hub, WatchOptions{}))
	srv := httptest.NewServer(e.h)
	b.Cleanup(func() {
		e.h.Stop()
		srv.CloseClientConnections()
		srv.Close()
		hub.Close()
	})
	for i := 0; i < pods; i += 500 {
		err := e.store.Update(context.Background(), func(tx dao.Tx) error {
			for j := i; j < min(i+500, pods); j++ {
				if err := e.putTx(tx, watchBenchPod(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("pod-%d", j), j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return &watchEnv{testEnv: e, hub: hub, srv: srv}, th
}

func benchClient(n int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0, DisableCompression: true}}
}

// BenchmarkWatchInitial100: 100 concurrent watches from resourceVersion=0
// over 1k pods of ~4 KB; one op = every watch has received all its initial
// ADDED events (DESIGN §4 target: ≤ 1 s).
func BenchmarkWatchInitial100(b *testing.B) {
	const watches, pods = 100, 1000
	e, _ := newBenchWatchEnv(b, pods)
	c := benchClient(watches)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		var wg sync.WaitGroup
		errs := make(chan error, watches)
		for w := 0; w < watches; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := c.Get(e.srv.URL + "/api/v1/pods?watch=true&resourceVersion=0")
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				r := bufio.NewReaderSize(resp.Body, 64<<10)
				for n := 0; n < pods; n++ {
					line, err := r.ReadSlice('\n')
					for err == bufio.ErrBufferFull {
						_, err = r.ReadSlice('\n')
					}
					if err != nil {
						errs <- err
						return
					}
					if n == 0 && !strings.HasPrefix(string(line), `{"type":"ADDED"`) {
						errs <- fmt.Errorf("frame %.60q", line)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100watches")
}

var rvField = []byte(`"resourceVersion":"`)

// BenchmarkWatchFanout: N JSON watch streams of pods over HTTP; one op = one
// pod update committed and delivered to every stream. Reports the delivery
// latency (hub publish → line read by the client) p50/p99 over all
// deliveries, and deliveries per second.
func BenchmarkWatchFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, watchers int) {
	e, th := newBenchWatchEnv(b, 100)
	c := benchClient(watchers)
	rv := fmt.Sprint(e.store.Revision())
	type sample struct {
		rev int64
		at  time.Time
	}
	got := make([][]sample, watchers)
	var received atomic.Int64
	var ready sync.WaitGroup
	for w := 0; w < watchers; w++ {
		ready.Add(1)
		go func(w int) {
			resp, err := c.Get(e.srv.URL + "/api/v1/namespaces/ns-1/pods?watch=true&resourceVersion=" + rv)
			ready.Done()
			if err != nil {
				return
			}
			defer resp.Body.Close()
			r := bufio.NewReaderSize(resp.Body, 64<<10)
			for {
				line, err := r.ReadSlice('\n')
				for err == bufio.ErrBufferFull {
					_, err = r.ReadSlice('\n')
				}
				if err != nil {
					return
				}
				now := time.Now()
				var rev int64
				if i := bytes.Index(line, rvField); i >= 0 {
					rest := line[i+len(rvField):]
					if j := bytes.IndexByte(rest, '"'); j > 0 {
						rev, _ = strconv.ParseInt(string(rest[:j]), 10, 64)
					}
				}
				got[w] = append(got[w], sample{rev, now})
				received.Add(1)
			}
		}(w)
	}
	ready.Wait()
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := int64(i+1) * int64(watchers)
		e.put(b, watchBenchPod("ns-1", fmt.Sprintf("pod-%d", 1+10*(i%10)), i))
		for received.Load() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.StopTimer()
	var lat []time.Duration
	th.mu.Lock()
	for _, s := range got {
		for _, x := range s {
			if t0, ok := th.at[x.rev]; ok {
				lat = append(lat, x.at.Sub(t0))
			}
		}
	}
	th.mu.Unlock()
	if len(lat) == 0 {
		b.Fatal("no samples")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "deliveries/s")
}
