package openapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// The documents of custom resources, made from the stored CRDs as
// kube-apiserver's apiextensions builder makes them: each served version's
// openAPIV3Schema with the standard apiVersion / kind / metadata fields, a
// list schema, both named <reversed group>.<version>.<Kind> and annotated
// with their group-version-kind.

// crdVersion is one served version of a stored CRD.
type crdVersion struct {
	res    kube.Resource
	schema map[string]interface{} // openAPIV3Schema (nil: none given)
}

// crdShape is the part of a CRD object read here.
type crdShape struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind     string `json:"kind"`
			ListKind string `json:"listKind"`
			Plural   string `json:"plural"`
		} `json:"names"`
		Scope    string `json:"scope"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema *struct {
				OpenAPIV3Schema map[string]interface{} `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// parseCRD returns the served versions of a stored CRD.
func parseCRD(data []byte) ([]crdVersion, error) {
	var c crdShape
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("openapi: stored CRD: %w", err)
	}
	s := c.Spec
	if s.Group == "" || s.Names.Kind == "" || s.Names.Plural == "" {
		return nil, fmt.Errorf("openapi: stored CRD lacks group, kind or plural")
	}
	listKind := s.Names.ListKind
	if listKind == "" {
		listKind = s.Names.Kind + "List"
	}
	var out []crdVersion
	for _, v := range s.Versions {
		if !v.Served || v.Name == "" {
			continue
		}
		cv := crdVersion{res: kube.Resource{
			GVR:  schema.GroupVersionResource{Group: s.Group, Version: v.Name, Resource: s.Names.Plural},
			Kind: s.Names.Kind, ListKind: listKind, Namespaced: s.Scope != "Cluster",
		}}
		if v.Schema != nil {
			cv.schema = v.Schema.OpenAPIV3Schema
		}
		out = append(out, cv)
	}
	return out, nil
}

// definitionName is kube-apiserver's name for a custom kind's definition:
// the group reversed ("devices.kubeedge.io" → "io.kubeedge.devices"), then
// version and kind.
func definitionName(gvk schema.GroupVersionKind) string {
	parts := strings.Split(gvk.Group, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".") + "." + gvk.Version + "." + gvk.Kind
}

const (
	apiVersionDoc = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
	kindDoc       = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
	metadataDoc   = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
	listMetaDoc   = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
	objectMeta    = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	listMeta      = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
)

// crdSchemas returns the kind and list schemas of one CRD version, for
// OpenAPI 3 (v3) or swagger 2.0.
func (cv crdVersion) schemas(v3 bool) (kindName string, kind json.RawMessage, listName string, list json.RawMessage) {
	gv := cv.res.GVR.GroupVersion()
	prefix := v2RefPrefix
	if v3 {
		prefix = v3RefPrefix
	}
	s := map[string]interface{}{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	if cv.schema != nil {
		s = deepCopy(cv.schema)
		if !v3 {
			s = toV2(s)
		}
	}
	props, _ := s["properties"].(map[string]interface{})
	if props == nil {
		props = map[string]interface{}{}
		s["properties"] = props
	}
	props["apiVersion"] = map[string]interface{}{"type": "string", "description": apiVersionDoc}
	props["kind"] = map[string]interface{}{"type": "string", "description": kindDoc}
	props["metadata"] = refProp(prefix+objectMeta, metadataDoc, v3)
	s["x-kubernetes-group-version-kind"] = []gvkExt{{Group: gv.Group, Kind: cv.res.Kind, Version: gv.Version}}
	kindName = definitionName(cv.res.GVK())
	listName = definitionName(gv.WithKind(cv.res.ListKind))
	l := map[string]interface{}{
		"description": cv.res.ListKind + " is a list of " + cv.res.Kind,
		"type":        "object",
		"required":    []string{"items"},
		"properties": map[string]interface{}{
			"apiVersion": map[string]interface{}{"type": "string", "description": apiVersionDoc},
			"kind":       map[string]interface{}{"type": "string", "description": kindDoc},
			"metadata":   refProp(prefix+listMeta, listMetaDoc, v3),
			"items": map[string]interface{}{
				"type":        "array",
				"description": "List of " + cv.res.GVR.Resource + ". More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
				"items":       map[string]interface{}{"$ref": prefix + kindName},
			},
		},
		"x-kubernetes-group-version-kind": []gvkExt{{Group: gv.Group, Kind: cv.res.ListKind, Version: gv.Version}},
	}
	return kindName, mustJSON(s), listName, mustJSON(l)
}

// refProp is a property of a referenced type with its own description
// (OpenAPI 3 wraps the reference in allOf so the description stays).
func refProp(ref, desc string, v3 bool) map[string]interface{} {
	if v3 {
		return map[string]interface{}{"description": desc, "allOf": []interface{}{map[string]interface{}{"$ref": ref}}}
	}
	return map[string]interface{}{"description": desc, "$ref": ref}
}

// toV2 drops what swagger 2.0 cannot say (kube-apiserver does the same when
// it publishes a CRD's schema in /openapi/v2): nullable, and the
// combinators anyOf / oneOf / not, which kubectl's v2 validation would
// misread.
func toV2(s map[string]interface{}) map[string]interface{} {
	for _, k := range []string{"nullable", "anyOf", "oneOf", "not"} {
		delete(s, k)
	}
	for k, v := range s {
		switch x := v.(type) {
		case map[string]interface{}:
			if k == "properties" || k == "patternProperties" || k == "definitions" {
				for pk, pv := range x {
					if m, ok := pv.(map[string]interface{}); ok {
						x[pk] = toV2(m)
					}
				}
				continue
			}
			if k != "default" && k != "example" && k != "enum" {
				s[k] = toV2(x)
			}
		case []interface{}:
			if k == "allOf" {
				for i, e := range x {
					if m, ok := e.(map[string]interface{}); ok {
						x[i] = toV2(m)
					}
				}
			}
		}
	}
	return s
}

func deepCopy(m map[string]interface{}) map[string]interface{} {
	var out map[string]interface{}
	_ = json.Unmarshal(mustJSON(m), &out)
	return out
}
