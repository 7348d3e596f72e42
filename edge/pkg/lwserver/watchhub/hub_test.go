package watchhub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

func commitPods(s *testStore, n int) {
	for i := 0; i < n; i++ {
		s.commit(podAdded("default", fmt.Sprintf("p%d", i)))
	}
}

func TestLiveFilteringByIndex(t *testing.T) {
	s := newTestStore(t, Options{})
	ctx := context.Background()
	all, _ := s.hub.Watch(ctx, Request{GVR: pods})
	ns, _ := s.hub.Watch(ctx, Request{GVR: pods, Namespace: "a"})
	one, _ := s.hub.Watch(ctx, Request{GVR: pods, Namespace: "a", Name: "x"})
	other, _ := s.hub.Watch(ctx, Request{GVR: cms})
	web, _ := s.hub.Watch(ctx, Request{GVR: pods, Labels: labels.SelectorFromSet(map[string]string{"app": "web"})})

	s.commit(
		mkEvent(watch.Added, pods, "a", "x", map[string]string{"app": "web"}, nil),    // 1
		mkEvent(watch.Added, pods, "a", "y", nil, nil),                                // 2
		mkEvent(watch.Added, pods, "b", "x", nil, nil),                                // 3
		mkEvent(watch.Added, cms, "a", "x", nil, nil),                                 // 4
		mkEvent(watch.Modified, pods, "a", "x", nil, map[string]string{"app": "web"}), // 5: leaves "web"
	)
	for _, tc := range []struct {
		name string
		w    *Watcher
		want []want
	}{
		{"all", all, []want{{1, watch.Added, false}, {2, watch.Added, false}, {3, watch.Added, false}, {5, watch.Modified, false}}},
		{"namespace", ns, []want{{1, watch.Added, false}, {2, watch.Added, false}, {5, watch.Modified, false}}},
		{"name", one, []want{{1, watch.Added, false}, {5, watch.Modified, false}}},
		{"other gvr", other, []want{{4, watch.Added, false}}},
		{"labels", web, []want{{1, watch.Added, false}, {5, watch.Deleted, true}}},
	} {
		got := wants(collectN(t, tc.w, len(tc.want)))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		expectQuiet(t, tc.w, 20*time.Millisecond)
	}
	// Every watcher of one event receives the very same Shared.
	s.commit(podAdded("a", "z"))
	if d1, d2 := collectN(t, all, 1)[0], collectN(t, ns, 1)[0]; d1.Event != d2.Event || d1.Event == nil {
		t.Fatal("watchers of one event should share one *Shared")
	}
}

func TestResumeFromRing(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 100})
	commitPods(s, 50)
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 20})
	if err != nil {
		t.Fatal(err)
	}
	got := revisions(collectN(t, w, 30))
	if !reflect.DeepEqual(got, seq(21, 50)) {
		t.Fatalf("got %v", got)
	}
	commitPods(s, 5)
	if got := revisions(collectN(t, w, 5)); !reflect.DeepEqual(got, seq(51, 55)) {
		t.Fatalf("live after ring: got %v", got)
	}
	if n := s.hist.readCount(); n != 0 {
		t.Fatalf("a resume inside the ring read History %d times", n)
	}
}

func TestResumeFromHistory(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 10})
	s.hub.historyPage = 7
	commitPods(s, 100)
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := revisions(collectN(t, w, 95)); !reflect.DeepEqual(got, seq(6, 100)) {
		t.Fatalf("got %v", got)
	}
	commitPods(s, 3)
	if got := revisions(collectN(t, w, 3)); !reflect.DeepEqual(got, seq(101, 103)) {
		t.Fatalf("live after history: got %v", got)
	}
	if s.hist.readCount() == 0 {
		t.Fatal("expected History reads")
	}
}

