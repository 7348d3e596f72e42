package openapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/klog/v2"
)

// Dir is a Source over a cluster's documents stored as files: the document
// served at URL path P is <root>/P.json (the uplink's layout, docs/uplink.md):
// <root>/openapi/v2.json, the v3 index <root>/openapi/v3.json and one
// <root>/openapi/v3/<group-version>.json per path the index lists.
//
// It has no documents (the next Source is asked) until both v2.json and the
// v3 index exist and every document the index lists is readable. The files
// are read again only when v2.json or the index changes (size or mtime): the
// uplink rewrites the index whenever a group-version document changes.
type Dir struct {
	root string

	mu   sync.Mutex
	key  string
	docs *Documents
	ok   bool
}

// NewDir returns the Source over documents stored under root.
func NewDir(root string) *Dir { return &Dir{root: root} }

// Documents implements Source.
func (d *Dir) Documents() (*Documents, bool) {
	key, ok := d.stamp()
	if !ok {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if key == d.key {
		return d.docs, d.ok
	}
	docs, err := d.read(key)
	if err != nil {
		// Half-copied or damaged: serve the fallback until the uplink
		// writes a complete set.
		klog.Warningf("openapi: stored cloud documents under %s not used: %v", d.root, err)
	}
	d.key, d.docs, d.ok = key, docs, err == nil
	return d.docs, d.ok
}

// stamp identifies the current v2 document and v3 index by size and mtime.
func (d *Dir) stamp() (string, bool) {
	var b strings.Builder
	for _, p := range []string{"openapi/v2.json", "openapi/v3.json"} {
		fi, err := os.Stat(filepath.Join(d.root, filepath.FromSlash(p)))
		if err != nil {
			return "", false
		}
		fmt.Fprintf(&b, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), true
}

func (d *Dir) read(tag string) (*Documents, error) {
	v2, err := os.ReadFile(filepath.Join(d.root, "openapi", "v2.json"))
	if err != nil {
		return nil, err
	}
	index, err := os.ReadFile(filepath.Join(d.root, "openapi", "v3.json"))
	if err != nil {
		return nil, err
	}
	var idx struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(index, &idx); err != nil {
		return nil, fmt.Errorf("openapi/v3.json: %w", err)
	}
	if !json.Valid(v2) {
		return nil, fmt.Errorf("openapi/v2.json is not JSON")
	}
	v3 := make(map[string][]byte, len(idx.Paths))
	for p := range idx.Paths {
		if strings.Contains(p, "..") {
			return nil, fmt.Errorf("openapi/v3.json lists a path with \"..\": %q", p)
		}
		b, err := os.ReadFile(filepath.Join(d.root, "openapi", "v3", filepath.FromSlash(p)+".json"))
		if err != nil {
			return nil, err
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("openapi/v3/%s.json is not JSON", p)
		}
		v3[p] = b
	}
	return &Documents{Tag: "cloud:" + tag, V2: v2, V3: v3}, nil
}
