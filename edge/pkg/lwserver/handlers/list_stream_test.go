package handlers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// The streamed JSON list is byte for byte the materialised one.
func TestStreamJSONListSameBytes(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i := 0; i < 60; i++ { // ~250 KB: several flushes of the 64 KiB buffer
		e.put(t, benchPod(i))
	}
	streamed := e.do(t, http.MethodGet, "/api/v1/pods")
	whole := e.do(t, http.MethodGet, "/api/v1/pods?limit=100000") // one page, materialised
	if streamed.Code != 200 || whole.Code != 200 {
		t.Fatalf("codes %d %d: %s", streamed.Code, whole.Code, streamed.Body)
	}
	if streamed.Body.String() != whole.Body.String() {
		t.Fatalf("streamed body (%d bytes) differs from materialised (%d bytes)", streamed.Body.Len(), whole.Body.Len())
	}
	if got := streamed.Header().Get("Content-Type"); got != MediaTypeJSON {
		t.Fatalf("Content-Type %q", got)
	}
	ns := e.do(t, http.MethodGet, "/api/v1/namespaces/ns-3/pods")
	nsWhole := e.do(t, http.MethodGet, "/api/v1/namespaces/ns-3/pods?limit=500")
	if ns.Body.String() != nsWhole.Body.String() {
		t.Fatalf("namespace list differs:\n%s\n%s", ns.Body, nsWhole.Body)
	}
	empty := e.do(t, http.MethodGet, "/api/v1/namespaces/none/pods")
	emptyWhole := e.do(t, http.MethodGet, "/api/v1/namespaces/none/pods?limit=5")
	if empty.Code != 200 || empty.Body.String() != emptyWhole.Body.String() {
		t.Fatalf("empty list %d %q, want %q", empty.Code, empty.Body, emptyWhole.Body)
	}
	mustContain(t, empty.Body.String(), `"items":[]}`)
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct {
	*httptest.ResponseRecorder
	n int
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	f.n -= len(b)
	return f.ResponseRecorder.Write(b)
}

// Once the header is out, a failure can only abort the response.
func TestStreamJSONListAbortsMidStream(t *testing.T) {
	e := newTestEnv(t, dao.Options{})
	for i := 0; i < 60; i++ {
		e.put(t, benchPod(i))
	}
	w := &failingWriter{ResponseRecorder: httptest.NewRecorder(), n: 1}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil))
	t.Fatal("handler returned normally after a failed write")
}