// TestRingBoundedByBytes: the ring keeps at most RingBytes of objects even
// when RingSize would allow more; a resume from before it reads History and
// is still exact.
func TestRingBoundedByBytes(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 1000, RingBytes: 400})
	commitPods(s, 100) // each object is ~40 bytes: ~10 fit
	s.hub.mu.Lock()
	n, bytes := s.hub.ringLen, s.hub.ringBytes
	s.hub.mu.Unlock()
	if n == 0 || n > 12 || bytes > 400 {
		t.Fatalf("ring holds %d events, %d bytes; want about 10 within 400 bytes", n, bytes)
	}
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 50})
	if err != nil {
		t.Fatal(err)
	}
	if got := revisions(collectN(t, w, 50)); !reflect.DeepEqual(got, seq(51, 100)) {
		t.Fatalf("got %v", got)
	}
	if s.hist.readCount() == 0 {
		t.Fatal("a resume from before the byte-bounded ring did not read History")
	}
}

// While a watcher pages through History, the writer keeps committing and
// publishing, pushing the ring forward under it. The stream must still be
// exactly every event after From, once.
func TestResumeAcrossBoundaryWhilePublishing(t *testing.T) {
	const total = 3000
	s := newTestStore(t, Options{RingSize: 32})
	s.hub.historyPage = 13
	rng := rand.New(rand.NewPCG(1, 2))
	log := genLog(rng, total)

	// Publish the first third before anyone watches.
	s.commit(append([]event.Event(nil), log[:total/3]...)...)
	var published atomic.Int64
	published.Store(total / 3)
	// Give readers a chance to fall behind the ring while the writer runs.
	s.hist.onRead = func(int64) { time.Sleep(50 * time.Microsecond) }

	done := make(chan struct{})
	prng := rand.New(rand.NewPCG(3, 4))
	go func() {
		defer close(done)
		for i := total / 3; i < total; {
			n := min(total-i, 1+prng.IntN(8))
			s.commit(append([]event.Event(nil), log[i:i+n]...)...)
			i += n
			published.Store(int64(i))
			if prng.IntN(4) == 0 {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()

	specs := []refSpec{
		{gvr: pods},
		{gvr: pods, namespace: "edge"},
		{gvr: cms, labels: map[string]string{"app": "web"}},
		{gvr: deploys, namespace: "default", labels: map[string]string{"tier": "1"}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 24; i++ {
		spec := specs[i%len(specs)]
		from := rand.Int64N(published.Load() + 1)
		exp := refDeliveries(log, spec, from)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req := Request{GVR: spec.gvr, Namespace: spec.namespace, From: from}
			if spec.labels != nil {
				req.Labels = labels.SelectorFromSet(spec.labels)
			}
			got, _, err := follow(ctx, s.hub, req, len(exp), nil)
			if err != nil {
				errs <- fmt.Errorf("watch %+v from %d: %w (got %d of %d)", spec, from, err, len(got), len(exp))
				return
			}
			if g := wants(got); !reflect.DeepEqual(g, exp) {
				errs <- fmt.Errorf("watch %+v from %d: stream differs from the log: %s", spec, from, firstDiff(g, exp))
			}
		}()
		time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
	}
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func firstDiff(got, exp []want) string {
	for i := range min(len(got), len(exp)) {
		if got[i] != exp[i] {
			return fmt.Sprintf("at %d got %+v, want %+v", i, got[i], exp[i])
		}
	}
	return fmt.Sprintf("got %d deliveries, want %d", len(got), len(exp))
}

// waitLive waits until w has caught up and joined the live stream, so a
// test's next commits reach it through its queue rather than the ring.
func waitLive(t testing.TB, w *Watcher) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.h.mu.Lock()
		live := w.registered
		w.h.mu.Unlock()
		if live {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("watcher did not go live")
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// waitQueued waits until w's queue holds n deliveries.
func waitQueued(t testing.TB, w *Watcher, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		q := w.q.n
		w.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// History may be ahead of the hub (committed, not yet published): a watch
// from such a revision is valid and must not see those events twice.
func TestHistoryAheadOfHub(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 4})
	commitPods(s, 5)
	pending := s.commitOnly(podAdded("default", "p5"), podAdded("default", "p6"), podAdded("default", "p7")) // 6..8, not yet published

	// From inside the unpublished window.
	w1, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 7, Bookmarks: true})
	if err != nil {
		t.Fatalf("watch from a committed but unpublished revision: %v", err)
	}
	// From behind the ring: History serves up to 8, beyond the hub.
	w2, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := revisions(collectN(t, w2, 8)); !reflect.DeepEqual(got, seq(1, 8)) {
		t.Fatalf("w2: %v", got)
	}
	s.hub.Publish(pending)
	s.commit(podAdded("default", "p8")) // 9
	if got := revisions(collectN(t, w1, 2)); !reflect.DeepEqual(got, []int64{8, 9}) {
		t.Fatalf("w1: %v", got)
	}
	if got := revisions(collectN(t, w2, 1)); !reflect.DeepEqual(got, []int64{9}) {
		t.Fatalf("w2 live: %v", got)
	}
	expectQuiet(t, w1, 20*time.Millisecond)
	expectQuiet(t, w2, 20*time.Millisecond)

	if _, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 10}); !errors.Is(err, ErrFutureRevision) {
		t.Fatalf("From beyond the store: got %v, want ErrFutureRevision", err)
	}
}

func TestTooOld(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestStore(t, Options{RingSize: 10, Registerer: reg})
	commitPods(s, 100)
	s.hist.compact(50) // History keeps 51..100; ring keeps 91..100

	if _, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 49}); !errors.Is(err, ErrTooOld) {
		t.Fatalf("got %v, want ErrTooOld", err)
	}
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 50})
	if err != nil {
		t.Fatalf("From == compacted revision is exact: %v", err)
	}
	if got := revisions(collectN(t, w, 50)); !reflect.DeepEqual(got, seq(51, 100)) {
		t.Fatalf("got %v", got)
	}

	// Compacted further than the History but still inside the ring: served.
	s.hist.compact(95)
	w, err = s.hub.Watch(context.Background(), Request{GVR: pods, From: 92})
	if err != nil {
		t.Fatalf("ring should serve a revision History has compacted: %v", err)
	}
	if got := revisions(collectN(t, w, 8)); !reflect.DeepEqual(got, seq(93, 100)) {
		t.Fatalf("got %v", got)
	}
	if v := metricValue(s.hub.m.tooOld); v != 1 {
		t.Fatalf("too_old_total = %v, want 1", v)
	}
}

