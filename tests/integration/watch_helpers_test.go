package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientfeatures "k8s.io/client-go/features"
	"k8s.io/client-go/rest"
)

// Helpers of the watch tests (watch_*_test.go).

// watchPod is a pod message content: labels, a phase, and a filler
// annotation of pad bytes (to make objects of realistic size).
func watchPod(ns, name string, labels map[string]string, phase string, pad int) map[string]any {
	md := map[string]any{"name": name, "namespace": ns, "uid": "uid-" + ns + "-" + name,
		"creationTimestamp": "2024-01-01T00:00:00Z"}
	if len(labels) > 0 {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		md["labels"] = l
	}
	if pad > 0 {
		md["annotations"] = map[string]any{"pad": strings.Repeat("x", pad)}
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": md,
		"spec": map[string]any{"nodeName": "edge-1", "containers": []any{
			map[string]any{"name": "c", "image": "nginx"}}},
		"status": map[string]any{"phase": phase},
	}
}

func podMsg(op, ns, name string, labels map[string]string, phase string) Message {
	return Msg(op, ns+"/pod/"+name, watchPod(ns, name, labels, phase, 0))
}

// requestLog is a RoundTripper that counts the requests client-go makes
// (LIST, WATCH, WatchList) and can refuse connections on demand, as a
// stopped server would.
type requestLog struct {
	next    http.RoundTripper
	refuse  atomic.Bool
	mu      sync.Mutex
	entries []string // "LIST /api/v1/pods?…", "WATCH …"
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if l.refuse.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	kind := "LIST"
	q := r.URL.Query()
	if q.Get("watch") == "true" || q.Get("watch") == "1" || strings.Contains(r.URL.Path, "/watch/") {
		kind = "WATCH"
	}
	if r.URL.Query().Get("sendInitialEvents") == "true" {
		kind = "WATCHLIST"
	}
	l.mu.Lock()
	l.entries = append(l.entries, kind+" "+r.URL.RequestURI())
	l.mu.Unlock()
	return l.next.RoundTrip(r)
}

// count returns how many requests of kind were made.
func (l *requestLog) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if strings.HasPrefix(e, kind+" ") {
			n++
		}
	}
	return n
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.entries, "\n")
}

// loggedConfig is restConfig(e) with requests going through a requestLog.
func loggedConfig(e *Edgecore) (*rest.Config, *requestLog) {
	cfg := restConfig(e)
	l := &requestLog{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		l.next = rt
		return l
	}
	return cfg, l
}

// client-go's feature gates are process-wide; the watch tests choose
// WatchListClient per test through this wrapper (0 = client-go's default).
type testGates struct {
	base      clientfeatures.Gates
	watchList atomic.Int32 // 0 default, 1 on, 2 off
}

func (g *testGates) Enabled(f clientfeatures.Feature) bool {
	if f == clientfeatures.WatchListClient {
		switch g.watchList.Load() {
		case 1:
			return true
		case 2:
			return false
		}
	}
	return g.base.Enabled(f)
}

var (
	gatesOnce sync.Once
	gates     *testGates
)

// setWatchListClient turns client-go's WatchListClient feature on or off
// for the rest of the test (tests using it must not run in parallel).
func setWatchListClient(t *testing.T, on bool) {
	gatesOnce.Do(func() {
		gates = &testGates{base: clientfeatures.FeatureGates()}
		clientfeatures.ReplaceFeatureGates(gates)
	})
	v := int32(2)
	if on {
		v = 1
	}
	gates.watchList.Store(v)
	t.Cleanup(func() { gates.watchList.Store(0) })
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCompacted waits until edgecore's compactor has passed rev.
func waitCompacted(t *testing.T, e *Edgecore, rev int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, _, m := httpDo(t, "GET", e.URL()+"/metrics", nil)
		if c := metricValue(string(m), "lwserver_store_compacted_revision"); c > rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compaction past %d within %v", rev, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func storeRevision(t *testing.T, e *Edgecore) int64 {
	t.Helper()
	_, _, m := httpDo(t, "GET", e.URL()+"/metrics", nil)
	r := metricValue(string(m), "lwserver_store_revision")
	if r < 0 {
		t.Fatal("no lwserver_store_revision metric")
	}
	return r
}

var _ = fmt.Sprintf
