package protoenc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fixtures are hand-written objects as a cluster stores them (testdata/
// <group>.<version>.<Kind>.json): pods with every common field, nodes,
// services, endpoints and slices, configmaps with binaryData, secrets, both
// events, RBAC, workloads, leases, HPAs, PDBs, ingresses, volumes, CSRs…
func fixtures(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = bytes.TrimSpace(b)
	}
	return out
}

// fixtureGVK parses "apps.v1.Deployment" and "v1.Pod".
func fixtureGVK(name string) schema.GroupVersionKind {
	parts := strings.Split(name, ".")
	n := len(parts)
	return schema.GroupVersionKind{Group: strings.Join(parts[:n-2], "."), Version: parts[n-2], Kind: parts[n-1]}
}

// sortedKeys re-encodes JSON with every object's members sorted by name:
// members of JSON-inline embedded structs (Volume's source, Probe's handler)
// end up interleaved with their parent's.
func sortedKeys(t *testing.T, data []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEquivalentFixtures: every fixture, as stored, indented and with its
// members reordered, decodes from protobuf to what it decodes to from JSON.
func TestEquivalentFixtures(t *testing.T) {
	tr := New(newTestScheme(t))
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			gvk := fixtureGVK(name)
			checkEquivalent(t, tr, gvk, data)
			var ind bytes.Buffer
			if err := json.Indent(&ind, data, " ", "\t"); err != nil {
				t.Fatal(err)
			}
			checkEquivalent(t, tr, gvk, ind.Bytes())
			checkEquivalent(t, tr, gvk, sortedKeys(t, data))
		})
	}
}