// Compaction that overtakes a watcher while it pages through History ends
// the stream with an ERROR (ErrTooOld → 410 Expired) rather than a gap.
func TestCompactedWhileCatchingUp(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 10})
	s.hub.historyPage = 10
	commitPods(s, 100)
	var once sync.Once
	s.hist.onRead = func(after int64) {
		if after >= 20 {
			once.Do(func() { s.hist.compact(60) })
		}
	}
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := collectN(t, w, 11)
	if r := revisions(got[:10]); !reflect.DeepEqual(r, seq(11, 20)) {
		t.Fatalf("got %v", r)
	}
	if got[10].Type != watch.Error || !errors.Is(got[10].Err, ErrTooOld) || got[10].Revision != 20 {
		t.Fatalf("want ERROR ErrTooOld at 20, got %+v", got[10])
	}
	expectClosed(t, w)
}

func TestHistoryFailure(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 5})
	commitPods(s, 20)
	boom := errors.New("disk on fire")
	s.hist.fail = boom
	w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := recv(t, w, 5*time.Second)
	if d.Type != watch.Error || !errors.Is(d.Err, boom) || errors.Is(d.Err, ErrTooOld) {
		t.Fatalf("got %+v", d)
	}
	expectClosed(t, w)
}

// A stalled reader is evicted with one ERROR; everyone else receives
// everything, and Publish never waits.
func TestEvictStalledWatcher(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestStore(t, Options{Eviction: EvictionPolicy{MaxQueueEvents: 10}, Registerer: reg})
	ctx := context.Background()
	stalled, _ := s.hub.Watch(ctx, Request{GVR: pods})
	fast, _ := s.hub.Watch(ctx, Request{GVR: pods})
	waitLive(t, stalled)
	waitLive(t, fast)

	const n = 2000
	var got []int64
	var received atomic.Int64
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for d := range fast.Deliveries() {
			got = append(got, d.Revision)
			received.Store(d.Revision)
			if len(got) == n {
				return
			}
		}
	}()
	var slowest time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		s.commit(podAdded("default", fmt.Sprint(i)))
		slowest = max(slowest, time.Since(start))
		// The fast reader keeps within its queue of 10; the stalled one
		// does not read at all.
		for int64(i+1)-received.Load() > 5 {
			time.Sleep(10 * time.Microsecond)
		}
	}
	<-readDone
	if !reflect.DeepEqual(got, seq(1, n)) {
		t.Fatalf("fast watcher lost events: got %d", len(got))
	}
	t.Logf("slowest Publish with a stalled watcher: %v", slowest)

	// The stalled watcher may hold event 1 in its hand (the channel is
	// unbuffered); its backlog was dropped at eviction. Then one ERROR.
	var last int64
	for {
		d, _ := recv(t, stalled, 5*time.Second)
		if d.Type == watch.Error {
			if !errors.Is(d.Err, ErrEvicted) {
				t.Fatalf("got %+v", d)
			}
			break
		}
		if d.Revision != last+1 || d.Revision > 1 {
			t.Fatalf("stalled watcher got %+v after %d", d, last)
		}
		last = d.Revision
	}
	expectClosed(t, stalled)
	if v := metricValue(s.hub.m.evictions.WithLabelValues("", "v1", "pods")); v != 1 {
		t.Fatalf("evictions = %v", v)
	}
	// Re-watching from the last revision seen loses nothing.
	again, err := s.hub.Watch(ctx, Request{GVR: pods, From: last})
	if err != nil {
		t.Fatal(err)
	}
	if r := revisions(collectN(t, again, n-int(last))); !reflect.DeepEqual(r, seq(last+1, n)) {
		t.Fatal("resume after eviction lost events")
	}
}

