package metamanager

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// FuzzParseResource: any string parses or errors (one line), never panics;
// what parses round-trips.
func FuzzParseResource(f *testing.F) {
	for _, s := range []string{"default/pod/nginx", "null/node/edge-1", "default/pod", "default/pod/", "demo/device/a.b",
		"", "/", "//", "default//x", "default/pod/a/b", "null/customresourcedefinition/devices.devices.kubeedge.io", "a/b/..", "x/y/%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResource(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if r.Namespace == "" || r.Restype == "" || strings.Contains(r.Name, "/") {
			t.Fatalf("accepted %q as %+v", s, r)
		}
		r2, err := ParseResource(r.String())
		if err != nil || r2 != r {
			t.Fatalf("round trip %q -> %+v -> %q -> %+v, %v", s, r, r.String(), r2, err)
		}
	})
}

// FuzzDecodeMessage: a line from the socket is decoded and validated the way
// the ingress and metaManager do it; nothing panics, every failure is a
// one-line reason, and a validated write names keys consistent with its
// resource string.
func FuzzDecodeMessage(f *testing.F) {
	if b, err := os.ReadFile("../../../hack/demo/demo.ndjson"); err == nil {
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(l) > 0 {
				f.Add(l)
			}
		}
	}
	for _, s := range []string{
		`{"header":{"msg_id":"1"},"route":{"operation":"insert","resource":"default/pod/p"},"content":{"metadata":{"name":"p"}}}`,
		`{"header":{"msg_id":"2"},"route":{"operation":"delete","resource":"default/pod/p"}}`,
		`{"header":{"msg_id":"3"},"route":{"operation":"insert","resource":"default/pod"},"content":{"kind":"PodList","items":[{"metadata":{"name":"a"}}]}}`,
		`{"header":{"msg_id":"4"},"route":{"operation":"patch","resource":"default/pod/p"},"content":{"spec":{}}}`,
		`{"header":{"msg_id":"5"},"route":{"operation":"response","resource":"default/pod/p"},"content":"OK"}`,
		`{"header":{"msg_id":"6","resourceversion":"x"},"route":{"operation":"query","resource":"null/node"}}`,
		`{"route":{"operation":"insert","resource":"null/customresourcedefinition/a.b"},"content":{"spec":{"group":"b","names":{"kind":"A","plural":"as"},"versions":[{"name":"v1"}]}}}`,
		`not json`, `{}`, `null`, `[]`, `{"content":{"items":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		msg, err := edgehub.DecodeMessage(line)
		if err != nil {
			return
		}
		if _, err := edgehub.EncodeMessage(msg); err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		m := &MetaManager{mapper: kube.NewMapper()}
		p, err := m.prepare(&msg)
		if err != nil {
			if strings.ContainsAny(oneLine(err.Error()), "\n\r") {
				t.Fatal("multi-line reason")
			}
			return
		}
		for _, it := range p.items {
			if it.key.Name == "" || strings.Contains(it.key.Name, "/") {
				t.Fatalf("item with bad name %q", it.key.Name)
			}
			if p.kr.Namespaced != (it.key.Namespace != "") {
				t.Fatalf("item key %+v does not fit scope of %s", it.key, p.kr.Kind)
			}
			if it.obj != nil && (it.obj["kind"] == nil || it.obj["apiVersion"] == nil) {
				t.Fatalf("item without TypeMeta: %v", it.obj)
			}
			if it.data != nil {
				// What the store will write: valid JSON, and what
				// json.Marshal gives for the object.
				data := append(append(append([]byte(nil), it.data[:it.rvOff]...), '7'), it.data[it.rvOff:]...)
				if !json.Valid(data) {
					t.Fatalf("encoded item is not valid JSON: %s", data)
				}
				it.obj["metadata"].(map[string]interface{})["resourceVersion"] = "7"
				want, err := json.Marshal(it.obj)
				if err != nil || string(want) != string(data) {
					t.Fatalf("encoded item:\n%s\njson.Marshal:\n%s (%v)", data, want, err)
				}
			}
		}
	})
}
