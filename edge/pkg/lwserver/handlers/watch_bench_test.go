package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// watchBenchPod is a pod of about 4 KB (docs/benchmarks.md's seeded pods).
func watchBenchPod(ns, name string, i int) map[string]interface{} {
	p := pod(ns, name, map[string]interface{}{"app": fmt.Sprintf("app-%d", i%100), "tier": "web"}, "edge-1", "Running")
	p["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{"pad": strings.Repeat("x", 3800)}
	return p
}

// timedHub publishes to the hub and records when each revision was
// published (the start of delivery latency).
type timedHub struct {
	hub   *watchhub.Hub
	mu    sync.Mutex
	order []published
}

type published struct {
	rev int64
	at  time.Time
}

func (t *timedHub) Publish(evs []event.Event) {
	now := time.Now()
	t.mu.Lock()
	for _, ev := range evs {
		t.order = append(t.order, published{ev.Revision, now})
	}
	t.mu.Unlock()
	t.hub.Publish(evs)
}

// newBenchWatchEnv seeds pods of ~4 KB and serves watches over plain
// HTTP/1.1, or with h2 over TLS with HTTP/2 (srv.Client() speaks it).
func newBenchWatchEnv(b *testing.B, pods int, h2 bool) (*watchEnv, *timedHub) {
	b.Helper()
	e := newTestEnv(b, dao.Options{})
	hub := watchhub.New(metaclient.New(e.store), watchhub.Options{MaxWatchers: 100000})
	th := &timedHub{hub: hub}
	e.store.SetSubscriber(th)
	e.h.watch = newWatchServer(e.h, hub, WatchOptions{})
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.ConnContext = e.h.ConnContext
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
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

// benchClient is a cheap watch client: a 64 KB read buffer takes a chunk of
// a few KB in one read (the default 4 KB takes two).
func benchClient(n int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0, DisableCompression: true, ReadBufferSize: 64 << 10}}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWatchInitial100: 100 concurrent watches from resourceVersion=0
// over 1k pods of ~4 KB; one op = every watch has received all its initial
// ADDED events (docs/benchmarks.md target: ≤ 1 s).
func BenchmarkWatchInitial100(b *testing.B) {
	const watches, pods = 100, 1000
	e, _ := newBenchWatchEnv(b, pods, false)
	clients := []*http.Client{benchClient(watches)}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		if err := initialWatches(clients, e.srv.URL+"/api/v1/pods?watch=true&resourceVersion=0", watches, pods, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100watches")
}

var rvField = []byte(`"resourceVersion":"`)

// BenchmarkWatchFanout: N JSON watch streams of pods over HTTP; one op = one
// pod update committed and delivered to every stream. Reports the delivery
// latency (hub publish → frame read by the client) p50/p99 over all
// deliveries, deliveries per second, and the process's CPU per delivery.
//
// The clients run in this process on the same cores, so they are kept as
// cheap as a client can be (rawWatch): a raw connection, the chunked framing
// parsed by hand, frames counted by their newline. Every stream receives
// every update, in order, so a stream's k-th frame is the k-th update
// published; the count and the last frame's resourceVersion are checked.
func BenchmarkWatchFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

// rawWatch is one watch stream read by a minimal client. It records the time
// each read completed frames and how many.
type rawWatch struct {
	conn    net.Conn
	reads   []rawRead
	frames  int64
	last    []byte // the last complete frame's tail (for its revision)
	partial []byte // bytes of the frame being received (only its tail kept)
}

type rawRead struct {
	frames int64 // frames completed so far
	at     time.Time
}

func dialWatch(addr, path string) (*rawWatch, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n"); err != nil {
		conn.Close()
		return nil, err
	}
	return &rawWatch{conn: conn}, nil
}

// run reads the stream until the connection ends. counter counts frames
// across streams.
func (rw *rawWatch) run(counter *atomic.Int64) error {
	buf := make([]byte, 64<<10)
	// response header
	var hdr []byte
	for {
		n, err := rw.conn.Read(buf)
		if err != nil {
			return err
		}
		hdr = append(hdr, buf[:n]...)
		if i := bytes.Index(hdr, []byte("\r\n\r\n")); i >= 0 {
			if !bytes.HasPrefix(hdr, []byte("HTTP/1.1 200")) || !bytes.Contains(bytes.ToLower(hdr[:i]), []byte("transfer-encoding: chunked")) {
				return fmt.Errorf("response %q", hdr[:i])
			}
			body := hdr[i+4:]
			return rw.body(body, buf, counter)
		}
	}
}

func (rw *rawWatch) body(pending, buf []byte, counter *atomic.Int64) error {
	const (
		sizeLine = iota
		data
		dataEnd
	)
	state, left := sizeLine, 0
	var size int
	data0 := pending
	for {
		p := data0
		done := rw.frames
		for len(p) > 0 {
			switch state {
			case sizeLine:
				c := p[0]
				p = p[1:]
				switch {
				case c == '\n':
					if size == 0 {
						return io.EOF // last chunk
					}
					state, left = data, size
				case c >= '0' && c <= '9':
					size = size<<4 | int(c-'0')
				case c >= 'a' && c <= 'f':
					size = size<<4 | int(c-'a'+10)
				case c >= 'A' && c <= 'F':
					size = size<<4 | int(c-'A'+10)
				}
			case data:
				d := p[:min(left, len(p))]
				p, left = p[len(d):], left-len(d)
				for {
					i := bytes.IndexByte(d, '\n')
					if i < 0 {
						rw.keepTail(d)
						break
					}
					rw.keepTail(d[:i])
					rw.last, rw.partial = append(rw.last[:0], rw.partial...), rw.partial[:0]
					rw.frames++
					d = d[i+1:]
				}
				if left == 0 {
					state, left = dataEnd, 2
				}
			case dataEnd:
				n := min(left, len(p))
				p, left = p[n:], left-n
				if left == 0 {
					state, size = sizeLine, 0
				}
			}
		}
		if rw.frames > done {
			rw.reads = append(rw.reads, rawRead{frames: rw.frames, at: time.Now()})
			counter.Add(rw.frames - done)
		}
		n, err := rw.conn.Read(buf)
		if err != nil {
			return err
		}
		data0 = buf[:n]
	}
}

// keepTail keeps the last 512 bytes of the current frame: where a pod's
// resourceVersion is.
func (rw *rawWatch) keepTail(b []byte) {
	const keep = 512
	if len(b) >= keep {
		rw.partial = append(rw.partial[:0], b[len(b)-keep:]...)
		return
	}
	rw.partial = append(rw.partial, b...)
	if len(rw.partial) > 2*keep {
		rw.partial = append(rw.partial[:0], rw.partial[len(rw.partial)-keep:]...)
	}
}

func (rw *rawWatch) lastRevision() int64 {
	if i := bytes.LastIndex(rw.last, rvField); i >= 0 {
		rest := rw.last[i+len(rvField):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			rev, _ := strconv.ParseInt(string(rest[:j]), 10, 64)
			return rev
		}
	}
	return 0
}

func benchFanout(b *testing.B, watchers int) {
	e, th := newBenchWatchEnv(b, 100, false)
	rv := e.store.Revision()
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	path := fmt.Sprintf("/api/v1/namespaces/ns-1/pods?watch=true&resourceVersion=%d", rv)
	var received atomic.Int64
	ws := make([]*rawWatch, watchers)
	var done sync.WaitGroup
	for w := range ws {
		rw, err := dialWatch(addr, path)
		if err != nil {
			b.Fatal(err)
		}
		ws[w] = rw
		done.Add(1)
		go func() {
			defer done.Done()
			_ = rw.run(&received)
		}()
	}
	// every stream open
	ws0 := e.h.watch.(*watchServer)
	for i := 0; ws0.active.Load() < int64(watchers); i++ {
		if i > 10000 {
			b.Fatalf("%d of %d streams open", ws0.active.Load(), watchers)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	th.mu.Lock()
	th.order = th.order[:0]
	th.mu.Unlock()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		want := int64(i+1) * int64(watchers)
		e.put(b, watchBenchPod("ns-1", fmt.Sprintf("pod-%d", 1+10*(i%10)), i))
		for received.Load() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	for _, rw := range ws {
		rw.conn.Close()
	}
	done.Wait()

	th.mu.Lock()
	order := th.order
	th.mu.Unlock()
	if len(order) != b.N {
		b.Fatalf("%d revisions published, want %d", len(order), b.N)
	}
	var lat []time.Duration
	for w, rw := range ws {
		if rw.frames != int64(b.N) {
			b.Fatalf("watcher %d: %d frames, want %d", w, rw.frames, b.N)
		}
		if got, want := rw.lastRevision(), order[len(order)-1].rev; got != want {
			b.Fatalf("watcher %d: last frame at revision %d, want %d", w, got, want)
		}
		k := int64(0)
		for _, r := range rw.reads {
			for ; k < r.frames; k++ {
				lat = append(lat, r.at.Sub(order[k].at))
			}
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "deliveries/s")
	// CPU of the whole process (store commit, hub, server and the clients)
	// per delivery: steadier than latency on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(received.Load()), "cpu-µs/delivery")
}
