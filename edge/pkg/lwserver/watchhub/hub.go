// Package watchhub fans committed store events out to watchers.
//
// The model is kube-apiserver's watch cache and kine: one in-memory ring of
// the most recent events, fed by the store's single writer after each commit,
// and one resume rule for every watch:
//
//	A watch from revision R receives exactly the matching events with
//	revision > R, in revision order, without gaps or duplicates.
//
// A new watcher starts with a cursor at R and catches up on its own goroutine:
// from the ring when R is inside it, otherwise from the durable History in
// pages until the cursor enters the ring. The step that finishes catching up
// (taking the last ring events after the cursor) and the step that joins the
// live stream happen under the same lock Publish holds, so no event can fall
// between the two and none is seen twice.
//
// Live watchers are indexed by GVR and namespace. Publish evaluates each
// interested watcher's selectors once and, without blocking, either hands the
// delivery to a reader already waiting on the channel (nothing queued) or
// appends it to that watcher's bounded queue; a watcher whose queue overflows
// is evicted (it gets one ERROR delivery carrying ErrEvicted, then its
// channel closes) and is expected to re-watch from its last revision. The
// writer's speed therefore never depends on how fast clients read.
//
// A watcher still catching up is not in the index: it pulls at its reader's
// pace, pinning at most one ring batch or one History page, and Publish does
// not see it. If it falls out of the ring it continues from History; if it
// falls out of History it ends with ErrTooOld.
//
// The package knows nothing of HTTP or of the store; it depends only on the
// committed-event contract (package event) and the History interface below.
package watchhub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
)

// History is the durable event log (metaclient over edgecore.db implements
// it). Every event published to the hub must already be readable here: the
// store commits, then publishes.
type History interface {
	// Events returns up to limit events with revision > after, in revision
	// order. It fails (with an error Options.IsCompacted recognises) when
	// after < CompactedRevision().
	Events(ctx context.Context, after int64, limit int) ([]event.Event, error)
	// CompactedRevision is the revision just before the oldest retained
	// event: resuming from any revision >= it is exact.
	CompactedRevision() int64
	// Revision is the revision of the last commit.
	Revision() int64
}

// Options tune a Hub. Zero values take the defaults noted; lwserver's
// Config refers to these defaults rather than repeating them.
type Options struct {
	// RingSize is the number of recent events kept in memory for resumes
	// that need no History read. Zero: DefaultRingSize.
	RingSize int
	// RingBytes bounds the object bytes (Object + PrevObject) the ring
	// holds, whichever of it and RingSize is reached first; older resumes
	// read History (exact, just slower). Zero: DefaultRingBytes, which keeps
	// ~2,000 pod updates of 4 KB (10,000 would pin ~90 MB).
	RingBytes int64
	// Eviction is the slow-watcher policy: each watcher's queue bounds
	// (crossing either evicts it) and what the HTTP layer bounds around
	// them. Zero fields take its defaults.
	Eviction EvictionPolicy
	// MaxWatchers bounds concurrent watchers (catching up or live, until
	// their Deliveries channel is closed). Beyond it Watch returns
	// ErrTooManyWatchers. Zero: DefaultMaxWatchers.
	MaxWatchers int
	// BookmarkInterval is how often a watcher that asked for bookmarks gets
	// one. Zero: DefaultBookmarkInterval.
	BookmarkInterval time.Duration
	// Registerer, if set, receives the hub's metrics.
	Registerer prometheus.Registerer
	// IsCompacted recognises History's "compacted" error. Whether or not it
	// is set, a History error while the cursor is below
	// History.CompactedRevision() is also treated as compaction.
	IsCompacted func(error) bool
}

// The hub's defaults (Options).
const (
	DefaultRingSize         = 10000
	DefaultRingBytes        = 16 << 20
	DefaultMaxWatchers      = 10000
	DefaultBookmarkInterval = time.Minute
)

const (
	// historyPage is how many events one History read returns while a
	// watcher catches up.
	historyPage = 500
	// ringScanBatch bounds the ring events one catching-up watcher examines
	// per hold of the hub lock, so a resume never delays Publish for long.
	ringScanBatch = 1024
)

