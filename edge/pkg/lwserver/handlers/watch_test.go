package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	restclientwatch "k8s.io/client-go/rest/watch"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

type watchEnv struct {
	*testEnv
	hub *watchhub.Hub
	srv *httptest.Server
}

func newWatchEnv(tb testing.TB, dopts dao.Options, hopts watchhub.Options, wopts WatchOptions) *watchEnv {
	tb.Helper()
	e := newTestEnv(tb, dopts)
	hub := watchhub.New(metaclient.New(e.store), hopts)
	e.store.SetSubscriber(hub)
	e.h.watch = newWatchServer(e.h, hub, wopts)
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.ConnContext = e.h.ConnContext
	srv.Start()
	tb.Cleanup(func() {
		e.h.Stop()
		srv.CloseClientConnections()
		srv.Close()
		hub.Close()
	})
	return &watchEnv{testEnv: e, hub: hub, srv: srv}
}

// jsonEvent is one decoded JSON watch frame.
type jsonEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func (ev jsonEvent) meta(tb testing.TB) metav1.ObjectMeta {
	tb.Helper()
	var o struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(ev.Object, &o); err != nil {
		tb.Fatalf("bad object %s: %v", ev.Object, err)
	}
	return o.Metadata
}

func (ev jsonEvent) status(tb testing.TB) metav1.Status {
	tb.Helper()
	var s metav1.Status
	if err := json.Unmarshal(ev.Object, &s); err != nil {
		tb.Fatalf("bad status %s: %v", ev.Object, err)
	}
	return s
}

// watchStream is an open JSON watch.
type watchStream struct {
	resp   *http.Response
	events chan jsonEvent
	done   chan error
}

func (e *watchEnv) watch(tb testing.TB, path string, hdr ...string) *watchStream {
	tb.Helper()
	ws := e.open(tb, path, hdr...)
	ws.read()
	return ws
}

// open starts a watch without reading it (see read).
func (e *watchEnv) open(tb testing.TB, path string, hdr ...string) *watchStream {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	ws := &watchStream{resp: resp, events: make(chan jsonEvent, 10000), done: make(chan error, 1)}
	tb.Cleanup(func() { resp.Body.Close() })
	return ws
}

// read starts reading the stream's events.
func (ws *watchStream) read() {
	resp := ws.resp
	if resp.StatusCode != http.StatusOK {
		return
	}
	go func() {
		r := bufio.NewReaderSize(resp.Body, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				var ev jsonEvent
				if jerr := json.Unmarshal(line, &ev); jerr != nil {
					ws.done <- fmt.Errorf("bad frame %q: %v", line, jerr)
					close(ws.events)
					return
				}
				ws.events <- ev
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				ws.done <- err
				close(ws.events)
				return
			}
		}
	}()
}

func (ws *watchStream) next(tb testing.TB) jsonEvent {
	tb.Helper()
	select {
	case ev, ok := <-ws.events:
		if !ok {
			tb.Fatalf("watch ended: %v", <-ws.done)
		}
		return ev
	case <-time.After(5 * time.Second):
		tb.Fatal("no watch event within 5 s")
	}
	return jsonEvent{}
}

func (ws *watchStream) expectEnd(tb testing.TB, within time.Duration) {
	tb.Helper()
	select {
	case ev, ok := <-ws.events:
		if ok {
			tb.Fatalf("unexpected event %s %s", ev.Type, ev.Object)
		}
		if err := <-ws.done; err != nil {
			tb.Fatalf("stream ended with %v (want a clean end)", err)
		}
	case <-time.After(within):
		tb.Fatalf("stream did not end within %v", within)
	}
}

func (ws *watchStream) expectQuiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case ev, ok := <-ws.events:
		if ok {
			tb.Fatalf("unexpected event %s %s", ev.Type, ev.Object)
		}
		tb.Fatalf("stream ended: %v", <-ws.done)
	case <-time.After(d):
	}
}

func expectEvent(tb testing.TB, ev jsonEvent, typ, name string) metav1.ObjectMeta {
	tb.Helper()
	m := ev.meta(tb)
	if ev.Type != typ || m.Name != name {
		tb.Fatalf("got %s %s, want %s %s: %s", ev.Type, m.Name, typ, name, ev.Object)
	}
	return m
}

