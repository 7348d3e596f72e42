package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// stream is one watch response being written.
type stream struct {
	s      *watchServer
	w      http.ResponseWriter
	r      *http.Request
	req    *Request
	enc    *streamEncoder
	ctx    context.Context
	cancel context.CancelFunc // ends ctx (the client went away)
	rc     *http.ResponseController
	out    streamOut
	// release ends the stream's count on its connection (watchConns.add).
	release func()
}

// begin writes the response header (200, chunked) and flushes it, so the
// client's Watch() returns before the first event; then it takes the
// connection over when it can (see streamOut).
func (st *stream) begin() {
	hdr := st.w.Header()
	hdr.Set("Content-Type", st.enc.contentType)
	hdr.Set("Transfer-Encoding", "chunked")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Del("Content-Length")
	raw := st.r.ProtoMajor == 1 && st.r.ProtoMinor >= 1 && !st.s.opts.NoHijack
	if raw {
		// The connection ends with the stream: tell the client not to
		// reuse it.
		hdr.Set("Connection", "close")
	}
	st.w.WriteHeader(http.StatusOK)
	_ = st.rc.Flush()
	st.out.init(st, raw)
	conn := connOf(st.r.Context())
	if conn == nil {
		conn = st.out.raw // a server without Handler.ConnContext
	}
	st.release = st.s.conns.add(conn)
}

// cutOff is the stream's watchhub.Request.OnEvict: the hub evicted the
// watcher, so the stream gets the policy's CutOffGrace to write what it
// holds (streamOut.cutOff). Called from the publishing goroutine.
func (st *stream) cutOff() { st.out.cutOff(st.s.policy.CutOffGrace) }

// deadline arms the write deadline for the next batch (see
// streamOut.deadline).
func (st *stream) deadline() { st.out.deadline() }

// write queues a copy of b.
func (st *stream) write(b []byte) { st.out.write(b) }

// writeShared queues b without copying it: b must stay unmodified (frames
// from watchhub.Shared.Encoded and static prefixes are).
func (st *stream) writeShared(b []byte) { st.out.writeShared(b) }

func (st *stream) flush() { st.out.flush() }

// failed reports a write error: the stream cannot go on.
func (st *stream) failed() bool { return st.out.failed() }

// failedReason is why writes failed: the client went away, a batch was not
// taken within WriteTimeout, or the eviction policy cut the stream off.
func (st *stream) failedReason() endReason { return st.out.failedReason() }

// done reports why the stream must end now (endNone: it may go on).
func (st *stream) done() endReason {
	if st.failed() {
		return st.failedReason()
	}
	select {
	case <-st.ctx.Done():
		return ctxEndReason(st.ctx)
	case <-st.s.h.Stopping():
		return endShutdown
	default:
		return endNone
	}
}

// sendError writes err as an ERROR event and flushes.
func (st *stream) sendError(err error) {
	st.deadline()
	st.write(st.enc.errorEvent(StatusFor(err)))
	st.flush()
}

// serve writes the whole stream and returns why it ended.
func (st *stream) serve(start *watchStart) endReason {
	st.begin()

	if start.pending != nil {
		st.sendError(start.pending)
		return endExpired
	}
	wch := start.wch
	if start.future {
		// kube-apiserver's cacher accepts a watch from a revision it has not
		// reached and sends the changes after it once they happen.
		var err error
		if wch, err = st.waitAndWatch(start.hreq); wch == nil {
			if err != nil {
				st.sendError(err)
				return endError
			}
			return st.done()
		}
		defer wch.Stop()
	}
	if first := start.first; first != nil {
		start.first = nil // the stream must not pin the page while live
		bookmark := start.mode == modeWatchList && st.req.Options.AllowWatchBookmarks
		if reason := st.sendInitial(first, bookmark); reason != endNone {
			return reason
		}
	}
	return st.live(wch)
}

// waitAndWatch waits for the hub to reach hreq.From (until the stream ends),
// then starts the watcher. (nil, nil): the stream ended while waiting.
func (st *stream) waitAndWatch(hreq watchhub.Request) (*watchhub.Watcher, error) {
	wctx, cancel := context.WithCancel(st.ctx)
	defer cancel()
	go func() {
		select {
		case <-st.s.h.Stopping():
		case <-wctx.Done():
		}
		cancel()
	}()
	if err := st.s.hub.WaitForRevision(wctx, hreq.From); err != nil {
		return nil, nil
	}
	if st.done() != endNone {
		return nil, nil
	}
	wch, err := st.s.hub.Watch(st.ctx, hreq)
	if err != nil {
		if errors.Is(err, watchhub.ErrTooOld) {
			return nil, st.s.tooOld(hreq.From)
		}
		return nil, st.s.watchError(err)
	}
	return wch, nil
}

