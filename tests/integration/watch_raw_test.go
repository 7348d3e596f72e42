package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// rawWatch is a raw HTTP JSON watch stream.
type rawWatch struct {
	resp *http.Response
	r    *bufio.Reader
}

type rawEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func (ev rawEvent) meta() metav1.ObjectMeta {
	var o struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	_ = json.Unmarshal(ev.Object, &o)
	return o.Metadata
}

func (ev rawEvent) rev() int64 {
	n, _ := strconv.ParseInt(ev.meta().ResourceVersion, 10, 64)
	return n
}

func openWatch(t testing.TB, e *Edgecore, path string) *rawWatch {
	t.Helper()
	resp, err := AdminClient.Get(e.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &rawWatch{resp: resp, r: bufio.NewReaderSize(resp.Body, 256<<10)}
}

// next reads one event; io.EOF at the clean end of the stream.
func (w *rawWatch) next() (rawEvent, error) {
	line, err := w.r.ReadBytes('\n')
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return rawEvent{}, err
	}
	var ev rawEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return rawEvent{}, fmt.Errorf("bad frame %q: %v", line, err)
	}
	return ev, nil
}

func (w *rawWatch) mustNext(t testing.TB) rawEvent {
	t.Helper()
	ev, err := w.next()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestWatchRawHTTP: kube-apiserver's watch answers over raw HTTP — a
// compacted revision is a 200 stream with one ERROR event (410 Expired,
// "too old resource version"), watches beyond maxWatchers get 429 with
// Retry-After, timeoutSeconds ends the stream cleanly, SIGTERM ends every
// stream cleanly.
func TestWatchRawHTTP(t *testing.T) {
	e := startAPI(t, Options{Config: "modules:\n  metaManager:\n    eventLogWindowEvents: 1\n    eventLogWindowAge: 1ms\n  lwServer:\n    maxWatchers: 3\n    watchCacheEvents: 2\n"})
	for i := 0; i < 6; i++ {
		MustOK(t, e.Inject(podMsg("insert", "default", fmt.Sprintf("p%d", i), nil, "Running")))
	}
	waitCompacted(t, e, 2, 30*time.Second)

	// 410 as an ERROR event
	w := openWatch(t, e, "/api/v1/pods?watch=true&resourceVersion=1")
	if w.resp.StatusCode != 200 || w.resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("too-old watch: %d %s", w.resp.StatusCode, w.resp.Header.Get("Content-Type"))
	}
	ev := w.mustNext(t)
	var st metav1.Status
	if err := json.Unmarshal(ev.Object, &st); err != nil || ev.Type != "ERROR" || st.Code != 410 || st.Reason != metav1.StatusReasonExpired ||
		!strings.HasPrefix(st.Message, "too old resource version: 1 (") {
		t.Fatalf("%s %s", ev.Type, ev.Object)
	}
	if _, err := w.next(); err != io.EOF {
		t.Fatalf("after ERROR: %v", err)
	}

	// timeoutSeconds
	start := time.Now()
	w = openWatch(t, e, "/api/v1/pods?watch=true&timeoutSeconds=1")
	for i := 0; i < 6; i++ {
		if ev := w.mustNext(t); ev.Type != "ADDED" {
			t.Fatalf("%s", ev.Type)
		}
	}
	if _, err := w.next(); err != io.EOF || time.Since(start) < 900*time.Millisecond || time.Since(start) > 3*time.Second {
		t.Fatalf("timeoutSeconds=1: %v after %v", err, time.Since(start))
	}

	// 429 beyond maxWatchers
	rev := strconv.FormatInt(storeRevision(t, e), 10)
	var open []*rawWatch
	for i := 0; i < 3; i++ {
		w := openWatch(t, e, "/api/v1/pods?watch=true&resourceVersion="+rev)
		if w.resp.StatusCode != 200 {
			t.Fatalf("watch %d: %d", i, w.resp.StatusCode)
		}
		open = append(open, w)
	}
	code, _, body := httpDo(t, "GET", e.URL()+"/api/v1/pods?watch=true&resourceVersion="+rev, nil)
	if code != 429 || mustStatus(t, body).Reason != metav1.StatusReasonTooManyRequests {
		t.Fatalf("4th watch: %d %s", code, body)
	}
	resp, err := AdminClient.Get(e.URL() + "/api/v1/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}

	// live event to all, then SIGTERM: every stream ends cleanly (a
	// terminated chunked body: io.EOF, not an unexpected EOF or reset)
	MustOK(t, e.Inject(podMsg("update", "default", "p0", nil, "Failed")))
	for _, w := range open {
		if ev := w.mustNext(t); ev.Type != "MODIFIED" || ev.meta().Name != "p0" {
			t.Fatalf("%s %s", ev.Type, ev.Object)
		}
	}
	e.Stop()
	for i, w := range open {
		if _, err := w.next(); err != io.EOF {
			t.Fatalf("stream %d after SIGTERM: %v", i, err)
		}
	}
}

// TestWatchProtobufClient: client-go's typed clientset speaking protobuf
// (as kubelet-style clients do) gets typed Watch() events.
func TestWatchProtobufClient(t *testing.T) {
	e := startAPI(t, Options{})
	MustOK(t, e.Inject(podMsg("insert", "default", "a", web(), "Running")))
	cfg := restConfig(e)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %v", err, list)
	}
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	MustOK(t, e.Inject(podMsg("update", "default", "a", web(), "Failed")))
	MustOK(t, e.Inject(Msg("delete", "default/pod/a", nil)))
	for _, want := range []watch.EventType{watch.Modified, watch.Deleted} {
		select {
		case ev, ok := <-w.ResultChan():
			p, isPod := ev.Object.(*corev1.Pod)
			if !ok || ev.Type != want || !isPod || p.Name != "a" || p.Status.Phase != corev1.PodFailed || p.Labels["app"] != "web" {
				t.Fatalf("event %v %s %#v", ok, ev.Type, ev.Object)
			}
		case <-ctx.Done():
			t.Fatalf("no %s event", want)
		}
	}
	// the stream really was protobuf
	req, _ := http.NewRequest("GET", e.URL()+"/api/v1/pods?watch=true&timeoutSeconds=1", nil)
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf;stream=watch")
	resp, err := AdminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.kubernetes.protobuf;stream=watch" {
		t.Fatalf("content type %q", ct)
	}
}

