package dao

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStringMapCodec(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"a": "b"},
		{"app.kubernetes.io/name": "web", "tier": "", "x": "y:z,{}"},
		{"quote": `a"b`, "backslash": `c\d`, "unicode": "é✓", "ctl": "a\nb"},
	} {
		raw := encodeStringMap(m)
		got, err := decodeStringMap(raw)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if len(m) == 0 {
			if got != nil {
				t.Fatalf("empty map decoded as %v", got)
			}
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip %v -> %s -> %v", m, raw, got)
		}
	}
	for _, in := range []string{` { "a" : "b" , "c":"d" } `, `{}`} {
		if _, err := decodeStringMap([]byte(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	for _, bad := range []string{`{"a":1}`, `{"a":"b"`, `["a"]`, `{"a" "b"}`} {
		if _, err := decodeStringMap([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGVRAndKeyStrings(t *testing.T) {
	for _, g := range []schema.GroupVersionResource{
		{Version: "v1", Resource: "pods"},
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Group: "example.com", Version: "v1alpha1", Resource: "foos"},
	} {
		s := GVRString(g)
		back, err := ParseGVRString(s)
		if err != nil || back != g {
			t.Errorf("%v -> %q -> %v %v", g, s, back, err)
		}
	}
	if GVRString(schema.GroupVersionResource{Version: "v1", Resource: "pods"}) != "/v1/pods" {
		t.Error("core group form")
	}
	if _, err := ParseGVRString("pods"); err == nil {
		t.Error("bad gvr accepted")
	}
	ns, name, err := ParseAfter("/node-1")
	if err != nil || ns != "" || name != "node-1" {
		t.Errorf("cluster-scoped key: %q %q %v", ns, name, err)
	}
	ns, name, err = ParseAfter(KeyString("default", "a"))
	if err != nil || ns != "default" || name != "a" {
		t.Errorf("namespaced key: %q %q %v", ns, name, err)
	}
}
