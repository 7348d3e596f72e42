package metamanager

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Config is metaManager's section of the edgecore config file. metaManager
// owns edgecore.db, so the store's settings live here too.
type Config struct {
	Enable bool `json:"enable"`
	// Workers is the number of messages prepared (validated, decoded,
	// encoded) concurrently; commits follow arrival order whatever the
	// number. 0 = the default (256).
	Workers int `json:"workers"`
	// QueueLength is the queue of dispatched messages ahead of the workers;
	// a full queue stalls the ingress (back-pressure), never drops.
	// 0 = the default (64).
	QueueLength int `json:"queueLength"`
	// ContextSendModule is the beehive module replies go to.
	ContextSendModule string `json:"contextSendModule"`
	// EventLogWindowEvents and EventLogWindowAge bound the retained event log
	// (and tombstones): events are dropped only when older than both
	// (docs/architecture.md §3.4: "whichever is more").
	EventLogWindowEvents int             `json:"eventLogWindowEvents"`
	EventLogWindowAge    metav1.Duration `json:"eventLogWindowAge"`
	// EventLogWindowBytes caps the bytes the event log stores whatever the
	// two above say: the oldest events go first (0 = the store's default,
	// 256 MiB; < 0 = no cap). See docs/reliability.md.
	EventLogWindowBytes int64 `json:"eventLogWindowBytes"`
	// StartupCheck is the integrity check of edgecore.db at start: "quick"
	// (PRAGMA quick_check, the default when empty), "full"
	// (integrity_check) or "none". A damaged store is refused.
	StartupCheck string `json:"startupCheck"`
	// MaxBatch caps how many messages share one SQLite transaction.
	MaxBatch int `json:"maxBatch"`
}

// DefaultConfig is the embedded default.
func DefaultConfig() Config {
	return Config{
		Enable:               true,
		Workers:              256,
		QueueLength:          64,
		ContextSendModule:    "edgehub",
		EventLogWindowEvents: 100000,
		EventLogWindowAge:    metav1.Duration{Duration: 24 * time.Hour},
		EventLogWindowBytes:  256 << 20,
		StartupCheck:         "quick",
		MaxBatch:             1000,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.QueueLength <= 0 {
		c.QueueLength = d.QueueLength
	}
	if c.ContextSendModule == "" {
		c.ContextSendModule = d.ContextSendModule
	}
	return c
}
