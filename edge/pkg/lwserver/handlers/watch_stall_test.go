package handlers

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// A client that stops reading is evicted by the hub once its queue
// overflows and, since it does not read the ERROR event either, its
// connection is closed after the policy's CutOffGrace instead of after
// WriteTimeout: the stream ends as "evicted" with the client still silent.
func TestWatchStalledClientCutOff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noHijack bool
	}{
		{"hijacked HTTP/1.1", false},
		{"through the ResponseWriter", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const sendBuffer = 16 << 10
			policy := watchhub.EvictionPolicy{MaxQueueEvents: 5, CutOffGrace: 200 * time.Millisecond, WriteTimeout: time.Hour, SendBufferBytes: sendBuffer}
			e := newWatchEnv(t, dao.Options{}, watchhub.Options{Eviction: policy}, WatchOptions{NoHijack: tc.noHijack})
			ws := e.h.watch.(*watchServer)

			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /api/v1/pods?watch=true&resourceVersion=%d HTTP/1.1\r\nHost: x\r\n\r\n", e.store.Revision())
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("watch: %v %v", resp, err)
			}
			waitFor(t, "the watcher to be live", func() bool { return metricValue(ws.streams) == 1 })

			// The client reads nothing more. Large objects fill the socket
			// buffers, then the queue of 5 overflows.
			// What the kernel holds for the stream stays within the bounded
			// send buffer (Linux reports twice SO_SNDBUF) all along, plus
			// what one write may put beyond it (TCP admits a write while
			// the queue is below the limit: up to one 64 KiB segment over).
			big := strings.Repeat("x", 64<<10)
			var maxQueued int64
			for i := 0; i < 200 && metricValue(ws.ended[endEvicted]) == 0; i++ {
				p := pod("default", "p"+strconv.Itoa(i), nil, "n1", "Running")
				p["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{"big": big}
				e.put(t, p)
				if st := ws.conns.stats(); st.conns == 1 {
					if st.buffers > 2*sendBuffer || st.maxQueued > st.buffers+64<<10 {
						t.Fatalf("kernel send buffer %d, queued %d: beyond 2×%d + 64 KiB", st.buffers, st.maxQueued, sendBuffer)
					}
					maxQueued = max(maxQueued, st.maxQueued)
				}
			}
			if maxQueued == 0 {
				t.Fatal("the stalled connection's send queue was never seen filled")
			}
			waitFor(t, "the stream to end as evicted", func() bool {
				return metricValue(ws.ended[endEvicted]) == 1 && metricValue(ws.streams) == 0
			})
			if st := ws.conns.stats(); st.conns != 0 {
				t.Fatalf("%d watch connections still counted after the stream ended", st.conns)
			}
			// The connection is closed: draining it ends (EOF or reset).
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, br); err != nil && isTimeout(err) {
				t.Fatalf("connection still open after the cut-off: %v", err)
			}
		})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// waitFor polls cond (every 10 ms, at most 10 s): for states reached
// asynchronously, never for timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metricValue(m prometheus.Metric) float64 {
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		panic(err)
	}
	if pb.Counter != nil {
		return pb.Counter.GetValue()
	}
	return pb.Gauge.GetValue()
}