func rvOf(tb testing.TB, m metav1.ObjectMeta) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(m.ResourceVersion, 10, 64)
	if err != nil {
		tb.Fatalf("resourceVersion %q", m.ResourceVersion)
	}
	return n
}

func TestWatchFromZeroThenLive(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", nil, "n1", "Running"), pod("default", "b", nil, "n1", "Running"), pod("other", "c", nil, "n1", "Running"))
	ws := e.watch(t, "/api/v1/namespaces/default/pods?watch=true")
	if ws.resp.StatusCode != 200 || ws.resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d content-type %q", ws.resp.StatusCode, ws.resp.Header.Get("Content-Type"))
	}
	if te := ws.resp.TransferEncoding; len(te) != 1 || te[0] != "chunked" {
		t.Fatalf("transfer-encoding %v", te)
	}
	a := expectEvent(t, ws.next(t), "ADDED", "a")
	expectEvent(t, ws.next(t), "ADDED", "b")
	ws.expectQuiet(t, 100*time.Millisecond)

	e.put(t, pod("default", "a", nil, "n1", "Failed"))
	m := expectEvent(t, ws.next(t), "MODIFIED", "a")
	if rvOf(t, m) <= rvOf(t, a) {
		t.Fatalf("rv %s after %s", m.ResourceVersion, a.ResourceVersion)
	}
	e.put(t, pod("other", "x", nil, "n1", "Running")) // other namespace: not seen
	e.delete(t, podRes(t, e), "default", "b")
	d := expectEvent(t, ws.next(t), "DELETED", "b")
	if rvOf(t, d) != e.store.Revision() {
		t.Fatalf("DELETED rv %s, store %d", d.ResourceVersion, e.store.Revision())
	}
	// The raw frame carries kind and apiVersion.
	e.put(t, pod("default", "z", nil, "n1", "Running"))
	ev := ws.next(t)
	if !strings.HasPrefix(string(ev.Object), `{"apiVersion":"v1","kind":"Pod"`) && !strings.Contains(string(ev.Object), `"kind":"Pod"`) {
		t.Fatalf("object %s", ev.Object)
	}
}

