package handlers

import (
	"container/list"
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// pageCache shares the pages of the initial state between watches that
// start together. Watches from resourceVersion 0 started within a short
// time mostly read the same pages at the same revision R: a page at R is
// the state at R, immutable, so it is read from the store once (concurrent
// identical reads wait for the one in flight) and kept for a few seconds,
// bounded by bytes. Each page also keeps its encoded ADDED frames, one
// []byte per encoding, built once: a stream writes a page with one write.
//
// A page is only cached for a concrete revision (never 0, "the current
// one"): the first page of a watch is read at the store's revision (see
// watchServer.firstPage).
type pageCache struct {
	// read reads one page from the store (tests count the reads).
	read func(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions) (metaclient.ListResult, error)
	ttl  time.Duration
	max  int64 // bytes kept for finished pages
	off  bool  // read every page from the store (tests)

	mu    sync.Mutex
	pages map[pageKey]*page
	lru   list.List // of *page, finished only, oldest first
	bytes int64
}

const (
	defaultPageCacheBytes = 16 << 20
	defaultPageCacheTTL   = 3 * time.Second
)

type pageKey struct {
	gvr                   schema.GroupVersionResource
	ns, labels, fields    string
	rev                   int64
	after                 string
	limit, limitBytes     int64
	dataOnly, noRemaining bool
}

// page is one page of the initial state at a revision.
type page struct {
	key    pageKey
	shared bool          // read through the cache (its frames are shared)
	done   chan struct{} // closed when res/err are set
	res    metaclient.ListResult
	err    error

	elem    *list.Element // in lru; nil: in flight or dropped
	expires time.Time
	size    int64

	mu     sync.Mutex
	frames map[string]*pageFrame // by encoding
}

type pageFrame struct {
	once sync.Once
	b    []byte
	ok   bool
}

func newPageCache(read func(context.Context, schema.GroupVersionResource, metaclient.ListOptions) (metaclient.ListResult, error)) *pageCache {
	return &pageCache{read: read, ttl: defaultPageCacheTTL, max: defaultPageCacheBytes, pages: map[pageKey]*page{}}
}

// get returns the page of gvr and opts. The result (Items, their Data) is
// shared: callers must not modify it. With opts.Revision 0 it reads the
// store directly.
func (c *pageCache) get(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions) (*page, error) {
	if c.off || opts.Revision == 0 {
		res, err := c.read(ctx, gvr, opts)
		if err != nil {
			return nil, err
		}
		return &page{res: res}, nil
	}
	k := pageKey{
		gvr: gvr, ns: opts.Namespace,
		rev: opts.Revision, after: opts.After, limit: opts.Limit, limitBytes: opts.LimitBytes,
		dataOnly: opts.DataOnly, noRemaining: opts.NoRemaining,
	}
	if opts.Labels != nil {
		k.labels = opts.Labels.String()
	}
	if opts.Fields != nil {
		k.fields = opts.Fields.String()
	}
	now := time.Now()
	c.mu.Lock()
	c.expire(now)
	p, ok := c.pages[k]
	if ok {
		if p.elem != nil {
			c.lru.MoveToBack(p.elem)
		}
		c.mu.Unlock()
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.err == nil {
			return p, nil
		}
		// The read in flight failed (perhaps only because its stream
		// ended): read for this stream, uncached.
		res, err := c.read(ctx, gvr, opts)
		if err != nil {
			return nil, err
		}
		return &page{res: res}, nil
	}
	p = &page{key: k, shared: true, done: make(chan struct{})}
	c.pages[k] = p
	c.mu.Unlock()

	p.res, p.err = c.read(ctx, gvr, opts)
	c.mu.Lock()
	if p.err != nil {
		delete(c.pages, k)
	} else {
		for i := range p.res.Items {
			p.size += int64(len(p.res.Items[i].Data)) + 128
		}
		p.size += 256
		p.expires = time.Now().Add(c.ttl)
		p.elem = c.lru.PushBack(p)
		c.bytes += p.size
		c.evict()
	}
	close(p.done)
	c.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	return p, nil
}

// expire drops the pages past their time (c.mu held).
func (c *pageCache) expire(now time.Time) {
	for e := c.lru.Front(); e != nil; e = c.lru.Front() {
		p := e.Value.(*page)
		if now.Before(p.expires) {
			return
		}
		c.drop(p)
	}
}

// evict drops the least recently used pages while over the byte bound
// (c.mu held).
func (c *pageCache) evict() {
	for c.bytes > c.max {
		e := c.lru.Front()
		if e == nil {
			return
		}
		c.drop(e.Value.(*page))
	}
}

func (c *pageCache) drop(p *page) {
	c.lru.Remove(p.elem)
	p.elem = nil
	c.bytes -= p.size
	if c.pages[p.key] == p {
		delete(c.pages, p.key)
	}
}

// frame returns the page's items encoded as one run of ADDED frames in the
// encoding named enc, built by build once per page (ok false: build failed,
// write the items one by one).
func (c *pageCache) frame(p *page, enc string, build func() ([]byte, bool)) ([]byte, bool) {
	p.mu.Lock()
	if p.frames == nil {
		p.frames = map[string]*pageFrame{}
	}
	f, ok := p.frames[enc]
	if !ok {
		f = &pageFrame{}
		p.frames[enc] = f
	}
	p.mu.Unlock()
	f.once.Do(func() {
		f.b, f.ok = build()
		if !f.ok {
			return
		}
		// Account for the frame bytes while the page is cached.
		c.mu.Lock()
		if p.elem != nil {
			p.size += int64(len(f.b))
			c.bytes += int64(len(f.b))
			c.evict()
		}
		c.mu.Unlock()
	})
	return f.b, f.ok
}
