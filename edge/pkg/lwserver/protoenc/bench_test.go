package protoenc

import (
	"encoding/json"
	"io"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// BenchmarkPod: one realistic pod (testdata/v1.Pod.json, ~8 KB of JSON)
// transcoded, against what the handlers did before: decode into a typed
// Pod and encode it with client-go's protobuf serializer.
func BenchmarkPod(b *testing.B) {
	tr := New(newTestScheme(b))
	k, err := tr.Kind(podGVK)
	if err != nil {
		b.Fatal(err)
	}
	pod := fixtures(b)["v1.Pod"]
	b.Run("transcode", func(b *testing.B) {
		b.SetBytes(int64(len(pod)))
		b.ReportAllocs()
		var out []byte
		for i := 0; i < b.N; i++ {
			if out, err = k.AppendObject(out[:0], pod); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		ser := protobuf.NewSerializer(tr.scheme, tr.scheme)
		b.SetBytes(int64(len(pod)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			obj, err := decodeJSON(tr.scheme, podGVK, pod)
			if err != nil {
				b.Fatal(err)
			}
			obj.GetObjectKind().SetGroupVersionKind(podGVK)
			if err := ser.Encode(obj, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-valid", func(b *testing.B) { // the floor: one pass of encoding/json's scanner
		b.SetBytes(int64(len(pod)))
		for i := 0; i < b.N; i++ {
			if !json.Valid(pod) {
				b.Fatal("invalid")
			}
		}
	})
}
