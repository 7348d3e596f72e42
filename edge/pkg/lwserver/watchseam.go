package lwserver

import (
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// newWatchServer is the seam for the watch handler: it builds the
// handlers.WatchServer over the hub (New calls it when Deps.Hub is set and
// plugs the result in with (*handlers.Handler).SetWatchServer). Until the
// watch handler lands (handlers/watch*.go) it returns nil and watch requests
// (?watch=true, /watch/ paths) get 405 MethodNotAllowed. The watch engineer
// replaces the body with e.g.
//
//	return handlers.NewWatchServer(h, hub, handlers.WatchOptions{...from cfg})
func newWatchServer(_ *handlers.Handler, _ *watchhub.Hub, _ Config) handlers.WatchServer {
	return nil
}
