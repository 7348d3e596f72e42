package handlers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/klog/v2"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// The watch handler: kube-apiserver's watch semantics (API concepts,
// "Efficient detection of changes", "Watch bookmarks", "Streaming lists";
// the cacher's behaviour where the two differ) over the watch hub.
//
//	resourceVersion ""/"0"   synthetic ADDED for the state at R (read from the
//	                         store in pages at the fixed revision R), then
//	                         every change after R
//	resourceVersion N        exactly the changes after N (a future N waits for
//	                         it; a compacted N gets an ERROR event, 410)
//	sendInitialEvents=true   (resourceVersionMatch=NotOlderThan) the state at
//	                         R >= N as ADDED, a BOOKMARK at R annotated
//	                         k8s.io/initial-events-end, then the changes
//
// Each event is encoded once per (encoding, event type, prev-object variant)
// and the bytes are shared by every stream that sends it
// (watchhub.Shared.Encoded); the JSON frame splices the stored object bytes
// without decoding them. A stream is flushed when no further event is ready.

// WatchOptions tune the watch server. Zero values take the defaults noted.
type WatchOptions struct {
	// MinRequestTimeout: a watch without timeoutSeconds ends after a random
	// duration in [MinRequestTimeout, 2×MinRequestTimeout), as
	// kube-apiserver's --min-request-timeout (default 1800 s); clients
	// re-watch from their last revision.
	MinRequestTimeout time.Duration
	// RVWait bounds how long a sendInitialEvents watch waits for a
	// resourceVersion newer than the store before it gets the "Too large
	// resource version" (504) ERROR event (default 3 s, as kube-apiserver).
	RVWait time.Duration
	// WriteTimeout bounds writing one batch of events to a client. A client
	// that does not read for that long has its connection closed (its
	// watcher was evicted by the hub long before; this frees the slot and
	// the goroutine). Default 1 minute.
	WriteTimeout time.Duration
	// InitialPageSize is how many objects one store read returns while the
	// initial state is sent (default 250): a stream pins at most one page.
	InitialPageSize int
	// Registerer, if set, receives the watch server's metrics.
	Registerer prometheus.Registerer
	// NoHijack keeps every stream on the http.ResponseWriter. By default an
	// HTTP/1.1 stream takes its connection over after the response header
	// (see streamOut): one write system call per batch of events instead of
	// several per event.
	NoHijack bool
}

const (
	defaultMinRequestTimeout = 1800 * time.Second
	defaultWatchWriteTimeout = time.Minute
	defaultInitialPageSize   = 250
	// maxBatch bounds the events written between two flushes.
	maxBatch = 256
	// streamBufferSize bounds the bytes a stream queues before writing
	// them out (one chunk, one system call).
	streamBufferSize = 64 << 10
)

// annotationInitialEventsEnd marks the bookmark that ends the initial
// events of a sendInitialEvents watch (metav1.InitialEventsAnnotationKey).
const annotationInitialEventsEnd = metav1.InitialEventsAnnotationKey

// watchServer implements WatchServer over a watch hub.
type watchServer struct {
	h    *Handler
	hub  *watchhub.Hub
	opts WatchOptions

	streams prometheus.Gauge
	ended   *prometheus.CounterVec
	// stopCtx is cancelled by Handler.Stop; it cancels every stream.
	stopCtx context.Context
	// active counts ServeWatch calls writing a stream: Wait waits for it
	// to reach zero (the http.Server does not track hijacked connections).
	active atomic.Int64
	// pages shares the initial state's pages (and their frames) between
	// watches that start together.
	pages *pageCache
}

