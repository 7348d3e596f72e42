// Package kubeapiserver starts a real kube-apiserver (v1.37.2, with its own
// etcd v3.7.0) on free loopback ports, for edgecore's uplink tests and for
// make bench's side-by-side baseline. It generates everything a cluster's
// control plane would be given: a serving CA and certificate, a client CA with
// an admin certificate in system:masters, service-account signing keys, an
// issuer and audiences, and RBAC (Node,RBAC) authorization. No
// controller-manager runs: EnsureServiceAccount creates what its service
// account controller would (each namespace's "default" ServiceAccount, which
// the ServiceAccount admission plugin requires before a pod is admitted).
//
// The binaries come from make kube-tools (module hack/tools/kube); the
// Makefile passes their paths in KUBE_APISERVER_BIN and ETCD_BIN.
package kubeapiserver

import (
	"io"
	"time"

	"k8s.io/client-go/rest"
)

// Environment variables naming the binaries (make sets them to bin/…).
const (
	EnvAPIServerBin = "KUBE_APISERVER_BIN"
	EnvEtcdBin      = "ETCD_BIN"
)

// Issuer is the service-account token issuer the kube-apiserver is started
// with, and Audience the default audience of the tokens it mints (the one
// kube-apiserver accepts unless told otherwise).
const (
	Issuer   = "https://kubernetes.default.svc.cluster.local"
	Audience = "https://kubernetes.default.svc.cluster.local"
)

// Config says how to start the control plane. The zero value works when the
// binaries can be found (see APIServerBin).
type Config struct {
	// APIServerBin and EtcdBin are the binaries. Zero: $KUBE_APISERVER_BIN /
	// $ETCD_BIN, else bin/kube-apiserver / bin/etcd in the nearest parent
	// directory of the working directory that holds a go.mod with such a
	// bin/ (a plain `go test` in a checkout after make kube-tools).
	APIServerBin string
	EtcdBin      string
	// Dir holds certificates, keys, etcd's data and both logs. Zero: a new
	// temporary directory that Stop removes.
	Dir string
	// ExtraArgs are appended to kube-apiserver's flags (they win over the
	// defaults, the last flag of a name counts). Zero: none.
	ExtraArgs []string
	// ReadyTimeout bounds the wait for etcd and for /readyz. Zero: 90 s (a
	// kube-apiserver on a loaded 2-core machine needs 10-30 s).
	ReadyTimeout time.Duration
	// Log, when set, receives both processes' output besides their log files
	// in Dir. Zero: files only.
	Log io.Writer
}

// Server is a running etcd + kube-apiserver. Its fields are set by Start and
// must not be changed.
type Server struct {
	// URL is kube-apiserver's https URL (https://127.0.0.1:PORT).
	URL string
	// Dir holds the generated files (see Config.Dir); Kubeconfig is the admin
	// kubeconfig in it.
	Dir        string
	Kubeconfig string
	// Admin is a rest.Config for the admin user (system:masters).
	Admin *rest.Config
	// ServingCA is the PEM of the CA that signed kube-apiserver's serving
	// certificate; clients trust it.
	ServingCA []byte
	// ServiceAccountPublicKey is the PEM of the key that verifies the
	// service-account tokens this kube-apiserver mints.
	ServiceAccountPublicKey []byte

	cfg     Config
	pki     *pki
	etcdURL string
	apiPort int
	etcd    *process
	api     *process
	ownsDir bool
}
