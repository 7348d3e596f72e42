package integration

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// TestWatchStalledWatchersBounded: 500 watchers that never read, through the
// real binary with its default eviction policy (docs/architecture.md,
// "Slow-watcher eviction"). What they pin is bounded while ingest goes on:
// the kernel send queue of each connection by the policy's send buffer
// (SO_SNDBUF 32 KiB, which Linux reports as 64 KiB, plus one 64 KiB segment
// TCP may admit beyond it), each hub queue by its byte bound. Each is
// evicted once its queue overflows and its connection closed after the
// cut-off grace (not the write timeout): lwserver_watch_connections falls
// back to the one reading watcher. Every ingest message is acknowledged and
// the reading watcher receives every event. Timings are logged, not
// asserted.
func TestWatchStalledWatchersBounded(t *testing.T) {
	const (
		stalled     = 500
		writers     = 2
		perWriter   = 1000 // > the default queue of 1,000 events once the sockets are full
		pad         = 3000 // ~4 KB pods
		sendBuffer  = watchhub.DefaultSendBufferBytes
		kernelBound = 2*sendBuffer + 64<<10 // per connection, see above
		queueBytes  = 16 << 20              // the policy's default MaxQueueBytes
	)
	e := startAPI(t, Options{})
	base := e.URL()
	without := injectLoad(t, e, writers, perWriter/4, pad, "warm")

	rv := strconv.FormatInt(storeRevision(t, e), 10)
	path := "/api/v1/namespaces/stress/pods?watch=true&resourceVersion=" + rv
	conns := make([]net.Conn, 0, stalled)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < stalled; i++ {
		c, err := e.DialTLS() // HTTP/1.1 over TLS: a connection each
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: stalled\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	reader := &streamRecord{end: make(chan error, 1)}
	resp, err := AdminHTTP1Client.Get(base + path)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reading watch: %v %v", resp, err)
	}
	defer resp.Body.Close()
	go readStream(resp.Body, reader)
	waitMetric(t, e, "every watch stream to start", func(m metrics) bool { return m["lwserver_watch_streams"] >= stalled+1 })

	// Sample the bounds while the ingest runs and the watchers are evicted.
	var peak metrics
	stop := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		for {
			m := scrape(t, e)
			peak.max(m)
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	with := injectLoad(t, e, writers, perWriter, pad, "b")
	final := storeRevision(t, e)
	waitMetric(t, e, "every stalled watcher to be evicted and cut off", func(m metrics) bool {
		return m[`lwserver_watch_streams_ended_total{reason="evicted"}`] >= stalled &&
			m["lwserver_watch_connections"] <= 1 && m["lwserver_watch_streams"] == 1
	})
	close(stop)
	sampled.Wait()
	peak.max(scrape(t, e))

	t.Logf("ingest %.0f msg/s before, %.0f msg/s with %d stalled watchers (%.0f%%)", without, with, stalled, 100*with/without)
	t.Logf("peaks: kernel send queues %.1f MiB in all (fullest %d KiB), send buffers %.1f MiB, hub queues %.1f MiB (fullest %.1f MiB), RSS %.0f MiB",
		mib(peak["lwserver_watch_send_queue_bytes"]), peak["lwserver_watch_send_queue_bytes_max"]>>10, mib(peak["lwserver_watch_send_buffer_bytes"]),
		mib(peak["lwserver_watchhub_queued_bytes"]), mib(peak["lwserver_watchhub_watcher_queued_bytes_max"]), mib(peak["process_resident_memory_bytes"]))

	if n := peak["lwserver_watch_send_queue_bytes_max"]; n == 0 || n > kernelBound {
		t.Errorf("fullest kernel send queue %d bytes; want filled and at most %d", n, kernelBound)
	}
	if n := peak["lwserver_watch_send_queue_bytes"]; n > (stalled+1)*kernelBound {
		t.Errorf("kernel send queues %d bytes in all, beyond %d × %d", n, stalled+1, kernelBound)
	}
	if n := peak["lwserver_watch_send_buffer_bytes"]; n > (stalled+1)*2*sendBuffer {
		t.Errorf("kernel send buffers %d bytes in all, beyond %d × 2 × %d", n, stalled+1, sendBuffer)
	}
	if n := peak["lwserver_watchhub_watcher_queued_bytes_max"]; n > queueBytes+8<<10 {
		t.Errorf("a hub queue held %d bytes, beyond the policy's %d", n, queueBytes)
	}
	if n := peak["lwserver_watchhub_evictions_total"]; n < stalled {
		t.Errorf("%d evictions, want >= %d", n, stalled)
	}
	// The reading watcher got everything, in order, without an ERROR.
	waitFor(t, 60*time.Second, "the reading watcher to reach the last revision", func() bool { return reader.lastRev() >= final })
	reader.mu.Lock()
	bad, last := reader.bad, reader.events[len(reader.events)-1]
	reader.mu.Unlock()
	if bad != "" || last[:5] == "ERROR" {
		t.Fatalf("reading watcher: %s (last %s)", bad, last)
	}
	// A stalled client finds its connection closed once it reads again.
	for i, c := range conns[:10] {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("stalled %d: connection still open", i)
			}
		}
	}
}

// metrics is a scrape of /metrics: name (with labels as served) → value.
type metrics map[string]int64

func (m *metrics) max(o metrics) {
	if *m == nil {
		*m = metrics{}
	}
	for k, v := range o {
		(*m)[k] = max((*m)[k], v)
	}
}

var scrapedMetrics = []string{
	"lwserver_watch_streams", "lwserver_watch_connections",
	"lwserver_watch_send_queue_bytes", "lwserver_watch_send_queue_bytes_max", "lwserver_watch_send_buffer_bytes",
	"lwserver_watchhub_queued_bytes", "lwserver_watchhub_watcher_queued_bytes_max", "lwserver_watchhub_evictions_total",
	`lwserver_watch_streams_ended_total{reason="evicted"}`, "process_resident_memory_bytes",
}

func scrape(t *testing.T, e *Edgecore) metrics {
	t.Helper()
	_, _, body := httpDo(t, "GET", e.URL()+"/metrics", nil)
	m := metrics{}
	for _, name := range scrapedMetrics {
		m[name] = metricValueLabeled(string(body), name)
	}
	return m
}

// waitMetric polls /metrics until cond holds (at most 60 s): for states
// reached asynchronously, never for timing.
func waitMetric(t *testing.T, e *Edgecore, what string, cond func(metrics) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		m := scrape(t, e)
		if cond(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
