package uplink

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Resources the node-scoped set watches beyond the pods' references.
var (
	nodes       = GVR{Version: "v1", Resource: "nodes"}
	pods        = GVR{Version: "v1", Resource: "pods"}
	clusterWide = []GVR{
		{Version: "v1", Resource: "namespaces"},
		{Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "endpoints"},
		{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	}
)

// RootCAConfigMap is the ConfigMap kube-controller-manager publishes in
// every namespace with the cluster's CA (pods' projected tokens use it).
const RootCAConfigMap = "kube-root-ca.crt"

// KubeSource is the kube-apiserver as a Source: one stream (list + watch)
// per selection of docs/uplink.md's synced set.
type KubeSource struct {
	cfg    Config
	client dynamic.Interface
	store  StoreReader
	report func(error) // the server checker learns from every call
	// tracker is built at Run (it needs the sink); writes wait for it.
	tracker   *tracker
	trackerOK chan struct{}
	// ctx is Run's context, for the streams writes start.
	ctx context.Context
	// written: by-name streams started for objects the node wrote that no
	// other stream delivers (at most maxWrittenStreams).
	writtenMu sync.Mutex
	written   map[ref]bool

	nextID atomic.Int32
	wg     sync.WaitGroup

	syncMu   sync.Mutex
	pending  int  // streams that have not finished their first list
	synced   bool // the first full sync (and its reconciliation) is done
	syncedAt time.Time
	onSynced []func()
}

// NewKubeSource builds the source over a rest.Config for the node's
// identity. report receives every call's outcome (nil = the cloud
// answered); store is read once, at Run, to reconcile with.
func NewKubeSource(cfg Config, rc *rest.Config, store StoreReader, report func(error)) (*KubeSource, error) {
	if cfg.NodeName == "" {
		return nil, fmt.Errorf("uplink: nodeName is required")
	}
	client, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	if report == nil {
		report = func(error) {}
	}
	return &KubeSource{cfg: cfg, client: client, store: store, report: report,
		trackerOK: make(chan struct{}), written: map[ref]bool{}}, nil
}

// OnSynced registers f to run once the first full sync is done.
func (s *KubeSource) OnSynced(f func()) {
	s.syncMu.Lock()
	if !s.synced {
		s.onSynced = append(s.onSynced, f)
		s.syncMu.Unlock()
		return
	}
	s.syncMu.Unlock()
	f()
}

// Synced reports whether the first full sync is done.
func (s *KubeSource) Synced() bool {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.synced
}

// Run seeds the tracker from the store, starts every stream and returns
// when ctx ends and every stream has stopped.
func (s *KubeSource) Run(ctx context.Context, sink Sink) error {
	t := newTracker(sink)
	start := time.Now()
	if err := s.seed(ctx, t); err != nil {
		return err
	}
	s.tracker, s.ctx = t, ctx
	close(s.trackerOK)
	refs := newRefCounter(func(r ref) func() {
		return s.startStream(ctx, t, selection{gvr: r.gvr, namespace: r.namespace, fieldSelector: "metadata.name=" + r.name}, streamHooks{})
	})
	s.startStream(ctx, t, selection{gvr: nodes, fieldSelector: "metadata.name=" + s.cfg.NodeName}, streamHooks{})
	s.startStream(ctx, t, selection{gvr: pods, fieldSelector: "spec.nodeName=" + s.cfg.NodeName},
		streamHooks{event: refs.podEvent, listed: refs.podsListed})
	for _, gvr := range clusterWide {
		s.startStream(ctx, t, selection{gvr: gvr}, streamHooks{})
	}
	s.startStream(ctx, t, selection{gvr: configMaps, fieldSelector: "metadata.name=" + RootCAConfigMap}, streamHooks{})
	for _, x := range s.cfg.Extra {
		s.startStream(ctx, t, selection{
			gvr: GVR{Group: x.Group, Version: x.Version, Resource: x.Resource}, namespace: x.Namespace,
			labelSelector: x.LabelSelector, fieldSelector: x.FieldSelector,
		}, streamHooks{})
	}
	s.OnSynced(func() {
		n := t.reconcile()
		klog.Infof("uplink: node %s synced in %s (%d objects the cloud no longer has deleted)", s.cfg.NodeName, time.Since(start).Round(time.Millisecond), n)
	})
	<-ctx.Done()
	// Every stream ends with ctx; their objects stay in the store (a
	// shutdown is not the cloud dropping them).
	s.wg.Wait()
	return nil
}

// syncedGVRs are the resources whose stored objects the uplink owns: what
// it syncs, so what its reconciliation may delete.
func (s *KubeSource) syncedGVRs() []GVR {
	out := append([]GVR{nodes, pods, configMaps, secrets, serviceAccounts, pvcs}, clusterWide...)
	for _, x := range s.cfg.Extra {
		out = append(out, GVR{Group: x.Group, Version: x.Version, Resource: x.Resource})
	}
	return out
}

// seed tells the tracker what the store holds of every synced resource.
func (s *KubeSource) seed(ctx context.Context, t *tracker) error {
	seen := map[GVR]bool{}
	for _, gvr := range s.syncedGVRs() {
		if seen[gvr] {
			continue
		}
		seen[gvr] = true
		opts := metaclient.ListOptions{DataOnly: true}
		_, err := s.store.ListFunc(ctx, gvr, opts, func(_ int64, it metaclient.Object) error {
			t.seed(gvr, it.Kind, objKey(it.Namespace, it.Name), it.CloudRV)
			return nil
		})
		if err != nil {
			return fmt.Errorf("uplink: read stored %s: %w", gvr.Resource, err)
		}
	}
	return nil
}

// startStream runs one stream until ctx ends or the returned stop is
// called; its objects are then dropped from the edge unless another stream
// holds them.
func (s *KubeSource) startStream(parent context.Context, t *tracker, sel selection, hooks streamHooks) (stop func()) {
	ctx, cancel := context.WithCancel(parent)
	st := &stream{id: s.nextID.Add(1), sel: sel, client: s.client, tracker: t, hooks: hooks}
	var once sync.Once
	s.syncMu.Lock()
	s.pending++
	s.syncMu.Unlock()
	done := func() { once.Do(s.streamSynced) }
	st.hooks.synced = done
	st.hooks.result = s.report
	exited := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(exited)
		st.run(ctx)
	}()
	return func() {
		cancel()
		<-exited // no event of the stream can reach the tracker after this
		done()
		if parent.Err() == nil { // not when the uplink itself stops
			t.dropStream(st.id, sel.gvr)
		}
	}
}

// streamSynced counts a stream's first list; the last one ends the first
// full sync.
func (s *KubeSource) streamSynced() {
	s.syncMu.Lock()
	s.pending--
	var run []func()
	if s.pending == 0 && !s.synced {
		s.synced, s.syncedAt = true, time.Now()
		run = s.onSynced
	}
	s.syncMu.Unlock()
	for _, f := range run {
		f()
	}
}
