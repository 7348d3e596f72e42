package lwserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// Config is lwserver's section of the edgecore config file.
type Config struct {
	Enable bool `json:"enable"`
	// Address is HOST:PORT to serve the Kubernetes API on.
	Address string `json:"address"`
	// Watch limits: watchhub owns their meaning and defaults (watchhub.Options,
	// watchhub.EvictionPolicy); zero takes watchhub's default.
	//
	// MaxWatchers bounds concurrent watches (429 beyond).
	MaxWatchers int `json:"maxWatchers"`
	// WatcherQueueEvents and WatcherQueueBytes bound one watcher's backlog:
	// crossing either evicts it (410 Expired; it re-watches and loses
	// nothing). EvictionPolicy.MaxQueueEvents / MaxQueueBytes.
	WatcherQueueEvents int   `json:"watcherQueueEvents"`
	WatcherQueueBytes  int64 `json:"watcherQueueBytes"`
	// WatchSendBufferBytes is the kernel send buffer of a watch connection
	// (SO_SNDBUF; negative: the kernel's autotuning).
	// EvictionPolicy.SendBufferBytes.
	WatchSendBufferBytes int `json:"watchSendBufferBytes"`
	// WatchCacheEvents and WatchCacheBytes bound the in-memory event ring;
	// resumes from before it read the event log in edgecore.db (exact, just
	// slower). Options.RingSize / RingBytes.
	WatchCacheEvents int   `json:"watchCacheEvents"`
	WatchCacheBytes  int64 `json:"watchCacheBytes"`
	// BookmarkInterval is how often a watch that asked for bookmarks gets
	// one. Options.BookmarkInterval.
	BookmarkInterval metav1.Duration `json:"bookmarkInterval"`
	// MaxRequestBodyBytes bounds request bodies (413 beyond).
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes"`
}

// DefaultConfig is the embedded default.
func DefaultConfig() Config {
	return Config{
		Enable:               true,
		Address:              "127.0.0.1:10550",
		MaxWatchers:          watchhub.DefaultMaxWatchers,
		WatcherQueueEvents:   watchhub.DefaultMaxQueueEvents,
		WatcherQueueBytes:    watchhub.DefaultMaxQueueBytes,
		WatchSendBufferBytes: watchhub.DefaultSendBufferBytes,
		WatchCacheEvents:     watchhub.DefaultRingSize,
		WatchCacheBytes:      watchhub.DefaultRingBytes,
		BookmarkInterval:     metav1.Duration{Duration: watchhub.DefaultBookmarkInterval},
		MaxRequestBodyBytes:  3 << 20,
	}
}
