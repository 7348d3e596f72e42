package printers

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/util/jsonpath"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// defaultCRDColumns is what kube-apiserver serves for a custom resource
// version without additionalPrinterColumns.
var defaultCRDColumns = []kube.PrinterColumn{
	{Name: "Age", Type: "date", Description: metaDoc["creationTimestamp"], JSONPath: ".metadata.creationTimestamp"},
}

// noPrinterBuiltins are kube-apiserver's own resources served through the
// default table convertor (NAME, CREATED AT).
var noPrinterBuiltins = map[schema.GroupResource]bool{
	{Group: "", Resource: "bindings"}:                                      true,
	{Group: "", Resource: "limitranges"}:                                   true,
	{Group: "rbac.authorization.k8s.io", Resource: "roles"}:                true,
	{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}:         true,
	{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}: true,
}

// printerFor returns the printer for res and the key of its row cache.
func (p *Printer) printerFor(res kube.Resource) (*kindPrinter, string) {
	gr := res.GVR.GroupResource()
	if kp, ok := p.builtins[gr]; ok {
		return kp, "builtin:" + gr.String()
	}
	// Resource.BuiltIn only says whether client-go's scheme has the Go type;
	// kinds served by kube-apiserver itself without a printer take the
	// default convertor whatever their scheme.
	if res.BuiltIn || noPrinterBuiltins[gr] {
		return defaultPrinter, "builtin:" + gr.String()
	}
	cols := res.PrinterColumns
	if len(cols) == 0 {
		cols = defaultCRDColumns
	}
	fp := crdFingerprint(res.GVR, cols)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.crdPrinters == nil {
		p.crdPrinters = map[string]*kindPrinter{}
	}
	kp := p.crdPrinters[fp]
	if kp == nil {
		kp = newCRDPrinter(cols)
		if len(p.crdPrinters) > 1024 {
			p.crdPrinters = map[string]*kindPrinter{}
		}
		p.crdPrinters[fp] = kp
	}
	return kp, fp
}

func crdFingerprint(gvr schema.GroupVersionResource, cols []kube.PrinterColumn) string {
	var b strings.Builder
	b.WriteString("cr:")
	b.WriteString(gvr.String())
	for _, c := range cols {
		fmt.Fprintf(&b, "|%q,%q,%q,%q,%d,%q", c.Name, c.Type, c.Format, c.Description, c.Priority, c.JSONPath)
	}
	return b.String()
}

// crdColumns holds one CRD version's printer columns; jsonpath parsers are
// stateful, so each goroutine compiles its own (see scratch.crdPaths).
type crdColumns struct {
	cols []kube.PrinterColumn
}

// newCRDPrinter mirrors k8s.io/apiextensions-apiserver's table convertor:
// NAME, then one column per additionalPrinterColumn.
func newCRDPrinter(cols []kube.PrinterColumn) *kindPrinter {
	defs := []metav1.TableColumnDefinition{nameColumn}
	for _, c := range cols {
		desc := "Custom resource definition column (in JSONPath format): " + c.JSONPath
		if c.Description != "" {
			desc = c.Description
		}
		defs = append(defs, metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Format: c.Format, Description: desc, Priority: c.Priority})
	}
	cc := &crdColumns{cols: cols}
	return &kindPrinter{
		columns: defs,
		row: func(data []byte, m *objMeta, sc *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
			return cc.row(data, m, sc)
		},
	}
}

func compilePaths(cols []kube.PrinterColumn) []*jsonpath.JSONPath {
	out := make([]*jsonpath.JSONPath, len(cols))
	for i, c := range cols {
		jp := jsonpath.New(c.Name)
		if err := jp.Parse("{" + c.JSONPath + "}"); err != nil {
			continue // kube rejects such CRDs; here the column stays empty
		}
		jp.AllowMissingKeys(true)
		out[i] = jp
	}
	return out
}

func (cc *crdColumns) row(data []byte, m *objMeta, sc *scratch) ([]interface{}, []metav1.TableRowCondition, error) {
	if sc.crdFor != cc {
		sc.crdFor, sc.crdPaths = cc, compilePaths(cc.cols)
	}
	var obj map[string]interface{}
	if err := utiljson.Unmarshal(data, &obj); err != nil {
		return nil, nil, err
	}
	cells := make([]interface{}, 1, 1+len(cc.cols))
	cells[0] = m.name
	var buf bytes.Buffer
	for i, c := range cc.cols {
		jp := sc.crdPaths[i]
		if jp == nil {
			cells = append(cells, nil)
			continue
		}
		results, err := jp.FindResults(obj)
		if err != nil || len(results) == 0 || len(results[0]) == 0 {
			cells = append(cells, nil)
			continue
		}
		value := results[0][0].Interface()
		if c.Type == "string" {
			buf.Reset()
			if err := jp.PrintResults(&buf, []reflect.Value{reflect.ValueOf(value)}); err == nil {
				cells = append(cells, buf.String())
			} else {
				cells = append(cells, nil)
			}
			continue
		}
		cells = append(cells, cellForJSONValue(c.Type, value))
	}
	return cells, nil, nil
}

// cellForJSONValue is the apiextensions convertor's typed cell conversion.
func cellForJSONValue(headerType string, value interface{}) interface{} {
	if value == nil {
		return nil
	}
	switch headerType {
	case "integer":
		switch v := value.(type) {
		case int64:
			return v
		case float64:
			return int64(v)
		}
	case "number":
		switch v := value.(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		}
	case "boolean":
		if b, ok := value.(bool); ok {
			return b
		}
	case "string":
		if s, ok := value.(string); ok {
			return s
		}
	case "date":
		if s, ok := value.(string); ok {
			// metav1.Time.UnmarshalQueryParameter
			if s == "" || s == "null" {
				return sinceCell{}
			}
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "<invalid>"
			}
			return sinceCell{t}
		}
	}
	return nil
}
