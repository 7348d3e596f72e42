package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// pageReads counts the store reads of the initial pages, by (revision,
// after).
type pageReads struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *pageReads) wrap(read func(context.Context, schema.GroupVersionResource, metaclient.ListOptions) (metaclient.ListResult, error)) func(context.Context, schema.GroupVersionResource, metaclient.ListOptions) (metaclient.ListResult, error) {
	return func(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions) (metaclient.ListResult, error) {
		p.mu.Lock()
		p.n[fmt.Sprintf("%s/%s?%v@%d after %q", gvr.Resource, opts.Namespace, opts.Labels, opts.Revision, opts.After)]++
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // let concurrent watches overlap
		return read(ctx, gvr, opts)
	}
}

// newPagesEnv is a watch server whose page cache counts its store reads;
// cached=false: every page is read from the store (the uncached path).
func newPagesEnv(t *testing.T, cached bool) (*testEnv, *httptest.Server, *pageReads) {
	e := newTestEnv(t, dao.Options{})
	hub := watchhub.New(metaclient.New(e.store), watchhub.Options{})
	e.store.SetSubscriber(hub)
	ws := newWatchServer(e.h, hub, WatchOptions{InitialPageSize: 2})
	reads := &pageReads{n: map[string]int{}}
	ws.pages.read = reads.wrap(ws.pages.read)
	ws.pages.off = !cached
	e.h.watch = ws
	srv := httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.h.Stop()
		srv.CloseClientConnections()
		srv.Close()
		hub.Close()
	})
	for i := 0; i < 5; i++ {
		e.put(t, pod("default", fmt.Sprintf("p%d", i), map[string]interface{}{"app": "x"}, "n1", "Running"))
	}
	return e, srv, reads
}

// watchBody returns the whole body of a watch that ends after a second.
func watchBody(t *testing.T, srv *httptest.Server, path, accept string) []byte {
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s: status %d: %s", path, resp.StatusCode, b)
	}
	return b
}

func TestWatchInitialPagesShared(t *testing.T) {
	const path = "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1"
	streams := []struct{ path, accept string }{
		{path, ""},
		{path, ""},
		{path + "&labelSelector=app%3Dx", ""},
		{path + "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", ""},
		{path, MediaTypeProtobuf},
		{path, "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{path, "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"},
		{path, "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"},
	}
	run := func(cached bool) ([][]byte, *pageReads) {
		_, srv, reads := newPagesEnv(t, cached)
		out := make([][]byte, len(streams))
		var wg sync.WaitGroup
		for i, s := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = watchBody(t, srv, s.path, s.accept)
			}()
		}
		wg.Wait()
		return out, reads
	}
	uncached, _ := run(false)
	cached, reads := run(true)
	for i := range streams {
		if len(cached[i]) == 0 || !bytes.Equal(cached[i], uncached[i]) {
			t.Errorf("stream %d (%s, %q): cached body differs from the uncached one:\n%q\n%q", i, streams[i].path, streams[i].accept, cached[i], uncached[i])
		}
	}
	// Every page is read once, whichever stream asked first. (The lock:
	// the race detector does not see the socket order the reads before.)
	reads.mu.Lock()
	defer reads.mu.Unlock()
	if len(reads.n) == 0 {
		t.Fatal("no page reads")
	}
	for k, n := range reads.n {
		if n != 1 {
			t.Errorf("page %s read %d times", k, n)
		}
	}
}

func TestPageCacheSingleflight(t *testing.T) {
	var calls atomic.Int32
	entered := make(chan struct{})
	release := make(chan struct{})
	c := newPageCache(func(ctx context.Context, _ schema.GroupVersionResource, opts metaclient.ListOptions) (metaclient.ListResult, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release
		return metaclient.ListResult{Revision: opts.Revision, Items: []metaclient.Object{{Data: []byte(`{}`)}}}, nil
	})
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	opts := metaclient.ListOptions{Revision: 7, Limit: 2}
	res := make([]*page, 2)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.get(context.Background(), gvr, opts)
			if err != nil {
				t.Error(err)
			}
			res[i] = p
		}()
		if i == 0 {
			<-entered
		}
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	if res[0] != res[1] {
		t.Fatal("the two reads got different pages")
	}
	// Revision 0 is never shared.
	opts.Revision = 0
	for i := 0; i < 2; i++ {
		if _, err := c.get(context.Background(), gvr, opts); err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d reads, want 3", n)
	}
	// Bounded by bytes: a page over the bound is not kept.
	c.max = 1
	opts.Revision = 8
	if _, err := c.get(context.Background(), gvr, opts); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	n, b := len(c.pages), c.bytes
	c.mu.Unlock()
	if n != 0 || b != 0 {
		t.Fatalf("%d pages, %d bytes kept over the bound", n, b)
	}
}
