package handlers

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Watch delivery over HTTP/2 (TLS), the path client-go takes by default:
// streams go through the ResponseWriter, many multiplexed on a connection.

// h2Clients returns n HTTP/2 clients of srv, each with its own connection
// pool: n = 1 multiplexes every watch on one connection.
func h2Clients(e *watchEnv, n int) []*http.Client {
	cs := make([]*http.Client, n)
	for i := range cs {
		tr := e.srv.Client().Transport.(*http.Transport).Clone()
		tr.ForceAttemptHTTP2 = true
		cs[i] = &http.Client{Transport: tr}
	}
	return cs
}

// BenchmarkWatchHTTP2Latency: 100 JSON watches of pods over HTTP/2, on one
// connection and on 100, while pods are updated at 50/s; one op = one
// update delivered to every watch. Reports the delivery latency (hub
// publish → line read by the client) p50/p99 over all deliveries (issue
// target: p99 ≤ 10 ms at 10k pods; the store size does not enter delivery).
func BenchmarkWatchHTTP2Latency(b *testing.B) {
	for _, conns := range []int{1, 100} {
		b.Run(fmt.Sprintf("watchers=100/conns=%d", conns), func(b *testing.B) { benchH2Latency(b, 100, conns) })
	}
}

// h2Reader reads one watch stream, recording when each line arrived.
type h2Reader struct {
	at []time.Time
}

func benchH2Latency(b *testing.B, watchers, conns int) {
	e, th := newBenchWatchEnv(b, 100, true)
	rv := e.store.Revision()
	url := fmt.Sprintf("%s/api/v1/namespaces/ns-1/pods?watch=true&resourceVersion=%d", e.srv.URL, rv)
	clients := h2Clients(e, conns)
	readers := make([]*h2Reader, watchers)
	var wg sync.WaitGroup
	for i := range readers {
		resp, err := clients[i%conns].Get(url)
		if err != nil || resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			b.Fatalf("watch: %v %v", resp, err)
		}
		rd := &h2Reader{at: make([]time.Time, 0, b.N)}
		readers[i] = rd
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			r := bufio.NewReaderSize(resp.Body, 64<<10)
			for len(rd.at) < b.N {
				_, err := r.ReadSlice('\n')
				for err == bufio.ErrBufferFull {
					_, err = r.ReadSlice('\n')
				}
				if err != nil {
					return
				}
				rd.at = append(rd.at, time.Now())
			}
		}()
	}
	th.mu.Lock()
	th.order = th.order[:0]
	th.mu.Unlock()
	tick := time.NewTicker(20 * time.Millisecond) // 50 updates/s
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		e.put(b, watchBenchPod("ns-1", fmt.Sprintf("pod-%d", 1+10*(i%10)), i))
	}
	wg.Wait()
	b.StopTimer()
	th.mu.Lock()
	order := th.order
	th.mu.Unlock()
	var lat []time.Duration
	for w, rd := range readers {
		if len(rd.at) != b.N || len(order) != b.N {
			b.Fatalf("watcher %d: %d events of %d (published %d)", w, len(rd.at), b.N, len(order))
		}
		for k, at := range rd.at {
			lat = append(lat, at.Sub(order[k].at))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkWatchHTTP2Initial100: 100 concurrent watches from
// resourceVersion=0 over HTTP/2 at 10k pods of ~4 KB, on one connection and
// on 100; one op = every watch has received all its initial ADDED events
// (issue target: ≤ 3 s).
func BenchmarkWatchHTTP2Initial100(b *testing.B) {
	const watches, pods = 100, 10000
	e, _ := newBenchWatchEnv(b, pods, true)
	for _, conns := range []int{1, watches} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			clients := h2Clients(e, conns)
			for it := 0; it < b.N; it++ {
				if err := initialWatches(clients, e.srv.URL+"/api/v1/pods?watch=true&resourceVersion=0", watches, pods, 2); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100watches")
		})
	}
}

// initialWatches opens n watches spread over clients, each over HTTP/proto,
// and reads pods events from each.
func initialWatches(clients []*http.Client, url string, n, pods, proto int) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := clients[w%len(clients)].Get(url)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if resp.ProtoMajor != proto {
				errs <- fmt.Errorf("watch over %s", resp.Proto)
				return
			}
			r := bufio.NewReaderSize(resp.Body, 64<<10)
			for k := 0; k < pods; k++ {
				line, err := r.ReadSlice('\n')
				for err == bufio.ErrBufferFull {
					_, err = r.ReadSlice('\n')
				}
				if err != nil {
					errs <- fmt.Errorf("event %d: %w", k, err)
					return
				}
				if k == 0 && !strings.HasPrefix(string(line), `{"type":"ADDED"`) {
					errs <- fmt.Errorf("frame %.60q", line)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