// Wait returns when no watch stream is being written any more (each has
// sent its terminating chunk), or when ctx is done. Call it after
// Handler.Stop, beside http.Server.Shutdown: streams on connections taken
// over from the http.Server are not waited for by Shutdown.
func (s *watchServer) Wait(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// NewWatchServer returns the WatchServer serving watch requests of h from
// hub. Plug it in with h.SetWatchServer.
func NewWatchServer(h *Handler, hub *watchhub.Hub, opts WatchOptions) WatchServer {
	if opts.MinRequestTimeout <= 0 {
		opts.MinRequestTimeout = defaultMinRequestTimeout
	}
	if opts.RVWait <= 0 {
		opts.RVWait = h.rvWait
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = defaultWatchWriteTimeout
	}
	if opts.InitialPageSize <= 0 {
		opts.InitialPageSize = defaultInitialPageSize
	}
	s := &watchServer{
		h: h, hub: hub, opts: opts,
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lwserver_watch_streams",
			Help: "Watch streams being served (long-running requests in flight).",
		}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lwserver_watch_streams_ended_total",
			Help: "Watch streams ended, by reason (timeout, client, shutdown, expired, error, closed).",
		}, []string{"reason"}),
	}
	s.pages = newPageCache(h.store.List)
	var stopAll context.CancelFunc
	s.stopCtx, stopAll = context.WithCancel(context.Background())
	go func() {
		<-h.Stopping()
		stopAll()
	}()
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{s.streams, s.ended} {
			if err := opts.Registerer.Register(c); err != nil {
				klog.ErrorS(err, "lwserver: registering watch metrics")
			}
		}
	}
	return s
}

// watchMode is how a watch starts.
type watchMode int

const (
	// modeLegacyInitial: resourceVersion ""/"0" without sendInitialEvents:
	// synthetic ADDED for the current state, no initial-events-end bookmark.
	modeLegacyInitial watchMode = iota
	// modeWatchList: sendInitialEvents=true: initial state, then the
	// annotated bookmark.
	modeWatchList
	// modeFrom: resourceVersion N (or "" / "0" with sendInitialEvents=false:
	// the current revision): the changes after it.
	modeFrom
)

// ServeWatch implements WatchServer.
func (s *watchServer) ServeWatch(w http.ResponseWriter, r *http.Request, req *Request) {
	select {
	case <-s.h.Stopping():
		// As kube-apiserver while it shuts down: 429 with Retry-After, which
		// client-go's reflector retries without relisting.
		s.h.WriteError(w, r, apierrors.NewTooManyRequests("The apiserver is shutting down, please try again later.", 1))
		return
	default:
	}
	enc, err := s.newEncoder(r, req)
	if err != nil {
		s.h.WriteError(w, r, err)
		return
	}
	rv, err := parseResourceVersion(req.Options.ResourceVersion)
	if err != nil {
		s.h.WriteError(w, r, err)
		return
	}
	mode := modeFrom
	switch sie := req.Options.SendInitialEvents; {
	case sie != nil && *sie:
		mode = modeWatchList
	case sie == nil && rv == 0:
		mode = modeLegacyInitial
	}

	// The stream's lifetime bounds the watcher too: at the deadline the
	// hub closes its channel and the stream ends cleanly.
	// Handler.Stop and the client going away (seen by streamOut on a
	// hijacked connection) cancel it with their cause.
	cctx, cancelCause := context.WithCancelCause(r.Context())
	defer cancelCause(nil)
	ctx, cancel := context.WithTimeout(cctx, s.timeout(req))
	defer cancel()
	defer context.AfterFunc(s.stopCtx, func() { cancelCause(errShuttingDown) })()

	st := &stream{
		s: s, w: w, r: r, req: req, enc: enc, ctx: ctx,
		cancel: func() { cancelCause(errClientGone) },
		rc:     http.NewResponseController(w),
	}

	hreq := watchhub.Request{
		GVR:       req.Resource.GVR,
		Namespace: req.Namespace,
		Name:      req.Name,
		Labels:    req.Labels(),
		Fields:    req.Fields(),
		Bookmarks: req.Options.AllowWatchBookmarks,
	}

	// Everything that can still become an HTTP error status happens before
	// the stream begins: the first page of the initial state (its revision
	// is where the watch starts) and the hub's admission (429).
	var (
		first   *page
		pending error // sent as an ERROR event once the stream has begun
		future  bool  // resourceVersion newer than the store: wait in-stream
		wch     *watchhub.Watcher
	)
	switch mode {
	case modeLegacyInitial, modeWatchList:
		if mode == modeWatchList && rv > 0 {
			if err := s.waitForStore(ctx, rv); err != nil {
				pending = err
				break
			}
		}
		p, err := s.firstPage(ctx, req)
		if err != nil {
			s.h.WriteError(w, r, storeError(err, req.GroupResource(), ""))
			return
		}
		first = p
		hreq.From = p.res.Revision
	case modeFrom:
		hreq.From = rv
		if rv == 0 {
			hreq.From = s.h.store.Revision()
		}
	}
	if pending == nil {
		wch, err = s.hub.Watch(ctx, hreq)
		switch {
		case err == nil:
		case errors.Is(err, watchhub.ErrTooOld):
			pending = s.tooOld(hreq.From)
		case errors.Is(err, watchhub.ErrFutureRevision) && mode == modeFrom:
			future = true
		case errors.Is(err, watchhub.ErrFutureRevision):
			// The list was read at a revision the hub and store both have;
			// only a store that went backwards gets here.
			pending = errTooLargeResourceVersion(hreq.From, s.h.store.Revision())
		default:
			s.h.WriteError(w, r, s.watchError(err))
			return
		}
	}
	if wch != nil {
		defer wch.Stop()
	}

	s.streams.Inc()
	s.active.Add(1)
	defer func() {
		s.active.Add(-1)
		s.streams.Dec()
	}()
	reason := st.serve(first, wch, hreq, mode, pending, future)
	st.out.end()
	s.ended.WithLabelValues(reason).Inc()
}