func podRes(tb testing.TB, e *watchEnv) kube.Resource {
	r, ok := e.mapper.ByGVR(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	if !ok {
		tb.Fatal("no pods")
	}
	return r
}

func TestWatchFromRevisionExact(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", nil, "n1", "Running"))
	from := e.store.Revision()
	e.put(t, pod("default", "b", nil, "n1", "Running"))
	e.put(t, pod("default", "a", nil, "n1", "Failed"))
	ws := e.watch(t, "/api/v1/pods?watch=1&resourceVersion="+strconv.FormatInt(from, 10))
	expectEvent(t, ws.next(t), "ADDED", "b")
	expectEvent(t, ws.next(t), "MODIFIED", "a")
	ws.expectQuiet(t, 100*time.Millisecond)
	// legacy /watch/ path, single object
	ws2 := e.watch(t, "/api/v1/watch/namespaces/default/pods/a?resourceVersion="+strconv.FormatInt(from, 10))
	expectEvent(t, ws2.next(t), "MODIFIED", "a")
	e.put(t, pod("default", "b", nil, "n1", "Failed"))
	e.put(t, pod("default", "a", nil, "n2", "Failed"))
	expectEvent(t, ws.next(t), "MODIFIED", "b")
	expectEvent(t, ws.next(t), "MODIFIED", "a")
	expectEvent(t, ws2.next(t), "MODIFIED", "a")
	// fieldSelector metadata.name on the collection
	ws3 := e.watch(t, "/api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3Db")
	expectEvent(t, ws3.next(t), "ADDED", "b")
	ws3.expectQuiet(t, 50*time.Millisecond)
}

func TestWatchTooOldIsExpiredErrorEvent(t *testing.T) {
	e := newWatchEnv(t, dao.Options{WindowEvents: 2, WindowAge: -1, CompactInterval: -1}, watchhub.Options{RingSize: 2}, WatchOptions{})
	for i := 0; i < 10; i++ {
		e.put(t, pod("default", fmt.Sprintf("p%d", i), nil, "n1", "Running"))
	}
	if err := e.store.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.store.CompactedRevision() < 3 {
		t.Fatalf("compacted %d", e.store.CompactedRevision())
	}
	ws := e.watch(t, "/api/v1/pods?watch=true&resourceVersion=2")
	if ws.resp.StatusCode != 200 {
		t.Fatalf("status %d", ws.resp.StatusCode)
	}
	ev := ws.next(t)
	st := ev.status(t)
	if ev.Type != "ERROR" || st.Code != 410 || st.Reason != metav1.StatusReasonExpired ||
		st.Message != fmt.Sprintf("too old resource version: 2 (%d)", e.store.CompactedRevision()) {
		t.Fatalf("%s %+v", ev.Type, st)
	}
	ws.expectEnd(t, time.Second)
}

func TestWatchBookmarksAndWatchList(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{BookmarkInterval: 50 * time.Millisecond}, WatchOptions{InitialPageSize: 2})
	for i := 0; i < 5; i++ {
		e.put(t, pod("default", fmt.Sprintf("p%d", i), map[string]interface{}{"app": "x"}, "n1", "Running"))
	}
	rev := e.store.Revision()
	ws := e.watch(t, "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
	for i := 0; i < 5; i++ {
		expectEvent(t, ws.next(t), "ADDED", fmt.Sprintf("p%d", i))
	}
	ev := ws.next(t)
	m := ev.meta(t)
	if ev.Type != "BOOKMARK" || m.Annotations[metav1.InitialEventsAnnotationKey] != "true" || rvOf(t, m) != rev {
		t.Fatalf("%s %s", ev.Type, ev.Object)
	}
	if !strings.Contains(string(ev.Object), `"kind":"Pod","apiVersion":"v1"`) {
		t.Fatalf("bookmark object %s", ev.Object)
	}
	// periodic bookmark at the current revision
	ev = ws.next(t)
	if ev.Type != "BOOKMARK" || rvOf(t, ev.meta(t)) != rev || ev.meta(t).Annotations != nil {
		t.Fatalf("%s %s", ev.Type, ev.Object)
	}
	e.put(t, pod("default", "p9", nil, "n1", "Running"))
	for {
		ev = ws.next(t)
		if ev.Type != "BOOKMARK" {
			break
		}
	}
	expectEvent(t, ev, "ADDED", "p9")

	// resourceVersion newer than the store: waits, then 504 as an ERROR event.
	ws2 := e.watch(t, fmt.Sprintf("/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=%d", rev+100))
	ev = ws2.next(t)
	if st := ev.status(t); ev.Type != "ERROR" || st.Code != 504 || !strings.Contains(st.Message, "Too large resource version") {
		t.Fatalf("%s %s", ev.Type, ev.Object)
	}
}

func TestWatchSelectorTransitions(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", map[string]interface{}{"app": "web"}, "n1", "Running"))
	ws := e.watch(t, "/api/v1/pods?watch=true&labelSelector=app%3Dweb")
	expectEvent(t, ws.next(t), "ADDED", "a")
	e.put(t, pod("default", "a", map[string]interface{}{"app": "db"}, "n1", "Running"))
	d := expectEvent(t, ws.next(t), "DELETED", "a")
	if rvOf(t, d) != e.store.Revision() || d.Labels["app"] != "web" {
		t.Fatalf("DELETED %+v (store %d)", d, e.store.Revision())
	}
	e.put(t, pod("default", "a", map[string]interface{}{"app": "web"}, "n1", "Running"))
	expectEvent(t, ws.next(t), "ADDED", "a")
}

func TestWatchTimeoutShutdownAndLimits(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{MaxWatchers: 2}, WatchOptions{})
	e.put(t, pod("default", "a", nil, "n1", "Running"))
	start := time.Now()
	ws := e.watch(t, "/api/v1/pods?watch=true&timeoutSeconds=1")
	expectEvent(t, ws.next(t), "ADDED", "a")
	ws.expectEnd(t, 3*time.Second)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("ended after %v", d)
	}

	w1 := e.watch(t, "/api/v1/pods?watch=true")
	w2 := e.watch(t, "/api/v1/pods?watch=true&resourceVersion=0")
	expectEvent(t, w1.next(t), "ADDED", "a")
	expectEvent(t, w2.next(t), "ADDED", "a")
	w3 := e.watch(t, "/api/v1/pods?watch=true")
	if w3.resp.StatusCode != 429 || w3.resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("third watch: %d %v", w3.resp.StatusCode, w3.resp.Header)
	}
	// YAML has no stream encoding
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/pods?watch=true", nil)
	req.Header.Set("Accept", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 406 {
		t.Fatalf("yaml watch: %d", resp.StatusCode)
	}

	// Server shutdown ends every stream cleanly.
	e.h.Stop()
	w1.expectEnd(t, 2*time.Second)
	w2.expectEnd(t, 2*time.Second)
}

