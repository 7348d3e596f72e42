package openapi

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// The definitions of every built-in type as kube-apiserver v1.37.2 serves
// them, written by hack/tools/kube/openapi-defs (`make openapi-defs`): the
// swagger 2.0 definitions and the OpenAPI 3 schemas, by definition name.
//
//go:embed builtin/definitions-v2.json.gz builtin/schemas-v3.json.gz
var builtinFS embed.FS

// Builtin is the fallback Source: kube-apiserver v1.37.2's documents for
// the built-in resources it is given, built from the embedded definitions
// the first time they are asked for.
type Builtin struct {
	resources []kube.Resource

	once sync.Once
	docs *Documents
	defs *definitions
	err  error
}

// NewBuiltin returns the fallback Source for resources (the built-in ones;
// kube.NewMapper().Resources() before any CRD is added).
func NewBuiltin(resources []kube.Resource) *Builtin {
	return &Builtin{resources: resources}
}

// Documents implements Source. It has documents unless the embedded
// definitions are broken, which a unit test rules out.
func (b *Builtin) Documents() (*Documents, bool) {
	b.load()
	return b.docs, b.err == nil
}

// definitions gives the embedded definitions (the CRD documents refer to
// their metadata schemas).
func (b *Builtin) definitions() (*definitions, error) {
	b.load()
	return b.defs, b.err
}

func (b *Builtin) load() {
	b.once.Do(func() {
		b.defs, b.err = loadDefinitions()
		if b.err == nil {
			b.docs = b.defs.documents("builtin-v1.37.2", b.resources)
		}
	})
}

// definitions are named schemas, the same names in both versions.
type definitions struct {
	v2, v3 map[string]json.RawMessage
	// byGVK names the definition of each kind (x-kubernetes-group-version-kind).
	byGVK map[schema.GroupVersionKind]string
	// refs are the names each v3 schema refers to.
	refs map[string][]string
}

func loadDefinitions() (*definitions, error) {
	d := &definitions{byGVK: map[schema.GroupVersionKind]string{}, refs: map[string][]string{}}
	var err error
	if d.v2, err = readGzipJSON("builtin/definitions-v2.json.gz"); err != nil {
		return nil, err
	}
	if d.v3, err = readGzipJSON("builtin/schemas-v3.json.gz"); err != nil {
		return nil, err
	}
	for name, raw := range d.v3 {
		var ext struct {
			GVK []gvkExt `json:"x-kubernetes-group-version-kind"`
		}
		if err := json.Unmarshal(raw, &ext); err != nil {
			return nil, fmt.Errorf("openapi: definition %s: %w", name, err)
		}
		for _, g := range ext.GVK {
			d.byGVK[schema.GroupVersionKind{Group: g.Group, Version: g.Version, Kind: g.Kind}] = name
		}
		d.refs[name] = schemaRefs(raw, v3RefPrefix)
	}
	return d, nil
}

func readGzipJSON(name string) (map[string]json.RawMessage, error) {
	f, err := builtinFS.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	return m, nil
}

const (
	v2RefPrefix = "#/definitions/"
	v3RefPrefix = "#/components/schemas/"
)

// schemaRefs lists the distinct definition names raw refers to.
func schemaRefs(raw []byte, prefix string) []string {
	var names []string
	needle := []byte(`"$ref":"` + prefix)
	for {
		i := bytes.Index(raw, needle)
		if i < 0 {
			break
		}
		raw = raw[i+len(needle):]
		end := bytes.IndexByte(raw, '"')
		if end < 0 {
			break
		}
		names = append(names, string(raw[:end]))
		raw = raw[end:]
	}
	sort.Strings(names)
	return compactStrings(names)
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// closure adds to set every definition roots refer to, transitively.
func (d *definitions) closure(set map[string]json.RawMessage, roots []string, extra map[string]json.RawMessage) {
	for len(roots) > 0 {
		name := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if _, ok := set[name]; ok {
			continue
		}
		raw, ok := extra[name]
		if ok {
			set[name] = raw
			roots = append(roots, schemaRefs(raw, v3RefPrefix)...)
			continue
		}
		if raw, ok = d.v3[name]; ok {
			set[name] = raw
			roots = append(roots, d.refs[name]...)
		}
	}
}

// documents builds the v2 document (every definition, the paths of every
// resource) and one v3 document per group-version of resources.
func (d *definitions) documents(tag string, resources []kube.Resource) *Documents {
	docs := &Documents{Tag: tag, V3: map[string][]byte{}}
	paths := map[string]json.RawMessage{}
	byGV := map[schema.GroupVersion][]kube.Resource{}
	for _, res := range resources {
		kind, okKind := d.byGVK[res.GVK()]
		list, okList := d.byGVK[res.GVR.GroupVersion().WithKind(res.ListKind)]
		if !okKind || !okList {
			continue // kube-apiserver v1.37.2 does not serve it
		}
		addResourcePaths(paths, res, kind, list, func(n string) string { return v2RefPrefix + n }, false)
		byGV[res.GVR.GroupVersion()] = append(byGV[res.GVR.GroupVersion()], res)
	}
	docs.V2 = v2Document(paths, d.v2)
	for gv, rs := range byGV {
		docs.V3[gvPath(gv)] = d.v3Document(rs, nil)
	}
	return docs
}

// v3Document is the document of one group-version's resources: their paths
// and every schema those refer to. extra holds schemas not built in (a
// CRD's), found before the built-in ones.
func (d *definitions) v3Document(resources []kube.Resource, extra map[string]json.RawMessage) []byte {
	paths := map[string]json.RawMessage{}
	schemas := map[string]json.RawMessage{}
	nameOf := func(gvk schema.GroupVersionKind) (string, bool) {
		n := definitionName(gvk)
		if _, ok := extra[n]; ok {
			return n, true
		}
		n, ok := d.byGVK[gvk]
		return n, ok
	}
	var roots []string
	for _, res := range resources {
		kind, okKind := nameOf(res.GVK())
		list, okList := nameOf(res.GVR.GroupVersion().WithKind(res.ListKind))
		if !okKind || !okList {
			continue
		}
		addResourcePaths(paths, res, kind, list, func(n string) string { return v3RefPrefix + n }, true)
		roots = append(roots, kind, list)
	}
	d.closure(schemas, roots, extra)
	return mustJSON(map[string]interface{}{
		"openapi":    "3.0.0",
		"info":       info,
		"paths":      paths,
		"components": map[string]interface{}{"schemas": schemas},
	})
}

var info = map[string]string{"title": "Kubernetes", "version": "v1.37.2"}

// v2Document is a swagger 2.0 document.
func v2Document(paths, defs map[string]json.RawMessage) []byte {
	return mustJSON(map[string]interface{}{
		"swagger":     "2.0",
		"info":        info,
		"paths":       paths,
		"definitions": defs,
	})
}
