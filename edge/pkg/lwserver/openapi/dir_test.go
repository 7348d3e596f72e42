package openapi

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFile(t *testing.T, root, rel, body string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDir(t *testing.T) {
	const v2 = `{"swagger":"2.0","definitions":{}}`
	const index = `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=A"},"apis/apps/v1":{"serverRelativeURL":"/openapi/v3/apis/apps/v1?hash=B"}}}`
	tests := []struct {
		name  string
		files map[string]string
		ok    bool
	}{
		{"nothing stored", nil, false},
		{"v2 only", map[string]string{"openapi/v2.json": v2}, false},
		{"a listed document missing", map[string]string{"openapi/v2.json": v2, "openapi/v3.json": index, "openapi/v3/api/v1.json": `{}`}, false},
		{"damaged v2", map[string]string{"openapi/v2.json": `{"swag`, "openapi/v3.json": index, "openapi/v3/api/v1.json": `{}`, "openapi/v3/apis/apps/v1.json": `{}`}, false},
		{"path escaping the root", map[string]string{"openapi/v2.json": v2, "openapi/v3.json": `{"paths":{"../x":{}}}`}, false},
		{"complete", map[string]string{"openapi/v2.json": v2, "openapi/v3.json": index, "openapi/v3/api/v1.json": `{"a":1}`, "openapi/v3/apis/apps/v1.json": `{"b":2}`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, body := range tt.files {
				writeFile(t, root, rel, body)
			}
			docs, ok := NewDir(root).Documents()
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if string(docs.V2) != v2 || string(docs.V3["api/v1"]) != `{"a":1}` || string(docs.V3["apis/apps/v1"]) != `{"b":2}` || len(docs.V3) != 2 {
				t.Fatalf("documents = %q, %q", docs.V2, docs.V3)
			}
		})
	}
}

// TestDirFollowsChanges: a rewritten index is read again, under a new Tag;
// an unchanged one is not.
func TestDirFollowsChanges(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "openapi/v2.json", `{}`)
	writeFile(t, root, "openapi/v3.json", `{"paths":{"api/v1":{}}}`)
	writeFile(t, root, "openapi/v3/api/v1.json", `{"v":1}`)
	d := NewDir(root)
	first, ok := d.Documents()
	if !ok {
		t.Fatal("no documents")
	}
	again, _ := d.Documents()
	if again != first {
		t.Fatal("unchanged files read again")
	}
	writeFile(t, root, "openapi/v3/api/v1.json", `{"v":2}`)
	writeFile(t, root, "openapi/v3.json", `{"paths":{"api/v1":{"hash":"2"}}}`)
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(filepath.Join(root, "openapi", "v3.json"), later, later); err != nil {
		t.Fatal(err)
	}
	next, ok := d.Documents()
	if !ok || next.Tag == first.Tag || string(next.V3["api/v1"]) != `{"v":2}` {
		t.Fatalf("after a change: ok=%v tag %q (was %q) doc %q", ok, next.Tag, first.Tag, next.V3["api/v1"])
	}
}
