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

// WatchOptions tune the watch server (Config.Watch). Zero values take the
// defaults noted. What a slow client may pin and when it is cut off is not
// here: that is the hub's eviction policy (watchhub.EvictionPolicy).
type WatchOptions struct {
	// MinRequestTimeout: a watch without timeoutSeconds ends after a random
	// duration in [MinRequestTimeout, 2×MinRequestTimeout), as
	// kube-apiserver's --min-request-timeout (default 1800 s); clients
	// re-watch from their last revision.
	MinRequestTimeout time.Duration
	// RVWait bounds how long a sendInitialEvents watch waits for a
	// resourceVersion newer than the store before it gets the "Too large
	// resource version" (504) ERROR event (default: Config.RVWait, 3 s as
	// kube-apiserver).
	RVWait time.Duration
	// InitialPageSize is how many objects one store read returns while the
	// initial state is sent (default 100, ~450 KB of pods): a stream pins at
	// most one page's frames while it writes them.
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
	defaultInitialPageSize   = 100
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
	h      *Handler
	hub    *watchhub.Hub
	opts   WatchOptions
	policy watchhub.EvictionPolicy // the hub's, read once

	streams prometheus.Gauge
	ended   [numEndReasons]prometheus.Counter
	// stopCtx is cancelled by Handler.Stop; it cancels every stream.
	stopCtx context.Context
	// active counts ServeWatch calls writing a stream: wait waits for it
	// to reach zero (the http.Server does not track hijacked connections).
	active atomic.Int64
	// pages shares the initial state's pages (and their frames) between
	// watches that start together.
	pages *pageCache
	// conns are the connections carrying streams: their kernel send
	// buffers are bounded and reported (watch_sockbuf.go).
	conns *watchConns
}

// wait returns when no watch stream is being written any more (each has
// sent its terminating chunk), or when ctx is done (Handler.Wait).
func (s *watchServer) wait(ctx context.Context) error {
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

// newWatchServer returns the WatchServer serving watch requests of h from
// hub (Handler.New builds it when Config.Hub is set).
func newWatchServer(h *Handler, hub *watchhub.Hub, opts WatchOptions) *watchServer {
	if opts.MinRequestTimeout <= 0 {
		opts.MinRequestTimeout = defaultMinRequestTimeout
	}
	if opts.RVWait <= 0 {
		opts.RVWait = h.rvWait
	}
	if opts.InitialPageSize <= 0 {
		opts.InitialPageSize = defaultInitialPageSize
	}
	s := &watchServer{
		h: h, hub: hub, opts: opts, policy: hub.EvictionPolicy(),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lwserver_watch_streams",
			Help: "Watch streams being served (long-running requests in flight).",
		}),
	}
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lwserver_watch_streams_ended_total",
		Help: "Watch streams ended, by reason (" + endReasonList() + ").",
	}, []string{"reason"})
	for r := endReason(1); r < numEndReasons; r++ {
		s.ended[r] = ended.WithLabelValues(r.String())
	}
	s.pages = newPageCache(h.store.List)
	s.conns = newWatchConns(s.policy.SendBufferBytes)
	var stopAll context.CancelFunc
	s.stopCtx, stopAll = context.WithCancel(context.Background())
	go func() {
		<-h.Stopping()
		stopAll()
	}()
	if opts.Registerer != nil {
		for _, c := range append([]prometheus.Collector{s.streams, ended}, s.sendMetrics()...) {
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

// modeOf is how the watch of req (at resourceVersion rv) starts.
func modeOf(req *Request, rv int64) watchMode {
	switch sie := req.Options.SendInitialEvents; {
	case sie != nil && *sie:
		return modeWatchList
	case sie == nil && rv == 0:
		return modeLegacyInitial
	}
	return modeFrom
}

// watchStart is what is settled before a stream's response header: where it
// starts and what it sends first.
type watchStart struct {
	mode  watchMode
	hreq  watchhub.Request
	first *page             // first page of the initial state (initial modes)
	wch   *watchhub.Watcher // nil with pending or future
	// pending is sent as an ERROR event once the stream has begun.
	pending error
	// future: resourceVersion newer than the store: wait in-stream.
	future bool
}

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
	start, err := s.prepare(ctx, req, modeOf(req, rv), rv, st.cutOff)
	if err != nil {
		s.h.WriteError(w, r, err)
		return
	}
	if start.wch != nil {
		defer start.wch.Stop()
	}

	s.streams.Inc()
	s.active.Add(1)
	defer func() {
		s.active.Add(-1)
		s.streams.Dec()
	}()
	reason := st.serve(start)
	st.out.end()
	st.release()
	s.ended[reason].Inc()
}

// sendMetrics report the kernel send queues of the watch connections, read
// at scrape time.
func (s *watchServer) sendMetrics() []prometheus.Collector {
	gauge := func(name, help string, v func(sendStats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(v(s.conns.stats())) })
	}
	return []prometheus.Collector{
		gauge("lwserver_watch_connections", "Connections carrying watch streams (HTTP/2 multiplexes several on one).",
			func(st sendStats) int64 { return int64(st.conns) }),
		gauge("lwserver_watch_send_queue_bytes", "Bytes in the kernel send queues of watch connections (not yet sent or acknowledged).",
			func(st sendStats) int64 { return st.queued }),
		gauge("lwserver_watch_send_queue_bytes_max", "Bytes in the fullest kernel send queue of a watch connection.",
			func(st sendStats) int64 { return st.maxQueued }),
		gauge("lwserver_watch_send_buffer_bytes", "Kernel send buffer limits of watch connections, summed (Linux reports twice SO_SNDBUF; bounded by the eviction policy's SendBufferBytes).",
			func(st sendStats) int64 { return st.buffers }),
	}
}

