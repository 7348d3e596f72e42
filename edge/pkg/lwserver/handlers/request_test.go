package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

func status(t *testing.T, w *httptest.ResponseRecorder) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("not a Status (%v): %s", err, w.Body.String())
	}
	if s.Kind != "Status" || s.APIVersion != "v1" {
		t.Fatalf("not a v1 Status: %s", w.Body.String())
	}
	return s
}

// TestPaths: every kube-apiserver path shape for get and list.
func TestPaths(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	e.put(t, crd())
	e.put(t, pod("default", "a", nil, "n1", "Running"), pod("other", "b", nil, "n1", "Running"),
		node("n1"), device("default", "d1"),
		map[string]interface{}{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]interface{}{"name": "default"}},
		map[string]interface{}{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]interface{}{"name": "web", "namespace": "default"}})
	for _, tc := range []struct {
		path     string
		code     int
		kind     string // kind of a 200 answer
		items    int    // -1 for a single object
		contains string
	}{
		{"/api/v1/pods", 200, "PodList", 2, ""},
		{"/api/v1/namespaces/default/pods", 200, "PodList", 1, ""},
		{"/api/v1/namespaces/empty/pods", 200, "PodList", 0, `"items":[]`},
		{"/api/v1/namespaces/default/pods/a", 200, "Pod", -1, ""},
		{"/api/v1/namespaces/default/pods/a/status", 200, "Pod", -1, ""},
		{"/api/v1/namespaces/default/pods/a/log", 400, "", 0, `container \"c\" in pod \"a\" has no log on this node`},
		{"/api/v1/namespaces/default/pods/a/nosuch", 404, "", 0, "the server could not find the requested resource"},
		{"/api/v1/namespaces/default/pods/missing/log", 404, "", 0, `pods \"missing\" not found`},
		{"/api/v1/namespaces/other/pods/a", 404, "", 0, `pods \"a\" not found`},
		{"/api/v1/pods/a", 404, "", 0, "the server could not find the requested resource"},
		{"/api/v1/nodes", 200, "NodeList", 1, ""},
		{"/api/v1/nodes/n1", 200, "Node", -1, ""},
		{"/api/v1/nodes/n2", 404, "", 0, `nodes \"n2\" not found`},
		{"/api/v1/namespaces/default/nodes", 404, "", 0, "the server could not find the requested resource"},
		{"/api/v1/namespaces", 200, "NamespaceList", 1, ""},
		{"/api/v1/namespaces/default", 200, "Namespace", -1, ""},
		{"/api/v1/foos", 404, "", 0, "the server could not find the requested resource"},
		{"/api/v2/pods", 404, "", 0, "the server could not find the requested resource"},
		{"/apis/apps/v1/deployments", 200, "DeploymentList", 1, ""},
		{"/apis/apps/v1/namespaces/default/deployments/web", 200, "Deployment", -1, ""},
		{"/apis/apps/v1/namespaces/default/deployments/nope", 404, "", 0, `deployments.apps \"nope\" not found`},
		{"/apis/devices.example.com/v1alpha1/devices", 200, "DeviceList", 1, `"apiVersion":"devices.example.com/v1alpha1"`},
		{"/apis/devices.example.com/v1alpha1/namespaces/default/devices/d1", 200, "Device", -1, ""},
		{"/apis/apiextensions.k8s.io/v1/customresourcedefinitions", 200, "CustomResourceDefinitionList", 1, ""},
		{"/apis/nope.example.com/v1/things", 404, "", 0, "the server could not find the requested resource"},
		{"/openapi/v3/apis/nope/v1", 404, "", 0, "the server could not find the requested resource"},
		{"/openapi/v4", 404, "", 0, "the server could not find the requested resource"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := e.do(t, http.MethodGet, tc.path)
			if w.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.code, w.Body.String())
			}
			if tc.contains != "" {
				mustContain(t, w.Body.String(), tc.contains)
			}
			if tc.code != 200 {
				s := status(t, w)
				if int(s.Code) != tc.code || s.Status != metav1.StatusFailure {
					t.Fatalf("status %+v", s)
				}
				return
			}
			var out struct {
				Kind  string            `json:"kind"`
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%v: %s", err, w.Body.String())
			}
			if out.Kind != tc.kind {
				t.Fatalf("kind %q, want %q", out.Kind, tc.kind)
			}
			if tc.items >= 0 && len(out.Items) != tc.items {
				t.Fatalf("%d items, want %d", len(out.Items), tc.items)
			}
		})
	}
}

