// Package lwserver is the lite Kubernetes API server of edgecore: a beehive
// module serving get, list, watch and discovery over the store metaManager
// keeps (DESIGN §3.3).
package lwserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Deps are what lwserver is built from (cmd/edgecore builds them).
type Deps struct {
	Mapper *kube.Mapper
	Store  *metaclient.Client
	// Hub feeds watch streams; nil (or no watch handler yet) answers watch
	// requests with 405.
	Hub *watchhub.Hub
	// Registry receives lwserver's metrics and is what /metrics serves; nil
	// uses a private registry.
	Registry *prometheus.Registry
	// Tables renders as=Table; nil uses the printers package when wired
	// (see tables.go), else NAME/AGE.
	Tables handlers.TableConvertor
}

// Server is the lwserver beehive module.
type Server struct {
	cfg     Config
	deps    Deps
	handler *handlers.Handler
	chain   http.Handler
	srv     *http.Server

	mu       sync.Mutex
	ln       net.Listener
	addr     string
	started  bool
	shutdown bool
	served   chan struct{} // closed when Serve has returned
}

// New builds the server; it does not listen yet.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Mapper == nil || deps.Store == nil {
		return nil, errors.New("lwserver: Deps.Mapper and Deps.Store are required")
	}
	if cfg.Address == "" {
		cfg.Address = DefaultConfig().Address
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Tables == nil {
		deps.Tables = defaultTables()
	}
	s := &Server{cfg: cfg, deps: deps, served: make(chan struct{})}
	h, err := handlers.New(handlers.Config{
		Mapper: deps.Mapper,
		Store:  deps.Store,
		Tables: deps.Tables,
		Ready:  s.ready,
		Hub:    deps.Hub,
		Watch:  handlers.WatchOptions{Registerer: deps.Registry},
	})
	if err != nil {
		return nil, err
	}
	s.handler = h
	m, err := newMetrics(deps.Registry, deps.Store)
	if err != nil {
		return nil, fmt.Errorf("lwserver: registering metrics: %w", err)
	}

	routes := http.NewServeMux()
	routes.Handle("/metrics", promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{}))
	routes.Handle("/", h)
	s.chain = Chain(routes,
		WithPanicRecovery(h.WriteError),
		WithRequestInfo(h.InfoFactory(), h.WriteError),
		m.filter(deps.Mapper),
		WithAuthentication(),
		WithAuthorization(),
		WithLogging(),
		WithMaxBodyBytes(cfg.MaxRequestBodyBytes, h.WriteError),
	)
	s.srv = &http.Server{
		Handler:           s.chain,
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          nil,
	}
	return s, nil
}

// Name implements beehive's Module.
func (s *Server) Name() string { return "lwserver" }

// Group implements beehive's Module.
func (s *Server) Group() string { return "meta" }

// Enable implements beehive's Module.
func (s *Server) Enable() bool { return s.cfg.Enable }

// Handler is the full chain, for in-process tests.
func (s *Server) Handler() http.Handler { return s.chain }

// Handlers is the router (for the watch handler's wiring and tests).
func (s *Server) Handlers() *handlers.Handler { return s.handler }

// Listen binds cfg.Address; Start calls it when it has not been called.
// After it returns nil, Addr is the bound address.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return http.ErrServerClosed
	}
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("lwserver: listen on %s: %w", s.cfg.Address, err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	return nil
}

// Start implements beehive's Module: it listens on cfg.Address and serves
// until Shutdown.
func (s *Server) Start() {
	if err := s.Listen(); err != nil {
		klog.ErrorS(err, "lwserver not serving")
		return
	}
	s.mu.Lock()
	if s.started || s.shutdown {
		s.mu.Unlock()
		return
	}
	s.started = true
	ln := s.ln
	s.mu.Unlock()
	defer close(s.served)
	klog.InfoS("lwserver serving", "address", s.Addr())
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		klog.ErrorS(err, "lwserver stopped serving")
	}
}

// Addr is the bound address once listening ("" before).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

func (s *Server) ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln != nil && !s.shutdown
}

// Shutdown stops listening, tells watch streams to end (they terminate their
// chunked bodies cleanly) and waits for every handler to return, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return nil
	}
	s.shutdown = true
	started, ln := s.started, s.ln
	s.mu.Unlock()

	s.handler.Stop()
	err := s.srv.Shutdown(ctx)
	// Watch streams may run on connections taken over from s.srv, which
	// Shutdown does not wait for.
	if werr := s.handler.Wait(ctx); err == nil {
		err = werr
	}
	if !started && ln != nil {
		_ = ln.Close()
	}
	if started {
		select {
		case <-s.served:
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
	}
	return err
}

func schemaGVR(g, v, r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
}
