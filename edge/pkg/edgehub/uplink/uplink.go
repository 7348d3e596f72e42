package uplink

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubeedge/beehive/pkg/core/model"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink/checker"
)

// ModuleName is the source of the uplink's messages (route.source).
const ModuleName = "uplink"

// Deps are what the uplink is built over.
type Deps struct {
	// Dispatcher is metaManager. Required.
	Dispatcher Dispatcher
	// Store reads edgecore.db. Required.
	Store StoreReader
	// Registerer takes the uplink's metrics. nil: not exported.
	Registerer prometheus.Registerer
	// DataDir is edgecore's data directory (DocsDir's default parent).
	DataDir string
}

// Uplink is the running uplink: source, server checker, document copies.
type Uplink struct {
	cfg     Config
	rc      *rest.Config
	checker *checker.Checker
	source  *KubeSource
	sink    *dispatchSink
	docs    *docFetcher
	// nodeClient calls the cloud as the node; tokenClient trusts the same
	// CA but presents no credentials (the caller's token is set per request).
	nodeClient, tokenClient *http.Client

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the uplink from cfg (which must be Enabled): it loads the
// kubeconfig and checks the config, but does not connect.
func New(cfg Config, deps Deps) (*Uplink, error) {
	if !cfg.Enabled() {
		return nil, fmt.Errorf("uplink: kubeconfig and nodeName are both required")
	}
	if deps.Dispatcher == nil || deps.Store == nil {
		return nil, fmt.Errorf("uplink: a dispatcher and a store are required")
	}
	for i, x := range cfg.Extra {
		if x.Version == "" || x.Resource == "" {
			return nil, fmt.Errorf("uplink: extra[%d]: version and resource are required", i)
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("uplink: kubeconfig %s: %w", cfg.Kubeconfig, err)
	}
	// A node's watches start together; client-go's default 5 QPS would
	// spread its first sync over seconds.
	rc.QPS, rc.Burst = 50, 100
	rc.UserAgent = "edgecore-uplink/" + cfg.NodeName
	if cfg.DocsDir == "" {
		cfg.DocsDir = filepath.Join(deps.DataDir, "cloud")
	}
	u := &Uplink{cfg: cfg, rc: rc}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	tc, err := rest.HTTPClientFor(rest.AnonymousClientConfig(rc))
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	u.nodeClient, u.tokenClient = hc, tc
	host := strings.TrimSuffix(rc.Host, "/")
	u.checker, err = checker.New(checker.Config{
		Interval: cfg.ProbeInterval.Duration, FailureThreshold: cfg.FailureThreshold, SuccessThreshold: cfg.SuccessThreshold,
	}, readyzProbe(hc, host), deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	if u.source, err = NewKubeSource(cfg, rc, deps.Store, u.checker.Report); err != nil {
		return nil, err
	}
	u.sink = &dispatchSink{d: deps.Dispatcher}
	u.docs = &docFetcher{client: hc, host: host, dir: cfg.DocsDir, report: u.checker.Report}
	if deps.Registerer != nil {
		if err := u.registerMetrics(deps.Registerer); err != nil {
			return nil, fmt.Errorf("uplink: %w", err)
		}
	}
	return u, nil
}

// readyzProbe GETs /readyz; anything but 200 is a failure.
func readyzProbe(hc *http.Client, host string) checker.Probe {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	}
}

// Start connects and syncs in the background until Stop.
func (u *Uplink) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	klog.Infof("uplink: node %s, kube-apiserver %s", u.cfg.NodeName, u.rc.Host)
	u.wg.Add(3)
	go func() { defer u.wg.Done(); u.checker.Run(ctx) }()
	go func() {
		defer u.wg.Done()
		if err := u.source.Run(ctx, u.sink); err != nil {
			klog.Errorf("uplink: %v", err)
		}
	}()
	go func() { defer u.wg.Done(); u.copyDocuments(ctx) }()
}

// Stop ends every stream; messages already handed to metaManager are
// still applied (stop metaManager after the uplink).
func (u *Uplink) Stop() {
	if u.cancel != nil {
		u.cancel()
	}
	u.wg.Wait()
}

// DocsDir is where the cloud's documents (issuer keys, discovery, OpenAPI)
// are copied: the document at URL path P is <DocsDir>/P.json.
func (u *Uplink) DocsDir() string { return u.cfg.DocsDir }

// Online reports the server checker's state.
func (u *Uplink) Online() bool { return u.checker.Online() }

// Synced reports whether the first full sync is done and applied.
func (u *Uplink) Synced() bool { return u.source.Synced() && u.sink.inflight.Load() == 0 }

// copyDocuments copies the cloud's documents whenever the checker comes
// online and every DocsInterval while it stays online.
func (u *Uplink) copyDocuments(ctx context.Context) {
	interval := u.cfg.DocsInterval.Duration
	if interval <= 0 {
		interval = 10 * time.Minute
	}
	var last time.Time
	for {
		changed := u.checker.Changed()
		if u.checker.Online() && time.Since(last) >= interval {
			n, err := u.docs.fetchAll(ctx)
			last = time.Now()
			if err != nil {
				klog.Warningf("uplink: copied %d cloud documents to %s; failed: %v", n, u.cfg.DocsDir, err)
				// Try again in 30 s, not a whole interval later (a freshly
				// started kube-apiserver answers 403 until RBAC is loaded).
				last = last.Add(min(30*time.Second, interval) - interval)
			} else {
				klog.V(1).Infof("uplink: copied %d cloud documents to %s", n, u.cfg.DocsDir)
			}
		}
		wait := time.Until(last.Add(interval))
		if wait <= 0 { // due but offline: the next transition wakes us
			wait = interval
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			last = time.Time{}
		case <-time.After(wait):
		}
	}
}

func (u *Uplink) registerMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgecore_uplink_synced",
			Help: "1 once the uplink's first full sync is applied to the store.",
		}, func() float64 { return boolGauge(u.Synced()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgecore_uplink_inflight_messages",
			Help: "Messages the uplink handed to metaManager that are not applied yet.",
		}, func() float64 { return float64(u.sink.inflight.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "edgecore_uplink_messages_total",
			Help: "Messages the uplink handed to metaManager.",
		}, func() float64 { return float64(u.sink.sent.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "edgecore_uplink_message_errors_total",
			Help: "Uplink messages metaManager answered with an error.",
		}, func() float64 { return float64(u.sink.failed.Load()) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dispatchSink hands messages to metaManager and counts their replies.
type dispatchSink struct {
	d                      Dispatcher
	inflight, sent, failed atomic.Int64
}

func (s *dispatchSink) Send(msg model.Message, done func(model.Message)) {
	s.inflight.Add(1)
	s.sent.Add(1)
	op, res := msg.GetOperation(), msg.GetResource()
	s.d.Dispatch(msg, func(reply model.Message) {
		s.inflight.Add(-1)
		if reply.GetOperation() == model.ResponseErrorOperation {
			s.failed.Add(1)
			klog.Warningf("uplink: %s %s: metaManager: %v", op, res, reply.GetContent())
		}
		if done != nil {
			done(reply)
		}
	})
}
