package lwserver

import (
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/printers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// defaultTables is the Table convertor lwserver uses when Deps.Tables is nil.
// It is the printers package: kube-apiserver's columns for the built-in
// kinds and additionalPrinterColumns for CRDs.
func defaultTables(m *kube.Mapper) handlers.TableConvertor {
	return handlers.PrinterTables{P: printers.New(m)}
}

// newWatchServer is the seam for the watch handler: it builds the
// handlers.WatchServer over the hub. Until the watch handler lands
// (handlers/watch*.go) it returns nil and watch requests get 405.
func newWatchServer(_ *handlers.Handler, _ *watchhub.Hub, _ Config) handlers.WatchServer {
	return nil
}
