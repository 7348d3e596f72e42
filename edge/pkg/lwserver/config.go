package lwserver

import (
	"errors"
	"fmt"
	"net"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
)

// Config is lwserver's section of the edgecore config file.
type Config struct {
	Enable bool `json:"enable"`
	// Address is HOST:PORT to serve the Kubernetes API on over HTTPS (the
	// kubeconfig edgecore writes points at it); "" = 127.0.0.1:10550.
	Address string `json:"address"`
	// ExtraAddresses are more HOST:PORT to serve HTTPS on, e.g. a node or
	// link-local address pods can reach (docs/security.md). Default none.
	ExtraAddresses []string `json:"extraAddresses"`
	// InsecureAddress is a loopback HOST:PORT for a plain-HTTP listener
	// (local development, KubeEdge-style host-network clients): its
	// requests are anonymous, so RBAC decides what they may read. A
	// non-loopback address is refused at start. "" (default) = off.
	InsecureAddress string `json:"insecureAddress"`
	// TLS is the serving certificate and the client CAs.
	TLS TLSConfig `json:"tls"`
	// Authentication of requests (the admin client certificate of the
	// generated kubeconfig is always accepted).
	Authentication AuthenticationConfig `json:"authentication"`
	// Limits bounds requests and connections.
	Limits LimitsConfig `json:"limits"`
	// Watch limits: watchhub owns their meaning and defaults (watchhub.Options,
	// watchhub.EvictionPolicy); zero takes watchhub's default.
	//
	// MaxWatchers bounds concurrent watches (429 beyond).
	MaxWatchers int `json:"maxWatchers"`
	// WatcherQueueEvents and WatcherQueueBytes bound one watcher's backlog:
	// crossing either evicts it (410 Expired; it re-watches and loses
	// nothing). EvictionPolicy.MaxQueueEvents / MaxQueueBytes.
	WatcherQueueEvents int   `json:"watcherQueueEvents"`
	WatcherQueueBytes  int64 `json:"watcherQueueBytes"`
	// WatchSendBufferBytes is the kernel send buffer of a watch connection
	// (SO_SNDBUF; negative: the kernel's autotuning).
	// EvictionPolicy.SendBufferBytes.
	WatchSendBufferBytes int `json:"watchSendBufferBytes"`
	// WatchCacheEvents and WatchCacheBytes bound the in-memory event ring;
	// resumes from before it read the event log in edgecore.db (exact, just
	// slower). Options.RingSize / RingBytes.
	WatchCacheEvents int   `json:"watchCacheEvents"`
	WatchCacheBytes  int64 `json:"watchCacheBytes"`
	// BookmarkInterval is how often a watch that asked for bookmarks gets
	// one. Options.BookmarkInterval.
	BookmarkInterval metav1.Duration `json:"bookmarkInterval"`
	// MaxRequestBodyBytes bounds request bodies (413 beyond).
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes"`
	// PodLogDir is the root of the node's container logs in kubelet's layout
	// (<dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log), read for
	// pods/log. Zero: /var/log/pods.
	PodLogDir string `json:"podLogDir,omitempty"`
}

// TLSConfig is the serving side of TLS (docs/security.md).
type TLSConfig struct {
	// CertFile and KeyFile are an operator's serving certificate (e.g. one
	// signed by the cluster CA, which pods' ca.crt trusts) and key,
	// reloaded when they change on disk. Both "" (default) = a certificate
	// edgecore issues from its own CA under <data-dir>/pki, renewed before
	// it expires.
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
	// ClientCAFiles are PEM bundles of CAs whose client certificates are
	// accepted (user = CN, groups = O), reloaded on change; edgecore's own
	// CA (which signs the admin kubeconfig's certificate) is always one.
	ClientCAFiles []string `json:"clientCAFiles"`
	// ExtraSANs are more DNS names / IPs for the generated serving
	// certificate, beyond every bind address, localhost, 127.0.0.1 and the
	// node name.
	ExtraSANs []string `json:"extraSANs"`
	// NodeName goes into the generated certificate's SANs; "" = the host
	// name.
	NodeName string `json:"nodeName"`
}

// AuthenticationConfig configures ServiceAccount tokens and anonymous
// requests, as kube-apiserver's flags of the same names.
type AuthenticationConfig struct {
	// ServiceAccountKeyFiles verify ServiceAccount tokens: PEM public or
	// private keys, certificates, or JWKS documents (the cluster's
	// /openid/v1/jwks), reloaded on change. Empty (default) = no token
	// authentication (bearer tokens get 401).
	ServiceAccountKeyFiles []string `json:"serviceAccountKeyFiles"`
	// ServiceAccountIssuers are the accepted "iss" values (the cluster's
	// --service-account-issuer). Required with ServiceAccountKeyFiles.
	// Legacy Secret-based tokens ("kubernetes/serviceaccount") are always
	// accepted while their Secret is in the store.
	ServiceAccountIssuers []string `json:"serviceAccountIssuers"`
	// APIAudiences of which a token's "aud" must name one; empty (default)
	// = ServiceAccountIssuers, as kube-apiserver defaults --api-audiences.
	APIAudiences []string `json:"apiAudiences"`
	// Anonymous lets requests without credentials in as system:anonymous;
	// by default RBAC then allows only /healthz, /livez, /readyz and
	// /version (system:public-info-viewer). Default true, as
	// kube-apiserver's --anonymous-auth.
	Anonymous bool `json:"anonymous"`
}

