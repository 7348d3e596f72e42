package watchhub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// Delivery is one item of a watch stream.
type Delivery struct {
	// Type is watch.Added, Modified, Deleted (after the transition rule, so
	// it may differ from Event.Type), watch.Bookmark or watch.Error.
	Type watch.EventType
	// Event is the committed event; nil for Bookmark and Error.
	Event *Shared
	// UsePrev: a Deleted delivery because the object stopped matching the
	// selectors. Send Event.PrevObject (the last state the client saw) with
	// its resourceVersion set to Revision, as kube-apiserver does.
	UsePrev bool
	// Revision of this delivery: the event's revision, or the bookmark's.
	// For Error, the revision of the last event delivered before it (0 if
	// none); the client resumes from its own last revision anyway.
	Revision int64
	// Err, for Error: ErrEvicted or ErrTooOld (send a 410 Expired Status
	// event), or a History read failure (send a 500 InternalError Status).
	Err error
}

// size is what a queued delivery pins for the queue byte bound.
func (d *Delivery) size() int64 {
	if d.Event == nil {
		return 0
	}
	if d.UsePrev {
		return int64(len(d.Event.PrevObject))
	}
	return int64(len(d.Event.Object))
}

// Watcher is one watch. Read Deliveries until it closes.
//
// The channel closes when the watch ends: its context is done, Stop is
// called, the hub closes (no ERROR before the close in these cases), or after
// one ERROR delivery (eviction, compaction while catching up, a History
// failure).
type Watcher struct {
	h         *Hub
	gvr       schema.GroupVersionResource
	m         matcher
	from      int64
	bookmarks bool
	ctx       context.Context
	cancel    context.CancelFunc
	ch        chan Delivery
	// signal wakes the goroutine when its queue goes from empty to not
	// empty (or on eviction). Capacity 1: a pending token is never lost and
	// Publish never waits on it.
	signal chan struct{}
	gauge  prometheus.Gauge
	// onEvict is Request.OnEvict.
	onEvict func()

	// Guarded by h.mu.
	registered bool
	slot       int   // position in the hub index slice
	floor      int64 // Publish skips events at or below it (already served)

	// Guarded by mu (taken inside h.mu by Publish, alone by the goroutine).
	mu      sync.Mutex
	q       queue
	bytes   int64
	evicted bool
	// busy: the goroutine may send (it holds a popped delivery, a bookmark,
	// or catch-up events). While it is not busy and the queue is empty,
	// Publish may hand a delivery straight to a waiting reader.
	busy bool
	// lastSent is the revision of the last delivery the reader took. Written
	// by Publish (under mu, only while !busy) or by the goroutine (only while
	// busy; busy is cleared under mu afterwards, which orders the two).
	lastSent int64
}

func newWatcher(ctx context.Context, h *Hub, req Request, m matcher) *Watcher {
	ctx, cancel := context.WithCancel(ctx)
	return &Watcher{
		h:         h,
		gvr:       req.GVR,
		m:         m,
		from:      req.From,
		bookmarks: req.Bookmarks,
		ctx:       ctx,
		cancel:    cancel,
		ch:        make(chan Delivery),
		signal:    make(chan struct{}, 1),
		onEvict:   req.OnEvict,
	}
}

// Deliveries is the watch stream. It is closed when the watch ends.
func (w *Watcher) Deliveries() <-chan Delivery { return w.ch }

// Stop ends the watch; Deliveries closes shortly after. Stop does not wait
// and may be called any number of times, from any goroutine.
func (w *Watcher) Stop() { w.cancel() }

func (w *Watcher) closeByHub() { w.cancel() }

// enqueue is Publish's non-blocking hand-off, called under h.mu. It returns
// false if this delivery overflows the queue: the watcher is then marked
// evicted, its backlog dropped (freeing memory at once: the client will
// re-read it on resume) and its goroutine woken to send the ERROR.
func (w *Watcher) enqueue(d Delivery) bool {
	size := d.size()
	w.mu.Lock()
	if w.evicted {
		w.mu.Unlock()
		return true
	}
	if w.h.opts.Eviction.overflows(w.q.n, w.bytes, size) {
		w.evicted = true
		w.q.reset()
		w.bytes = 0
		w.mu.Unlock()
		w.wake()
		return false
	}
	wasEmpty := w.q.n == 0
	if wasEmpty && !w.busy {
		// Fast path: nothing is queued or in the goroutine's hand, so a
		// reader waiting on the channel can take this delivery directly —
		// one goroutine hand-off instead of two. Never blocks: if no reader
		// is waiting right now, queue as usual.
		select {
		case w.ch <- d:
			w.lastSent = d.Revision
			w.mu.Unlock()
			return true
		default:
		}
	}
	w.q.push(d, w.h.opts.Eviction.MaxQueueEvents)
	w.bytes += size
	w.mu.Unlock()
	if wasEmpty {
		// The goroutine only sleeps after seeing an empty queue, so only
		// this transition needs a wake-up.
		w.wake()
	}
	return true
}

func (w *Watcher) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