// timeout is the stream's lifetime: timeoutSeconds, or kube-apiserver's
// randomised default.
func (s *watchServer) timeout(req *Request) time.Duration {
	if ts := req.Options.TimeoutSeconds; ts != nil && *ts > 0 {
		return time.Duration(*ts) * time.Second
	}
	return time.Duration(float64(s.opts.MinRequestTimeout) * (1 + rand.Float64()))
}

// firstPage reads the first page of the initial state at the store's
// current revision, named: watches starting together share the pages of
// that revision (pageCache); a read "at the current revision" (0) could not
// be shared.
func (s *watchServer) firstPage(ctx context.Context, req *Request) (*page, error) {
	if rev := s.h.store.Revision(); rev > 0 {
		p, err := s.pages.get(ctx, req.Resource.GVR, s.pageOptions(req, rev, ""))
		if err == nil || !(errors.Is(err, metaclient.ErrFutureRevision) || errors.Is(err, metaclient.ErrCompacted)) {
			return p, err
		}
		// The revision moved under the read (a store that went backwards,
		// a compaction racing): read at whatever is current.
	}
	return s.pages.get(ctx, req.Resource.GVR, s.pageOptions(req, 0, ""))
}

// pageOptions reads one page of the initial state at rev (0 = current).
func (s *watchServer) pageOptions(req *Request, rev int64, after string) metaclient.ListOptions {
	return metaclient.ListOptions{
		Namespace: req.Namespace,
		Labels:    req.Labels(),
		Fields:    req.Fields(),
		Revision:  rev,
		After:     after,
		Limit:     int64(s.opts.InitialPageSize),
		DataOnly:  true,
		// The initial events carry no remainingItemCount: skip the count
		// query each page would otherwise run.
		NoRemaining: true,
	}
}

// waitForStore waits (at most RVWait) until the store has reached rev, as
// kube-apiserver's watch cache does for sendInitialEvents with a
// resourceVersion; then "Too large resource version" (504).
func (s *watchServer) waitForStore(ctx context.Context, rev int64) error {
	if rev <= s.h.store.Revision() {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.RVWait)
	defer cancel()
	if err := s.hub.WaitForRevision(wctx, rev); err != nil || rev > s.h.store.Revision() {
		return errTooLargeResourceVersion(rev, s.h.store.Revision())
	}
	return nil
}

// tooOld is the 410 kube-apiserver's watch cache answers for a compacted
// revision: "too old resource version: 5 (10)".
func (s *watchServer) tooOld(rev int64) error {
	return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rev, s.h.store.CompactedRevision()))
}

