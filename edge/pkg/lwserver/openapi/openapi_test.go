package openapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

func newTestService() *Service {
	return NewService(nil, NewBuiltin(kube.NewMapper().Resources()))
}

func doc(t *testing.T, b []byte) map[string]map[string]json.RawMessage {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]json.RawMessage{}
	for _, k := range []string{"paths", "definitions", "components"} {
		if d[k] == nil {
			continue
		}
		m := map[string]json.RawMessage{}
		if err := json.Unmarshal(d[k], &m); err != nil {
			t.Fatal(err)
		}
		out[k] = m
	}
	if c, ok := out["components"]; ok {
		m := map[string]json.RawMessage{}
		if err := json.Unmarshal(c["schemas"], &m); err != nil {
			t.Fatal(err)
		}
		out["schemas"] = m
	}
	return out
}

const deviceCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"devices.devices.example.com"},
 "spec":{"group":"devices.example.com","scope":"Namespaced",
  "names":{"kind":"Device","plural":"devices","listKind":"DeviceList"},
  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
    "properties":{"spec":{"type":"object","description":"What the device is.",
      "properties":{"model":{"type":"string","nullable":true,"description":"The device model."}}}}}}},
   {"name":"v0","served":false}]}}`

func TestBuiltinDocuments(t *testing.T) {
	set, err := newTestService().Documents(nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := doc(t, set.V3["api/v1"].JSON)
	for _, want := range []string{"io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.Container", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"} {
		if v1["schemas"][want] == nil {
			t.Fatalf("api/v1 lacks schema %s", want)
		}
	}
	if v1["schemas"]["io.k8s.api.apps.v1.Deployment"] != nil {
		t.Fatal("api/v1 holds apps/v1's Deployment")
	}
	p := string(v1["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"])
	for _, want := range []string{`"x-kubernetes-group-version-kind":{"group":"","kind":"Pod","version":"v1"}`, `"patch":`, `#/components/schemas/io.k8s.api.core.v1.Pod"`} {
		if !strings.Contains(p, want) {
			t.Fatalf("pod path lacks %s: %s", want, p)
		}
	}
	v2 := doc(t, set.V2.JSON)
	if len(v2["definitions"]) < 500 || v2["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"] == nil {
		t.Fatalf("v2: %d definitions, paths %d", len(v2["definitions"]), len(v2["paths"]))
	}
	if _, err := set.V2.Proto(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(set.Root.JSON), `"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=`+set.V3["api/v1"].Hash+`"}`) {
		t.Fatalf("root: %s", set.Root.JSON)
	}
}

func TestCRDDocuments(t *testing.T) {
	s := newTestService()
	set, err := s.Documents([][]byte{[]byte(deviceCRD), []byte(`{"spec":{}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if set.V3["apis/devices.example.com/v0"] != nil {
		t.Fatal("unserved version published")
	}
	v3 := doc(t, set.V3["apis/devices.example.com/v1"].JSON)
	dev := string(v3["schemas"]["com.example.devices.v1.Device"])
	for _, want := range []string{`"The device model."`, `"nullable":true`, `"x-kubernetes-group-version-kind":[{"group":"devices.example.com","kind":"Device","version":"v1"}]`,
		`{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}`} {
		if !strings.Contains(dev, want) {
			t.Fatalf("v3 Device lacks %s: %s", want, dev)
		}
	}
	if v3["schemas"]["com.example.devices.v1.DeviceList"] == nil || v3["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] == nil {
		t.Fatal("v3 document lacks the list or the metadata schema")
	}
	if v3["paths"]["/apis/devices.example.com/v1/namespaces/{namespace}/devices/{name}"] == nil {
		t.Fatal("no device path")
	}
	v2 := doc(t, set.V2.JSON)
	d2 := string(v2["definitions"]["com.example.devices.v1.Device"])
	if strings.Contains(d2, "nullable") || !strings.Contains(d2, `"$ref":"#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"`) {
		t.Fatalf("v2 Device: %s", d2)
	}
	// Cached while nothing changes, rebuilt when a CRD does.
	again, _ := s.Documents([][]byte{[]byte(deviceCRD), []byte(`{"spec":{}}`)})
	if again != set {
		t.Fatal("unchanged documents rebuilt")
	}
	changed, _ := s.Documents([][]byte{[]byte(strings.Replace(deviceCRD, "The device model.", "Model.", 1))})
	if changed == set || changed.V3["apis/devices.example.com/v1"].Hash == set.V3["apis/devices.example.com/v1"].Hash ||
		changed.V3["api/v1"].Hash != set.V3["api/v1"].Hash {
		t.Fatal("hashes do not follow the CRD change")
	}
}

// A stored source is preferred; the fallback serves when it has nothing.
type storedSource struct{ docs *Documents }

func (s storedSource) Documents() (*Documents, bool) { return s.docs, s.docs != nil }

func TestSourcesOrder(t *testing.T) {
	b := NewBuiltin(kube.NewMapper().Resources())
	stored := &Documents{Tag: "cluster@7", V2: []byte(`{"swagger":"2.0","paths":{},"definitions":{}}`), V3: map[string][]byte{"api/v1": []byte(`{"openapi":"3.0.0"}`)}}
	set, err := NewService(storedSource{stored}, b).Documents(nil)
	if err != nil || string(set.V3["api/v1"].JSON) != `{"openapi":"3.0.0"}` || len(set.V3) != 1 {
		t.Fatalf("stored documents not served: %v %v", err, set)
	}
	set, err = NewService(storedSource{}, b).Documents(nil)
	if err != nil || len(set.V3) < 10 {
		t.Fatalf("fallback not served: %v", err)
	}
}
