package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestBuiltinsAreInClientGoScheme(t *testing.T) {
	// Every built-in we serve must be a type client-go can decode, or protobuf
	// and typed clients would break on it.
	for _, r := range NewMapper().Resources() {
		if !r.BuiltIn {
			if r.GVR.Group != "apiextensions.k8s.io" && r.GVR.Group != "apiregistration.k8s.io" {
				t.Errorf("%s: not BuiltIn", r.GVR)
			}
			continue
		}
		if !scheme.Scheme.Recognizes(r.GVK()) {
			t.Errorf("%s: kind %s not in client-go's scheme", r.GVR, r.GVK())
		}
		if !scheme.Scheme.Recognizes(r.GVR.GroupVersion().WithKind(r.ListKind)) {
			t.Errorf("%s: list kind %s not in client-go's scheme", r.GVR, r.ListKind)
		}
	}
}

func TestByRestype(t *testing.T) {
	m := NewMapper()
	tests := []struct {
		restype string
		want    schema.GroupVersionResource
		ok      bool
	}{
		{"pod", schema.GroupVersionResource{Version: "v1", Resource: "pods"}, true},
		{"endpoints", schema.GroupVersionResource{Version: "v1", Resource: "endpoints"}, true},
		{"event", schema.GroupVersionResource{Version: "v1", Resource: "events"}, true},
		{"deployment", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
		{"horizontalpodautoscaler", schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true},
		{"customresourcedefinition", CRDResource, true},
		{"Node", schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, true},
		{"pods", schema.GroupVersionResource{}, false}, // restype is the kind, never a plural
		{"device", schema.GroupVersionResource{}, false},
	}
	for _, tt := range tests {
		r, ok := m.ByRestype(tt.restype)
		if ok != tt.ok || (ok && r.GVR != tt.want) {
			t.Errorf("ByRestype(%q) = %v, %v; want %v, %v", tt.restype, r.GVR, ok, tt.want, tt.ok)
		}
	}
}

func device(versions ...interface{}) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]interface{}{"name": "devices.devices.kubeedge.io"},
		"spec": map[string]interface{}{
			"group": "devices.kubeedge.io",
			"scope": "Namespaced",
			"names": map[string]interface{}{
				"kind": "Device", "plural": "devices", "singular": "device",
				"shortNames": []interface{}{"dev"},
			},
			"versions": versions,
		},
	}
}

func TestCRDs(t *testing.T) {
	m := NewMapper()
	crd := device(
		map[string]interface{}{"name": "v1alpha1", "served": true, "storage": false},
		map[string]interface{}{"name": "v1beta1", "served": true, "storage": true,
			"additionalPrinterColumns": []interface{}{
				map[string]interface{}{"name": "Protocol", "type": "string", "jsonPath": ".spec.protocol"},
				map[string]interface{}{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
			}},
		map[string]interface{}{"name": "v1", "served": false, "storage": false},
	)
	if err := m.AddCRD(crd); err != nil {
		t.Fatal(err)
	}
	r, ok := m.ByRestype("device")
	if !ok || r.GVR.Version != "v1beta1" || r.ListKind != "DeviceList" || !r.Namespaced || r.BuiltIn {
		t.Fatalf("ByRestype(device) = %+v, %v; want the storage version v1beta1", r, ok)
	}
	if len(r.PrinterColumns) != 2 || r.PrinterColumns[0].JSONPath != ".spec.protocol" {
		t.Errorf("printer columns = %+v", r.PrinterColumns)
	}
	if _, ok := m.ByGVR(schema.GroupVersionResource{Group: "devices.kubeedge.io", Version: "v1alpha1", Resource: "devices"}); !ok {
		t.Error("served version v1alpha1 not mapped")
	}
	if _, ok := m.ByGVR(schema.GroupVersionResource{Group: "devices.kubeedge.io", Version: "v1", Resource: "devices"}); ok {
		t.Error("unserved version v1 mapped")
	}
	m.RemoveCRD("devices.devices.kubeedge.io")
	if _, ok := m.ByRestype("device"); ok {
		t.Error("device still mapped after RemoveCRD")
	}
}

func TestAddCRDRejectsIncomplete(t *testing.T) {
	tests := map[string]map[string]interface{}{
		"no versions":   device(),
		"no plural":     {"metadata": map[string]interface{}{"name": "x"}, "spec": map[string]interface{}{"group": "g", "names": map[string]interface{}{"kind": "X"}}},
		"not an object": {},
	}
	for name, obj := range tests {
		if err := NewMapper().AddCRD(obj); err == nil {
			t.Errorf("%s: AddCRD succeeded", name)
		}
	}
}