// sendInitial writes the initial state, page by page at the first page's
// revision, as ADDED events; with bookmark, the initial-events-end bookmark.
func (st *stream) sendInitial(first *page, bookmark bool) endReason {
	rev := first.res.Revision
	p := first
	for {
		st.deadline()
		// Nothing of the page is used once it is written: while the write
		// blocks on a slow client, the stream holds only the page's frames,
		// and its objects can go once the cache lets the page go (with 100
		// streams at different pages, the objects they held were ~half of
		// the heap).
		after := p.res.Continue
		if reason := st.writePage(p); reason != endNone {
			return reason
		}
		if after == "" {
			break
		}
		if reason := st.done(); reason != endNone {
			return reason
		}
		next, err := st.s.pages.get(st.ctx, st.req.Resource.GVR, st.s.pageOptions(st.req, rev, after))
		if err != nil {
			if st.ctx.Err() != nil {
				return ctxEndReason(st.ctx)
			}
			if errors.Is(err, metaclient.ErrCompacted) {
				st.sendError(st.s.tooOld(rev))
				return endExpired
			}
			st.sendError(storeError(err, st.req.GroupResource(), ""))
			return endError
		}
		p = next
	}
	if bookmark {
		b, err := st.enc.bookmark(rev, true)
		if err != nil {
			st.sendError(ErrInternal(err))
			return endError
		}
		st.write(b)
	}
	st.flush()
	if st.failed() {
		return st.failedReason()
	}
	return endNone
}

// writePage writes the ADDED events of one page of the initial state. A
// page shared through the pageCache is written as one run of frames built
// once for every stream of the same encoding (not for Table, whose first
// event carries the column definitions); otherwise event by event.
func (st *stream) writePage(p *page) endReason {
	items := p.res.Items
	if p.shared && st.enc.kind != encTableJSON && len(items) > 0 {
		if b, ok := st.s.pages.frame(p, st.enc.keys[0][0][0], func() ([]byte, bool) { return st.enc.pageFrames(items) }); ok {
			st.writeShared(b) // shared by every stream: referenced, not copied
			if st.failed() {
				return st.failedReason()
			}
			return endNone
		}
	}
	for i := range items {
		if err := st.enc.writeInitial(st, items[i].Data, items[i].Revision); err != nil {
			st.sendError(ErrInternal(err))
			return endError
		}
		if st.failed() {
			return st.failedReason()
		}
	}
	return endNone
}

// live relays the hub's deliveries until the watch ends. Several ready
// deliveries are written as one batch and flushed together.
func (st *stream) live(wch *watchhub.Watcher) endReason {
	// One channel to wait on: the end of the stream (deadline, client gone,
	// shutdown) cancels the watcher's context and the hub closes the
	// channel. A plain receive is cheaper than a select over three channels,
	// once per delivery per stream.
	ch := wch.Deliveries()
	for {
		d, ok := <-ch
		if !ok {
			return st.closedReason()
		}
		st.deadline()
		if end := st.send(d); end != endNone {
			st.flush()
			return end
		}
	batch:
		for n := 1; n < maxBatch; n++ {
			select {
			case d, ok = <-ch:
				if !ok {
					st.flush()
					return st.closedReason()
				}
				if end := st.send(d); end != endNone {
					st.flush()
					return end
				}
			default:
				break batch
			}
		}
		st.flush()
		if st.failed() {
			return st.failedReason()
		}
	}
}

// closedReason: the hub closed the channel without an ERROR delivery.
func (st *stream) closedReason() endReason {
	if r := st.done(); r != endNone {
		return r
	}
	return endClosed
}

// send writes one delivery; a result other than endNone ends the stream.
func (st *stream) send(d watchhub.Delivery) endReason {
	switch d.Type {
	case watch.Error:
		err, reason := d.Err, endExpired
		switch {
		case errors.Is(err, watchhub.ErrEvicted):
			reason = endEvicted
			err = apierrors.NewResourceExpired(fmt.Sprintf(
				"watch closed at resource version %d: the client fell too far behind; re-watch from the last revision received", d.Revision))
		case errors.Is(err, watchhub.ErrTooOld):
			err = st.s.tooOld(d.Revision)
		default:
			reason = endError
			err = st.s.watchError(err)
		}
		st.write(st.enc.errorEvent(StatusFor(err)))
		return reason
	case watch.Bookmark:
		b, err := st.enc.bookmark(d.Revision, false)
		if err != nil {
			st.write(st.enc.errorEvent(StatusFor(ErrInternal(err))))
			return endError
		}
		st.write(b)
	default:
		b, err := st.enc.event(d)
		if err != nil {
			st.write(st.enc.errorEvent(StatusFor(ErrInternal(err))))
			return endError
		}
		st.writeShared(b) // shared by every stream: referenced, not copied
	}
	if st.failed() {
		return st.failedReason()
	}
	return endNone
}
