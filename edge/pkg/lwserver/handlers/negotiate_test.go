package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

func TestNegotiation(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	e.put(t, crd())
	e.put(t, pod("default", "a", map[string]interface{}{"app": "x"}, "n1", "Running"), device("default", "d1"))
	const (
		pb      = "application/vnd.kubernetes.protobuf"
		table   = "application/json;as=Table;v=v1;g=meta.k8s.io"
		tableB1 = "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
		pom     = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
		poml    = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
		pomlB1  = "application/json;as=PartialObjectMetadataList;v=v1beta1;g=meta.k8s.io"
		pomlPB  = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
	)
	for _, tc := range []struct {
		name, path, accept string
		code               int
		ctype              string
		contains           string
	}{
		{"json default", "/api/v1/pods", "", 200, "application/json", `"kind":"PodList"`},
		{"json wildcard", "/api/v1/pods", "*/*", 200, "application/json", `"kind":"PodList"`},
		{"yaml list", "/api/v1/pods", "application/yaml", 200, "application/yaml", "kind: PodList"},
		{"yaml get", "/api/v1/namespaces/default/pods/a", "application/yaml", 200, "application/yaml", "kind: Pod"},
		{"protobuf list", "/api/v1/pods", pb, 200, pb, "k8s\x00"},
		{"protobuf get", "/api/v1/namespaces/default/pods/a", pb, 200, pb, "k8s\x00"},
		{"protobuf then json (client-go)", "/api/v1/pods", pb + ", application/json", 200, pb, ""},
		{"crd protobuf only", "/apis/devices.example.com/v1alpha1/devices", pb, 406, pb, "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"},
		{"crd protobuf then json", "/apis/devices.example.com/v1alpha1/devices", pb + ", application/json", 200, "application/json", `"kind":"DeviceList"`},
		{"table", "/api/v1/pods", table, 200, "application/json", `"kind":"Table","apiVersion":"meta.k8s.io/v1"`},
		{"table v1beta1", "/api/v1/pods", tableB1, 200, "application/json", `"apiVersion":"meta.k8s.io/v1beta1"`},
		{"table yaml", "/api/v1/pods", "application/yaml;as=Table;v=v1;g=meta.k8s.io", 200, "application/yaml", "kind: Table"},
		{"table protobuf falls back", "/api/v1/pods", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json", 200, "application/json", `"kind":"PodList"`},
		{"table protobuf only", "/api/v1/pods", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", 406, "application/json", "only the following media types are accepted"},
		{"table kubectl", "/api/v1/pods", table + "," + tableB1 + ",application/json", 200, "application/json", `"kind":"Table"`},
		{"table get", "/api/v1/namespaces/default/pods/a", table, 200, "application/json", `"kind":"Table"`},
		{"table crd", "/apis/devices.example.com/v1alpha1/devices", table, 200, "application/json", `"kind":"Table"`},
		{"table includeObject=Object", "/api/v1/pods?includeObject=Object", table, 200, "application/json", `"object":{"apiVersion":"v1","kind":"Pod"`},
		{"table includeObject=None", "/api/v1/pods?includeObject=None", table, 200, "application/json", `"cells":["a"`},
		{"table includeObject bad", "/api/v1/pods?includeObject=Foo", table, 400, "application/json", "Unable to convert to Table as requested"},
		{"pom get", "/api/v1/namespaces/default/pods/a", pom, 200, "application/json", `"kind":"PartialObjectMetadata"`},
		{"pom list", "/api/v1/pods", pom, 406, "application/json", "you requested PartialObjectMetadata, but the requested object is a list (*v1.PodList)"},
		{"poml list", "/api/v1/pods", poml, 200, "application/json", `"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1"`},
		{"poml list v1beta1", "/api/v1/pods", pomlB1, 200, "application/json", `"apiVersion":"meta.k8s.io/v1beta1"`},
		{"poml protobuf", "/api/v1/pods", pomlPB, 200, pb, "k8s\x00"},
		{"poml crd protobuf", "/apis/devices.example.com/v1alpha1/devices", pomlPB, 200, pb, "k8s\x00"},
		{"poml get", "/api/v1/namespaces/default/pods/a", poml, 406, "application/json", "you requested PartialObjectMetadataList, but the requested object is not a list (*v1.Pod)"},
		{"unknown as", "/api/v1/pods", "application/json;as=Foo;v=v1;g=meta.k8s.io", 406, "application/json", "only the following media types are accepted"},
		{"text/html", "/api/v1/pods", "text/html", 406, "application/json", "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"},
		{"404 in yaml", "/api/v1/namespaces/default/pods/zz", "application/yaml", 404, "application/yaml", "reason: NotFound"},
		{"404 in protobuf", "/api/v1/namespaces/default/pods/zz", pb, 404, pb, "k8s\x00"},
		{"pretty", "/api/v1/namespaces/default/pods/a?pretty=true", "", 200, "application/json", "{\n  \"apiVersion\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, tc.path, "Accept", tc.accept)
			if w.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.code, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); ct != tc.ctype {
				t.Fatalf("content type %q, want %q", ct, tc.ctype)
			}
			if !strings.Contains(w.Body.String(), tc.contains) {
				t.Fatalf("body lacks %q: %q", tc.contains, w.Body.String())
			}
		})
	}
}