func TestWatchFutureRevisionWaits(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", nil, "n1", "Running"))
	rev := e.store.Revision()
	ws := e.watch(t, fmt.Sprintf("/api/v1/pods?watch=true&resourceVersion=%d", rev+1))
	if ws.resp.StatusCode != 200 {
		t.Fatalf("status %d", ws.resp.StatusCode)
	}
	ws.expectQuiet(t, 100*time.Millisecond)
	e.put(t, pod("default", "b", nil, "n1", "Running")) // rev+1: not after it
	e.put(t, pod("default", "c", nil, "n1", "Running"))
	expectEvent(t, ws.next(t), "ADDED", "c")
}

func TestWatchEvictedGetsExpired(t *testing.T) {
	// A grace longer than the test: the client reads again and gets the
	// ERROR (TestWatchStalledClientCutOff: one that never reads again).
	policy := watchhub.EvictionPolicy{MaxQueueEvents: 5, CutOffGrace: time.Minute}
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{Eviction: policy}, WatchOptions{})
	ws := e.open(t, "/api/v1/pods?watch=true&resourceVersion="+strconv.FormatInt(e.store.Revision(), 10))
	time.Sleep(50 * time.Millisecond)
	// Large objects fill the socket buffers, then the hub queue overflows.
	big := strings.Repeat("x", 64<<10)
	written := make(chan struct{})
	defer func() { <-written }()
	go func() {
		defer close(written)
		for i := 0; i < 400; i++ {
			p := pod("default", fmt.Sprintf("p%d", i), nil, "n1", "Running")
			p["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{"big": big}
			e.put(t, p)
		}
	}()
	// Do not read for a while.
	time.Sleep(2 * time.Second)
	ws.read()
	n := 0
	for {
		ev, ok := <-ws.events
		if !ok {
			t.Fatalf("stream ended without ERROR after %d events: %v", n, <-ws.done)
		}
		if ev.Type == "ERROR" {
			st := ev.status(t)
			if st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
				t.Fatalf("%+v", st)
			}
			break
		}
		n++
	}
	if n >= 400 {
		t.Fatalf("not evicted (%d events)", n)
	}
	ws.expectEnd(t, time.Second)
}