// TestQuery: selectors and resourceVersion / limit / continue combinations.
func TestQuery(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i, ns := range []string{"a", "a", "b", "b", "c"} {
		lbl := map[string]interface{}{"app": []string{"web", "db"}[i%2], "tier": "t" + string(rune('0'+i))}
		e.put(t, pod(ns, "p"+string(rune('0'+i)), lbl, "node"+string(rune('0'+i%2)), []string{"Running", "Pending"}[i%2]))
	}
	rev := e.store.Revision() // 5
	for _, tc := range []struct {
		name, query string
		code        int
		items       int
		contains    string
	}{
		{"label eq", "labelSelector=app%3Dweb", 200, 3, ""},
		{"label ==", "labelSelector=app%3D%3Dweb", 200, 3, ""},
		{"label !=", "labelSelector=app!%3Dweb", 200, 2, ""},
		{"label in", "labelSelector=tier+in+(t0,t4)", 200, 2, ""},
		{"label notin", "labelSelector=tier+notin+(t0,t4)", 200, 3, ""},
		{"label exists", "labelSelector=tier", 200, 5, ""},
		{"label !exists", "labelSelector=!tier", 200, 0, ""},
		{"label parse error", "labelSelector=app%3D%3D%3D", 400, 0, "unable to parse requirement"},
		{"label bad value", "labelSelector=app%3D-bad-", 400, 0, "Invalid value"},
		{"field name", "fieldSelector=metadata.name%3Dp1", 200, 1, ""},
		{"field namespace", "fieldSelector=metadata.namespace%3Db", 200, 2, ""},
		{"field nodeName", "fieldSelector=spec.nodeName%3Dnode1", 200, 2, ""},
		{"field phase !=", "fieldSelector=status.phase!%3DRunning", 200, 2, ""},
		{"field unsupported", "fieldSelector=spec.foo%3Dx", 400, 0, "field label not supported: spec.foo"},
		{"field parse error", "fieldSelector=a%3D%3D%3D", 400, 0, ""},
		{"rv empty", "resourceVersion=", 200, 5, ""},
		{"rv 0", "resourceVersion=0", 200, 5, ""},
		{"rv current NotOlderThan", "resourceVersion=5&resourceVersionMatch=NotOlderThan", 200, 5, `"resourceVersion":"5"`},
		{"rv old unset", "resourceVersion=2", 200, 5, `"resourceVersion":"5"`},
		{"rv exact old", "resourceVersion=2&resourceVersionMatch=Exact", 200, 2, `"resourceVersion":"2"`},
		{"rv limit = exact", "resourceVersion=3&limit=10", 200, 3, `"resourceVersion":"3"`},
		{"rv too large", "resourceVersion=99", 504, 0, "Too large resource version: 99, current: 5"},
		{"rv too large exact", "resourceVersion=99&resourceVersionMatch=Exact", 504, 0, "Too large resource version"},
		{"rv invalid", "resourceVersion=abc", 400, 0, `resourceVersion: Invalid value: \"abc\"`},
		{"match without rv", "resourceVersionMatch=NotOlderThan", 422, 0, "resourceVersionMatch is forbidden unless resourceVersion is provided"},
		{"match bad", "resourceVersion=1&resourceVersionMatch=Foo", 422, 0, "Unsupported value"},
		{"exact 0", "resourceVersion=0&resourceVersionMatch=Exact", 422, 0, `resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"`},
		{"continue with rv", "resourceVersion=3&continue=" + EncodeContinue(3, "a/p0"), 400, 0, "specifying resource version is not allowed when using continue"},
		{"continue with match", "resourceVersion=3&resourceVersionMatch=Exact&continue=" + EncodeContinue(3, "a/p0"), 422, 0, "resourceVersionMatch is forbidden when continue is provided"},
		{"continue malformed", "continue=%21%21", 400, 0, "invalid continue token: continue key is not valid"},
		{"continue ok", "continue=" + EncodeContinue(rev, "a/p1"), 200, 3, ""},
		{"continue latest", "continue=" + EncodeContinue(-1, "b/p3"), 200, 1, ""},
		{"limit bad", "limit=x", 400, 0, ""},
		{"sendInitialEvents on list", "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=", 422, 0, "sendInitialEvents is forbidden for list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, http.MethodGet, "/api/v1/pods?"+tc.query)
			if w.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tc.code, w.Body.String())
			}
			if tc.contains != "" {
				mustContain(t, w.Body.String(), tc.contains)
			}
			if tc.code != 200 {
				status(t, w)
				return
			}
			var out struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Items) != tc.items {
				t.Fatalf("%d items, want %d: %s", len(out.Items), tc.items, w.Body.String())
			}
		})
	}
}

// TestPagination walks pages and checks consistency and remainingItemCount.
func TestPagination(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i := 0; i < 7; i++ {
		e.put(t, pod("ns", "p"+string(rune('a'+i)), nil, "n", "Running"))
	}
	var names []string
	token, firstRV := "", ""
	for page := 0; ; page++ {
		q := "/api/v1/pods?limit=3"
		if token != "" {
			q += "&continue=" + token
		}
		w := e.do(t, http.MethodGet, q)
		if w.Code != 200 {
			t.Fatal(w.Body.String())
		}
		var l struct {
			Metadata metav1.ListMeta `json:"metadata"`
			Items    []struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			firstRV = l.Metadata.ResourceVersion
			if l.Metadata.RemainingItemCount == nil || *l.Metadata.RemainingItemCount != 4 {
				t.Fatalf("remainingItemCount %v, want 4", l.Metadata.RemainingItemCount)
			}
			// a change after the first page is not seen by later pages
			e.put(t, pod("ns", "pz", nil, "n", "Running"))
		} else if l.Metadata.ResourceVersion != firstRV {
			t.Fatalf("page %d at rv %s, first at %s", page, l.Metadata.ResourceVersion, firstRV)
		}
		for _, it := range l.Items {
			names = append(names, it.Metadata.Name)
		}
		token = l.Metadata.Continue
		if token == "" {
			break
		}
	}
	if got := strings.Join(names, ","); got != "pa,pb,pc,pd,pe,pf,pg" {
		t.Fatalf("pages gave %s", got)
	}
}

