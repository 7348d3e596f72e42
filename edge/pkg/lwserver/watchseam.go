package lwserver

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// newWatchServer is the seam for the watch handler: it builds the
// handlers.WatchServer (handlers/watch*.go) over the hub (New calls it when
// Deps.Hub is set and plugs the result in with
// (*handlers.Handler).SetWatchServer). The hub itself carries the watch
// limits of cfg (MaxWatchers, queue bounds, bookmark interval). reg receives
// the watch server's metrics (lwserver_watch_streams, ...), served on
// /metrics.
func newWatchServer(h *handlers.Handler, hub *watchhub.Hub, _ Config, reg prometheus.Registerer) handlers.WatchServer {
	return handlers.NewWatchServer(h, hub, handlers.WatchOptions{Registerer: reg})
}
