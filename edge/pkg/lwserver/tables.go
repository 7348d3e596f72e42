package lwserver

import (
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// defaultTables is the Table convertor lwserver uses when Deps.Tables is nil.
func defaultTables(_ *kube.Mapper) handlers.TableConvertor {
	return handlers.DefaultTableConvertor{}
}

// newWatchServer is the seam for the watch handler: it builds the
// handlers.WatchServer over the hub. Until the watch handler lands
// (handlers/watch*.go) it returns nil and watch requests get 405.
func newWatchServer(_ *handlers.Handler, _ *watchhub.Hub, _ Config) handlers.WatchServer {
	return nil
}