// TestProtobufDecodes: protobuf answers decode with client-go's codecs into
// the typed objects, with the same content as the JSON answers.
func TestProtobufDecodes(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	e.put(t, pod("default", "a", map[string]interface{}{"app": "x"}, "n1", "Running"), pod("default", "b", nil, "n2", "Pending"))
	dec := protobuf.NewSerializer(clientgoscheme.Scheme, clientgoscheme.Scheme)
	w := e.do(t, http.MethodGet, "/api/v1/pods?limit=1", "Accept", "application/vnd.kubernetes.protobuf")
	obj, _, err := dec.Decode(w.Body.Bytes(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, ok := obj.(*corev1.PodList)
	if !ok || len(list.Items) != 1 || list.Items[0].Name != "a" || list.Items[0].Spec.NodeName != "n1" ||
		list.Continue == "" || list.ResourceVersion != "2" || list.Items[0].Labels["app"] != "x" {
		t.Fatalf("decoded %T %+v", obj, obj)
	}
	w = e.do(t, http.MethodGet, "/api/v1/namespaces/default/pods/b", "Accept", "application/vnd.kubernetes.protobuf")
	obj, _, err = dec.Decode(w.Body.Bytes(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := obj.(*corev1.Pod); !ok || p.Status.Phase != corev1.PodPending || p.ResourceVersion != "2" {
		t.Fatalf("decoded %+v", obj)
	}
	// Status in protobuf
	w = e.do(t, http.MethodGet, "/api/v1/namespaces/default/pods/zz", "Accept", "application/vnd.kubernetes.protobuf")
	var u runtime.Unknown
	if !bytes.HasPrefix(w.Body.Bytes(), []byte("k8s\x00")) {
		t.Fatal("no protobuf envelope")
	}
	if err := u.Unmarshal(w.Body.Bytes()[4:]); err != nil {
		t.Fatal(err)
	}
	var s metav1.Status
	if err := s.Unmarshal(u.Raw); err != nil || s.Code != 404 {
		t.Fatalf("%v %+v", err, s)
	}
}

func TestDiscovery(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	e.put(t, crd())
	get := func(path, accept string) (int, string, []byte) {
		w := e.do(t, http.MethodGet, path, "Accept", accept)
		return w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()
	}
	code, _, body := get("/api/v1", "")
	var rl metav1.APIResourceList
	if err := json.Unmarshal(body, &rl); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	found := false
	for _, r := range rl.APIResources {
		if r.Name == "pods" {
			found = r.Namespaced && r.Kind == "Pod" && r.SingularName == "pod" && strings.Join(r.ShortNames, ",") == "po" && strings.Join(r.Verbs, ",") == "get,list,watch"
		}
	}
	if !found {
		t.Fatalf("pods missing or wrong in %s", body)
	}
	code, _, body = get("/apis/devices.example.com", "")
	if code != 200 || !strings.Contains(string(body), `"preferredVersion":{"groupVersion":"devices.example.com/v1alpha1"`) {
		t.Fatalf("%d %s", code, body)
	}
	code, _, body = get("/apis/devices.example.com/v1alpha1", "")
	if code != 200 || !strings.Contains(string(body), `"name":"devices","singularName":"device","namespaced":true,"kind":"Device"`) {
		t.Fatalf("%d %s", code, body)
	}
	if code, _, _ = get("/apis/nope.example.com", ""); code != 404 {
		t.Fatal(code)
	}
	if code, _, _ = get("/apis/apps/v2", ""); code != 404 {
		t.Fatal(code)
	}
	const agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
	code, ct, body := get("/apis", agg)
	if code != 200 || ct != "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" || !strings.Contains(string(body), `"name":"devices.example.com"`) {
		t.Fatalf("%d %s %s", code, ct, body)
	}
	code, ct, body = get("/api", agg)
	if code != 200 || !strings.Contains(string(body), `"resource":"pods"`) || strings.Contains(string(body), `"name":"apps"`) {
		t.Fatalf("%d %s %s", code, ct, body)
	}
	code, ct, _ = get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList")
	if code != 200 || ct != "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList" {
		t.Fatal(code, ct)
	}
	code, ct, _ = get("/apis", "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
	if code != 200 || ct != "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" {
		t.Fatal(code, ct)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if code, _, body = get(p, ""); code != 200 || string(body) != "ok" {
			t.Fatal(p, code, string(body))
		}
	}
}

func TestContinueToken(t *testing.T) {
	tok := EncodeContinue(42, "ns/name")
	if start, rv, err := DecodeContinue(tok); err != nil || start != "ns/name" || rv != 42 {
		t.Fatal(start, rv, err)
	}
	b64 := func(s string) string { return urlB64(s) }
	for _, tc := range []struct{ name, token, err string }{
		{"not base64", "!!", "continue key is not valid: illegal base64"},
		{"not json", b64("nope"), "continue key is not valid: invalid character"},
		{"version", b64(`{"v":"x","rv":1,"start":"a/b"}`), "server does not recognize this encoded version"},
		{"rv 0", b64(`{"v":"meta.k8s.io/v1","rv":0,"start":"a/b"}`), "incorrect encoded start resourceVersion"},
		{"rv negative", b64(`{"v":"meta.k8s.io/v1","rv":-5,"start":"a/b"}`), "incorrect encoded start resourceVersion"},
		{"empty start", b64(`{"v":"meta.k8s.io/v1","rv":3,"start":""}`), "encoded start key empty"},
		{"start no slash", b64(`{"v":"meta.k8s.io/v1","rv":3,"start":"ab"}`), "start key is not namespace/name"},
		{"start traversal", b64(`{"v":"meta.k8s.io/v1","rv":3,"start":"a/../b"}`), "start key is not namespace/name"},
		{"huge", strings.Repeat("A", 5000), "token longer than"},
		{"cluster-scoped ok", b64(`{"v":"meta.k8s.io/v1","rv":3,"start":"/n1"}`), ""},
		{"latest ok", b64(`{"v":"meta.k8s.io/v1","rv":-1,"start":"a/b"}`), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeContinue(tc.token)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func FuzzContinueToken(f *testing.F) {
	f.Add(EncodeContinue(5, "a/b"))
	f.Add(EncodeContinue(-1, "/n"))
	f.Add("")
	f.Add("!!")
	f.Add(urlB64(`{"v":"meta.k8s.io/v1","rv":3,"start":"a/../b"}`))
	f.Fuzz(func(t *testing.T, token string) {
		start, rv, err := DecodeContinue(token)
		if err != nil {
			return
		}
		if rv == 0 || rv < -1 || start == "" || strings.Count(start, "/") != 1 || strings.HasSuffix(start, "/") {
			t.Fatalf("accepted bad token %q: %q %d", token, start, rv)
		}
		// round trip
		s2, rv2, err := DecodeContinue(EncodeContinue(rv, start))
		if err != nil || s2 != start || rv2 != rv {
			t.Fatalf("round trip %q %d: %q %d %v", start, rv, s2, rv2, err)
		}
	})
}

// FuzzSelectorQuery: any labelSelector / fieldSelector query is either
// served (200) or rejected with a 4xx Status; never a 500 or a panic.
func FuzzSelectorQuery(f *testing.F) {
	e := newTestEnv(f, dao.Options{})
	e.put(f, pod("default", "a", map[string]interface{}{"app": "x"}, "n1", "Running"))
	for _, s := range [][2]string{{"app=x", ""}, {"app in (x,y)", "metadata.name=a"}, {"!app", "spec.nodeName!=n1"},
		{"app===", "a==="}, {"x,y notin ()", "status.phase=Running,metadata.namespace=default"}, {"", "spec.foo=1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ls, fs string) {
		q := url.Values{"labelSelector": {ls}, "fieldSelector": {fs}}
		w := e.do(t, http.MethodGet, "/api/v1/pods?"+q.Encode())
		if w.Code != 200 && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("%q %q: %d %s", ls, fs, w.Code, w.Body.String())
		}
		if w.Code != 200 {
			var s metav1.Status
			if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || s.Kind != "Status" {
				t.Fatalf("not a Status: %s", w.Body.String())
			}
		}
	})
}

// TestTableJSON: the hand-written Table JSON equals the serializer's.
func TestTableJSON(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	e.put(t, pod("default", "a", map[string]interface{}{"app": "x"}, "n1", "Running"), pod("default", "b", nil, "n2", "Pending"))
	for _, q := range []string{"", "?includeObject=None", "?includeObject=Object", "?limit=1"} {
		for _, gv := range []string{"v1", "v1beta1"} {
			accept := "application/json;as=Table;v=" + gv + ";g=meta.k8s.io"
			fast := e.do(t, http.MethodGet, "/api/v1/pods"+q, "Accept", accept).Body.Bytes()
			sep := "?"
			if q != "" {
				sep = "&"
			}
			slow := e.do(t, http.MethodGet, "/api/v1/pods"+q+sep+"pretty=true", "Accept", accept).Body.Bytes()
			var a, b interface{}
			if err := json.Unmarshal(fast, &a); err != nil {
				t.Fatalf("%v: %s", err, fast)
			}
			if err := json.Unmarshal(slow, &b); err != nil {
				t.Fatal(err)
			}
			// AGE cells may differ by the clock; compare without them.
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("%s %s:\nfast %s\nslow %s", q, gv, ja, jb)
			}
		}
	}
}

// TestDiscoveryVerbs: discovery advertises exactly what works: reads
// without an uplink, the write verbs too when one forwards them, and the
// self reviews lwserver answers (create only) in their groups.
func TestDiscoveryVerbs(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	cases := []struct {
		name     string
		writes   Writes
		path     string
		resource string
		want     string
	}{
		{"pods, no uplink", nil, "/api/v1", "pods", "get,list,watch"},
		{"pods, uplink", &fakeWrites{}, "/api/v1", "pods", "create,delete,deletecollection,get,list,patch,update,watch"},
		{"deployments, uplink", &fakeWrites{}, "/apis/apps/v1", "deployments", "create,delete,deletecollection,get,list,patch,update,watch"},
		{"whoami", nil, "/apis/authentication.k8s.io/v1", "selfsubjectreviews", "create"},
		{"can-i", &fakeWrites{}, "/apis/authorization.k8s.io/v1", "selfsubjectaccessreviews", "create"},
		{"can-i --list", nil, "/apis/authorization.k8s.io/v1", "selfsubjectrulesreviews", "create"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.h.writes = tc.writes
			w := e.do(t, http.MethodGet, tc.path)
			var rl metav1.APIResourceList
			if err := json.Unmarshal(w.Body.Bytes(), &rl); err != nil || w.Code != 200 {
				t.Fatalf("%d %v %s", w.Code, err, w.Body)
			}
			for _, r := range rl.APIResources {
				if r.Name == tc.resource {
					if got := strings.Join(r.Verbs, ","); got != tc.want {
						t.Fatalf("verbs %s, want %s", got, tc.want)
					}
					return
				}
			}
			t.Fatalf("%s missing from %s", tc.resource, w.Body)
		})
	}
	w := e.do(t, http.MethodGet, "/apis")
	for _, g := range []string{`"name":"authentication.k8s.io"`, `"name":"authorization.k8s.io"`} {
		if !strings.Contains(w.Body.String(), g) {
			t.Fatalf("/apis lacks %s: %s", g, w.Body)
		}
	}
}

// TestTableStreamed: a whole-list Table, written tableChunk rows at a time
// as the rows are read, is byte for byte the Table of the same list held in
// memory (asked with a limit above its size), across chunk boundaries and
// for an empty list.
func TestTableStreamed(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	var objs []map[string]interface{}
	for i := 0; i < 2*tableChunk+3; i++ {
		objs = append(objs, pod(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("p-%04d", i), map[string]interface{}{"app": "x"}, "n1", "Running"))
	}
	e.put(t, objs...)
	for _, path := range []string{"/api/v1/pods", "/api/v1/namespaces/ns-1/pods", "/api/v1/namespaces/empty/pods"} {
		for _, q := range []string{"", "includeObject=None", "includeObject=Object"} {
			accept := "application/json;as=Table;v=v1;g=meta.k8s.io"
			streamed := e.do(t, http.MethodGet, path+"?"+q, "Accept", accept)
			held := e.do(t, http.MethodGet, path+"?limit=100000&"+q, "Accept", accept)
			if streamed.Code != 200 || !bytes.Equal(streamed.Body.Bytes(), held.Body.Bytes()) {
				t.Fatalf("%s?%s: %d, streamed %d bytes != held %d bytes:\n%.300s\n%.300s", path, q, streamed.Code,
					streamed.Body.Len(), held.Body.Len(), streamed.Body.Bytes(), held.Body.Bytes())
			}
		}
	}
}
