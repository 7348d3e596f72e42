package openapi

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"sync"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// Doc is one served document.
type Doc struct {
	// JSON is the document.
	JSON []byte
	// Hash is kube-apiserver's hash of it (SHA-512, upper-case hex): the
	// ETag, and the hash= of its /openapi/v3 URL.
	Hash string

	parse     func([]byte) (proto.Message, error)
	protoOnce sync.Once
	proto     []byte
	protoErr  error
}

func newDoc(b []byte, parse func([]byte) (proto.Message, error)) *Doc {
	return &Doc{JSON: b, Hash: fmt.Sprintf("%X", sha512.Sum512(b)), parse: parse}
}

func parseV2(b []byte) (proto.Message, error) { return openapiv2.ParseDocument(b) }
func parseV3(b []byte) (proto.Message, error) { return openapiv3.ParseDocument(b) }

// Proto is the document as gnostic's protobuf, what kubectl asks
// /openapi/v2 for (application/com.github.proto-openapi.spec.v2…).
// Converted once, on first use; an error for the v3 root (JSON only).
func (d *Doc) Proto() ([]byte, error) {
	d.protoOnce.Do(func() {
		if d.parse == nil {
			d.protoErr = fmt.Errorf("openapi: no protobuf form")
			return
		}
		doc, err := d.parse(d.JSON)
		if err != nil {
			d.protoErr = err
			return
		}
		d.proto, d.protoErr = proto.Marshal(doc)
	})
	return d.proto, d.protoErr
}

// Set is the documents served at one moment.
type Set struct {
	V2 *Doc
	// V3 maps a group-version path ("api/v1") to its document.
	V3 map[string]*Doc
	// Root is the /openapi/v3 discovery document: each path with its
	// hash-addressed URL.
	Root *Doc
}

// Service builds and caches the served documents.
type Service struct {
	src     Source
	builtin *Builtin

	mu   sync.Mutex
	key  string
	last *Set
}

// NewService serves documents of src (nil: none stored) with builtin as the
// fallback and as the definitions custom resources refer to.
func NewService(src Source, builtin *Builtin) *Service {
	return &Service{src: src, builtin: builtin}
}

// Documents returns the documents for the stored CRDs crds (their JSON).
// Unchanged sources and CRDs give the same *Set, built once.
func (s *Service) Documents(crds [][]byte) (*Set, error) {
	docs, ok := Sources{s.src, s.builtin}.Documents()
	if !ok {
		return nil, fmt.Errorf("openapi: no documents (built-in definitions unreadable)")
	}
	h := fnv.New64a()
	for _, c := range crds {
		h.Write(c)
		h.Write([]byte{0})
	}
	key := docs.Tag + "/" + strconv.FormatUint(h.Sum64(), 16)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last != nil && s.key == key {
		return s.last, nil
	}
	set, err := s.build(docs, crds)
	if err != nil {
		return nil, err
	}
	s.key, s.last = key, set
	return set, nil
}

func (s *Service) build(docs *Documents, crds [][]byte) (*Set, error) {
	defs, err := s.builtin.definitions()
	if err != nil {
		return nil, err
	}
	var versions []crdVersion
	for _, c := range crds {
		vs, err := parseCRD(c)
		if err != nil {
			continue // a CRD lwserver cannot map is not served either
		}
		versions = append(versions, vs...)
	}
	set := &Set{V3: map[string]*Doc{}}
	for p, b := range docs.V3 {
		set.V3[p] = newDoc(b, parseV3)
	}
	byGV := map[schema.GroupVersion][]crdVersion{}
	for _, cv := range versions {
		gv := cv.res.GVR.GroupVersion()
		byGV[gv] = append(byGV[gv], cv)
	}
	for gv, cvs := range byGV {
		extra := map[string]json.RawMessage{}
		var rs []kube.Resource
		for _, cv := range cvs {
			kn, k, ln, l := cv.schemas(true)
			extra[kn], extra[ln] = k, l
			rs = append(rs, cv.res)
		}
		set.V3[gvPath(gv)] = newDoc(defs.v3Document(rs, extra), parseV3)
	}
	v2, err := withCRDsV2(docs.V2, versions)
	if err != nil {
		return nil, err
	}
	set.V2 = newDoc(v2, parseV2)
	set.Root = newDoc(rootDocument(set.V3), nil)
	return set, nil
}

// withCRDsV2 adds the CRDs' definitions and paths to a swagger document.
func withCRDsV2(doc []byte, versions []crdVersion) ([]byte, error) {
	if len(versions) == 0 {
		return doc, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("openapi: v2 document: %w", err)
	}
	var paths, defs map[string]json.RawMessage
	if err := json.Unmarshal(top["paths"], &paths); err != nil || paths == nil {
		paths = map[string]json.RawMessage{}
	}
	if err := json.Unmarshal(top["definitions"], &defs); err != nil || defs == nil {
		defs = map[string]json.RawMessage{}
	}
	for _, cv := range versions {
		kn, k, ln, l := cv.schemas(false)
		defs[kn], defs[ln] = k, l
		addResourcePaths(paths, cv.res, kn, ln, func(n string) string { return v2RefPrefix + n }, false)
	}
	top["paths"], top["definitions"] = mustJSON(paths), mustJSON(defs)
	return mustJSON(top), nil
}

// rootDocument is /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":…}}}.
func rootDocument(v3 map[string]*Doc) []byte {
	keys := make([]string, 0, len(v3))
	for p := range v3 {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	paths := make(map[string]interface{}, len(keys))
	for _, p := range keys {
		paths[p] = map[string]string{"serverRelativeURL": "/openapi/v3/" + p + "?hash=" + v3[p].Hash}
	}
	return mustJSON(map[string]interface{}{"paths": paths})
}
