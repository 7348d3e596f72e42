package auth

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// fakeStore is an in-memory Store that counts Gets (the RBAC index must
// not read the store per request).
type fakeStore struct {
	mu   sync.Mutex
	objs map[metaclient.Key][]byte
	rev  int64
	gets int
}

func newFakeStore() *fakeStore { return &fakeStore{objs: map[metaclient.Key][]byte{}} }

func (s *fakeStore) Get(_ context.Context, k metaclient.Key) (metaclient.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	d, ok := s.objs[k]
	if !ok {
		return metaclient.Object{}, metaclient.ErrNotFound
	}
	return metaclient.Object{Key: k, Data: d}, nil
}

func (s *fakeStore) ListFunc(_ context.Context, gvr schema.GroupVersionResource, _ metaclient.ListOptions, fn func(int64, metaclient.Object) error) (metaclient.ListResult, error) {
	s.mu.Lock()
	var keys []metaclient.Key
	for k := range s.objs {
		if k.GVR == gvr {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Namespace+"/"+keys[i].Name < keys[j].Namespace+"/"+keys[j].Name })
	items := make([]metaclient.Object, len(keys))
	for i, k := range keys {
		items[i] = metaclient.Object{Key: k, Data: s.objs[k]}
	}
	rev := s.rev
	s.mu.Unlock()
	for _, it := range items {
		if err := fn(rev, it); err != nil {
			return metaclient.ListResult{}, err
		}
	}
	return metaclient.ListResult{Revision: rev}, nil
}

// put stores obj and returns the event a commit would publish.
func (s *fakeStore) put(t testing.TB, gvr schema.GroupVersionResource, ns, name string, obj any) event.Event {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := metaclient.Key{GVR: gvr, Namespace: ns, Name: name}
	typ := watch.Added
	if _, ok := s.objs[k]; ok {
		typ = watch.Modified
	}
	s.objs[k] = b
	s.rev++
	return event.Event{Revision: s.rev, Type: typ, GVR: gvr, Namespace: ns, Name: name, Object: b}
}

func (s *fakeStore) del(gvr schema.GroupVersionResource, ns, name string) event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := metaclient.Key{GVR: gvr, Namespace: ns, Name: name}
	b := s.objs[k]
	delete(s.objs, k)
	s.rev++
	return event.Event{Revision: s.rev, Type: watch.Deleted, GVR: gvr, Namespace: ns, Name: name, Object: b}
}
