package watchhub

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// metrics are created even without a Registerer, so the hot path never
// checks for nil; unregistered collectors are just cheap counters.
type metrics struct {
	watchers  *prometheus.GaugeVec
	evictions *prometheus.CounterVec
	tooOld    prometheus.Counter
	published prometheus.Counter
}

var resourceLabels = []string{"group", "version", "resource"}

func newMetrics(h *Hub, reg prometheus.Registerer) *metrics {
	const ns, sub = "lwserver", "watchhub"
	m := &metrics{
		watchers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "watchers",
			Help: "Watchers running (catching up or live), by resource.",
		}, resourceLabels),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "evictions_total",
			Help: "Watchers ended because their queue overflowed (sent 410 Expired), by resource.",
		}, resourceLabels),
		tooOld: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "too_old_total",
			Help: "Watches refused or ended because their revision was compacted (410).",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "events_published_total",
			Help: "Committed events published to the hub.",
		}),
	}
	if reg == nil {
		return m
	}
	// Queue depth and revision are read at scrape time rather than kept up
	// to date on every enqueue: a shared atomic per event per watcher would
	// be the one contended write on the fan-out path.
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "queued_events",
		Help: "Events queued to watchers and not yet taken by their readers.",
	}, func() float64 { return float64(h.queued().events) })
	queuedBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "queued_bytes",
		Help: "Object bytes queued to watchers (summed per watcher; the objects themselves are shared).",
	}, func() float64 { return float64(h.queued().bytes) })
	maxQueuedBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "watcher_queued_bytes_max",
		Help: "Object bytes queued to the most backlogged watcher (evicted beyond the eviction policy's MaxQueueBytes).",
	}, func() float64 { return float64(h.queued().maxBytes) })
	revision := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "revision",
		Help: "Highest revision published to the hub.",
	}, func() float64 { return float64(h.Revision()) })
	for _, c := range []prometheus.Collector{m.watchers, m.evictions, m.tooOld, m.published, queued, queuedBytes, maxQueuedBytes, revision} {
		if err := reg.Register(c); err != nil {
			klog.ErrorS(err, "watchhub: registering metric")
		}
	}
	return m
}

func gvrLabels(w *Watcher) []string {
	return []string{w.gvr.Group, w.gvr.Version, w.gvr.Resource}
}

func (m *metrics) watcherStarted(w *Watcher) {
	w.gauge = m.watchers.WithLabelValues(gvrLabels(w)...)
	w.gauge.Inc()
}

func (m *metrics) watcherEnded(w *Watcher) { w.gauge.Dec() }

func (m *metrics) evicted(w *Watcher) { m.evictions.WithLabelValues(gvrLabels(w)...).Inc() }

// backlog is what the watchers' queues hold.
type backlog struct {
	events          int
	bytes, maxBytes int64
}

// queued sums the watchers' queues (at scrape time).
func (h *Hub) queued() backlog {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b backlog
	for w := range h.watchers {
		w.mu.Lock()
		b.events += w.q.n
		b.bytes += w.bytes
		b.maxBytes = max(b.maxBytes, w.bytes)
		w.mu.Unlock()
	}
	return b
}
