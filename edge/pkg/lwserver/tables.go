package lwserver

import (
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/printers"
)

// defaultTables is the Table convertor lwserver uses when Deps.Tables is nil.
// It is the printers package: kube-apiserver's columns for the built-in
// kinds and additionalPrinterColumns for CRDs.
func defaultTables() handlers.TableConvertor {
	return handlers.PrinterTables{P: printers.New()}
}
