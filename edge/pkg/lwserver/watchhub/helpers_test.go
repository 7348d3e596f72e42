package watchhub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

var (
	pods    = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	cms     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deploys = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// errCompacted stands in for dao.ErrCompacted (watchhub must not import dao).
var errCompacted = errors.New("required revision has been compacted")

// fakeHistory is an in-memory event log with compaction, as the store keeps.
type fakeHistory struct {
	mu        sync.Mutex
	events    []event.Event
	compacted int64
	rev       int64
	reads     int
	// onRead, if set, runs at the start of every Events call (outside the
	// lock): tests use it to publish or compact while a watcher reads.
	onRead func(after int64)
	fail   error
}

func (f *fakeHistory) Events(ctx context.Context, after int64, limit int) ([]event.Event, error) {
	if f.onRead != nil {
		f.onRead(after)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.fail != nil {
		return nil, f.fail
	}
	if after < f.compacted {
		return nil, fmt.Errorf("%w: revision %d, compacted %d", errCompacted, after, f.compacted)
	}
	i := sort.Search(len(f.events), func(i int) bool { return f.events[i].Revision > after })
	j := min(len(f.events), i+limit)
	return append([]event.Event(nil), f.events[i:j]...), nil
}

func (f *fakeHistory) CompactedRevision() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compacted
}

func (f *fakeHistory) Revision() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev
}

func (f *fakeHistory) append(evs []event.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, evs...)
	if len(evs) > 0 {
		f.rev = evs[len(evs)-1].Revision
	}
}

func (f *fakeHistory) compact(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := sort.Search(len(f.events), func(i int) bool { return f.events[i].Revision > rev })
	f.events = append([]event.Event(nil), f.events[i:]...)
	f.compacted = rev
}

func (f *fakeHistory) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// testStore is the writer side: it commits to the history, then publishes,
// in that order, from one goroutine at a time (as the store's single writer).
type testStore struct {
	hist *fakeHistory
	hub  *Hub
	mu   sync.Mutex
	rev  int64
}

func newTestStore(t testing.TB, opts Options) *testStore {
	t.Helper()
	s := &testStore{hist: &fakeHistory{}}
	if opts.IsCompacted == nil {
		opts.IsCompacted = func(err error) bool { return errors.Is(err, errCompacted) }
	}
	s.hub = New(s.hist, opts)
	t.Cleanup(s.hub.Close)
	return s
}

// commit assigns revisions, appends to the history and publishes.
func (s *testStore) commit(evs ...event.Event) []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		s.rev++
		evs[i].Revision = s.rev
	}
	s.hist.append(evs)
	s.hub.Publish(evs)
	return evs
}

// commitOnly appends to the history without publishing: the window between
// the store's commit and its Publish.
func (s *testStore) commitOnly(evs ...event.Event) []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		s.rev++
		evs[i].Revision = s.rev
	}
	s.hist.append(evs)
	return evs
}

func mkEvent(typ watch.EventType, gvr schema.GroupVersionResource, ns, name string, lbls, prev map[string]string) event.Event {
	ev := event.Event{
		Type: typ, GVR: gvr, Namespace: ns, Name: name,
		Object: []byte(fmt.Sprintf(`{"metadata":{"name":%q,"namespace":%q}}`, name, ns)),
		Labels: lbls,
		Fields: map[string]string{"metadata.name": name, "metadata.namespace": ns},
	}
	if typ != watch.Added {
		ev.PrevObject = ev.Object
		ev.PrevLabels = prev
		ev.PrevFields = ev.Fields
	}
	return ev
}

func podAdded(ns, name string) event.Event {
	return mkEvent(watch.Added, pods, ns, name, nil, nil)
}

func recv(t testing.TB, w *Watcher, timeout time.Duration) (Delivery, bool) {
	t.Helper()
	select {
	case d, ok := <-w.Deliveries():
		return d, ok
	case <-time.After(timeout):
		t.Fatalf("no delivery within %v", timeout)
		return Delivery{}, false
	}
}

func collectN(t testing.TB, w *Watcher, n int) []Delivery {
	t.Helper()
	out := make([]Delivery, 0, n)
	for len(out) < n {
		d, ok := recv(t, w, 5*time.Second)
		if !ok {
			t.Fatalf("channel closed after %d of %d deliveries", len(out), n)
		}
		out = append(out, d)
	}
	return out
}

func expectClosed(t testing.TB, w *Watcher) {
	t.Helper()
	d, ok := recv(t, w, 5*time.Second)
	if ok {
		t.Fatalf("expected closed channel, got %+v", d)
	}
}

func expectQuiet(t testing.TB, w *Watcher, dur time.Duration) {
	t.Helper()
	select {
	case d, ok := <-w.Deliveries():
		t.Fatalf("expected no delivery, got %+v (open=%v)", d, ok)
	case <-time.After(dur):
	}
}