// LimitsConfig bounds requests and connections (kube-apiserver's
// --max-requests-inflight and --request-timeout, and net/http's limits).
// A zero field takes the default below.
type LimitsConfig struct {
	// MaxRequestsInFlight bounds concurrent non-long-running requests
	// (everything but watch, logs, exec, attach, port-forward, proxy);
	// beyond it 429 with Retry-After: 1. Default 400.
	MaxRequestsInFlight int `json:"maxRequestsInFlight"`
	// RequestTimeout bounds a non-long-running request (its context is
	// cancelled). Default 60s.
	RequestTimeout metav1.Duration `json:"requestTimeout"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout metav1.Duration `json:"readHeaderTimeout"`
	// BodyReadTimeout bounds reading a request's body. Default 60s.
	BodyReadTimeout metav1.Duration `json:"bodyReadTimeout"`
	// IdleTimeout closes a kept-alive connection with no request for this
	// long (HTTP/1.1 and HTTP/2). Default 90s.
	IdleTimeout metav1.Duration `json:"idleTimeout"`
	// MaxHeaderBytes bounds a request's header. Default 1 MiB.
	MaxHeaderBytes int `json:"maxHeaderBytes"`
	// MaxConnections bounds open connections per server (TLS, insecure);
	// at the bound the longest-idle connection is closed for a new one,
	// or the new one waits in the kernel's accept queue. Default 4096.
	MaxConnections int `json:"maxConnections"`
	// MaxIdleConnections bounds connections kept alive with no request in
	// flight; beyond it the longest-idle one is closed (clients reconnect
	// transparently). An idle TLS connection costs ~30-40 KB, so the
	// default 128 keeps any number of idle clients to a few MB.
	MaxIdleConnections int `json:"maxIdleConnections"`
}

// DefaultConfig is the embedded default.
func DefaultConfig() Config {
	return Config{
		Enable:               true,
		Address:              "127.0.0.1:10550",
		Authentication:       AuthenticationConfig{Anonymous: true},
		Limits:               DefaultLimits(),
		MaxWatchers:          watchhub.DefaultMaxWatchers,
		WatcherQueueEvents:   watchhub.DefaultMaxQueueEvents,
		WatcherQueueBytes:    watchhub.DefaultMaxQueueBytes,
		WatchSendBufferBytes: watchhub.DefaultSendBufferBytes,
		WatchCacheEvents:     watchhub.DefaultRingSize,
		WatchCacheBytes:      watchhub.DefaultRingBytes,
		BookmarkInterval:     metav1.Duration{Duration: watchhub.DefaultBookmarkInterval},
		MaxRequestBodyBytes:  3 << 20,
	}
}

// DefaultLimits are LimitsConfig's defaults.
func DefaultLimits() LimitsConfig {
	return LimitsConfig{
		MaxRequestsInFlight: 400,
		RequestTimeout:      metav1.Duration{Duration: 60 * time.Second},
		ReadHeaderTimeout:   metav1.Duration{Duration: 10 * time.Second},
		BodyReadTimeout:     metav1.Duration{Duration: 60 * time.Second},
		IdleTimeout:         metav1.Duration{Duration: 90 * time.Second},
		MaxHeaderBytes:      1 << 20,
		MaxConnections:      4096,
		MaxIdleConnections:  128,
	}
}

// withDefaults fills zero limits with their defaults.
func (l LimitsConfig) withDefaults() LimitsConfig {
	d := DefaultLimits()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur := func(v *metav1.Duration, def metav1.Duration) {
		if v.Duration <= 0 {
			*v = def
		}
	}
	setInt(&l.MaxRequestsInFlight, d.MaxRequestsInFlight)
	setInt(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	setInt(&l.MaxConnections, d.MaxConnections)
	setInt(&l.MaxIdleConnections, d.MaxIdleConnections)
	setDur(&l.RequestTimeout, d.RequestTimeout)
	setDur(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDur(&l.BodyReadTimeout, d.BodyReadTimeout)
	setDur(&l.IdleTimeout, d.IdleTimeout)
	return l
}

// check validates what New cannot serve with.
func (c *Config) check() error {
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("lwserver: tls.certFile and tls.keyFile go together")
	}
	a := c.Authentication
	if len(a.ServiceAccountKeyFiles) > 0 && len(a.ServiceAccountIssuers) == 0 {
		return errors.New("lwserver: authentication.serviceAccountKeyFiles needs serviceAccountIssuers")
	}
	for _, addr := range append([]string{c.Address}, c.ExtraAddresses...) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("lwserver: address %q: %v", addr, err)
		}
	}
	if c.InsecureAddress != "" {
		if err := checkLoopback(c.InsecureAddress); err != nil {
			return err
		}
	}
	return nil
}

// checkLoopback refuses an insecure address that is not loopback (its
// requests are anonymous and unencrypted: they must not leave the host).
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("lwserver: insecureAddress %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("lwserver: insecureAddress %q is not a loopback address: the plain-HTTP listener serves only this host (use 127.0.0.1 or ::1)", addr)
}
