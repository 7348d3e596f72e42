// Package lwserver is the lite Kubernetes API server of edgecore: a beehive
// module serving get, list, watch and discovery over the store metaManager
// keeps (docs/architecture.md §3.6), over HTTPS with authentication and local RBAC
// (docs/security.md).
package lwserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/auth"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/openapi"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
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
	// DataDir holds the pki (DataDir/pki) and the admin kubeconfig
	// (DataDir/kubeconfig). Required.
	DataDir string
	// Authenticator replaces the configured authentication (in-process
	// tests); nil = client certificates, ServiceAccount tokens and
	// anonymous as the Config says.
	Authenticator auth.Authenticator
	// Health is the store's fitness for /readyz; nil = always fit.
	Health StoreHealth
	// Writes forwards writes to the cloud (the uplink); nil answers them
	// with 405 MethodNotAllowed.
	Writes handlers.Writes
	// OpenAPI supplies the cluster's own OpenAPI documents (stored by the
	// uplink); nil: the built-in definitions only.
	OpenAPI openapi.Source
}

// StoreHealth is what /readyz needs of the store (cmd/edgecore wires
// edgecore.db's): Health is nil while it may be served, and once it failed
// (damaged, or its files removed underneath) the reason, without internal
// error text (docs/reliability.md).
type StoreHealth interface {
	Health() error
}

// Server is the lwserver beehive module.
type Server struct {
	cfg     Config
	deps    Deps
	handler *handlers.Handler
	chain   http.Handler
	sec     *security
	// secure serves HTTPS on every bind address; insecure (nil when off)
	// serves plain HTTP on the loopback InsecureAddress, as anonymous.
	secure, insecure *listenerSet

	mu       sync.Mutex
	addr     string
	listened bool
	started  bool
	shutdown bool
	served   chan struct{} // closed when every Serve has returned
}

// listenerSet is one http.Server, its listeners and their connection
// bounds.
type listenerSet struct {
	srv   *http.Server
	conns *connTracker
	addrs []string
	lns   []net.Listener
	tls   bool
}

// New builds the server (and creates or reuses the pki); it does not
// listen yet.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Mapper == nil || deps.Store == nil || deps.DataDir == "" {
		return nil, errors.New("lwserver: Deps.Mapper, Deps.Store and Deps.DataDir are required")
	}
	if cfg.Address == "" {
		cfg.Address = DefaultConfig().Address
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Tables == nil {
		deps.Tables = defaultTables()
	}
	s := &Server{cfg: cfg, deps: deps, served: make(chan struct{})}
	h, err := handlers.New(handlers.Config{
		Mapper:    deps.Mapper,
		Store:     deps.Store,
		Tables:    deps.Tables,
		Ready:     s.ready,
		Hub:       deps.Hub,
		Watch:     handlers.WatchOptions{Registerer: deps.Registry},
		Writes:    deps.Writes,
		OpenAPI:   deps.OpenAPI,
		PodLogDir: cfg.PodLogDir,
	})
	if err != nil {
		return nil, err
	}
	s.handler = h
	if s.sec, err = newSecurity(cfg, deps.DataDir, deps.Store); err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Registry, deps.Store)
	if err != nil {
		return nil, fmt.Errorf("lwserver: registering metrics: %w", err)
	}
	s.chain = s.buildChain(h, m)
	s.secure = s.newListenerSet(s.chain, "https", append([]string{cfg.Address}, cfg.ExtraAddresses...))
	s.secure.tls = true
	s.secure.srv.TLSConfig = s.sec.tlsConfig()
	if cfg.InsecureAddress != "" {
		s.insecure = s.newListenerSet(withInsecure(s.chain), "http", []string{cfg.InsecureAddress})
	}
	return s, nil
}

// buildChain is the handler chain (see chain.go for the order's reasons).
func (s *Server) buildChain(h *handlers.Handler, m *metrics) http.Handler {
	authn := s.deps.Authenticator
	if authn == nil {
		authn = s.sec.authn
	}
	routes := http.NewServeMux()
	routes.Handle("/metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	routeReviews(routes, h, s.sec)
	routes.Handle("/", h)
	lim := s.cfg.Limits
	return Chain(routes,
		WithPanicRecovery(h.WriteError),
		WithRequestInfo(h.InfoFactory(), h.WriteError),
		m.filter(s.deps.Mapper),
		WithAuthentication(authn, h.WriteError),
		WithAuthorization(s.sec.rbac, h.WriteError),
		WithMaxInFlight(lim.MaxRequestsInFlight, h.WriteError),
		WithRequestTimeout(lim.RequestTimeout.Duration),
		WithLogging(),
		WithMaxBodyBytes(s.cfg.MaxRequestBodyBytes, h.WriteError),
		WithBodyReadTimeout(lim.BodyReadTimeout.Duration),
	)
}

// newListenerSet is an http.Server with the configured limits and its own
// connection bounds (counted on /metrics with listener=name).
func (s *Server) newListenerSet(h http.Handler, name string, addrs []string) *listenerSet {
	lim := s.cfg.Limits
	ct := newConnTracker(lim.MaxConnections, lim.MaxIdleConnections)
	registerConnMetrics(s.deps.Registry, name, ct)
	return &listenerSet{conns: ct, addrs: addrs, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout.Duration,
		IdleTimeout:       lim.IdleTimeout.Duration,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ConnState:         ct.ConnState,
		ConnContext:       s.handler.ConnContext, // watch streams bound their connection's send buffer
	}}
}

