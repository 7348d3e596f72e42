package watchhub

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"k8s.io/apimachinery/pkg/watch"
)

// benchObject is a ~4 KB pod, the size the design's targets use.
var benchObject = make([]byte, 4096)

func benchEvent(i int) event.Event {
	ev := mkEvent(watch.Modified, pods, "default", fmt.Sprintf("pod-%d", i%100), map[string]string{"app": "web"}, map[string]string{"app": "web"})
	ev.Object, ev.PrevObject = benchObject, benchObject
	return ev
}

// BenchmarkFanout publishes one event at a time to N watchers of one
// resource and waits until every watcher's reader has it. Reported:
// p50/p99 publish→receive latency over all deliveries, and events/s.
// 1,000 watchers of an unrelated resource are present throughout to show
// they cost nothing.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			s := newTestStore(b, Options{MaxWatchers: 2*n + 1000})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < 1000; i++ {
				if _, err := s.hub.Watch(ctx, Request{GVR: cms}); err != nil {
					b.Fatal(err)
				}
			}
			published := make([]time.Time, b.N+2) // by revision
			lat := make([][]time.Duration, n)
			var got sync.WaitGroup
			var readers sync.WaitGroup
			for i := 0; i < n; i++ {
				w, err := s.hub.Watch(ctx, Request{GVR: pods})
				if err != nil {
					b.Fatal(err)
				}
				waitLive(b, w)
				lat[i] = make([]time.Duration, 0, b.N)
				readers.Add(1)
				go func(i int) {
					defer readers.Done()
					for d := range w.Deliveries() {
						lat[i] = append(lat[i], time.Since(published[d.Revision]))
						got.Done()
					}
				}(i)
			}
			events := make([]event.Event, b.N)
			for i := range events {
				events[i] = benchEvent(i)
				events[i].Revision = int64(i + 1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				got.Add(n)
				published[i+1] = time.Now()
				s.hub.Publish(events[i : i+1])
				got.Wait()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			readers.Wait()

			all := make([]time.Duration, 0, n*b.N)
			for _, l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			pct := func(p float64) float64 {
				return float64(all[int(p*float64(len(all)-1))]) / float64(time.Microsecond)
			}
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkPublish measures what the store's writer pays per Publish of a
// 100-event batch with no watchers, with 100 watchers whose readers keep up,
// and with 100 whose readers never read (their queues fill towards the
// bound). Publish never waits for a reader: the stalled case costs the
// writer no more than the reading one. Watchers are replaced every 9 batches
// (outside the timer) so the stalled ones stay below the eviction bound and
// the benchmark measures enqueueing, not evicted watchers that cost nothing.
func BenchmarkPublish(b *testing.B) {
	const batch, watchers, rounds = 100, 100, 9 // 900 < MaxQueueEvents
	for _, mode := range []string{"none", "reading", "stalled"} {
		b.Run("watchers="+mode, func(b *testing.B) {
			s := newTestStore(b, Options{})
			var (
				ctx      context.Context
				cancel   = context.CancelFunc(func() {})
				readers  sync.WaitGroup
				received = make([]atomic.Int64, watchers)
			)
			setup := func() {
				cancel()
				readers.Wait()
				ctx, cancel = context.WithCancel(context.Background())
				for i := 0; i < watchers && mode != "none"; i++ {
					w, err := s.hub.Watch(ctx, Request{GVR: pods, From: s.hub.Revision()})
					if err != nil {
						b.Fatal(err)
					}
					waitLive(b, w)
					if mode == "reading" {
						readers.Add(1)
						go func() {
							defer readers.Done()
							for d := range w.Deliveries() {
								received[i].Store(d.Revision)
							}
						}()
					}
				}
			}
			evs := make([]event.Event, batch)
			for i := range evs {
				evs[i] = benchEvent(i)
			}
			rev := int64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%rounds == 0 {
					b.StopTimer()
					setup()
					b.StartTimer()
				}
				for j := range evs {
					rev++
					evs[j].Revision = rev
				}
				s.hub.Publish(evs)
				if mode == "reading" {
					b.StopTimer()
					for j := range received {
						for received[j].Load() < rev {
							time.Sleep(10 * time.Microsecond)
						}
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(metricValue(s.hub.m.evictions.WithLabelValues("", "v1", "pods")), "evicted")
			cancel()
			readers.Wait()
		})
	}
}
