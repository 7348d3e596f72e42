package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// fakeStore is a Store in memory: the handlers' seam to the store, without
// SQLite. err (when set) is returned before the first item, failAfter
// (when > 0) fails a streamed list after that many items.
type fakeStore struct {
	rev       atomic.Int64
	items     []metaclient.Object // pods, in key order
	err       error
	failAfter int
	waited    atomic.Int64 // revisions WaitForRevision was asked for
}

func (f *fakeStore) Get(_ context.Context, key metaclient.Key) (metaclient.Object, error) {
	for _, it := range f.items {
		if it.Key.Namespace == key.Namespace && it.Key.Name == key.Name {
			return it, nil
		}
	}
	return metaclient.Object{}, metaclient.ErrNotFound
}

func (f *fakeStore) List(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions) (metaclient.ListResult, error) {
	res := metaclient.ListResult{Revision: f.rev.Load()}
	_, err := f.ListFunc(ctx, gvr, opts, func(_ int64, it metaclient.Object) error {
		res.Items = append(res.Items, it)
		return nil
	})
	return res, err
}

func (f *fakeStore) ListFunc(_ context.Context, _ schema.GroupVersionResource, _ metaclient.ListOptions, fn func(int64, metaclient.Object) error) (metaclient.ListResult, error) {
	if f.err != nil {
		return metaclient.ListResult{}, f.err
	}
	for i, it := range f.items {
		if f.failAfter > 0 && i == f.failAfter {
			return metaclient.ListResult{}, errors.New("disk I/O error")
		}
		if err := fn(f.rev.Load(), it); err != nil {
			return metaclient.ListResult{}, err
		}
	}
	return metaclient.ListResult{Revision: f.rev.Load()}, nil
}

func (f *fakeStore) Revision() int64          { return f.rev.Load() }
func (f *fakeStore) CompactedRevision() int64 { return 0 }

func (f *fakeStore) WaitForRevision(ctx context.Context, rev int64) error {
	f.waited.Store(rev)
	<-ctx.Done()
	return ctx.Err()
}

func newFakeEnv(t *testing.T, f *fakeStore) *Handler {
	t.Helper()
	f.rev.Store(10)
	for _, name := range []string{"a", "b", "c"} {
		f.items = append(f.items, metaclient.Object{
			Key:  metaclient.Key{GVR: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Namespace: "default", Name: name},
			Data: []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"` + name + `","namespace":"default","resourceVersion":"3"}}`),
		})
	}
	h, err := New(Config{Mapper: kube.NewMapper(), Store: f, RVWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandlersOverFakeStore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		store    *fakeStore
		target   string
		code     int
		contains string
		waited   int64
	}{
		{"get", &fakeStore{}, "/api/v1/namespaces/default/pods/b", 200, `"name":"b"`, 0},
		{"get missing", &fakeStore{}, "/api/v1/namespaces/default/pods/x", 404, `pods \"x\" not found`, 0},
		{"streamed list", &fakeStore{}, "/api/v1/pods", 200, `"metadata":{"resourceVersion":"10"},"items":[{`, 0},
		{"page", &fakeStore{}, "/api/v1/pods?limit=5", 200, `"name":"c"`, 0},
		{"error before the first item", &fakeStore{err: errors.New("database is locked")}, "/api/v1/pods", 500, "database is locked", 0},
		{"future revision waits, then 504", &fakeStore{}, "/api/v1/namespaces/default/pods/a?resourceVersion=12", 504, "Too large resource version: 12, current: 10", 12},
		{"future list revision", &fakeStore{}, "/api/v1/pods?resourceVersion=11&resourceVersionMatch=NotOlderThan", 504, "Too large resource version: 11", 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeEnv(t, tc.store)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.contains) {
				t.Fatalf("%s: %d %s; want %d containing %q", tc.target, w.Code, w.Body, tc.code, tc.contains)
			}
			if got := tc.store.waited.Load(); got != tc.waited {
				t.Fatalf("WaitForRevision(%d), want %d", got, tc.waited)
			}
		})
	}
}

// A store failing mid-list aborts the response: the client must not take
// a truncated list for a whole one.
func TestFakeStoreFailureMidListAborts(t *testing.T) {
	h := newFakeEnv(t, &fakeStore{failAfter: 2})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil))
	t.Fatal("handler returned normally after the store failed mid-list")
}
