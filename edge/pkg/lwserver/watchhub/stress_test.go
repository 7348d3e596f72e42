package watchhub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// TestStress runs the store's shape of load: one writer goroutine committing
// batches (the group commits of several producers), many watchers with
// different filters and start revisions (some behind the ring, so resumed
// from History), some slow enough to be evicted and to resume, and some that
// never read. Every reading watcher's stream must equal the published log
// filtered for it; every stalled one must be evicted.
func TestStress(t *testing.T) {
	total := 20000
	if testing.Short() {
		total = 5000
	}
	const (
		followers = 48
		stalled   = 16
		queue     = 64
	)
	reg := newRegistry()
	s := newTestStore(t, Options{RingSize: 512, Eviction: EvictionPolicy{MaxQueueEvents: queue}, BookmarkInterval: 5 * time.Millisecond, Registerer: reg})
	s.hub.historyPage = 64
	log := genLog(rand.New(rand.NewPCG(7, 8)), total)

	s.commit(cloneEvents(log[:total/4])...)
	var published atomic.Int64
	published.Store(int64(total / 4))

	// Stalled watchers: live from now on, never read until the end.
	var stuck []*Watcher
	for i := 0; i < stalled; i++ {
		w, err := s.hub.Watch(context.Background(), Request{GVR: pods, From: s.hub.Revision(), Bookmarks: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		stuck = append(stuck, w)
	}

	var slowestPublish atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		rng := rand.New(rand.NewPCG(9, 10))
		for i := total / 4; i < total; {
			n := min(total-i, 1+rng.IntN(20))
			batch := cloneEvents(log[i : i+n])
			start := time.Now()
			s.commit(batch...)
			if d := int64(time.Since(start)); d > slowestPublish.Load() {
				slowestPublish.Store(d)
			}
			i += n
			published.Store(int64(i))
			if rng.IntN(4) == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
	}()

	specs := []refSpec{
		{gvr: pods},
		{gvr: pods, namespace: "default"},
		{gvr: pods, namespace: "edge", name: "obj-3"},
		{gvr: cms, labels: map[string]string{"app": "db"}},
		{gvr: deploys, labels: map[string]string{"app": "web", "tier": "0"}},
		{gvr: cms, namespace: "kube-system", labels: map[string]string{"tier": "1"}},
	}
	var (
		wg        sync.WaitGroup
		evictions atomic.Int64
		errs      = make(chan error, followers)
	)
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < followers; i++ {
		spec := specs[i%len(specs)]
		from := rng.Int64N(published.Load() + 1)
		slow := i%4 == 0
		exp := refDeliveries(log, spec, from)
		req := Request{GVR: spec.gvr, Namespace: spec.namespace, Name: spec.name, From: from, Bookmarks: i%3 == 0}
		if spec.labels != nil {
			req.Labels = labels.SelectorFromSet(spec.labels)
		}
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			var delay func()
			if slow {
				r := rand.New(rand.NewPCG(seed, seed))
				delay = func() {
					if r.IntN(10) == 0 {
						time.Sleep(3 * time.Millisecond)
					}
				}
			}
			got, ev, err := follow(ctx, s.hub, req, len(exp), delay)
			evictions.Add(int64(ev))
			if err != nil {
				errs <- fmt.Errorf("watch %+v from %d: %w (got %d of %d)", req, from, err, len(got), len(exp))
				return
			}
			if g := wants(got); !reflect.DeepEqual(g, exp) {
				errs <- fmt.Errorf("watch %+v from %d: %s", req, from, firstDiff(g, exp))
			}
		}(uint64(i))
		time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
	}
	wg.Wait()
	<-writerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for i, w := range stuck {
		var gotErr error
		for d := range w.Deliveries() {
			if d.Type == watch.Error {
				gotErr = d.Err
			}
		}
		if !errors.Is(gotErr, ErrEvicted) {
			t.Errorf("stalled watcher %d ended with %v, want ErrEvicted", i, gotErr)
		}
	}
	t.Logf("%d events, %d followers (%d re-watches after eviction), %d stalled; slowest Publish %v",
		total, followers, evictions.Load(), stalled, time.Duration(slowestPublish.Load()))
}

func cloneEvents(evs []event.Event) []event.Event { return append([]event.Event(nil), evs...) }
