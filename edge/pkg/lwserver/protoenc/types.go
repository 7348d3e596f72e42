// Package protoenc serves built-in Kubernetes kinds in the Kubernetes
// protobuf encoding (application/vnd.kubernetes.protobuf) straight from the
// JSON the store holds: a schema-driven transcoder walks the JSON once and
// writes protobuf, with no typed object in between. The schemas are built
// once per Go type by reflection from k8s.io/api's struct tags (protobuf
// field numbers and wire types, JSON names, inline embedding), so every kind
// client-go's scheme knows is covered and kept in step with k8s.io/api.
//
// The output decodes to the object the JSON decodes to (the same typed
// object a kube-apiserver would encode); it is not byte for byte what the
// generated marshalers write (zero values of non-pointer fields may be left
// out, map entries keep the JSON's order), which protobuf decoders do not
// tell apart. Kinds outside the scheme (custom resources) have no protobuf
// form, as in kube-apiserver (docs/architecture.md, "What lwserver serves").
package protoenc

import (
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Transcoder holds the schemas of the kinds it has served. It is safe for
// concurrent use; build one per scheme and share it.
type Transcoder struct {
	scheme *runtime.Scheme

	mu      sync.Mutex
	kinds   map[schema.GroupVersionKind]*Kind
	builder schemaBuilder

	// chunks recycles the buffers lists are built in (*[]byte).
	chunks sync.Pool
}

// Kind transcodes one built-in kind: its objects, lists and watch events.
type Kind struct {
	gvk      schema.GroupVersionKind
	msg      *message
	typeMeta []byte // runtime.Unknown's typeMeta field of an object
	list     *listSchema
	t        *Transcoder
}

// listSchema is the kind's list type (PodList…).
type listSchema struct {
	typeMeta []byte // runtime.Unknown's typeMeta field of the list
	metadata *field // ListMeta
	items    *field
}

// ListMeta is what a list's metadata carries.
type ListMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// New returns a Transcoder for the kinds of scheme (typically client-go's).
func New(scheme *runtime.Scheme) *Transcoder {
	if scheme == nil {
		panic("protoenc.New: nil scheme")
	}
	return &Transcoder{
		scheme:  scheme,
		kinds:   map[schema.GroupVersionKind]*Kind{},
		builder: schemaBuilder{done: map[reflect.Type]*message{}},
	}
}

// Kind returns the transcoder of gvk, building its schema on first use. A
// kind the scheme does not know (a custom resource) is an error: those are
// served as JSON only, as kube-apiserver does.
func (t *Transcoder) Kind(gvk schema.GroupVersionKind) (*Kind, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k, ok := t.kinds[gvk]; ok {
		return k, nil
	}
	obj, err := t.scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("protoenc: %w", err)
	}
	msg, err := t.builder.message(structType(obj))
	if err != nil {
		return nil, fmt.Errorf("protoenc: %s: %w", gvk, err)
	}
	k := &Kind{gvk: gvk, msg: msg, typeMeta: unknownTypeMeta(gvk), t: t}
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if lobj, err := t.scheme.New(listGVK); err == nil {
		if k.list, err = t.listSchema(listGVK, structType(lobj)); err != nil {
			return nil, err
		}
	}
	t.kinds[gvk] = k
	return k, nil
}

func structType(obj runtime.Object) reflect.Type {
	return reflect.TypeOf(obj).Elem()
}

func (t *Transcoder) listSchema(gvk schema.GroupVersionKind, typ reflect.Type) (*listSchema, error) {
	msg, err := t.builder.message(typ)
	if err != nil {
		return nil, fmt.Errorf("protoenc: %s: %w", gvk, err)
	}
	md, items := msg.lookup([]byte("metadata"), 0), msg.lookup([]byte("items"), 0)
	if md < 0 || items < 0 || !msg.fields[items].repeated || msg.fields[items].msg == nil {
		return nil, fmt.Errorf("protoenc: %s has no metadata and items", gvk)
	}
	return &listSchema{typeMeta: unknownTypeMeta(gvk), metadata: msg.fields[md], items: msg.fields[items]}, nil
}

// GroupVersionKind is the kind's.
func (k *Kind) GroupVersionKind() schema.GroupVersionKind { return k.gvk }
