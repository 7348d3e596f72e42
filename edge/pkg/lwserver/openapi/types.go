// Package openapi builds the OpenAPI v2 and v3 documents lwserver serves on
// /openapi/v2 and /openapi/v3 (kubectl explain, kubectl's client-side
// validation before apply): built-in types from a Source, custom resources
// from the CRDs the store holds.
//
// A Source gives kube-apiserver's own documents. Sources are tried in order:
// a cluster's documents stored while an uplink was online come first, the
// built-in fallback (Builtin: kube-apiserver v1.37.2's definitions compiled
// into the binary) last, so an edge node that never reached its cloud still
// explains every built-in kind. CRD documents are always made from the store,
// which is what lwserver serves objects from.
//
// Documents are served as kube-apiserver serves them (docs/architecture.md,
// "OpenAPI"): /openapi/v3 lists one document per group-version at a
// hash-addressed URL (…?hash=H, immutable and cacheable for a year), every
// document has an ETag (its hash) and answers If-None-Match with 304.
package openapi

// Documents are one source's OpenAPI documents (JSON).
type Documents struct {
	// Tag changes whenever the documents do (e.g. the revision at which they
	// were stored); it keys the caches built from them.
	Tag string
	// V2 is the /openapi/v2 document (swagger 2.0).
	V2 []byte
	// V3 maps a group-version path ("api/v1", "apis/apps/v1") to its
	// /openapi/v3/<path> document.
	V3 map[string][]byte
}

// Source supplies the built-in kinds' documents.
type Source interface {
	// Documents returns the source's documents, or ok false when it has none
	// (yet): the next source is asked then.
	Documents() (docs *Documents, ok bool)
}

// Sources is a Source trying each of its members in order.
type Sources []Source

// Documents implements Source.
func (s Sources) Documents() (*Documents, bool) {
	for _, src := range s {
		if src == nil {
			continue
		}
		if d, ok := src.Documents(); ok {
			return d, true
		}
	}
	return nil, false
}
