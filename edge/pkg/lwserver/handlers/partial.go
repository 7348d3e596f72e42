package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// RawField returns the bytes of the value of a top-level field of a JSON
// object without decoding the object: a linear scan that skips the other
// values. ok is false when the field is absent or the JSON is malformed.
func RawField(data []byte, name string) (raw []byte, ok bool) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipWS(data, i)
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		keyStart := i
		end, ok := skipString(data, i)
		if !ok {
			return nil, false
		}
		key := data[keyStart+1 : end-1]
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipWS(data, i+1)
		vend, ok := skipValue(data, i)
		if !ok {
			return nil, false
		}
		if string(key) == name { // keys with escapes never match a plain name
			return data[i:vend], true
		}
		i = skipWS(data, vend)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i++
		case '}':
			return nil, false
		default:
			return nil, false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		j += i
		// the quote is escaped if an odd number of backslashes precede it
		k := j - 1
		for k >= i && b[k] == '\\' {
			k--
		}
		if (j-1-k)%2 == 0 {
			return j + 1, true
		}
		i = j + 1
	}
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, false
		}
		return j, true
	}
}

// appendPartialObjectMetadataJSON appends the JSON of the
// PartialObjectMetadata (of gv) of a stored object to b, built from its raw
// metadata bytes without decoding.
func appendPartialObjectMetadataJSON(b, data []byte, gv schema.GroupVersion) []byte {
	md, ok := RawField(data, "metadata")
	if !ok {
		md = []byte("{}")
	}
	b = append(b, `{"kind":"PartialObjectMetadata","apiVersion":"`...)
	b = append(b, gv.String()...)
	b = append(b, `","metadata":`...)
	b = append(b, md...)
	return append(b, '}')
}

// objectMeta decodes only the metadata of a stored object.
func objectMeta(data []byte) (metav1.ObjectMeta, error) {
	var m metav1.ObjectMeta
	md, ok := RawField(data, "metadata")
	if !ok {
		var wrapper struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(data, &wrapper); err != nil {
			return m, err
		}
		return wrapper.Metadata, nil
	}
	err := json.Unmarshal(md, &m)
	return m, err
}

// partialObjectMetadata returns the PartialObjectMetadata of gv for a stored object.
func partialObjectMetadata(data []byte, gv schema.GroupVersion) (runtime.Object, error) {
	switch gv {
	case metav1.SchemeGroupVersion, metav1beta1.SchemeGroupVersion:
	default:
		return nil, notAcceptable(fmt.Sprintf("no PartialObjectMetadataList exists in group version %s", gv))
	}
	m, err := objectMeta(data)
	if err != nil {
		return nil, err
	}
	p := &metav1.PartialObjectMetadata{ObjectMeta: m}
	p.GetObjectKind().SetGroupVersionKind(gv.WithKind("PartialObjectMetadata"))
	return p, nil
}

// partialObjectMetadataList returns the PartialObjectMetadataList (of gv:
// meta.k8s.io/v1 or v1beta1, which have distinct list types) of stored objects.
func partialObjectMetadataList(items []metaclient.Object, gv schema.GroupVersion, lm listMeta) (runtime.Object, error) {
	switch gv {
	case metav1.SchemeGroupVersion, metav1beta1.SchemeGroupVersion:
	default:
		return nil, notAcceptable(fmt.Sprintf("no PartialObjectMetadataList exists in group version %s", gv))
	}
	parts := make([]metav1.PartialObjectMetadata, len(items))
	gvk := gv.WithKind("PartialObjectMetadata")
	for i := range items {
		m, err := objectMeta(items[i].Data)
		if err != nil {
			return nil, err
		}
		parts[i].ObjectMeta = m
		parts[i].GetObjectKind().SetGroupVersionKind(gvk)
	}
	if gv == metav1beta1.SchemeGroupVersion {
		list := &metav1beta1.PartialObjectMetadataList{Items: parts}
		lm.apply(&list.ListMeta)
		list.GetObjectKind().SetGroupVersionKind(gv.WithKind("PartialObjectMetadataList"))
		return list, nil
	}
	list := &metav1.PartialObjectMetadataList{Items: parts}
	lm.apply(&list.ListMeta)
	list.GetObjectKind().SetGroupVersionKind(gv.WithKind("PartialObjectMetadataList"))
	return list, nil
}
