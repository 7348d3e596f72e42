//go:build !nolwserver

package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// storeCollector puts edgecore.db's sizes against their bounds and its
// health on /metrics (docs/reliability.md "Storage bounds"); it reads
// Store.StorageStats once per scrape.
type storeCollector struct {
	store *dao.Store
	descs map[string]*prometheus.Desc
}

var storeMetricHelp = map[string]string{
	"edgecore_store_db_bytes":               "Size of edgecore.db.",
	"edgecore_store_wal_bytes":              "Size of edgecore.db-wal (truncated once writes pause).",
	"edgecore_store_free_bytes":             "Bytes of edgecore.db on SQLite's freelist (reused, or returned by compaction).",
	"edgecore_store_healthy":                "1 while the store may be served and acknowledged; 0 once it failed (damaged, or its files removed underneath).",
	"edgecore_event_log_events":             "Events retained in the event log.",
	"edgecore_event_log_bytes":              "Bytes the retained events store (objects, previous versions, labels, fields).",
	"edgecore_event_log_bytes_limit":        "The event log's byte cap (eventLogWindowBytes; 0 = none).",
	"edgecore_event_log_oldest_age_seconds": "Age of the oldest retained event.",
}

func newStoreCollector(store *dao.Store) *storeCollector {
	c := &storeCollector{store: store, descs: map[string]*prometheus.Desc{}}
	for name, help := range storeMetricHelp {
		c.descs[name] = prometheus.NewDesc(name, help, nil, nil)
	}
	return c
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v)
	}
	healthy := 1.0
	if c.store.Health() != nil {
		healthy = 0
	}
	gauge("edgecore_store_healthy", healthy)
	gauge("edgecore_event_log_bytes_limit", float64(max(c.store.EventLogWindowBytes(), 0)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.store.StorageStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.descs["edgecore_store_db_bytes"], err)
		return
	}
	gauge("edgecore_store_db_bytes", float64(st.DBBytes))
	gauge("edgecore_store_wal_bytes", float64(st.WALBytes))
	gauge("edgecore_store_free_bytes", float64(st.FreeBytes))
	gauge("edgecore_event_log_events", float64(st.Events))
	gauge("edgecore_event_log_bytes", float64(st.EventBytes))
	gauge("edgecore_event_log_oldest_age_seconds", st.OldestEventAge.Seconds())
}
