package handlers

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/diff"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// TestProtobufMatchesJSON: gets and lists (whole, paged, selected) of
// built-in kinds in protobuf decode to exactly what the same requests in
// JSON decode to.
func TestProtobufMatchesJSON(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i := 0; i < 80; i++ { // ~350 KB of JSON: several batches of the list pipe
		e.put(t, benchPod(i))
	}
	e.put(t, node("edge-1"), crd(), device("default", "d1"),
		map[string]interface{}{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata":   map[string]interface{}{"name": "cm", "namespace": "ns-1"},
			"data":       map[string]interface{}{"a": "b"},
			"binaryData": map[string]interface{}{"bin": "AAEC/w=="}},
		map[string]interface{}{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]interface{}{"name": "s", "namespace": "ns-1"},
			"type":     "Opaque", "data": map[string]interface{}{"k": "c2VjcmV0"}})
	s := e.h.scheme
	pb := protobuf.NewSerializer(s, s)
	js := e.h.Codecs().UniversalDeserializer()
	for _, path := range []string{
		"/api/v1/namespaces/ns-3/pods/pod-000003",
		"/api/v1/pods",
		"/api/v1/pods?limit=10",
		"/api/v1/pods?labelSelector=bucket%3Db7",
		"/api/v1/namespaces/ns-1/pods",
		"/api/v1/nodes/edge-1",
		"/api/v1/nodes",
		"/api/v1/namespaces/ns-1/configmaps",
		"/api/v1/namespaces/ns-1/secrets/s",
		"/api/v1/namespaces/empty/pods",
	} {
		jw := e.do(t, "GET", path, "Accept", "application/json")
		pw := e.do(t, "GET", path, "Accept", "application/vnd.kubernetes.protobuf")
		if jw.Code != 200 || pw.Code != 200 {
			t.Fatalf("%s: JSON %d, protobuf %d: %s", path, jw.Code, pw.Code, pw.Body)
		}
		if ct := pw.Header().Get("Content-Type"); ct != MediaTypeProtobuf {
			t.Fatalf("%s: Content-Type %q", path, ct)
		}
		want, _, err := js.Decode(jw.Body.Bytes(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := pb.Decode(pw.Body.Bytes(), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		clearItemTypes(t, want)
		if !equality.Semantic.DeepEqual(want, got) {
			t.Fatalf("%s:\n%s", path, diff.Diff(want, got))
		}
		if meta.IsListType(got) && meta.LenList(got) == 0 && path != "/api/v1/namespaces/empty/pods" {
			t.Fatalf("%s: empty list", path)
		}
	}
	// custom resources have no protobuf form
	if w := e.do(t, "GET", "/apis/devices.example.com/v1alpha1/namespaces/default/devices", "Accept", "application/vnd.kubernetes.protobuf"); w.Code != 406 {
		t.Fatalf("custom resource as protobuf: %d", w.Code)
	}
}

// clearItemTypes drops the items' TypeMeta, which JSON lists carry (the
// stored objects have it) and protobuf lists do not (kube-apiserver's neither).
func clearItemTypes(t *testing.T, obj runtime.Object) {
	if !meta.IsListType(obj) {
		return
	}
	if err := meta.EachListItem(obj, func(o runtime.Object) error {
		o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestProtobufBadStoredObject: an object whose JSON does not fit its kind
// is a 500 Status naming the cause, for a get and for whole and paged lists
// (the list pipe stops and nothing hangs).
func TestProtobufBadStoredObject(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i := 0; i < 80; i++ {
		e.put(t, benchPod(i))
	}
	bad := pod("ns-1", "zz-bad", nil, "n1", "Running")
	bad["spec"].(map[string]interface{})["priority"] = "high"
	e.put(t, bad)
	for _, path := range []string{"/api/v1/namespaces/ns-1/pods/zz-bad", "/api/v1/pods", "/api/v1/namespaces/ns-1/pods?limit=100"} {
		w := e.do(t, "GET", path, "Accept", "application/vnd.kubernetes.protobuf")
		if w.Code != 500 || !strings.Contains(w.Body.String(), `"priority"`) {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	if w := e.do(t, "GET", "/api/v1/namespaces/ns-2/pods", "Accept", "application/vnd.kubernetes.protobuf"); w.Code != 200 {
		t.Fatalf("other namespace: %d", w.Code)
	}
}
