package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func mustStatus(t *testing.T, body []byte) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(body, &s); err != nil || s.Kind != "Status" || s.APIVersion != "v1" || s.Status != metav1.StatusFailure {
		t.Fatalf("not a failure Status (%v): %s", err, body)
	}
	return s
}

// TestReadStatusCodes: every error lwserver answers is a metav1.Status with
// kube-apiserver's code, reason and wording.
func TestReadStatusCodes(t *testing.T) {
	e := startDemo(t, "")
	base := e.URL()
	big := strings.NewReader(strings.Repeat("x", 4<<20))
	for _, tc := range []struct {
		name, method, path string
		body               io.Reader
		hdr                []string
		code               int
		reason             metav1.StatusReason
		msg                string
	}{
		{"400 label", "GET", "/api/v1/pods?labelSelector=app%3D%3D%3D", nil, nil, 400, metav1.StatusReasonBadRequest, "unable to parse requirement"},
		{"400 field", "GET", "/api/v1/pods?fieldSelector=spec.bogus%3D1", nil, nil, 400, metav1.StatusReasonBadRequest, "field label not supported: spec.bogus"},
		{"400 continue", "GET", "/api/v1/pods?continue=garbage", nil, nil, 400, metav1.StatusReasonBadRequest, "invalid continue token"},
		{"404 object", "GET", "/api/v1/namespaces/default/pods/nope", nil, nil, 404, metav1.StatusReasonNotFound, `pods "nope" not found`},
		{"404 resource", "GET", "/api/v1/nopes", nil, nil, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"404 scope", "GET", "/api/v1/namespaces/default/nodes", nil, nil, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"404 group", "GET", "/apis/nope.io/v1/things", nil, nil, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"404 openapi group-version", "GET", "/openapi/v3/apis/nope.example.com/v1", nil, nil, 404, metav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"405 create", "POST", "/api/v1/namespaces/default/pods", strings.NewReader("{}"), []string{"Content-Type", "application/json"}, 405, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"},
		{"405 update", "PUT", "/api/v1/namespaces/default/pods/redis-0", strings.NewReader("{}"), []string{"Content-Type", "application/json"}, 405, metav1.StatusReasonMethodNotAllowed, "(update pods redis-0)"},
		{"405 patch", "PATCH", "/api/v1/namespaces/default/pods/redis-0", strings.NewReader("{}"), []string{"Content-Type", "application/merge-patch+json"}, 405, metav1.StatusReasonMethodNotAllowed, "(patch pods redis-0)"},
		{"405 delete", "DELETE", "/api/v1/namespaces/default/pods/redis-0", nil, nil, 405, metav1.StatusReasonMethodNotAllowed, "(delete pods redis-0)"},
		{"405 deletecollection", "DELETE", "/api/v1/namespaces/default/pods", nil, nil, 405, metav1.StatusReasonMethodNotAllowed, "(deletecollection pods)"},
		{"406", "GET", "/api/v1/pods", nil, []string{"Accept", "text/html"}, 406, metav1.StatusReasonNotAcceptable, "only the following media types are accepted"},
		{"406 crd protobuf", "GET", "/apis/devices.kubeedge.io/v1beta1/devices", nil, []string{"Accept", "application/vnd.kubernetes.protobuf;q=1, text/html;q=0.5"}, 406, metav1.StatusReasonNotAcceptable, "only the following media types are accepted"},
		{"413", "POST", "/api/v1/namespaces/default/pods", big, []string{"Content-Type", "application/json"}, 413, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: limit is 3145728"},
		{"415", "POST", "/api/v1/namespaces/default/pods", strings.NewReader("x"), []string{"Content-Type", "text/plain"}, 415, metav1.StatusReasonUnsupportedMediaType, "the body of the request was in an unknown format"},
		{"422 options", "GET", "/api/v1/pods?resourceVersionMatch=Exact", nil, nil, 422, metav1.StatusReasonInvalid, "resourceVersionMatch is forbidden unless resourceVersion is provided"},
		{"504", "GET", "/api/v1/pods?resourceVersion=999999", nil, nil, 504, metav1.StatusReasonTimeout, "Too large resource version: 999999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ct, body := httpDo(t, tc.method, base+tc.path, tc.body, tc.hdr...)
			if code != tc.code {
				t.Fatalf("code %d, want %d: %s", code, tc.code, body)
			}
			if tc.code != 406 || !strings.Contains(tc.path, "devices") {
				if ct != "application/json" {
					t.Fatalf("content type %q", ct)
				}
			}
			if strings.Contains(ct, "protobuf") {
				return
			}
			s := mustStatus(t, body)
			if int(s.Code) != tc.code || s.Reason != tc.reason || !strings.Contains(s.Message, tc.msg) {
				t.Fatalf("status %+v", s)
			}
			if tc.code == 504 && (s.Details == nil || len(s.Details.Causes) == 0 || s.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge) {
				t.Fatalf("504 without ResourceVersionTooLarge cause: %+v", s)
			}
		})
	}
	// the server is still fine
	if code, _, _ := httpDo(t, "GET", base+"/api/v1/pods", nil); code != 200 {
		t.Fatal(code)
	}
}

// TestReadContinueExpired: a continue token whose revision left the event
// log window gets 410 Expired with kube's message and a token that continues
// at the latest revision. edgecore runs with a one-event window so that its
// compactor (every 5 s) drops the token's revision.
func TestReadContinueExpired(t *testing.T) {
	e := startDemo(t, "modules:\n  metaManager:\n    eventLogWindowEvents: 1\n    eventLogWindowAge: 1ms\n")
	base := e.URL()
	code, _, body := httpDo(t, "GET", base+"/api/v1/pods?limit=2", nil)
	var l metav1.List
	if err := json.Unmarshal(body, &l); code != 200 || err != nil || l.Continue == "" {
		t.Fatalf("%d %v %s", code, err, body)
	}
	rv, _ := strconv.ParseInt(l.ResourceVersion, 10, 64)
	// more changes, then wait for the compactor to pass rv
	MustOK(t, e.Inject(Msg("insert", "default/configmap/late-1", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "late-1", "namespace": "default"}}),
		Msg("insert", "default/configmap/late-2", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "late-2", "namespace": "default"}})))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, m := httpDo(t, "GET", base+"/metrics", nil)
		if c := metricValue(string(m), "lwserver_store_compacted_revision"); c > rv {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compaction past %d:\n%s", rv, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
	code, _, body = httpDo(t, "GET", base+"/api/v1/pods?limit=2&continue="+l.Continue, nil)
	if code != http.StatusGone {
		t.Fatalf("code %d: %s", code, body)
	}
	s := mustStatus(t, body)
	const want = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
	if s.Reason != metav1.StatusReasonExpired || s.Code != 410 || s.Message != want || s.Continue == "" {
		t.Fatalf("status %+v", s)
	}
	// the fresh token continues (inconsistently, at the latest revision)
	code, _, body = httpDo(t, "GET", base+"/api/v1/pods?limit=100&continue="+s.Continue, nil)
	if err := json.Unmarshal(body, &l); code != 200 || err != nil || len(l.Items) != 8 {
		t.Fatalf("%d %v %d items: %s", code, err, len(l.Items), body)
	}
	// an exact list at the compacted revision is 410 too
	code, _, body = httpDo(t, "GET", base+"/api/v1/pods?resourceVersionMatch=Exact&resourceVersion="+strconv.FormatInt(rv, 10), nil)
	if code != http.StatusGone || mustStatus(t, body).Reason != metav1.StatusReasonExpired {
		t.Fatalf("exact: %d %s", code, body)
	}
}

func metricValue(text, name string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name+" ") {
			f, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name+" ")), 64)
			return int64(f)
		}
	}
	return -1
}