// Errors. Callers test with errors.Is.
var (
	// ErrTooOld: the watch revision is older than both the ring and the
	// History's retained log. The HTTP layer answers 410 Gone ("too old
	// resource version"); once a stream has started it arrives as an ERROR
	// Delivery instead (410 Expired Status event).
	ErrTooOld = errors.New("too old resource version")
	// ErrTooManyWatchers: MaxWatchers reached. Answer 429 with Retry-After.
	ErrTooManyWatchers = errors.New("too many watchers")
	// ErrFutureRevision: the watch revision is newer than both the hub and
	// the store. The hub does not wait; kube-apiserver waits up to ~3 s for
	// it and then answers 504 "Too large resource version" — the caller can
	// do the same with WaitForRevision.
	ErrFutureRevision = errors.New("too large resource version")
	// ErrEvicted: the watcher's queue overflowed; sent as the final ERROR
	// Delivery. The HTTP layer sends a 410 Expired Status event; the client
	// re-watches from its last revision.
	ErrEvicted = errors.New("watcher fell too far behind and was evicted")
	// ErrClosed: the hub is closed.
	ErrClosed = errors.New("watch hub is closed")
	// ErrInvalidRequest: the Request cannot be served (answer 400).
	ErrInvalidRequest = errors.New("invalid watch request")
)

// Request describes one watch.
type Request struct {
	GVR       schema.GroupVersionResource
	Namespace string // "" = all namespaces
	Name      string // "" = all objects (single-object watch otherwise)
	// Labels and Fields select objects; nil = everything. Fields are
	// evaluated on event.Fields / PrevFields (metadata.name and
	// metadata.namespace fall back to the event's Name/Namespace).
	Labels labels.Selector
	Fields fields.Selector
	// From: deliver exactly the matching events with revision > From.
	// "0" / "" (start at any / most recent) and sendInitialEvents are the
	// caller's business: list at some revision R, send that, watch From=R.
	From int64
	// Bookmarks asks for a BOOKMARK every BookmarkInterval.
	Bookmarks bool
	// OnEvict, if set, is called once when the watcher is evicted (its
	// queue overflowed), from the publishing goroutine, outside the hub's
	// lock: the HTTP layer arms EvictionPolicy.CutOffGrace on a stream that
	// may be blocked writing to a client that does not read. It must not
	// block.
	OnEvict func()
}

// Hub is the watcher registry and fan-out. It implements event.Subscriber.
//
// Wiring: create the Hub before the store's writer starts committing (or
// subscribe it at the revision New reads), so that every event after
// History.Revision() at New reaches Publish.
type Hub struct {
	hist        History
	opts        Options
	isCompacted func(error) bool
	m           *metrics
	revision    atomic.Int64 // mirror of rev for lock-free Revision()
	wg          sync.WaitGroup

	mu sync.Mutex
	// ring holds the last RingSize published events, oldest at ringStart.
	// Events are stored by value: the ring's memory is one fixed slice, and
	// the per-event Shared (with its cached encodings) lives only as long as
	// some live watcher still holds it.
	ring      []event.Event
	ringStart int
	ringLen   int
	ringBytes int64 // ringCost of the events in the ring
	// ringBase: every event with revision > ringBase is in the ring (or not
	// yet published). It is the revision of the last event pushed out of the
	// ring, or History.Revision() at New.
	ringBase int64
	rev      int64 // highest revision published
	index    map[schema.GroupVersionResource]*gvrIndex
	watchers map[*Watcher]struct{} // every watcher whose goroutine runs
	closed   bool
	revCh    chan struct{} // closed at the next Publish; see WaitForRevision
	evicted  []*Watcher    // scratch for Publish

	historyPage int // History page size; a field so tests can shrink it
}

// gvrIndex holds the live watchers of one GVR. Slices (with each watcher
// knowing its slot) rather than maps: Publish iterates them for every event.
type gvrIndex struct {
	all  []*Watcher            // watchers of every namespace
	byNS map[string][]*Watcher // watchers of one namespace
}

