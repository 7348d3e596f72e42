package lwserver

import (
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// newWatchServer is the seam for the watch handler: it builds the
// handlers.WatchServer (handlers/watch*.go) over the hub (New calls it when
// Deps.Hub is set and plugs the result in with
// (*handlers.Handler).SetWatchServer). The hub itself carries the watch
// limits of cfg (MaxWatchers, queue bounds, bookmark interval).
func newWatchServer(h *handlers.Handler, hub *watchhub.Hub, _ Config) handlers.WatchServer {
	return handlers.NewWatchServer(h, hub, handlers.WatchOptions{})
}