func TestWatchTable(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", nil, "n1", "Running"), pod("default", "b", nil, "n1", "Running"))
	ws := e.watch(t, "/api/v1/namespaces/default/pods?watch=true", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	var tables []metav1.Table
	for i := 0; i < 2; i++ {
		ev := ws.next(t)
		var tb metav1.Table
		if err := json.Unmarshal(ev.Object, &tb); err != nil || ev.Type != "ADDED" || tb.Kind != "Table" || len(tb.Rows) != 1 {
			t.Fatalf("%s %s (%v)", ev.Type, ev.Object, err)
		}
		tables = append(tables, tb)
	}
	if len(tables[0].ColumnDefinitions) == 0 || len(tables[1].ColumnDefinitions) != 0 {
		t.Fatalf("columns: %d then %d", len(tables[0].ColumnDefinitions), len(tables[1].ColumnDefinitions))
	}
	if tables[0].Rows[0].Cells[0] != "a" {
		t.Fatalf("cells %v", tables[0].Rows[0].Cells)
	}
	e.put(t, pod("default", "a", nil, "n1", "Failed"))
	ev := ws.next(t)
	var tb metav1.Table
	if err := json.Unmarshal(ev.Object, &tb); err != nil || ev.Type != "MODIFIED" || len(tb.Rows) != 1 || tb.ResourceVersion != strconv.FormatInt(e.store.Revision(), 10) {
		t.Fatalf("%s %s", ev.Type, ev.Object)
	}
	if !strings.Contains(fmt.Sprint(tb.Rows[0].Cells), "Failed") {
		t.Fatalf("cells %v", tb.Rows[0].Cells)
	}
	// A second Table watcher gets the headers on its first event even
	// though the first watcher's encoding (no headers) is cached.
	from := strconv.FormatInt(e.store.Revision()-1, 10)
	ws2 := e.watch(t, "/api/v1/namespaces/default/pods?watch=true&resourceVersion="+from, "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	ev = ws2.next(t)
	if err := json.Unmarshal(ev.Object, &tb); err != nil || len(tb.ColumnDefinitions) == 0 {
		t.Fatalf("%s", ev.Object)
	}
}

func TestWatchPartialObjectMetadata(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", map[string]interface{}{"k": "v"}, "n1", "Running"))
	ws := e.watch(t, "/api/v1/pods?watch=true", "Accept", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")
	ev := ws.next(t)
	if !strings.HasPrefix(string(ev.Object), `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":`) || ev.meta(t).Labels["k"] != "v" {
		t.Fatalf("%s", ev.Object)
	}
}

// protobuf: length-prefixed WatchEvents with enveloped typed objects,
// decoded as client-go decodes them.
func TestWatchProtobuf(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	e.put(t, pod("default", "a", map[string]interface{}{"app": "web"}, "n1", "Running"))
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", nil)
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf;stream=watch, application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.kubernetes.protobuf;stream=watch" {
		t.Fatalf("content-type %q", ct)
	}
	info, ok := runtime.SerializerInfoForMediaType(e.h.Codecs().SupportedMediaTypes(), MediaTypeProtobuf)
	if !ok || info.StreamSerializer == nil {
		t.Fatal("no protobuf stream serializer")
	}
	fr := info.StreamSerializer.Framer.NewFrameReader(resp.Body)
	dec := restclientwatch.NewDecoder(streaming.NewDecoder(fr, info.StreamSerializer.Serializer), e.h.Codecs().UniversalDeserializer())
	defer dec.Close()
	next := func() (watch.EventType, runtime.Object) {
		t.Helper()
		type res struct {
			typ watch.EventType
			obj runtime.Object
			err error
		}
		ch := make(chan res, 1)
		go func() {
			typ, obj, err := dec.Decode()
			ch <- res{typ, obj, err}
		}()
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatal(r.err)
			}
			return r.typ, r.obj
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return "", nil
	}
	typ, obj := next()
	p, ok := obj.(*corev1.Pod)
	if typ != watch.Added || !ok || p.Name != "a" || p.Spec.NodeName != "n1" {
		t.Fatalf("%s %#v", typ, obj)
	}
	typ, obj = next()
	if p, ok := obj.(*corev1.Pod); typ != watch.Bookmark || !ok || p.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("%s %#v", typ, obj)
	}
	e.put(t, pod("default", "a", map[string]interface{}{"app": "web"}, "n1", "Failed"))
	typ, obj = next()
	if p, ok := obj.(*corev1.Pod); typ != watch.Modified || !ok || p.Status.Phase != corev1.PodFailed || p.ResourceVersion != strconv.FormatInt(e.store.Revision(), 10) {
		t.Fatalf("%s %#v", typ, obj)
	}
}

// Each committed event is encoded once, whatever the number of streams.
func TestWatchEncodesOncePerEvent(t *testing.T) {
	e := newWatchEnv(t, dao.Options{}, watchhub.Options{}, WatchOptions{})
	rv := strconv.FormatInt(e.store.Revision(), 10)
	var streams []*watchStream
	for i := 0; i < 20; i++ {
		streams = append(streams, e.watch(t, "/api/v1/pods?watch=true&resourceVersion="+rv))
	}
	// the hub shares one Shared per event; the JSON frame bytes are the same slice
	wch, err := e.hub.Watch(context.Background(), watchhub.Request{GVR: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, From: e.store.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	defer wch.Stop()
	time.Sleep(50 * time.Millisecond)
	e.put(t, pod("default", "a", nil, "n1", "Running"))
	for _, ws := range streams {
		expectEvent(t, ws.next(t), "ADDED", "a")
	}
	d := <-wch.Deliveries()
	calls := 0
	b, _ := d.Event.Encoded("json|ADDED|prev=0|nohdr=0", func() ([]byte, error) { calls++; return nil, errors.New("not cached") })
	if calls != 0 || !strings.HasPrefix(string(b), `{"type":"ADDED","object":{`) {
		t.Fatalf("frame not cached (calls %d): %q", calls, b)
	}
}
