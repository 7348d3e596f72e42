package protoenc

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/diff"
)

var podGVK = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}

// TestList: a list built item by item decodes as the typed list, with its
// metadata, for empty, small and large lists (items spanning chunks).
func TestList(t *testing.T) {
	tr := New(newTestScheme(t))
	k, err := tr.Kind(podGVK)
	if err != nil {
		t.Fatal(err)
	}
	pod := fixtures(t)["v1.Pod"]
	remaining := int64(7)
	for _, tc := range []struct {
		n    int
		meta ListMeta
	}{
		{0, ListMeta{ResourceVersion: "1"}},
		{3, ListMeta{ResourceVersion: "42", Continue: "tok", RemainingItemCount: &remaining}},
		{200, ListMeta{ResourceVersion: "43"}}, // 200 × ~5 KB: several chunks
	} {
		l, err := k.NewList()
		if err != nil {
			t.Fatal(err)
		}
		want := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: tc.meta.ResourceVersion, Continue: tc.meta.Continue, RemainingItemCount: tc.meta.RemainingItemCount}}
		for i := 0; i < tc.n; i++ {
			item := bytes.Replace(pod, []byte(`"web-7c5d8f9b4d-x2k9p"`), []byte(`"pod-`+strings.Repeat("x", i%300)+`"`), 1)
			if err := l.Add(item); err != nil {
				t.Fatal(err)
			}
			obj, err := decodeJSON(tr.scheme, podGVK, item)
			if err != nil {
				t.Fatal(err)
			}
			want.Items = append(want.Items, *obj.(*corev1.Pod))
		}
		if err := l.Add([]byte(`{"metadata":`)); err == nil {
			t.Fatal("a broken item was accepted")
		}
		var buf bytes.Buffer
		size := l.Len(tc.meta)
		n, err := l.WriteTo(&buf, tc.meta)
		if err != nil || int(n) != buf.Len() || size != buf.Len() {
			t.Fatalf("WriteTo: %d bytes, Len %d, buffer %d, %v", n, size, buf.Len(), err)
		}
		got, gvk, err := decodeProto(tr.scheme, buf.Bytes())
		if err != nil {
			t.Fatalf("%d items: %v", tc.n, err)
		}
		if gvk.Kind != "PodList" {
			t.Errorf("envelope kind %s", gvk)
		}
		if !apiequality.Semantic.DeepEqual(want, got) {
			t.Fatalf("%d items:\n%s", tc.n, diff.Diff(want, got))
		}
	}
}

// TestWatchEvent: a watch frame is a big-endian length and a WatchEvent
// whose object is the enveloped object.
func TestWatchEvent(t *testing.T) {
	tr := New(newTestScheme(t))
	k, err := tr.Kind(podGVK)
	if err != nil {
		t.Fatal(err)
	}
	pod := fixtures(t)["v1.Pod"]
	prefix := []byte("previous frame")
	b, err := k.AppendWatchEvent(prefix, "MODIFIED", pod)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, prefix) {
		t.Fatal("dst not kept")
	}
	b = b[len(prefix):]
	if n := binary.BigEndian.Uint32(b); int(n) != len(b)-4 {
		t.Fatalf("frame length %d, have %d", n, len(b)-4)
	}
	var ev metav1.WatchEvent
	if err := ev.Unmarshal(b[4:]); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "MODIFIED" {
		t.Errorf("type %q", ev.Type)
	}
	got, _, err := decodeProto(tr.scheme, ev.Object.Raw)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeJSON(tr.scheme, podGVK, pod)
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Fatal(diff.Diff(want, got))
	}
}

// TestErrors: bad input is an error naming the cause, and dst is returned
// unchanged.
func TestErrors(t *testing.T) {
	tr := New(newTestScheme(t))
	k, err := tr.Kind(podGVK)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{``, "expected an object"},
		{`[]`, "expected an object"},
		{`{"metadata":{"name":5}}`, `expected a string for "name"`},
		{`{"spec":{"priority":1.5}}`, `"priority"`},
		{`{"spec":{"priority":4294967296}}`, "32-bit"},
		{`{"metadata":{"creationTimestamp":"yesterday"}}`, "creationTimestamp"},
		{`{"spec":{"containers":{}}}`, "expected an array"},
		{`{"metadata":{}} x`, "data after the object"},
		{`{"metadata":{"labels":{"a":"b"`, "offset"},
		{`{"unknown":[1,{"a":tru}]}`, "invalid JSON value"},
		{`{"data":"\u12"}`, "offset"},
	} {
		dst := []byte("keep")
		out, err := k.AppendObject(dst, []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", tc.in, out)
		}
	}
	if _, err := tr.Kind(schema.GroupVersionKind{Group: "devices.kubeedge.io", Version: "v1beta1", Kind: "Device"}); err == nil {
		t.Error("a custom resource got a transcoder")
	}
}