func TestEvictByBytes(t *testing.T) {
	s := newTestStore(t, Options{Eviction: EvictionPolicy{MaxQueueBytes: 1000}})
	var cutOff atomic.Int32
	w, _ := s.hub.Watch(context.Background(), Request{GVR: pods, OnEvict: func() { cutOff.Add(1) }})
	waitLive(t, w)
	big := func(name string) event.Event {
		ev := podAdded("default", name)
		ev.Object = make([]byte, 400)
		return ev
	}
	// 1 goes to the goroutine's hand, 2 and 3 fill 800 bytes, 4 overflows.
	s.commit(big("a"))
	waitQueued(t, w, 0)
	s.commit(big("b"), big("c"))
	s.commit(big("d"))
	ds := collectN(t, w, 2)
	if ds[0].Revision != 1 || ds[1].Type != watch.Error || !errors.Is(ds[1].Err, ErrEvicted) {
		t.Fatalf("got %v", wants(ds))
	}
	expectClosed(t, w)
	if n := cutOff.Load(); n != 1 {
		t.Fatalf("OnEvict called %d times, want once", n)
	}

	// One event bigger than the byte bound still reaches an empty queue.
	w, _ = s.hub.Watch(context.Background(), Request{GVR: pods, From: s.hub.Revision()})
	waitLive(t, w)
	huge := podAdded("default", "huge")
	huge.Object = make([]byte, 5000)
	s.commit(huge)
	if d, _ := recv(t, w, 5*time.Second); d.Type != watch.Added {
		t.Fatalf("got %+v", d)
	}
}

