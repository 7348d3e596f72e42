package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/json"
)

// protoObject wraps obj as kube-apiserver writes protobuf: magic, Unknown.
func protoObject(t *testing.T, kind string, raw []byte) []byte {
	t.Helper()
	u := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "v1", Kind: kind}, Raw: raw, ContentType: "application/vnd.kubernetes.protobuf"}
	b, err := u.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), protoMagic...), b...)
}

func benchPodProto(t *testing.T, i int, seq int64) []byte {
	t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal(makePod(i, 7, seq), &p); err != nil {
		t.Fatal(err)
	}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeProto(t *testing.T) {
	pod := benchPodProto(t, 3, -1)
	list := corev1.PodList{Items: make([]corev1.Pod, 3)}
	for i := range list.Items {
		if err := list.Items[i].Unmarshal(pod); err != nil {
			t.Fatal(err)
		}
	}
	rawList, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		kind    string
		items   int
		wantErr bool
	}{
		{"pod list", protoObject(t, "PodList", rawList), "PodList", 3, false},
		{"pod", protoObject(t, "Pod", pod), "Pod", 1, false},
		{"json", []byte(`{"kind":"PodList"}`), "", 0, true},
		{"garbled list", protoObject(t, "PodList", []byte{0x0a, 0xff}), "PodList", 0, true},
	} {
		kind, items, err := decodeProto(tc.body)
		if (err != nil) != tc.wantErr || kind != tc.kind || items != tc.items {
			t.Errorf("%s: kind %q items %d err %v", tc.name, kind, items, err)
		}
	}
	if _, err := decodeShape([]byte(`{"kind":"PodList"}`), protoAccept); err == nil || err.Error()[:3] != "n/a" {
		t.Errorf("JSON answer to a protobuf request: %v, want n/a", err)
	}
}

// TestProtoWatchFraming frames events as kube-apiserver's protobuf watch
// stream does and reads type and sequence annotation back.
func TestProtoWatchFraming(t *testing.T) {
	var stream bytes.Buffer
	events := []struct {
		typ string
		seq int64
	}{{"ADDED", -1}, {"MODIFIED", 123456789}, {"BOOKMARK", -1}, {"MODIFIED", 5}}
	for i, e := range events {
		we := metav1.WatchEvent{Type: e.typ}
		we.Object.Raw = protoObject(t, "Pod", benchPodProto(t, i, e.seq))
		b, err := we.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		_ = binary.Write(&stream, binary.BigEndian, uint32(len(b)))
		stream.Write(b)
	}
	f := newProtoFramer(&stream)
	for i, e := range events {
		ev, err := f.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got := protoEventType(ev); got != e.typ {
			t.Errorf("event %d: type %q, want %q", i, got, e.typ)
		}
		want := ""
		if e.seq >= 0 {
			want = strconv.FormatInt(e.seq, 10)
		}
		if got := string(protoSeq(ev)); got != want {
			t.Errorf("event %d: seq %q, want %q", i, got, want)
		}
	}
	if _, err := f.next(); err != io.EOF {
		t.Errorf("after the last event: %v, want EOF", err)
	}
	// A truncated frame is an error, not a short event.
	trunc := bytes.NewReader([]byte{0, 0, 0, 10, 1, 2})
	if _, err := newProtoFramer(trunc).next(); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated frame: %v", err)
	}
	huge := bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})
	if _, err := newProtoFramer(huge).next(); err == nil {
		t.Error("4 GB frame accepted")
	}
}
