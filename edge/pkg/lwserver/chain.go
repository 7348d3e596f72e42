package lwserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
)

// The handler chain is plain func(http.Handler) http.Handler filters,
// outermost first:
//
//	WithPanicRecovery → WithRequestInfo → WithMetrics → WithAuthentication →
//	WithAuthorization → WithLogging → WithMaxBodyBytes → routes
//
// Authentication and authorization are empty slots today; TLS, client
// certificates / service-account tokens and local RBAC drop in there without
// touching the handlers (they read the RequestInfo the chain already set).

// Filter is one stage of the chain.
type Filter func(http.Handler) http.Handler

// Chain applies filters so that filters[0] is the outermost.
func Chain(h http.Handler, filters ...Filter) http.Handler {
	for i := len(filters) - 1; i >= 0; i-- {
		h = filters[i](h)
	}
	return h
}

// ErrorWriter writes an error as a metav1.Status (handlers.(*Handler).WriteError).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// WithPanicRecovery turns a panic in any later stage into a 500 Status (when
// nothing was written yet) and keeps the server alive. http.ErrAbortHandler
// passes through, as net/http expects.
func WithPanicRecovery(writeErr ErrorWriter) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := wrap(w)
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler { //nolint:errorlint // sentinel value compared as net/http does
					panic(p)
				}
				klog.ErrorS(fmt.Errorf("panic: %v", p), "lwserver handler panicked", "method", r.Method, "path", r.URL.Path, "stack", string(debug.Stack()))
				if rw.wroteHeader {
					// Too late for a Status: abort the response so the
					// client sees a broken body, not a truncated success.
					panic(http.ErrAbortHandler)
				}
				writeErr(rw, r, handlers.ErrInternal(fmt.Errorf("the server has encountered an unexpected error: %v", p)))
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// WithRequestInfo stores kube-apiserver's RequestInfo in the context.
func WithRequestInfo(f *request.RequestInfoFactory, writeErr ErrorWriter) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, err := f.NewRequestInfo(r)
			if err != nil {
				writeErr(w, r, handlers.ErrBadRequest(fmt.Sprintf("failed to create RequestInfo: %v", err)))
				return
			}
			next.ServeHTTP(w, r.WithContext(request.WithRequestInfo(r.Context(), info)))
		})
	}
}

// WithAuthentication is the authentication slot: it will identify the user
// (client certificate, bearer token) and put it in the context
// (request.WithUser), answering 401 otherwise. Today every request passes.
func WithAuthentication() Filter {
	return func(next http.Handler) http.Handler { return next }
}

// WithAuthorization is the authorization slot: it will evaluate local RBAC
// for the user and the RequestInfo, answering 403 otherwise. Today every
// request passes.
func WithAuthorization() Filter {
	return func(next http.Handler) http.Handler { return next }
}

// WithLogging logs each request at klog V(4).
func WithLogging() Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !klog.V(4).Enabled() {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			rw := wrap(w)
			next.ServeHTTP(rw, r)
			klog.V(4).InfoS("HTTP", "verb", r.Method, "URI", r.RequestURI, "latency", time.Since(start),
				"userAgent", r.UserAgent(), "srcIP", r.RemoteAddr, "resp", rw.code())
		})
	}
}

// WithMaxBodyBytes answers 413 for a declared body over limit and caps the
// reading of any other (a handler that reads past it gets 413 too).
func WithMaxBodyBytes(limit int64, writeErr ErrorWriter) Filter {
	return func(next http.Handler) http.Handler {
		if limit <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeErr(w, r, handlers.ErrEntityTooLarge(limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// responseWriter records the status code and keeps Flush (watch streams)
// and Hijack working through the chain.
type responseWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func wrap(w http.ResponseWriter) *responseWriter {
	if rw, ok := w.(*responseWriter); ok {
		return rw
	}
	return &responseWriter{ResponseWriter: w}
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) code() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}