func (w *Watcher) run() {
	defer func() {
		w.h.finished(w) // unregistered (and uncounted) before the close is seen
		w.cancel()
		close(w.ch)
		w.h.wg.Done() // last: Hub.Close returns only after every close
	}()

	if err := w.catchUp(); err != nil {
		if w.ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return
		}
		if errors.Is(err, ErrTooOld) {
			w.h.m.tooOld.Inc()
		}
		w.send(Delivery{Type: watch.Error, Err: err, Revision: w.lastSent})
		return
	}
	w.live()
}

// catchUp delivers the matching events after w.from until the cursor reaches
// the end of the ring, where the watcher joins the live stream.
func (w *Watcher) catchUp() error {
	cursor := w.from
	var buf []Delivery
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		var (
			base           int64
			inRing, joined bool
			err            error
		)
		buf, cursor, base, inRing, joined, err = w.h.catchUpFromRing(w, cursor, buf[:0])
		if err != nil {
			return err
		}
		if inRing {
			for i := range buf {
				if !w.send(buf[i]) {
					return w.ctx.Err()
				}
				buf[i] = Delivery{}
			}
			if joined {
				return nil
			}
			continue
		}
		next, err := w.fromHistory(cursor, base)
		if err != nil {
			return err
		}
		cursor = next
	}
}

// fromHistory delivers one History page after cursor and returns the new
// cursor.
func (w *Watcher) fromHistory(cursor, ringBase int64) (int64, error) {
	page, err := w.h.hist.Events(w.ctx, cursor, w.h.historyPage)
	if err != nil {
		if w.ctx.Err() != nil {
			return cursor, w.ctx.Err()
		}
		if w.h.compactedErr(err, cursor) {
			return cursor, fmt.Errorf("%w: revision %d has been compacted: %v", ErrTooOld, cursor, err)
		}
		return cursor, fmt.Errorf("watchhub: reading events after revision %d: %w", cursor, err)
	}
	if len(page) == 0 {
		// The log has nothing after cursor, so nothing exists between it
		// and the ring (revisions need not be contiguous).
		return max(cursor, ringBase), nil
	}
	for i := range page {
		ev := &page[i]
		if ev.Revision <= cursor {
			continue // defensive: never deliver twice or backwards
		}
		cursor = ev.Revision
		if ev.GVR != w.gvr {
			continue
		}
		typ, usePrev, ok := w.m.delivery(ev)
		if !ok {
			continue
		}
		if !w.send(Delivery{Type: typ, Event: newShared(*ev), UsePrev: usePrev, Revision: ev.Revision}) {
			return cursor, w.ctx.Err()
		}
	}
	return cursor, nil
}

// live drains the queue Publish fills, sending bookmarks when due and the
// queue is empty.
func (w *Watcher) live() {
	var tick <-chan time.Time
	if w.bookmarks {
		t := time.NewTicker(w.h.opts.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	bookmarkDue := false
	for {
		w.mu.Lock()
		w.busy = false // whatever we held has been sent
		if w.evicted {
			last := w.lastSent
			w.mu.Unlock()
			w.send(Delivery{Type: watch.Error, Err: ErrEvicted, Revision: last})
			return
		}
		if w.q.n > 0 {
			d := w.q.pop()
			w.bytes -= d.size()
			w.busy = true
			w.mu.Unlock()
			if !w.send(d) {
				return
			}
			continue
		}
		w.mu.Unlock()

		if bookmarkDue {
			if rev, ok := w.h.bookmarkRevision(w); ok {
				bookmarkDue = false
				if !w.send(Delivery{Type: watch.Bookmark, Revision: rev}) {
					return
				}
			}
			continue // the queue filled meanwhile: drain, then retry
		}
		select {
		case <-w.signal:
		case <-tick:
			bookmarkDue = true
		case <-w.ctx.Done():
			return
		}
	}
}

func (w *Watcher) send(d Delivery) bool {
	select {
	case w.ch <- d:
		if d.Type != watch.Error {
			w.lastSent = d.Revision
		}
		return true
	case <-w.ctx.Done():
		return false
	}
}

// queue is a growable FIFO ring of deliveries: no allocation per event once
// it has grown to the watcher's usual backlog, and it gives memory back when
// a burst has drained.
type queue struct {
	buf     []Delivery
	head, n int
}

const (
	queueMinCap    = 16
	queueShrinkCap = 256
)

func (q *queue) push(d Delivery, limit int) {
	if q.n == len(q.buf) {
		c := min(max(queueMinCap, 2*len(q.buf)), max(limit, 1))
		if c <= q.n {
			c = q.n + 1 // only when limit < current size; keeps push total
		}
		nb := make([]Delivery, c)
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = d
	q.n++
}

func (q *queue) pop() Delivery {
	d := q.buf[q.head]
	q.buf[q.head] = Delivery{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 {
		q.head = 0
		if len(q.buf) > queueShrinkCap {
			q.buf = nil
		}
	}
	return d
}

func (q *queue) reset() { *q = queue{} }

var _ event.Subscriber = (*Hub)(nil)