// New returns a Hub reading older events from h.
func New(h History, opts Options) *Hub {
	if opts.RingSize <= 0 {
		opts.RingSize = DefaultRingSize
	}
	if opts.RingBytes <= 0 {
		opts.RingBytes = DefaultRingBytes
	}
	opts.Eviction = opts.Eviction.withDefaults()
	if opts.MaxWatchers <= 0 {
		opts.MaxWatchers = DefaultMaxWatchers
	}
	if opts.BookmarkInterval <= 0 {
		opts.BookmarkInterval = DefaultBookmarkInterval
	}
	rev := h.Revision()
	hub := &Hub{
		hist:        h,
		opts:        opts,
		isCompacted: opts.IsCompacted,
		ring:        make([]event.Event, opts.RingSize),
		ringBase:    rev,
		rev:         rev,
		index:       map[schema.GroupVersionResource]*gvrIndex{},
		watchers:    map[*Watcher]struct{}{},
		historyPage: historyPage,
	}
	hub.revision.Store(rev)
	hub.m = newMetrics(hub, opts.Registerer)
	return hub
}

// EvictionPolicy is the slow-watcher policy in force (defaults filled in).
func (h *Hub) EvictionPolicy() EvictionPolicy { return h.opts.Eviction }

// Revision is the highest revision published to the hub (History.Revision()
// at New until the first Publish).
func (h *Hub) Revision() int64 { return h.revision.Load() }

// Publish takes one commit's events, in revision order. It never waits for a
// watcher: it appends to the ring and, for each interested watcher, hands the
// delivery to a reader already waiting or appends it to the watcher's queue,
// evicting watchers whose queue is full. Events at or below the current
// revision (a repeated publish) are ignored.
func (h *Hub) Publish(events []event.Event) {
	if len(events) == 0 {
		return
	}
	n := 0
	h.mu.Lock()
	for i := range events {
		ev := &events[i]
		if ev.Revision <= h.rev {
			klog.V(2).InfoS("watchhub: ignoring event at or below the published revision",
				"revision", ev.Revision, "published", h.rev)
			continue
		}
		h.appendRing(ev)
		h.rev = ev.Revision
		n++
		if idx := h.index[ev.GVR]; idx != nil {
			var sh *Shared
			h.offer(idx.all, ev, &sh)
			if ev.Namespace != "" && len(idx.byNS) > 0 {
				h.offer(idx.byNS[ev.Namespace], ev, &sh)
			}
		}
	}
	var cutOff []func()
	for i, w := range h.evicted {
		h.unregisterLocked(w)
		h.m.evicted(w)
		if w.onEvict != nil {
			cutOff = append(cutOff, w.onEvict)
		}
		h.evicted[i] = nil
	}
	h.evicted = h.evicted[:0]
	if n > 0 {
		h.revision.Store(h.rev)
		if h.revCh != nil {
			close(h.revCh)
			h.revCh = nil
		}
	}
	h.mu.Unlock()
	for _, f := range cutOff {
		f()
	}
	h.m.published.Add(float64(n))
}

// offer enqueues ev to every watcher in ws it matches. The Shared wrapper is
// made on the first match only, so events nobody watches allocate nothing.
func (h *Hub) offer(ws []*Watcher, ev *event.Event, sh **Shared) {
	for _, w := range ws {
		if ev.Revision <= w.floor {
			continue
		}
		typ, usePrev, ok := w.m.delivery(ev)
		if !ok {
			continue
		}
		if *sh == nil {
			*sh = newShared(*ev)
		}
		if !w.enqueue(Delivery{Type: typ, Event: *sh, UsePrev: usePrev, Revision: ev.Revision}) {
			h.evicted = append(h.evicted, w)
		}
	}
}

func (h *Hub) appendRing(ev *event.Event) {
	size := len(h.ring)
	cost := ringCost(ev)
	for h.ringLen > 0 && (h.ringLen == size || h.ringBytes+cost > h.opts.RingBytes) {
		h.dropOldest()
	}
	h.ring[(h.ringStart+h.ringLen)%size] = *ev
	h.ringLen++
	h.ringBytes += cost
}

