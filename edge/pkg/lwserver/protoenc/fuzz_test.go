package protoenc

import (
	"encoding/json"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/diff"
)

// FuzzTranscode: arbitrary bytes never panic the transcoder, and whatever a
// JSON client can decode round-trips: its canonical JSON transcodes to
// protobuf that decodes to the same object.
func FuzzTranscode(f *testing.F) {
	fx := fixtures(f)
	for name, data := range fx {
		f.Add(name, data)
	}
	f.Add("v1.Pod", []byte(`{"spec":{"volumes":[{"configMap":{"name":"a"},"name":"v","secret":{}}]}}`))
	f.Add("v1.Secret", []byte(`{"data":{"a":"!!"},"stringData":null}`))
	tr := New(newTestScheme(f))
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if _, ok := fx[name]; !ok {
			name = names[len(data)%len(names)]
		}
		gvk := fixtureGVK(name)
		k, err := tr.Kind(gvk)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = k.AppendObject(nil, data)
		typed, err := decodeJSON(tr.scheme, gvk, data)
		if err != nil {
			return
		}
		canonical, err := json.Marshal(typed)
		if err != nil {
			return // e.g. a RawExtension holding what is not JSON
		}
		checkRoundTrip(t, tr, gvk, canonical)
	})
}

func checkRoundTrip(t *testing.T, tr *Transcoder, gvk schema.GroupVersionKind, data []byte) {
	want, err := decodeJSON(tr.scheme, gvk, data)
	if err != nil {
		return // not every canonical encoding decodes (e.g. a zero IntOrString of an unknown type)
	}
	k, _ := tr.Kind(gvk)
	pb, err := k.AppendObject(nil, data)
	if err != nil {
		t.Fatalf("transcoding %s: %v", data, err)
	}
	got, _, err := decodeProto(tr.scheme, pb)
	if err != nil {
		t.Fatalf("decoding the transcoding of %s: %v", data, err)
	}
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatalf("%s:\n%s", data, diff.Diff(want, got))
	}
}

// FuzzUnescape: unescape decodes every JSON string as encoding/json does.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`plain`, `a\"b\\c\/d\b\f\n\r\t`, `\u00e9\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\ud83d\u0041`, "caf\xc3\xa9 \xff\xfe", `\x`, `\u12`, `\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		quoted := append(append([]byte{'"'}, s...), '"')
		var want string
		wantErr := json.Unmarshal(quoted, &want) != nil
		e := encoder{in: quoted}
		got, err := e.str()
		if err == nil && e.i != len(quoted) {
			err = e.errorf("string ends before the input") // s holds a quote
		}
		if wantErr != (err != nil) {
			t.Fatalf("%q: encoding/json error %v, ours %v", s, wantErr, err)
		}
		if err == nil && string(got) != want {
			t.Fatalf("%q: got %q, want %q", s, got, want)
		}
	})
}