// prepare does everything that can still become an HTTP error status before
// the stream begins: the first page of the initial state (its revision is
// where the watch starts) and the hub's admission (429). onEvict is the
// stream's cut-off (watchhub.Request.OnEvict). A non-nil error is the
// response.
func (s *watchServer) prepare(ctx context.Context, req *Request, mode watchMode, rv int64, onEvict func()) (*watchStart, error) {
	start := &watchStart{mode: mode, hreq: watchhub.Request{
		GVR:       req.Resource.GVR,
		Namespace: req.Namespace,
		Name:      req.Name,
		Labels:    req.Labels(),
		Fields:    req.Fields(),
		Bookmarks: req.Options.AllowWatchBookmarks,
		OnEvict:   onEvict,
	}}
	hreq := &start.hreq
	switch mode {
	case modeLegacyInitial, modeWatchList:
		if mode == modeWatchList && rv > 0 {
			if err := s.waitForStore(ctx, rv); err != nil {
				start.pending = err
				return start, nil
			}
		}
		p, err := s.firstPage(ctx, req)
		if err != nil {
			return nil, storeError(err, req.GroupResource(), "")
		}
		start.first = p
		hreq.From = p.res.Revision
	case modeFrom:
		hreq.From = rv
		if rv == 0 {
			hreq.From = s.h.store.Revision()
		}
	}
	wch, err := s.hub.Watch(ctx, *hreq)
	switch {
	case err == nil:
		start.wch = wch
	case errors.Is(err, watchhub.ErrTooOld):
		start.pending = s.tooOld(hreq.From)
	case errors.Is(err, watchhub.ErrFutureRevision) && mode == modeFrom:
		start.future = true
	case errors.Is(err, watchhub.ErrFutureRevision):
		// The list was read at a revision the hub and store both have;
		// only a store that went backwards gets here.
		start.pending = errTooLargeResourceVersion(hreq.From, s.h.store.Revision())
	default:
		return nil, s.watchError(err)
	}
	return start, nil
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
