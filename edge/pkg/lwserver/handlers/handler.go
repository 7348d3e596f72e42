// Package handlers serves the Kubernetes REST API of lwserver: request
// parsing, get / list / discovery / errors, content negotiation and tables.
// Watch streams are served by the watch server (watch*.go) over the watch
// hub given in Config.Hub.
package handlers

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/openapi"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/protoenc"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// GitVersion is the Kubernetes version lwserver reports on /version.
const GitVersion = "v1.37.2-edgecore"

// Config is what a Handler is built from.
type Config struct {
	// Mapper resolves resources (built-ins and stored CRDs). Required.
	Mapper *kube.Mapper
	// Store is what get, list and watch read (a *metaclient.Client over
	// edgecore.db). Required.
	Store Store
	// Tables renders as=Table responses; nil uses the built-in NAME/AGE
	// convertor (DefaultTableConvertor).
	Tables TableConvertor
	// RVWait bounds how long a get or list with a resourceVersion newer than
	// the store waits for it before answering 504 (kube-apiserver: 3 s).
	RVWait time.Duration
	// Ready reports readiness for /readyz: nil error = ready; the error's
	// text is the reason /readyz shows. nil means always ready.
	Ready func() error
	// Version overrides the /version document (zero: DefaultVersion()).
	Version version.Info
	// OpenAPI is where built-in kinds' OpenAPI documents come from before
	// the built-in fallback (kube-apiserver v1.37.2's, compiled in): e.g. a
	// cluster's documents stored by the uplink. nil: the fallback only.
	OpenAPI openapi.Source
	// PodLogDir is the root of the node's container logs in kubelet's
	// layout, read for pods/log (zero: DefaultPodLogDir, /var/log/pods).
	PodLogDir string
	// Hub feeds watch streams; nil answers watch requests with 405.
	Hub *watchhub.Hub
	// Watch tunes the watch server (zero: its defaults); used with Hub.
	Watch WatchOptions
	// Writes forwards writes (the uplink); nil answers them with 405.
	Writes Writes
}

// Handler is the router and the get / list / discovery handlers.
type Handler struct {
	mapper *kube.Mapper
	store  Store
	tables TableConvertor
	rvWait time.Duration
	ready  func() error
	ver    version.Info
	writes Writes
	// openapi builds /openapi/v2 and /openapi/v3 from Config.OpenAPI, the
	// built-in fallback and the stored CRDs.
	openapi *openapi.Service
	// podLogDir is Config.PodLogDir or its default.
	podLogDir string

	scheme   *runtime.Scheme
	factory  serializer.CodecFactory
	codecs   serializerSet // JSON, YAML, protobuf
	jsonInfo runtime.SerializerInfo
	yamlInfo runtime.SerializerInfo
	proto    *protoenc.Transcoder // protobuf of built-in kinds from their JSON

	infoFactory *request.RequestInfoFactory
	watch       WatchServer // nil: watch requests get 405

	stopOnce sync.Once
	stopCh   chan struct{}
}

// DefaultVersion is the /version document.
func DefaultVersion() version.Info {
	return version.Info{
		Major:      "1",
		Minor:      "37",
		GitVersion: GitVersion,
		GitCommit:  "edgecore",
		BuildDate:  "1970-01-01T00:00:00Z",
		GoVersion:  goruntime.Version(),
		Compiler:   goruntime.Compiler,
		Platform:   goruntime.GOOS + "/" + goruntime.GOARCH,
	}
}

// NewRequestInfoFactory is the RequestInfoFactory for kube-apiserver's paths.
func NewRequestInfoFactory() *request.RequestInfoFactory {
	return &request.RequestInfoFactory{
		APIPrefixes:          sets.NewString("api", "apis"),
		GrouplessAPIPrefixes: sets.NewString("api"),
	}
}

// New builds a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Mapper == nil || cfg.Store == nil {
		return nil, fmt.Errorf("handlers: Mapper and Store are required")
	}
	h := &Handler{
		mapper:      cfg.Mapper,
		store:       cfg.Store,
		tables:      cfg.Tables,
		rvWait:      cfg.RVWait,
		ready:       cfg.Ready,
		ver:         cfg.Version,
		writes:      cfg.Writes,
		infoFactory: NewRequestInfoFactory(),
		stopCh:      make(chan struct{}),
	}
	if h.tables == nil {
		h.tables = DefaultTableConvertor{}
	}
	if h.rvWait == 0 {
		h.rvWait = 3 * time.Second
	}
	if h.ver.GitVersion == "" {
		h.ver = DefaultVersion()
	}
	h.podLogDir = cfg.PodLogDir
	if h.podLogDir == "" {
		h.podLogDir = DefaultPodLogDir
	}
	h.openapi = openapi.NewService(cfg.OpenAPI, openapi.NewBuiltin(kube.NewMapper().Resources()))
	h.scheme = newScheme()
	h.factory = serializer.NewCodecFactory(h.scheme)
	h.codecs = newSerializerSet(h.factory, MediaTypeJSON, MediaTypeYAML, MediaTypeProtobuf)
	if len(h.codecs.infos) != 3 {
		return nil, fmt.Errorf("handlers: codec factory lacks JSON, YAML or protobuf")
	}
	h.jsonInfo, h.yamlInfo = h.codecs.infos[0], h.codecs.infos[1]
	h.proto = protoenc.New(h.scheme)
	if cfg.Hub != nil {
		h.watch = newWatchServer(h, cfg.Hub, cfg.Watch)
	}
	return h, nil
}

