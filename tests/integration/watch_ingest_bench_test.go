package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkIngestWithStalledWatchers: ingest through the real binary and
// socket (4 KB pods, 100 messages outstanding, durable acks, as
// BenchmarkIngest) while `stalled` watch streams of those pods are open and
// never read: their connections fill, their hub queues overflow and they are
// evicted. The bar: msg/s with stalled watchers within 10 % of
// stalled=0. Each sub-benchmark is its own edgecore; compare msg/s across
// sub-benchmarks (ratio = stalled=N / stalled=0).
func BenchmarkIngestWithStalledWatchers(b *testing.B) {
	for _, stalled := range []int{0, 8, 100} {
		b.Run("stalled="+strconv.Itoa(stalled), func(b *testing.B) {
			benchIngestStalled(b, stalled)
		})
	}
}

func benchIngestStalled(b *testing.B, stalled int) {
	e := StartEdgecore(b, Options{WaitAPI: true})
	defer e.Stop()
	c, err := e.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	// Warm up: every pod name exists, the database and the hub are warm.
	const warm = 5000
	if err := pipelined(c, warm, 100, func(i int) []byte { return benchLine(i) }); err != nil {
		b.Fatal(err)
	}
	// Stalled watchers: a raw connection that sends the request and never
	// reads. They start at the current revision, so they are live at once.
	body := getBody(b, e.URL()+"/api/v1/namespaces/bench/pods?limit=1")
	rv := jsonField(body, `"resourceVersion":"`)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < stalled; i++ {
		conn, err := e.DialTLS()
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		if _, err := io.WriteString(conn, "GET /api/v1/namespaces/bench/pods?watch=true&resourceVersion="+rv+" HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := getBody(b, e.URL()+"/metrics")
		if metricValueLabeled(string(m), "lwserver_watch_streams") >= int64(stalled) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d watch streams did not start", stalled)
		}
		time.Sleep(10 * time.Millisecond)
	}

	lines := make([][]byte, b.N)
	for i := range lines {
		lines[i] = benchLine(warm + i)
	}
	b.SetBytes(int64(len(lines[0])))
	b.ResetTimer()
	start := time.Now()
	if err := pipelined(c, b.N, 100, func(i int) []byte { return lines[i] }); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
	m := getBody(b, e.URL()+"/metrics")
	b.ReportMetric(float64(metricValueLabeled(string(m), "lwserver_watchhub_evictions_total")), "evictions")
}

// pipelined sends n lines on c with at most depth unacknowledged and waits
// for every (successful) reply.
func pipelined(c *Conn, n, depth int, line func(int) []byte) error {
	sem := make(chan struct{}, depth)
	var wg sync.WaitGroup
	var recvErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			r, err := c.Recv()
			if err != nil {
				recvErr = err
				return
			}
			if !r.OK() {
				recvErr = fmt.Errorf("error reply: %s", r.Raw)
				return
			}
			<-sem
		}
	}()
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		var err error
		if len(sem) == depth || i == n-1 {
			err = c.Send(line(i))
		} else {
			err = c.SendBuffered(line(i))
		}
		if err != nil {
			return err
		}
	}
	wg.Wait()
	return recvErr
}

func getBody(b *testing.B, url string) []byte {
	b.Helper()
	resp, err := AdminClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// jsonField is the string value after key (e.g. `"resourceVersion":"`).
func jsonField(body []byte, key string) string {
	s := string(body)
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}