// TestWatchKubectl: `kubectl get pods -w` prints a row for each change as it
// is injected.
func TestWatchKubectl(t *testing.T) {
	e := startAPI(t, Options{})
	MustOK(t, e.Inject(podMsg("insert", "default", "first", nil, "Running")))
	k := newKubectl(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "--kubeconfig", k.kcfg, "--cache-dir", k.cacheDir, "get", "pods", "-n", "default", "-w")
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(k.kcfg), "KUBECONFIG="+k.kcfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(what string, ok func(fields []string) bool) {
		t.Helper()
		for {
			select {
			case l, open := <-lines:
				if !open {
					t.Fatalf("kubectl exited waiting for %s; stderr:\n%s", what, stderr.String())
				}
				if ok(strings.Fields(l)) {
					return
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("kubectl printed no %s; stderr:\n%s", what, stderr.String())
			}
		}
	}
	expect("header", func(f []string) bool {
		return len(f) >= 5 && f[0] == "NAME" && f[1] == "READY" && f[2] == "STATUS" && f[3] == "RESTARTS" && f[4] == "AGE"
	})
	expect("first", func(f []string) bool { return len(f) >= 3 && f[0] == "first" && f[2] == "Running" })
	time.Sleep(300 * time.Millisecond) // the watch is open
	MustOK(t, e.Inject(podMsg("insert", "default", "second", nil, "Pending")))
	expect("second", func(f []string) bool { return len(f) >= 3 && f[0] == "second" && f[2] == "Pending" })
	MustOK(t, e.Inject(podMsg("update", "default", "first", nil, "Failed")))
	expect("first Failed", func(f []string) bool { return len(f) >= 3 && f[0] == "first" && f[2] == "Failed" })
	MustOK(t, e.Inject(podMsg("insert", "other", "elsewhere", nil, "Running"), podMsg("update", "default", "second", nil, "Running")))
	expect("second Running", func(f []string) bool {
		if len(f) > 0 && f[0] == "elsewhere" {
			t.Fatal("kubectl -n default printed a pod of another namespace")
		}
		return len(f) >= 3 && f[0] == "second" && f[2] == "Running"
	})
	if s := stderr.String(); strings.Contains(s, "error") {
		t.Fatalf("kubectl stderr:\n%s", s)
	}
}
