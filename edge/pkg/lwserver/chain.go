package lwserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/auth"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
)

// The handler chain is plain func(http.Handler) http.Handler filters,
// outermost first:
//
//	WithPanicRecovery → WithRequestInfo → WithMetrics → WithAuthentication →
//	WithAuthorization → WithMaxInFlight → WithRequestTimeout → WithLogging →
//	WithMaxBodyBytes → WithBodyReadTimeout → routes
//
// As in kube-apiserver, a request is authenticated and authorized before it
// counts against the in-flight limit, so unauthenticated floods get 401s,
// not 429s for everyone; metrics see every answer, 401/403 included.

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

// WithAuthentication identifies the user (client certificate, bearer
// token, else anonymous when allowed) and puts it in the context
// (request.WithUser); bad or missing credentials get kube-apiserver's 401
// Status (the cause is logged at V(2), never sent). The Authorization
// header stays: forwarded writes carry the caller's own credentials.
func WithAuthentication(authn auth.Authenticator, writeErr ErrorWriter) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var u user.Info
			var ok bool
			var err error
			if insecureRequest(r) {
				u, ok = auth.AnonymousUser(), true
			} else {
				u, ok, err = authn.AuthenticateRequest(r)
			}
			if err != nil || !ok {
				if err != nil {
					klog.V(2).InfoS("lwserver: unauthorized", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
				}
				writeErr(w, r, auth.Unauthorized())
				return
			}
			next.ServeHTTP(w, r.WithContext(request.WithUser(r.Context(), u)))
		})
	}
}

// WithAuthorization asks the authorizer about the user and the
// RequestInfo; anything but an allow gets kube-apiserver's 403 Status
// (`pods is forbidden: User "…" cannot list resource "pods" …`).
func WithAuthorization(az auth.Authorizer, writeErr ErrorWriter) Filter {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := request.UserFrom(r.Context())
			info, _ := request.RequestInfoFrom(r.Context())
			a := auth.Attributes(u, info, r.URL.Path)
			d, reason, err := az.Authorize(r.Context(), a)
			if d == authorizer.DecisionAllow {
				next.ServeHTTP(w, r)
				return
			}
			if err != nil {
				reason = err.Error()
			}
			writeErr(w, r, auth.Forbidden(a, reason))
		})
	}
}

type insecureKey struct{}

// withInsecure marks the requests of the plain-HTTP listener: they are
// anonymous whatever credentials they carry (they came unencrypted).
func withInsecure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), insecureKey{}, true)))
	})
}

func insecureRequest(r *http.Request) bool {
	v, _ := r.Context().Value(insecureKey{}).(bool)
	return v
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
