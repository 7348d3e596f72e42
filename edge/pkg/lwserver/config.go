package lwserver

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Config is lwserver's section of the edgecore config file.
type Config struct {
	Enable bool `json:"enable"`
	// Address is HOST:PORT to serve the Kubernetes API on.
	Address string `json:"address"`
	// Watch limits (DESIGN §3.5).
	MaxWatchers        int   `json:"maxWatchers"`
	WatcherQueueEvents int   `json:"watcherQueueEvents"`
	WatcherQueueBytes  int64 `json:"watcherQueueBytes"`
	WatchCacheEvents   int   `json:"watchCacheEvents"`
	// WatchCacheBytes bounds the object bytes of the in-memory event ring;
	// resumes from before it read the event log in edgecore.db (exact, just
	// slower). 16 MiB keeps ~2,000 pod updates of 4 KB in memory.
	WatchCacheBytes  int64           `json:"watchCacheBytes"`
	BookmarkInterval metav1.Duration `json:"bookmarkInterval"`
	// MaxRequestBodyBytes bounds request bodies (413 beyond).
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes"`
}

// DefaultConfig is the embedded default.
func DefaultConfig() Config {
	return Config{
		Enable:              true,
		Address:             "127.0.0.1:10550",
		MaxWatchers:         10000,
		WatcherQueueEvents:  1000,
		WatcherQueueBytes:   16 << 20,
		WatchCacheEvents:    10000,
		WatchCacheBytes:     16 << 20,
		BookmarkInterval:    metav1.Duration{Duration: time.Minute},
		MaxRequestBodyBytes: 3 << 20,
	}
}