// Wait returns when no watch stream is being written any more (each has
// sent its terminating chunk), or when ctx is done. Call it after Stop,
// beside http.Server.Shutdown, which does not wait for streams on
// connections taken over from it.
func (h *Handler) Wait(ctx context.Context) error {
	if ws, ok := h.watch.(*watchServer); ok {
		return ws.wait(ctx)
	}
	return nil
}

// Stop signals long-running requests (watch streams) to end: the server is
// shutting down. Idempotent.
func (h *Handler) Stop() { h.stopOnce.Do(func() { close(h.stopCh) }) }

// Stopping is closed once Stop was called; a watch stream selects on it and
// ends its response cleanly (terminating the chunked body).
func (h *Handler) Stopping() <-chan struct{} { return h.stopCh }

// Codecs is the codec factory over Scheme.
func (h *Handler) Codecs() serializer.CodecFactory { return h.factory }

// InfoFactory is the RequestInfoFactory the router uses, for the chain's
// WithRequestInfo filter.
func (h *Handler) InfoFactory() *request.RequestInfoFactory { return h.infoFactory }

// ServeHTTP routes a request. The RequestInfo normally comes from the chain
// (lwserver's WithRequestInfo filter); it is computed here when absent.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, ok := request.RequestInfoFrom(r.Context())
	if !ok {
		var err error
		if info, err = h.infoFactory.NewRequestInfo(r); err != nil {
			h.WriteError(w, r, errBadRequest(err.Error()))
			return
		}
	}
	if !info.IsResourceRequest || info.Resource == "" {
		h.serveNonResource(w, r)
		return
	}
	if h.serveSubresource(w, r, info) {
		return
	}
	switch info.Verb {
	case "get", "list", "watch":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.serveWrite(w, r, info)
			return
		}
		req, err := h.parseRequest(r, info)
		if err != nil {
			h.WriteError(w, r, err)
			return
		}
		switch req.Verb {
		case "get":
			h.serveGet(w, r, req)
		case "list":
			h.serveList(w, r, req)
		case "watch":
			if h.watch != nil {
				h.watch.ServeWatch(w, r, req)
				return
			}
			h.WriteError(w, r, errWatchNotServed(req.GroupResource()))
		}
	default:
		h.serveWrite(w, r, info)
	}
}

// Media types a write body may have (kube-apiserver's, plus the patch types).
var writeMediaTypes = []string{MediaTypeJSON, MediaTypeYAML, MediaTypeProtobuf}
var patchMediaTypes = []string{"application/json-patch+json", "application/merge-patch+json",
	"application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/apply-patch+cbor"}

// serveWrite answers create / update / patch / delete / deletecollection:
// 404 for an unknown resource, 415 for a body type kube-apiserver would not
// accept, 413 for a body over the limit, otherwise 405 (no uplink yet).
func (h *Handler) serveWrite(w http.ResponseWriter, r *http.Request, info *request.RequestInfo) {
	res, ns, name, sub, err := h.resolveResource(info)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && r.Method != http.MethodDelete {
		accepted := writeMediaTypes
		if r.Method == http.MethodPatch {
			accepted = patchMediaTypes
		}
		mt, _, perr := mime.ParseMediaType(ct)
		if perr != nil || !contains(accepted, mt) {
			h.WriteError(w, r, negotiation.NewUnsupportedMediaTypeError(accepted))
			return
		}
	}
	if h.writes != nil { // the uplink forwards it (write.go)
		h.forwardWrite(w, r, res, ns, name, sub)
		return
	}
	// Read (and drop) the body so that an oversized one gets its 413 from
	// the chain's MaxBytesReader before the 405.
	if r.Body != nil {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			var mbe *http.MaxBytesError
			if asMaxBytes(err, &mbe) {
				h.WriteError(w, r, ErrEntityTooLarge(mbe.Limit))
				return
			}
		}
	}
	verb := info.Verb
	if verb == "" {
		verb = strings.ToLower(r.Method)
	}
	h.WriteError(w, r, errMethodNotAllowed(verb, res.GVR.GroupResource(), name))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// serveNonResource serves discovery, /version, health and unknown paths.
func (h *Handler) serveNonResource(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch p {
	case "/healthz", "/livez":
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
		return
	case "/readyz":
		if h.ready != nil {
			if err := h.ready(); err != nil {
				writeRaw(w, http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("[-]store failed: "+err.Error()+"\nreadyz check failed"))
				return
			}
		}
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.WriteError(w, r, errMethodNotAllowed(strings.ToLower(r.Method), schema.GroupResource{}, ""))
		return
	}
	if p == "/version" {
		h.writeJSONValue(w, r, http.StatusOK, h.ver)
		return
	}
	if h.serveDiscovery(w, r, p) || h.serveOpenAPI(w, r, p) {
		return
	}
	h.WriteError(w, r, errNotFoundPath())
}
