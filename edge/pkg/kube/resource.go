// Package kube is what edgecore knows about Kubernetes kinds: which resources
// exist (the built-in ones kube-apiserver serves, plus the CRDs the store
// holds), how a message's lower-case restype maps to a kind, and which field
// labels each kind supports. metaManager and lwserver both use one Mapper,
// built by cmd/edgecore and passed in.
package kube

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource describes one served resource, as discovery reports it.
type Resource struct {
	GVR          schema.GroupVersionResource
	Kind         string
	ListKind     string
	SingularName string
	Namespaced   bool
	ShortNames   []string
	Categories   []string
	// PrinterColumns are a CRD's additionalPrinterColumns (nil for built-ins).
	PrinterColumns []PrinterColumn
	// BuiltIn is true for kinds compiled into client-go's scheme; only those
	// can be served as protobuf.
	BuiltIn bool
}

// PrinterColumn is one additionalPrinterColumns entry of a CRD version.
type PrinterColumn struct {
	Name        string
	Type        string
	Format      string
	Description string
	Priority    int32
	JSONPath    string
}

// GVK is the resource's group/version/kind.
func (r Resource) GVK() schema.GroupVersionKind {
	return r.GVR.GroupVersion().WithKind(r.Kind)
}

// Verbs served for every resource: reads always; the writes too when an
// uplink forwards them to the cloud (kube-apiserver's sorted order), so
// discovery advertises exactly what works.
var (
	readVerbs      = []string{"get", "list", "watch"}
	readWriteVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
)

// Verbs returns the verbs discovery advertises; writable: writes are
// forwarded (an uplink is configured).
func (r Resource) Verbs(writable bool) []string {
	if writable {
		return append([]string(nil), readWriteVerbs...)
	}
	return append([]string(nil), readVerbs...)
}