func revisions(ds []Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Revision
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for r := from; r <= to; r++ {
		out = append(out, r)
	}
	return out
}

// want is one expected delivery.
type want struct {
	Rev     int64
	Type    watch.EventType
	UsePrev bool
}

func wants(ds []Delivery) []want {
	out := make([]want, 0, len(ds))
	for _, d := range ds {
		out = append(out, want{d.Revision, d.Type, d.UsePrev})
	}
	return out
}

// refSpec is a watch the reference filter understands: GVR, namespace,
// name and label equality.
type refSpec struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
	labels    map[string]string
}

// refDeliveries is an independent, naive statement of the transition rule,
// used to compute what a watch from `from` must receive.
func refDeliveries(log []event.Event, spec refSpec, from int64) []want {
	match := func(l map[string]string) bool {
		for k, v := range spec.labels {
			if got, ok := l[k]; !ok || got != v {
				return false
			}
		}
		return true
	}
	var out []want
	for _, ev := range log {
		if ev.Revision <= from || ev.GVR != spec.gvr ||
			(spec.namespace != "" && ev.Namespace != spec.namespace) ||
			(spec.name != "" && ev.Name != spec.name) {
			continue
		}
		switch ev.Type {
		case watch.Added:
			if match(ev.Labels) {
				out = append(out, want{ev.Revision, watch.Added, false})
			}
		case watch.Deleted:
			if match(ev.Labels) {
				out = append(out, want{ev.Revision, watch.Deleted, false})
			}
		case watch.Modified:
			cur, prev := match(ev.Labels), ev.PrevObject != nil && match(ev.PrevLabels)
			switch {
			case cur && prev:
				out = append(out, want{ev.Revision, watch.Modified, false})
			case cur:
				out = append(out, want{ev.Revision, watch.Added, false})
			case prev:
				out = append(out, want{ev.Revision, watch.Deleted, true})
			}
		}
	}
	return out
}

// genLog makes a realistic random history: objects are added, relabelled
// and deleted, so Modified events carry the previous labels.
func genLog(rng *rand.Rand, n int) []event.Event {
	type key struct {
		gvr      schema.GroupVersionResource
		ns, name string
	}
	gvrs := []schema.GroupVersionResource{pods, cms, deploys}
	nss := []string{"default", "kube-system", "edge"}
	apps := []string{"web", "db", "cache"}
	live := map[key]map[string]string{}
	log := make([]event.Event, 0, n)
	for i := 0; i < n; i++ {
		k := key{gvrs[rng.IntN(len(gvrs))], nss[rng.IntN(len(nss))], fmt.Sprintf("obj-%d", rng.IntN(20))}
		lbls, exists := live[k]
		newLabels := map[string]string{"app": apps[rng.IntN(len(apps))], "tier": fmt.Sprint(rng.IntN(2))}
		var ev event.Event
		switch {
		case !exists:
			ev = mkEvent(watch.Added, k.gvr, k.ns, k.name, newLabels, nil)
			live[k] = newLabels
		case rng.IntN(4) == 0:
			ev = mkEvent(watch.Deleted, k.gvr, k.ns, k.name, lbls, lbls)
			delete(live, k)
		default:
			ev = mkEvent(watch.Modified, k.gvr, k.ns, k.name, newLabels, lbls)
			live[k] = newLabels
		}
		ev.Revision = int64(i + 1)
		log = append(log, ev)
	}
	return log
}

// follow is a well-behaved client: it watches from `from`, and whenever the
// hub evicts it, re-watches from the last revision it saw (event or
// bookmark), as client-go's reflector does. It returns once it has n
// events. delay slows the reader to provoke evictions.
func follow(ctx context.Context, hub *Hub, req Request, n int, delay func()) (got []Delivery, evictions int, err error) {
	if n == 0 {
		return nil, 0, nil
	}
	last := req.From
	for {
		req.From = last
		w, err := hub.Watch(ctx, req)
		if err != nil {
			return got, evictions, err
		}
		for d := range w.Deliveries() {
			switch d.Type {
			case watch.Error:
				if !errors.Is(d.Err, ErrEvicted) {
					w.Stop()
					return got, evictions, fmt.Errorf("unexpected error delivery: %v", d.Err)
				}
				evictions++
				continue // the channel closes next
			case watch.Bookmark:
				if d.Revision < last {
					w.Stop()
					return got, evictions, fmt.Errorf("bookmark %d below last revision %d", d.Revision, last)
				}
			default:
				if d.Revision <= last {
					w.Stop()
					return got, evictions, fmt.Errorf("event %d not after last revision %d", d.Revision, last)
				}
				got = append(got, d)
			}
			last = d.Revision
			if len(got) == n {
				w.Stop()
				return got, evictions, nil
			}
			if delay != nil {
				delay()
			}
		}
		if err := ctx.Err(); err != nil {
			return got, evictions, err
		}
	}
}

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