// watchError maps a hub error to the Status to send.
func (s *watchServer) watchError(err error) error {
	switch {
	case errors.Is(err, watchhub.ErrTooManyWatchers):
		return apierrors.NewTooManyRequests("too many watch streams are open; retry later", 1)
	case errors.Is(err, watchhub.ErrInvalidRequest):
		return errBadRequest(err.Error())
	case errors.Is(err, watchhub.ErrClosed):
		return apierrors.NewServiceUnavailable("the server is shutting down")
	case errors.Is(err, watchhub.ErrTooOld):
		return s.tooOld(0)
	case errors.Is(err, watchhub.ErrEvicted):
		return apierrors.NewResourceExpired("watch closed: the client fell too far behind; re-watch from the last revision received")
	default:
		var st apierrors.APIStatus
		if errors.As(err, &st) {
			return err
		}
		return ErrInternal(err)
	}
}

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
}

// deadline arms the write deadline for the next batch (see
// streamOut.deadline).
func (st *stream) deadline() { st.out.deadline() }

// write queues a copy of b.
func (st *stream) write(b []byte) { st.out.write(b) }

// writeShared queues b without copying it: b must stay unmodified (frames
// from watchhub.Shared.Encoded and static prefixes are).
func (st *stream) writeShared(b []byte) { st.out.writeShared(b) }

func (st *stream) flush() { st.out.flush() }

// err is the first write error: the client is gone.
func (st *stream) failed() bool { return st.out.err != nil }

// done reports why the stream must end now ("" = it may go on).
func (st *stream) done() string {
	if st.failed() {
		return "client"
	}
	select {
	case <-st.ctx.Done():
		return st.ctxReason()
	case <-st.s.h.Stopping():
		return "shutdown"
	default:
		return ""
	}
}

