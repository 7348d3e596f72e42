package lwserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// metrics are lwserver's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, store *metaclient.Client) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lwserver_requests_total",
			Help: "HTTP requests served by lwserver, by verb, group, version, resource and response code.",
		}, []string{"verb", "group", "version", "resource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lwserver_request_duration_seconds",
			Help:    "Latency of lwserver requests (watches excluded), by verb, group, version and resource.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"verb", "group", "version", "resource"}),
	}
	cs := []prometheus.Collector{
		m.requests, m.latency,
		&objectsCollector{store: store, desc: prometheus.NewDesc("lwserver_store_objects",
			"Objects held in the store, by group, version and resource (read at scrape).",
			[]string{"group", "version", "resource"}, nil)},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lwserver_store_revision",
			Help: "The store's current revision.",
		}, func() float64 { return float64(store.Revision()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lwserver_store_compacted_revision",
			Help: "The revision just before the oldest retained event; older continue tokens and watches get 410.",
		}, func() float64 { return float64(store.CompactedRevision()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// objectsCollector reads Store.Resources at every scrape.
type objectsCollector struct {
	store *metaclient.Client
	desc  *prometheus.Desc
}

func (c *objectsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *objectsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rcs, err := c.store.Resources(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, rc := range rcs {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(rc.Count), rc.GVR.Group, rc.GVR.Version, rc.GVR.Resource)
	}
}

// withMetrics counts requests and observes latency. Labels come from the
// RequestInfo; resources the mapper does not know are labelled "unknown" so
// hostile paths cannot grow the label space. A panic is counted as a 500
// and re-raised for WithPanicRecovery.
func (m *metrics) filter(mapper *kube.Mapper) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rw := wrap(w)
			verb, group, version, resource := "", "", "", ""
			if info, ok := request.RequestInfoFrom(r.Context()); ok {
				if info.IsResourceRequest && info.Resource != "" {
					verb, group, version, resource = info.Verb, info.APIGroup, info.APIVersion, info.Resource
					if _, known := mapper.ByGVR(schemaGVR(group, version, resource)); !known {
						group, version, resource = "", "", "unknown"
					}
				} else {
					verb = info.Verb
				}
			}
			if verb == "" {
				verb = r.Method
			}
			record := func(code int) {
				m.requests.WithLabelValues(verb, group, version, resource, strconv.Itoa(code)).Inc()
				if verb != "watch" {
					m.latency.WithLabelValues(verb, group, version, resource).Observe(time.Since(start).Seconds())
				}
			}
			defer func() {
				if p := recover(); p != nil {
					record(http.StatusInternalServerError)
					panic(p)
				}
			}()
			next.ServeHTTP(rw, r)
			record(rw.code())
		})
	}
}

// registerConnMetrics puts a server's open and idle connection counts on
// /metrics (docs/reliability.md: everything that grows is bounded and visible).
func registerConnMetrics(reg prometheus.Registerer, listener string, ct *connTracker) {
	labels := prometheus.Labels{"listener": listener}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lwserver_connections_open",
			Help: "Open client connections (bounded by limits.maxConnections).", ConstLabels: labels},
			func() float64 { open, _ := ct.counts(); return float64(open) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lwserver_connections_idle",
			Help: "Kept-alive connections with no request in flight (bounded by limits.maxIdleConnections).", ConstLabels: labels},
			func() float64 { _, idle := ct.counts(); return float64(idle) }),
	)
}