// TestContinueExpired: a token from a compacted revision gets 410 with a
// fresh token that continues at the latest revision.
func TestContinueExpired(t *testing.T) {
	e := newTestEnv(t, dao.Options{WindowEvents: 1, WindowAge: -1, CompactInterval: -1})
	for i := 0; i < 4; i++ {
		e.put(t, pod("ns", "p"+string(rune('a'+i)), nil, "n", "Running"))
	}
	w := e.do(t, http.MethodGet, "/api/v1/pods?limit=2")
	var l metav1.List
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || l.Continue == "" {
		t.Fatalf("%v %s", err, w.Body.String())
	}
	for i := 0; i < 3; i++ {
		e.put(t, pod("ns", "q"+string(rune('a'+i)), nil, "n", "Running"))
	}
	if err := e.store.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	w = e.do(t, http.MethodGet, "/api/v1/pods?limit=2&continue="+l.Continue)
	if w.Code != http.StatusGone {
		t.Fatalf("code %d: %s", w.Code, w.Body.String())
	}
	s := status(t, w)
	if s.Reason != metav1.StatusReasonExpired || s.Message != msgInconsistentContinue || s.Continue == "" {
		t.Fatalf("status %+v", s)
	}
	w = e.do(t, http.MethodGet, "/api/v1/pods?limit=100&continue="+s.Continue)
	if w.Code != 200 {
		t.Fatalf("fresh token: %d %s", w.Code, w.Body.String())
	}
	mustContain(t, w.Body.String(), `"name":"qc"`)
	// exact list at a compacted revision
	w = e.do(t, http.MethodGet, "/api/v1/pods?resourceVersion=1&resourceVersionMatch=Exact")
	if w.Code != http.StatusGone {
		t.Fatalf("exact compacted: %d %s", w.Code, w.Body.String())
	}
	mustContain(t, w.Body.String(), msgExpiredList)
}

// TestWrites: every write verb is a 405 Status; bad bodies 415.
func TestWrites(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for _, tc := range []struct {
		method, path, ct string
		code             int
		contains         string
	}{
		{"POST", "/api/v1/namespaces/default/pods", "application/json", 405, "the server does not allow this method on the requested resource (create pods)"},
		{"PUT", "/api/v1/namespaces/default/pods/a", "application/json", 405, "(update pods a)"},
		{"PATCH", "/api/v1/namespaces/default/pods/a", "application/merge-patch+json", 405, "(patch pods a)"},
		{"DELETE", "/api/v1/namespaces/default/pods/a", "", 405, "(delete pods a)"},
		{"DELETE", "/api/v1/namespaces/default/pods", "", 405, "(deletecollection pods)"},
		{"POST", "/api/v1/namespaces/default/pods", "text/plain", 415, "the body of the request was in an unknown format"},
		{"PATCH", "/api/v1/namespaces/default/pods/a", "application/json", 415, "the body of the request was in an unknown format"},
		{"POST", "/api/v1/namespaces/default/foos", "application/json", 404, "the server could not find the requested resource"},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.ct, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("code %d: %s", w.Code, w.Body.String())
			}
			s := status(t, w)
			if !strings.Contains(s.Message, tc.contains) {
				t.Fatalf("message %q", s.Message)
			}
		})
	}
}

func TestWatchWithoutServer(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for _, p := range []string{"/api/v1/pods?watch=true", "/api/v1/watch/pods", "/api/v1/watch/namespaces/default/pods/a"} {
		w := e.do(t, http.MethodGet, p)
		if w.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body.String())
		}
		if s := status(t, w); s.Reason != metav1.StatusReasonMethodNotAllowed {
			t.Fatalf("%+v", s)
		}
	}
	// the seam receives parsed requests
	var got *Request
	e.h.watch = watchFunc(func(w http.ResponseWriter, r *http.Request, req *Request) { got = req })
	e.do(t, http.MethodGet, "/api/v1/watch/namespaces/default/pods/a?resourceVersion=0")
	if got == nil || got.Verb != "watch" || got.Name != "a" || got.Namespace != "default" || got.Options.FieldSelector.String() != "metadata.name=a" {
		t.Fatalf("watch request %+v", got)
	}
}

type watchFunc func(w http.ResponseWriter, r *http.Request, req *Request)

func (f watchFunc) ServeWatch(w http.ResponseWriter, r *http.Request, req *Request) { f(w, r, req) }