// Subscriber follows the store's committed events for authorization (the
// RBAC index) and authentication (tokens bound to deleted objects); wire
// it beside the watch hub.
func (s *Server) Subscriber() event.Subscriber { return s.sec.subscriber() }

// Name implements beehive's Module.
func (s *Server) Name() string { return "lwserver" }

// Group implements beehive's Module.
func (s *Server) Group() string { return "meta" }

// Enable implements beehive's Module.
func (s *Server) Enable() bool { return s.cfg.Enable }

// Handler is the full chain, for in-process tests.
func (s *Server) Handler() http.Handler { return s.chain }

// KubeconfigPath is where the admin kubeconfig is written.
func (s *Server) KubeconfigPath() string { return filepath.Join(s.deps.DataDir, KubeconfigName) }

// Listen binds every address and writes the admin kubeconfig for the first
// (cfg.Address); Start calls it when it has not been called. After it
// returns nil, Addr is the bound address.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return http.ErrServerClosed
	}
	if s.listened {
		return nil
	}
	for _, set := range []*listenerSet{s.secure, s.insecure} {
		if set == nil {
			continue
		}
		for _, a := range set.addrs {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				s.closeListeners()
				return fmt.Errorf("lwserver: listen on %s: %w", a, err)
			}
			set.lns = append(set.lns, set.conns.listener(ln))
		}
	}
	s.addr = s.secure.lns[0].Addr().String()
	if err := s.sec.writeKubeconfig(s.KubeconfigPath(), kubeconfigServer(s.addr)); err != nil {
		s.closeListeners()
		return fmt.Errorf("lwserver: writing %s: %w", s.KubeconfigPath(), err)
	}
	s.listened = true
	return nil
}

func (s *Server) closeListeners() {
	for _, set := range []*listenerSet{s.secure, s.insecure} {
		if set == nil {
			continue
		}
		for _, ln := range set.lns {
			_ = ln.Close()
		}
		set.lns = nil
	}
}

// Start implements beehive's Module: it serves every listener until
// Shutdown.
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
	s.mu.Unlock()
	defer close(s.served)
	var wg sync.WaitGroup
	for _, set := range []*listenerSet{s.secure, s.insecure} {
		if set == nil {
			continue
		}
		for _, ln := range set.lns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if set.tls {
					klog.InfoS("lwserver serving HTTPS", "address", ln.Addr().String(), "kubeconfig", s.KubeconfigPath())
					err = set.srv.ServeTLS(ln, "", "")
				} else {
					klog.InfoS("lwserver serving plain HTTP (anonymous, loopback only)", "address", ln.Addr().String())
					err = set.srv.Serve(ln)
				}
				if err != nil && !errors.Is(err, http.ErrServerClosed) {
					klog.ErrorS(err, "lwserver stopped serving", "address", ln.Addr().String())
				}
			}()
		}
	}
	wg.Wait()
}

// Addr is the bound HTTPS address of cfg.Address once listening ("" before).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

func (s *Server) ready() error {
	s.mu.Lock()
	open := s.listened && !s.shutdown
	s.mu.Unlock()
	if !open {
		return errors.New("not open")
	}
	if s.deps.Health != nil {
		return s.deps.Health.Health()
	}
	return nil
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
	started, listened := s.started, s.listened
	s.mu.Unlock()

	s.handler.Stop()
	var err error
	for _, set := range []*listenerSet{s.secure, s.insecure} {
		if set == nil {
			continue
		}
		if serr := set.srv.Shutdown(ctx); err == nil {
			err = serr
		}
	}
	// Watch streams may run on connections taken over from the servers,
	// which Shutdown does not wait for.
	if werr := s.handler.Wait(ctx); err == nil {
		err = werr
	}
	if !started && listened {
		s.mu.Lock()
		s.closeListeners()
		s.mu.Unlock()
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
