package testfixture

import (
	"encoding/json"
	"testing"
)

func TestPodIsValidAndAbout4KB(t *testing.T) {
	for _, p := range []Pod{{Namespace: "a", Name: "b"}, BenchPod(7), {Namespace: "x", Name: `q"uote`, ResourceVersion: "5", Phase: "Pending"}} {
		b := p.JSON()
		if !json.Valid(b) || len(b) < 3000 || len(b) > 5000 {
			t.Fatalf("%s/%s: %d bytes, valid %v", p.Namespace, p.Name, len(b), json.Valid(b))
		}
		o := p.Object()
		md := o["metadata"].(map[string]interface{})
		if md["name"] != p.Name || md["namespace"] != p.Namespace {
			t.Fatalf("metadata %v", md)
		}
		if _, has := md["resourceVersion"]; has != (p.ResourceVersion != "") {
			t.Fatalf("resourceVersion %v", md["resourceVersion"])
		}
	}
	if l := BenchPod(123).Labels; l["app"] != "app-23" || l["bucket"] != "b23" {
		t.Fatalf("labels %v", l)
	}
}
