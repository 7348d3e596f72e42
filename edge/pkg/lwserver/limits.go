package lwserver

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// Request limits, as kube-apiserver's filters (WithMaxInFlightLimit,
// WithTimeoutForNonLongRunningRequests), and the connection bounds of
// docs/security.md.

// longRunning are the requests no in-flight limit or timeout applies to
// (kube-apiserver's --long-running-request-regexp defaults).
var (
	longRunningVerbs        = sets.New("watch", "proxy")
	longRunningSubresources = sets.New("attach", "exec", "proxy", "log", "portforward")
)

func isLongRunning(r *http.Request) bool {
	info, ok := request.RequestInfoFrom(r.Context())
	return ok && (longRunningVerbs.Has(info.Verb) || (info.IsResourceRequest && longRunningSubresources.Has(info.Subresource)))
}

// WithMaxInFlight answers 429 (Retry-After: 1) to non-long-running
// requests beyond max running at once.
func WithMaxInFlight(max int, writeErr ErrorWriter) Filter {
	sem := make(chan struct{}, max)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isLongRunning(r) {
				next.ServeHTTP(w, r)
				return
			}
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				next.ServeHTTP(w, r)
			default:
				writeErr(w, r, apierrors.NewTooManyRequests("Too many requests, please try again later.", 1))
			}
		})
	}
}

// WithRequestTimeout cancels a non-long-running request's context after d
// (the store reads and list streams stop at it).
func WithRequestTimeout(d time.Duration) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isLongRunning(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// WithBodyReadTimeout bounds the reading of a request body: a client that
// sends a header and then trickles (or stalls) its body is cut off. Reads
// after the deadline fail, and the handler answers as for a broken body.
func WithBodyReadTimeout(d time.Duration) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
				_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// connTracker bounds a server's connections: at most max open (beyond it
// the longest-idle one is closed for the new one, or Accept waits) and at
// most maxIdle idle (kept alive with no request in flight; beyond it the
// longest-idle one is closed). It is the listener's wrapper and the
// server's ConnState hook.
type connTracker struct {
	max, maxIdle int

	mu    sync.Mutex
	open  int
	freed chan struct{}               // signalled when a connection closes
	idle  *list.List                  // of net.Conn, longest-idle first
	elems map[net.Conn]*list.Element  // idle connections
	state map[net.Conn]http.ConnState // every open connection's last state
}

func newConnTracker(max, maxIdle int) *connTracker {
	return &connTracker{max: max, maxIdle: maxIdle, freed: make(chan struct{}, 1),
		idle: list.New(), elems: map[net.Conn]*list.Element{}}
}

// counts returns the open and idle connections (for /metrics).
func (t *connTracker) counts() (open, idle int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open, t.idle.Len()
}

// listener wraps ln so that Accept respects max.
func (t *connTracker) listener(ln net.Listener) net.Listener {
	return &trackedListener{Listener: ln, t: t}
}

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l *trackedListener) Accept() (net.Conn, error) {
	for {
		l.t.mu.Lock()
		if l.t.open < l.t.max {
			l.t.open++
			l.t.mu.Unlock()
			break
		}
		victim := l.t.oldestIdleLocked()
		l.t.mu.Unlock()
		if victim != nil {
			victim.Close()
			continue
		}
		<-l.t.freed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.t.release()
		return nil, err
	}
	return &trackedConn{Conn: c, t: l.t}, nil
}

func (t *connTracker) release() {
	t.mu.Lock()
	t.open--
	t.mu.Unlock()
	select {
	case t.freed <- struct{}{}:
	default:
	}
}

func (t *connTracker) oldestIdleLocked() net.Conn {
	if e := t.idle.Front(); e != nil {
		return e.Value.(net.Conn)
	}
	return nil
}

// ConnState is the http.Server hook (c is the server's view of the
// connection: a *tls.Conn over a *trackedConn on the TLS server).
func (t *connTracker) ConnState(c net.Conn, st http.ConnState) {
	var victim net.Conn
	t.mu.Lock()
	if e, ok := t.elems[c]; ok {
		t.idle.Remove(e)
		delete(t.elems, c)
	}
	if st == http.StateIdle {
		t.elems[c] = t.idle.PushBack(c)
		if t.idle.Len() > t.maxIdle {
			victim = t.oldestIdleLocked()
		}
	}
	t.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
}

// trackedConn releases its slot once, on the first Close.
type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

// NetConn is the accepted connection (as tls.Conn.NetConn): watch streams
// reach the TCP socket through it to bound its send buffer.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.t.release)
	return err
}
