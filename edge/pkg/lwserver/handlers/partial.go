package handlers

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// appendPartialObjectMetadataJSON appends the JSON of the
// PartialObjectMetadata (of gv) of a stored object to b, built from its raw
// metadata bytes without decoding.
func appendPartialObjectMetadataJSON(b, data []byte, gv schema.GroupVersion) []byte {
	md, ok := jsonscan.Field(data, "metadata")
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
	md, ok := jsonscan.Field(data, "metadata")
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