// ctxReason tells the stream's deadline (timeoutSeconds) from the client
// going away.
func (st *stream) ctxReason() string {
	switch {
	case errors.Is(context.Cause(st.ctx), errShuttingDown):
		return "shutdown"
	case errors.Is(st.ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	}
	return "client"
}

// Causes of a stream's end (context.Cause of its context).
var (
	errShuttingDown = errors.New("lwserver is shutting down")
	errClientGone   = errors.New("watch client went away")
)

// sendError writes err as an ERROR event and flushes.
func (st *stream) sendError(err error) {
	st.deadline()
	st.write(st.enc.errorEvent(StatusFor(err)))
	st.flush()
}

// serve writes the whole stream and returns why it ended.
func (st *stream) serve(first *page, wch *watchhub.Watcher, hreq watchhub.Request, mode watchMode, pending error, future bool) string {
	st.begin()

	if pending != nil {
		st.sendError(pending)
		return "expired"
	}
	if future {
		// kube-apiserver's cacher accepts a watch from a revision it has not
		// reached and sends the changes after it once they happen.
		var err error
		if wch, err = st.waitAndWatch(hreq); wch == nil {
			if err != nil {
				st.sendError(err)
				return "error"
			}
			return st.done()
		}
		defer wch.Stop()
	}
	if first != nil {
		if reason := st.sendInitial(first, mode == modeWatchList && st.req.Options.AllowWatchBookmarks); reason != "" {
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
	if st.done() != "" {
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
func (st *stream) sendInitial(first *page, bookmark bool) string {
	rev := first.res.Revision
	p := first
	for {
		st.deadline()
		if reason := st.writePage(p); reason != "" {
			return reason
		}
		if p.res.Continue == "" {
			break
		}
		if reason := st.done(); reason != "" {
			return reason
		}
		after := p.res.Continue
		p = nil // let the previous page go before reading the next
		next, err := st.s.pages.get(st.ctx, st.req.Resource.GVR, st.s.pageOptions(st.req, rev, after))
		if err != nil {
			if st.ctx.Err() != nil {
				return "client"
			}
			if errors.Is(err, metaclient.ErrCompacted) {
				st.sendError(st.s.tooOld(rev))
				return "expired"
			}
			st.sendError(storeError(err, st.req.GroupResource(), ""))
			return "error"
		}
		p = next
	}
	if bookmark {
		b, err := st.enc.bookmark(rev, true)
		if err != nil {
			st.sendError(ErrInternal(err))
			return "error"
		}
		st.write(b)
	}
	st.flush()
	if st.failed() {
		return "client"
	}
	return ""
}

// writePage writes the ADDED events of one page of the initial state. A
// page shared through the pageCache is written as one run of frames built
// once for every stream of the same encoding (not for Table, whose first
// event carries the column definitions); otherwise event by event.
func (st *stream) writePage(p *page) string {
	items := p.res.Items
	if p.shared && st.enc.kind != encTableJSON && len(items) > 0 {
		enc := st.enc
		b, ok := st.s.pages.frame(p, enc.keys[0][0][0], func() ([]byte, bool) {
			n := 0
			for i := range items {
				n += len(items[i].Data) + 32
			}
			out := make([]byte, 0, n)
			if enc.kind == encJSON {
				for i := range items {
					out = append(out, jsonEventPrefix(watch.Added)...)
					out = append(out, items[i].Data...)
					out = append(out, jsonEventSuffix...)
				}
				return out, true
			}
			for i := range items {
				f, err := enc.frame(watch.Added, items[i].Data, items[i].Revision, false)
				if err != nil {
					return nil, false
				}
				out = append(out, f...)
			}
			return out, true
		})
		if ok {
			st.writeShared(b) // shared by every stream: referenced, not copied
			if st.failed() {
				return "client"
			}
			return ""
		}
	}
	for i := range items {
		if err := st.enc.writeInitial(st, items[i].Data, items[i].Revision); err != nil {
			st.sendError(ErrInternal(err))
			return "error"
		}
		if st.failed() {
			return "client"
		}
	}
	return ""
}

// live relays the hub's deliveries until the watch ends. Several ready
// deliveries are written as one batch and flushed together.
func (st *stream) live(wch *watchhub.Watcher) string {
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
		if end := st.send(d); end != "" {
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
				if end := st.send(d); end != "" {
					st.flush()
					return end
				}
			default:
				break batch
			}
		}
		st.flush()
		if st.failed() {
			return "client"
		}
	}
}

// closedReason: the hub closed the channel without an ERROR delivery.
func (st *stream) closedReason() string {
	if r := st.done(); r != "" {
		return r
	}
	return "closed"
}

// send writes one delivery; a non-empty result ends the stream.
func (st *stream) send(d watchhub.Delivery) string {
	switch d.Type {
	case watch.Error:
		err := d.Err
		switch {
		case errors.Is(err, watchhub.ErrEvicted):
			err = apierrors.NewResourceExpired(fmt.Sprintf(
				"watch closed at resource version %d: the client fell too far behind; re-watch from the last revision received", d.Revision))
		case errors.Is(err, watchhub.ErrTooOld):
			err = st.s.tooOld(d.Revision)
		default:
			err = st.s.watchError(err)
		}
		st.write(st.enc.errorEvent(StatusFor(err)))
		return "expired"
	case watch.Bookmark:
		b, err := st.enc.bookmark(d.Revision, false)
		if err != nil {
			st.write(st.enc.errorEvent(StatusFor(ErrInternal(err))))
			return "error"
		}
		st.write(b)
	default:
		b, err := st.enc.event(d)
		if err != nil {
			st.write(st.enc.errorEvent(StatusFor(ErrInternal(err))))
			return "error"
		}
		st.writeShared(b) // shared by every stream: referenced, not copied
	}
	if st.failed() {
		return "client"
	}
	return ""
}

// notAcceptableStream is kube-apiserver's 406 for a watch in a media type
// that has no stream encoding (YAML).
func (s *watchServer) notAcceptableStream() error {
	var supported []string
	for _, info := range s.h.codecs.infos {
		if info.StreamSerializer != nil {
			supported = append(supported, info.MediaType)
		}
	}
	return negotiation.NewNotAcceptableError(supported)
}
