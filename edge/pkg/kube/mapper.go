package kube

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CRDResource is the GVR under which CustomResourceDefinitions are stored.
var CRDResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Mapper resolves kinds, resources and restypes for the built-in kinds and
// the CRDs the store holds. It is safe for concurrent use; CRDs come and go
// as metaManager stores and deletes them.
type Mapper struct {
	mu        sync.RWMutex
	builtins  []Resource
	crds      map[string][]Resource // CRD name → its served versions, storage version first
	byGVR     map[schema.GroupVersionResource]Resource
	byGVK     map[schema.GroupVersionKind]Resource
	byRestype map[string]Resource
}

// NewMapper returns a mapper that knows the built-in kinds.
func NewMapper() *Mapper {
	m := &Mapper{crds: map[string][]Resource{}}
	for _, b := range builtins {
		m.builtins = append(m.builtins, b.toResource())
	}
	m.rebuild()
	return m
}

// rebuild recomputes the indexes; built-ins win over CRDs, and within each
// the first entry (the preferred version) wins for kinds and restypes.
func (m *Mapper) rebuild() {
	m.byGVR = map[schema.GroupVersionResource]Resource{}
	m.byGVK = map[schema.GroupVersionKind]Resource{}
	m.byRestype = map[string]Resource{}
	for _, r := range m.all() {
		if _, ok := m.byGVR[r.GVR]; !ok {
			m.byGVR[r.GVR] = r
		}
		if _, ok := m.byGVK[r.GVK()]; !ok {
			m.byGVK[r.GVK()] = r
		}
		if _, ok := m.byRestype[lower(r.Kind)]; !ok {
			m.byRestype[lower(r.Kind)] = r
		}
	}
}

func (m *Mapper) all() []Resource {
	out := append([]Resource(nil), m.builtins...)
	names := make([]string, 0, len(m.crds))
	for n := range m.crds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, m.crds[n]...)
	}
	return out
}

// Resources returns every served resource: built-ins first (in kube-apiserver's
// group order), then CRDs by name.
func (m *Mapper) Resources() []Resource {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.all()
}

// ByRestype maps a message's restype (the lower-case kind) to its resource.
func (m *Mapper) ByRestype(restype string) (Resource, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.byRestype[lower(restype)]
	return r, ok
}

// ByGVK maps a kind to its resource.
func (m *Mapper) ByGVK(gvk schema.GroupVersionKind) (Resource, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.byGVK[gvk]
	return r, ok
}

// ByGVR looks a resource up by group, version and plural name.
func (m *Mapper) ByGVR(gvr schema.GroupVersionResource) (Resource, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.byGVR[gvr]
	return r, ok
}

// AddCRD registers (or replaces) the resources a CustomResourceDefinition
// serves. obj is the CRD's unstructured content (apiextensions.k8s.io/v1).
func (m *Mapper) AddCRD(obj map[string]interface{}) error {
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	group, _, _ := unstructured.NestedString(obj, "spec", "group")
	kind, _, _ := unstructured.NestedString(obj, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(obj, "spec", "names", "plural")
	if name == "" || group == "" || kind == "" || plural == "" {
		return fmt.Errorf("customresourcedefinition %q: spec.group, spec.names.kind and spec.names.plural are required", name)
	}
	singular, _, _ := unstructured.NestedString(obj, "spec", "names", "singular")
	if singular == "" {
		singular = lower(kind)
	}
	listKind, _, _ := unstructured.NestedString(obj, "spec", "names", "listKind")
	if listKind == "" {
		listKind = kind + "List"
	}
	shortNames, _, _ := unstructured.NestedStringSlice(obj, "spec", "names", "shortNames")
	categories, _, _ := unstructured.NestedStringSlice(obj, "spec", "names", "categories")
	scope, _, _ := unstructured.NestedString(obj, "spec", "scope")
	versions, _, _ := unstructured.NestedSlice(obj, "spec", "versions")

	var served []Resource
	for _, v := range versions {
		vm, ok := v.(map[string]interface{})
		if !ok {
			continue
		}
		vname, _, _ := unstructured.NestedString(vm, "name")
		isServed, found, _ := unstructured.NestedBool(vm, "served")
		if vname == "" || (found && !isServed) {
			continue
		}
		r := Resource{
			GVR:            schema.GroupVersionResource{Group: group, Version: vname, Resource: plural},
			Kind:           kind,
			ListKind:       listKind,
			SingularName:   singular,
			Namespaced:     scope != "Cluster",
			ShortNames:     shortNames,
			Categories:     categories,
			PrinterColumns: printerColumns(vm),
		}
		if storage, _, _ := unstructured.NestedBool(vm, "storage"); storage {
			served = append([]Resource{r}, served...)
		} else {
			served = append(served, r)
		}
	}
	if len(served) == 0 {
		return fmt.Errorf("customresourcedefinition %q serves no version", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crds[name] = served
	m.rebuild()
	return nil
}

// RemoveCRD forgets the resources of a deleted CustomResourceDefinition.
func (m *Mapper) RemoveCRD(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.crds[name]; ok {
		delete(m.crds, name)
		m.rebuild()
	}
}

func printerColumns(version map[string]interface{}) []PrinterColumn {
	cols, _, _ := unstructured.NestedSlice(version, "additionalPrinterColumns")
	var out []PrinterColumn
	for _, c := range cols {
		cm, ok := c.(map[string]interface{})
		if !ok {
			continue
		}
		pc := PrinterColumn{}
		pc.Name, _, _ = unstructured.NestedString(cm, "name")
		pc.Type, _, _ = unstructured.NestedString(cm, "type")
		pc.Format, _, _ = unstructured.NestedString(cm, "format")
		pc.Description, _, _ = unstructured.NestedString(cm, "description")
		pc.JSONPath, _, _ = unstructured.NestedString(cm, "jsonPath")
		if p, ok, _ := unstructured.NestedInt64(cm, "priority"); ok {
			pc.Priority = int32(p)
		}
		if pc.Name != "" && pc.JSONPath != "" {
			out = append(out, pc)
		}
	}
	return out
}

func lower(s string) string { return strings.ToLower(s) }