// dropOldest forgets the oldest ring event; resumes from before it read
// History from now on.
func (h *Hub) dropOldest() {
	old := &h.ring[h.ringStart]
	h.ringBase = old.Revision
	h.ringBytes -= ringCost(old)
	*old = event.Event{} // release the object bytes
	h.ringStart = (h.ringStart + 1) % len(h.ring)
	h.ringLen--
}

func ringCost(ev *event.Event) int64 { return int64(len(ev.Object) + len(ev.PrevObject)) }

func (h *Hub) ringAt(i int) *event.Event { return &h.ring[(h.ringStart+i)%len(h.ring)] }

// ringAfter is the ring position of the first event with revision > rev.
func (h *Hub) ringAfter(rev int64) int {
	lo, hi := 0, h.ringLen
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.ringAt(mid).Revision <= rev {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Watch starts a watcher. Its deliveries begin with the matching events after
// req.From and continue live until the watch ends (see Watcher). ctx bounds
// the watch: cancelling it ends the watcher as Stop does.
//
// Errors: ErrInvalidRequest, ErrTooOld (req.From older than what the ring and
// History retain), ErrFutureRevision (req.From newer than the hub and the
// store), ErrTooManyWatchers, ErrClosed.
func (h *Hub) Watch(ctx context.Context, req Request) (*Watcher, error) {
	m, err := compile(req)
	if err != nil {
		return nil, err
	}
	// Ask History before taking the lock: it may do I/O. The answers only
	// grow, so checking against slightly old values errs on the safe side
	// (a later compaction is caught while catching up).
	compacted := h.hist.CompactedRevision()
	storeRev := h.hist.Revision()

	h.mu.Lock()
	switch {
	case h.closed:
		err = ErrClosed
	case req.From < h.ringBase && req.From < compacted:
		err = ErrTooOld
	case req.From > h.rev && req.From > storeRev:
		err = fmt.Errorf("%w: %d is newer than the current revision %d", ErrFutureRevision, req.From, max(h.rev, storeRev))
	case len(h.watchers) >= h.opts.MaxWatchers:
		err = ErrTooManyWatchers
	}
	if err != nil {
		h.mu.Unlock()
		if errors.Is(err, ErrTooOld) {
			h.m.tooOld.Inc()
		}
		return nil, err
	}
	w := newWatcher(ctx, h, req, m)
	h.watchers[w] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()

	h.m.watcherStarted(w)
	go w.run()
	return w, nil
}

// catchUpFromRing is one catch-up step under the hub lock. If cursor is
// inside the ring it appends to buf the deliveries of up to ringScanBatch
// events after cursor and returns the new cursor with inRing set; when that
// reaches the end of the ring the watcher joins the live stream in the same
// critical section (joined), so Publish hands it exactly the events after
// the ones in buf. If cursor is older than the ring, inRing is false and
// base is the ring's base: History must supply (cursor, base].
func (h *Hub) catchUpFromRing(w *Watcher, cursor int64, buf []Delivery) (out []Delivery, next, base int64, inRing, joined bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return buf, cursor, h.ringBase, false, false, ErrClosed
	}
	if cursor < h.ringBase {
		return buf, cursor, h.ringBase, false, false, nil
	}
	// Bound what one step pins for a reader that may stall: ringScanBatch
	// events examined, or MaxQueueBytes of objects, as for a live queue.
	var bytes int64
	i := h.ringAfter(cursor)
	for end := min(h.ringLen, i+ringScanBatch); i < end && bytes < h.opts.Eviction.MaxQueueBytes; i++ {
		ev := h.ringAt(i)
		cursor = ev.Revision
		if ev.GVR != w.gvr {
			continue
		}
		if typ, usePrev, ok := w.m.delivery(ev); ok {
			buf = append(buf, Delivery{Type: typ, Event: newShared(*ev), UsePrev: usePrev, Revision: ev.Revision})
			bytes += buf[len(buf)-1].size()
		}
	}
	if i < h.ringLen {
		return buf, cursor, h.ringBase, true, false, nil
	}
	// The cursor may be ahead of the hub when History served events already
	// committed but not yet published: the floor makes Publish skip those.
	w.floor = max(cursor, h.rev)
	w.mu.Lock()
	w.busy = true // buf is still to be sent; live() clears it
	w.mu.Unlock()
	h.registerLocked(w)
	return buf, cursor, h.ringBase, true, true, nil
}

func (h *Hub) registerLocked(w *Watcher) {
	idx := h.index[w.gvr]
	if idx == nil {
		idx = &gvrIndex{}
		h.index[w.gvr] = idx
	}
	if w.m.namespace == "" {
		w.slot = len(idx.all)
		idx.all = append(idx.all, w)
	} else {
		if idx.byNS == nil {
			idx.byNS = map[string][]*Watcher{}
		}
		ws := idx.byNS[w.m.namespace]
		w.slot = len(ws)
		idx.byNS[w.m.namespace] = append(ws, w)
	}
	w.registered = true
}

func (h *Hub) unregisterLocked(w *Watcher) {
	if !w.registered {
		return
	}
	w.registered = false
	idx := h.index[w.gvr]
	remove := func(ws []*Watcher) []*Watcher {
		last := len(ws) - 1
		moved := ws[last]
		ws[w.slot] = moved
		moved.slot = w.slot
		ws[last] = nil
		return ws[:last]
	}
	if w.m.namespace == "" {
		idx.all = remove(idx.all)
	} else if ws := remove(idx.byNS[w.m.namespace]); len(ws) > 0 {
		idx.byNS[w.m.namespace] = ws
	} else {
		delete(idx.byNS, w.m.namespace)
	}
	if len(idx.all) == 0 && len(idx.byNS) == 0 {
		delete(h.index, w.gvr)
	}
}

// finished is the last thing a watcher goroutine does.
func (h *Hub) finished(w *Watcher) {
	h.mu.Lock()
	h.unregisterLocked(w)
	delete(h.watchers, w)
	h.mu.Unlock()
	h.m.watcherEnded(w)
}

// bookmarkRevision returns the revision a bookmark may carry now, if the
// watcher's queue is empty. Holding the hub lock means every event up to
// h.rev has been offered to the watcher; an empty queue means its goroutine
// (our caller) has already sent each of those that matched. So a bookmark at
// h.rev is never lower than a delivered event nor ahead of an undelivered one.
func (h *Hub) bookmarkRevision(w *Watcher) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.q.n > 0 || w.evicted {
		return 0, false
	}
	w.busy = true // keep Publish's direct hand-off behind the bookmark
	return max(h.rev, w.floor), true
}

func (h *Hub) compactedErr(err error, cursor int64) bool {
	if h.isCompacted != nil && h.isCompacted(err) {
		return true
	}
	return cursor < h.hist.CompactedRevision()
}

// WaitForRevision blocks until the hub has published rev, ctx is done, or the
// hub closes. For callers that want kube-apiserver's behaviour on a watch
// from a future revision (wait briefly, then 504).
func (h *Hub) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		h.mu.Lock()
		if h.rev >= rev {
			h.mu.Unlock()
			return nil
		}
		if h.closed {
			h.mu.Unlock()
			return ErrClosed
		}
		if h.revCh == nil {
			h.revCh = make(chan struct{})
		}
		ch := h.revCh
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close ends every watcher (their Deliveries channels close without an ERROR
// delivery, so the HTTP layer ends each chunked body cleanly), refuses new
// watches, and returns when all watcher goroutines have exited. Publish after
// Close is harmless.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	ws := make([]*Watcher, 0, len(h.watchers))
	for w := range h.watchers {
		ws = append(ws, w)
	}
	if h.revCh != nil {
		close(h.revCh)
		h.revCh = nil
	}
	h.mu.Unlock()
	for _, w := range ws {
		w.closeByHub()
	}
	h.wg.Wait()
}
