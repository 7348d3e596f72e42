// Package uplink keeps edgecore.db in sync with the cluster's kube-apiserver:
// node-scoped watches (the way kubelet and kube-proxy scope theirs), each
// change handed to metaManager as the same beehive message the ingress socket
// carries, and a relist reconciled against the store (what the cloud no
// longer has is deleted, unchanged objects are not written). It also keeps
// the documents lwserver needs offline (service-account issuer keys,
// discovery, OpenAPI) and forwards writes while the cloud is reachable.
// docs/uplink.md describes the design.
package uplink

import (
	"context"
	"time"

	"github.com/kubeedge/beehive/pkg/core/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Config is the uplink's section of the edgecore config
// (modules.edgeHub.uplink). The zero value is "off".
type Config struct {
	// Kubeconfig is the node's kubeconfig for the cluster's kube-apiserver.
	// "" = no uplink (data enters only through the ingress socket).
	Kubeconfig string `json:"kubeconfig"`
	// NodeName is the node whose objects are synced. Required with
	// Kubeconfig; "" = no uplink.
	NodeName string `json:"nodeName"`
	// Extra lists resources synced besides the node-scoped set. Zero: none.
	Extra []ExtraResource `json:"extra"`
	// ProbeInterval is how often the server checker probes /readyz. Zero: 5 s.
	ProbeInterval metav1.Duration `json:"probeInterval"`
	// FailureThreshold consecutive failures (probes or calls) take the
	// checker offline; SuccessThreshold consecutive successes back online.
	// Zero: 3 and 2.
	FailureThreshold int `json:"failureThreshold"`
	SuccessThreshold int `json:"successThreshold"`
	// DocsInterval is how often the issuer keys, discovery and OpenAPI
	// documents are fetched again while online. Zero: 10 min.
	DocsInterval metav1.Duration `json:"docsInterval"`
	// DocsDir is where those documents are kept. "" = <data-dir>/cloud.
	DocsDir string `json:"docsDir"`
}

// ExtraResource is one configured resource to sync: any GVR, optionally
// restricted to a namespace and by label and field selectors.
type ExtraResource struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
	// Namespace: "" = all namespaces (and cluster-scoped resources).
	Namespace     string `json:"namespace"`
	LabelSelector string `json:"labelSelector"`
	FieldSelector string `json:"fieldSelector"`
}

// DefaultConfig is the embedded default: off, with the checker's and the
// document copy's defaults spelled out (what --defaultconfig shows).
func DefaultConfig() Config {
	return Config{
		ProbeInterval:    metav1.Duration{Duration: 5 * time.Second},
		FailureThreshold: 3,
		SuccessThreshold: 2,
		DocsInterval:     metav1.Duration{Duration: 10 * time.Minute},
	}
}

// Enabled reports whether the config turns the uplink on.
func (c Config) Enabled() bool { return c.Kubeconfig != "" && c.NodeName != "" }

// Dispatcher is metaManager as the uplink feeds it (metamanager.MetaManager
// implements it): messages for one object are applied in the order Dispatch
// is called, and reply is called once each is committed (or failed).
type Dispatcher interface {
	Dispatch(msg model.Message, reply func(model.Message))
}

// StoreReader is the read side of edgecore.db the uplink needs: what is
// stored (for the reconciliation of a relist) and an object's edge
// revision after a forwarded write (metaclient.Client implements it).
type StoreReader interface {
	Get(ctx context.Context, key metaclient.Key) (metaclient.Object, error)
	ListFunc(ctx context.Context, gvr GVR, opts metaclient.ListOptions, fn func(rev int64, item metaclient.Object) error) (metaclient.ListResult, error)
	// Revision is the store's current revision.
	Revision() int64
}

// Sink is where a Source's changes go: each message is handed to
// metaManager in the order Send is called; done, when not nil, gets the
// reply once the message is applied.
type Sink interface {
	Send(msg model.Message, done func(reply model.Message))
}

// Source is the cloud side: it knows the node's objects and tells the sink
// about every change, in its order, until ctx ends. The kube-apiserver
// (KubeSource) is one; KubeEdge's CloudHub could be another.
type Source interface {
	Run(ctx context.Context, sink Sink) error
}