// Publish cost does not depend on readers: 200 stalled watchers are evicted
// and the writer keeps its pace.
func TestPublishNeverBlocks(t *testing.T) {
	s := newTestStore(t, Options{Eviction: EvictionPolicy{MaxQueueEvents: 100}})
	for i := 0; i < 200; i++ {
		if _, err := s.hub.Watch(context.Background(), Request{GVR: pods}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			s.commit(podAdded("default", fmt.Sprint(i)))
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked on stalled watchers")
	}
	s.hub.mu.Lock()
	live := len(s.hub.index)
	s.hub.mu.Unlock()
	if live != 0 {
		t.Fatal("stalled watchers should all be evicted from the index")
	}
}

func TestBookmarks(t *testing.T) {
	s := newTestStore(t, Options{BookmarkInterval: 10 * time.Millisecond})
	commitPods(s, 3)
	w, _ := s.hub.Watch(context.Background(), Request{GVR: pods, From: 1, Bookmarks: true})
	noBM, _ := s.hub.Watch(context.Background(), Request{GVR: pods, From: 3})

	// Without events, a bookmark carries the current revision.
	ds := collectN(t, w, 3)
	if r := revisions(ds[:2]); !reflect.DeepEqual(r, []int64{2, 3}) || ds[2].Type != watch.Bookmark || ds[2].Revision != 3 || ds[2].Event != nil {
		t.Fatalf("got %v", wants(ds))
	}
	// Events of other resources advance the bookmark revision.
	s.commit(mkEvent(watch.Added, cms, "default", "c", nil, nil)) // 4
	for {
		d, _ := recv(t, w, 5*time.Second)
		if d.Type != watch.Bookmark {
			t.Fatalf("got %+v", d)
		}
		if d.Revision == 4 {
			break
		}
	}

	// Busy stream with a slow reader: every bookmark is >= every event
	// before it and < every event after it.
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%3 == 0 {
				s.commit(mkEvent(watch.Added, cms, "default", fmt.Sprint(i), nil, nil))
			} else {
				s.commit(podAdded("default", fmt.Sprint(i)))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var last int64 = 4
	var lastType watch.EventType
	bookmarks, events := 0, 0
	deadline := time.After(400 * time.Millisecond)
loop:
	for {
		select {
		case d := <-w.Deliveries():
			switch d.Type {
			case watch.Bookmark:
				bookmarks++
				if d.Revision < last {
					t.Fatalf("bookmark %d after event %d", d.Revision, last)
				}
			case watch.Added:
				events++
				if d.Revision <= last {
					t.Fatalf("event %d after %s %d", d.Revision, lastType, last)
				}
			default:
				t.Fatalf("unexpected %+v", d)
			}
			last, lastType = d.Revision, d.Type
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		case <-deadline:
			break loop
		}
	}
	close(stop)
	<-pubDone
	if bookmarks == 0 || events == 0 {
		t.Fatalf("bookmarks=%d events=%d", bookmarks, events)
	}
	// A watcher that did not ask gets none.
	for {
		select {
		case d := <-noBM.Deliveries():
			if d.Type == watch.Bookmark {
				t.Fatal("bookmark without Bookmarks")
			}
			continue
		case <-time.After(30 * time.Millisecond):
		}
		break
	}
}

func TestCloseEndsAllWatchers(t *testing.T) {
	s := newTestStore(t, Options{RingSize: 5, Eviction: EvictionPolicy{MaxQueueEvents: 3}})
	commitPods(s, 50)
	ctx := context.Background()
	live, _ := s.hub.Watch(ctx, Request{GVR: pods, From: 50, Bookmarks: true})
	stalled, _ := s.hub.Watch(ctx, Request{GVR: pods, From: 50})
	// A watcher blocked inside a History read.
	block := make(chan struct{})
	s.hist.onRead = func(int64) { <-block }
	reading, _ := s.hub.Watch(ctx, Request{GVR: pods, From: 1})
	s.commit(podAdded("default", "x"))
	if d, _ := recv(t, live, 5*time.Second); d.Revision != 51 {
		t.Fatalf("got %+v", d)
	}

	closed := make(chan struct{})
	go func() { s.hub.Close(); close(closed) }()
	time.Sleep(20 * time.Millisecond)
	close(block) // the fake ignores ctx while blocked, as a slow disk would
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	for _, w := range []*Watcher{live, stalled, reading} {
		for d := range w.Deliveries() {
			if d.Type == watch.Error {
				t.Fatalf("Close must end streams without an ERROR: %+v", d)
			}
		}
	}
	if _, err := s.hub.Watch(ctx, Request{GVR: pods, From: 50}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
	s.commit(podAdded("default", "after-close")) // harmless
	s.hub.Close()                                // idempotent
}

func TestStopAndContext(t *testing.T) {
	s := newTestStore(t, Options{})
	w, _ := s.hub.Watch(context.Background(), Request{GVR: pods})
	w.Stop()
	w.Stop()
	expectClosed(t, w)

	ctx, cancel := context.WithCancel(context.Background())
	w, _ = s.hub.Watch(ctx, Request{GVR: pods})
	s.commit(podAdded("default", "a"), podAdded("default", "b"))
	cancel() // not reading: the goroutine must still exit
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-w.Deliveries():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watcher did not end on context cancel")
		}
	}
}

func TestMaxWatchers(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestStore(t, Options{MaxWatchers: 3, Registerer: reg})
	var ws []*Watcher
	for i := 0; i < 3; i++ {
		w, err := s.hub.Watch(context.Background(), Request{GVR: pods})
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	if _, err := s.hub.Watch(context.Background(), Request{GVR: cms}); !errors.Is(err, ErrTooManyWatchers) {
		t.Fatalf("got %v, want ErrTooManyWatchers", err)
	}
	if v := metricValue(s.hub.m.watchers.WithLabelValues("", "v1", "pods")); v != 3 {
		t.Fatalf("watchers gauge = %v", v)
	}
	ws[0].Stop()
	expectClosed(t, ws[0]) // the slot is free once the channel is closed
	if _, err := s.hub.Watch(context.Background(), Request{GVR: cms}); err != nil {
		t.Fatalf("after Stop: %v", err)
	}
}

func TestWaitForRevision(t *testing.T) {
	s := newTestStore(t, Options{})
	commitPods(s, 2)
	if err := s.hub.WaitForRevision(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.hub.WaitForRevision(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.hub.WaitForRevision(context.Background(), 4) }()
	commitPods(s, 1)
	commitPods(s, 1)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if s.hub.Revision() != 4 {
		t.Fatalf("Revision = %d", s.hub.Revision())
	}
}

func TestRepeatedPublishIgnored(t *testing.T) {
	s := newTestStore(t, Options{})
	w, _ := s.hub.Watch(context.Background(), Request{GVR: pods})
	evs := s.commit(podAdded("default", "a"), podAdded("default", "b"))
	s.hub.Publish(evs) // e.g. a retry after a panic recovered upstream
	s.commit(podAdded("default", "c"))
	if r := revisions(collectN(t, w, 3)); !reflect.DeepEqual(r, seq(1, 3)) {
		t.Fatalf("got %v", r)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestStore(t, Options{Registerer: reg, Eviction: EvictionPolicy{MaxQueueEvents: 2}})
	w, _ := s.hub.Watch(context.Background(), Request{GVR: pods})
	waitLive(t, w)
	commitPods(s, 1)
	waitQueued(t, w, 0) // in the reader's hand
	commitPods(s, 1)
	got := gathered(t, reg)
	for name, v := range map[string]float64{
		"lwserver_watchhub_events_published_total":                          2,
		"lwserver_watchhub_queued_events":                                   1, // one in the reader's hand, one queued
		"lwserver_watchhub_revision":                                        2,
		`lwserver_watchhub_watchers{group="",resource="pods",version="v1"}`: 1,
	} {
		if got[name] != v {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], v, got)
		}
	}
	// Two more overflow the queue of 2.
	commitPods(s, 2)
	if got := gathered(t, reg); got[`lwserver_watchhub_evictions_total{group="",resource="pods",version="v1"}`] != 1 {
		t.Errorf("evictions: %v", got)
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

// gathered flattens a registry into "name{labels}" → value.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			key := mf.GetName()
			if len(m.Label) > 0 {
				var ls []string
				for _, l := range m.Label {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			}
		}
	}
	return out
}

func TestSharedEncodedOnce(t *testing.T) {
	sh := newShared(podAdded("default", "a"))
	var calls atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := "json/ADDED"
			if i%2 == 1 {
				key = "proto/ADDED"
			}
			b, err := sh.Encoded(key, func() ([]byte, error) {
				calls.Add(1)
				time.Sleep(time.Millisecond)
				return []byte(key), nil
			})
			if err != nil || string(b) != key {
				t.Errorf("got %q, %v", b, err)
			}
		}(i)
	}
	wg.Wait()
	if calls.Load() != 2 {
		t.Fatalf("encode called %d times, want once per key", calls.Load())
	}
	boom := errors.New("boom")
	for i := 0; i < 2; i++ {
		if _, err := sh.Encoded("bad", func() ([]byte, error) { calls.Add(1); return nil, boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
	}
	if calls.Load() != 3 {
		t.Fatal("a failed encoding should be remembered too")
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = sh.Encoded("json/ADDED", nil) }); a != 0 {
		t.Fatalf("cached Encoded allocates %v", a)
	}
}
