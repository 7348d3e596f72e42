package dao

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GVRString is the column form of a GVR: "group/version/resource" (core
// group empty: "/v1/pods").
func GVRString(gvr schema.GroupVersionResource) string {
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource
}

// ParseGVRString is the inverse of GVRString.
func ParseGVRString(s string) (schema.GroupVersionResource, error) {
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return schema.GroupVersionResource{}, fmt.Errorf("bad gvr %q", s)
	}
	j := strings.IndexByte(s[i+1:], '/')
	if j < 0 {
		return schema.GroupVersionResource{}, fmt.Errorf("bad gvr %q", s)
	}
	return schema.GroupVersionResource{Group: s[:i], Version: s[i+1 : i+1+j], Resource: s[i+2+j:]}, nil
}

// KeyString is the continue-key form of (namespace, name): "namespace/name"
// ("/name" for cluster-scoped objects).
func KeyString(namespace, name string) string { return namespace + "/" + name }

// ParseAfter splits a ListOptions.After value into namespace and name.
func ParseAfter(after string) (namespace, name string, err error) {
	i := strings.IndexByte(after, '/')
	if i < 0 {
		return "", "", fmt.Errorf("invalid continue key %q: want namespace/name", after)
	}
	return after[:i], after[i+1:], nil
}

// EncodeStringMap is the stored form of a label or field set (nil when
// empty), for PutRequest.LabelsJSON / FieldsJSON.
func EncodeStringMap(m map[string]string) []byte { return encodeStringMap(m) }

// encodeStringMap encodes a label or field set; empty sets are NULL.
func encodeStringMap(m map[string]string) []byte {
	if len(m) == 0 {
		return nil
	}
	return appendStringMap(make([]byte, 0, 64*len(m)), m)
}

// decodeStringMap decodes a JSON object of strings. NULL/empty gives nil. The
// common case (no escapes) is parsed by hand: it runs for every listed row.
func decodeStringMap(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	return decodeStringMapString(string(b))
}

// decodeStringMapString is decodeStringMap for a string the caller owns:
// keys and values are substrings of raw (no copies).
func decodeStringMapString(raw string) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if m, ok := fastDecodeStringMap(raw); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// fastDecodeStringMap parses {"k":"v",...} without escapes. All keys and
// values are substrings of raw (no allocation for the strings, one for
// the map). The JSON was produced by encoding/json, so it is
// valid UTF-8; anything unusual falls back to encoding/json.
func fastDecodeStringMap(raw string) (map[string]string, bool) {
	if strings.IndexByte(raw, '\\') >= 0 {
		return nil, false
	}
	i := 0
	ws := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\t' || raw[i] == '\r') {
			i++
		}
	}
	str := func() (string, bool) {
		if i >= len(raw) || raw[i] != '"' {
			return "", false
		}
		j := strings.IndexByte(raw[i+1:], '"')
		if j < 0 {
			return "", false
		}
		v := raw[i+1 : i+1+j]
		i += j + 2
		return v, true
	}
	ws()
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	m := make(map[string]string, strings.Count(raw, ":"))
	ws()
	if i < len(raw) && raw[i] == '}' {
		i++
		ws()
		return m, i == len(raw)
	}
	for {
		ws()
		k, ok := str()
		if !ok {
			return nil, false
		}
		ws()
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		i++
		ws()
		v, ok := str()
		if !ok {
			return nil, false
		}
		m[k] = v
		ws()
		if i >= len(raw) {
			return nil, false
		}
		if raw[i] == ',' {
			i++
			continue
		}
		if raw[i] == '}' {
			i++
			ws()
			return m, i == len(raw)
		}
		return nil, false
	}
}
