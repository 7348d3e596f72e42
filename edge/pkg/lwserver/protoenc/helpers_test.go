package protoenc

import (
	"bytes"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/diff"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	sigsjson "sigs.k8s.io/json"
)

func newTestScheme(t testing.TB) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// decodeJSON decodes data into a new typed object of gvk the way the
// handlers did before the transcoder (sigs.k8s.io/json, case-sensitive).
func decodeJSON(s *runtime.Scheme, gvk schema.GroupVersionKind, data []byte) (runtime.Object, error) {
	obj, err := s.New(gvk)
	if err != nil {
		return nil, err
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, obj); err != nil {
		return nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return obj, nil
}

// decodeProto decodes an enveloped protobuf object with client-go's own
// protobuf serializer, as a client would.
func decodeProto(s *runtime.Scheme, data []byte) (runtime.Object, *schema.GroupVersionKind, error) {
	ser := protobuf.NewSerializer(s, s)
	obj, gvk, err := ser.Decode(data, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return obj, gvk, nil
}

// checkEquivalent transcodes data as gvk and checks that a protobuf client
// decodes what a JSON client decodes.
func checkEquivalent(t *testing.T, tr *Transcoder, gvk schema.GroupVersionKind, data []byte) {
	t.Helper()
	s := tr.scheme
	want, err := decodeJSON(s, gvk, data)
	if err != nil {
		t.Fatalf("%s: JSON decode: %v\n%s", gvk, err, data)
	}
	k, err := tr.Kind(gvk)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := k.AppendObject(nil, data)
	if err != nil {
		t.Fatalf("%s: transcode: %v\n%s", gvk, err, data)
	}
	got, gotGVK, err := decodeProto(s, pb)
	if err != nil {
		t.Fatalf("%s: protobuf decode: %v\n%s", gvk, err, data)
	}
	if *gotGVK != gvk {
		t.Errorf("envelope says %s, want %s", gotGVK, gvk)
	}
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatalf("%s: protobuf decodes differently from JSON:\n%s\nJSON: %s", gvk, diff.Diff(want, got), data)
	}
	// the message without envelope is the same bytes
	msg, err := k.AppendMessage(nil, data)
	if err != nil || !bytes.Contains(pb, msg) {
		t.Errorf("AppendMessage differs from the envelope's raw (err %v)", err)
	}
}
