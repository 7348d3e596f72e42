package lwserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/auth"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// KubeconfigName is the admin kubeconfig edgecore writes into its data dir.
const KubeconfigName = "kubeconfig"

// security is what New builds for TLS, authentication and authorization
// (docs/security.md).
type security struct {
	pkiDir    pki.Dir
	ca        *pki.Pair
	serving   func() *tls.Certificate
	clientCAs func() *x509.CertPool
	// kubeconfigCA is what the admin kubeconfig trusts: edgecore's CA,
	// plus the chain of an operator's serving certificate file.
	kubeconfigCA []byte
	authn        auth.Authenticator
	rbac         *auth.RBAC
	tokens       *auth.Tokens // nil without ServiceAccount keys
}

// newSecurity creates (or reuses) the pki under dataDir/pki and builds the
// authenticators and the RBAC index over store.
func newSecurity(cfg Config, dataDir string, store auth.Store) (*security, error) {
	s := &security{pkiDir: pki.Dir{Path: filepath.Join(dataDir, "pki")}}
	var err error
	if s.ca, err = s.pkiDir.EnsureCA(); err != nil {
		return nil, err
	}
	s.kubeconfigCA = s.ca.CertPEM
	if cfg.TLS.CertFile != "" {
		r, err := pki.NewCertFiles(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("lwserver: tls.certFile/keyFile: %w", err)
		}
		s.serving = r.Get
		for _, der := range r.Get().Certificate[1:] {
			s.kubeconfigCA = append(s.kubeconfigCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
	} else {
		g, err := pki.NewGenerated(s.pkiDir, s.ca, servingHosts(cfg))
		if err != nil {
			return nil, fmt.Errorf("lwserver: serving certificate: %w", err)
		}
		s.serving = g.Get
	}
	cas, err := pki.NewCAPool(cfg.TLS.ClientCAFiles, s.ca.Cert)
	if err != nil {
		return nil, fmt.Errorf("lwserver: tls.clientCAFiles: %w", err)
	}
	s.clientCAs = cas.Get
	authns := []auth.Authenticator{auth.NewX509(s.clientCAs, nil)}
	if a := cfg.Authentication; len(a.ServiceAccountKeyFiles) > 0 {
		keys, err := pki.NewReloader(a.ServiceAccountKeyFiles, parseKeyFiles)
		if err != nil {
			return nil, fmt.Errorf("lwserver: authentication.serviceAccountKeyFiles: %w", err)
		}
		s.tokens, err = auth.NewTokens(auth.TokenConfig{Issuers: a.ServiceAccountIssuers, Audiences: a.APIAudiences, Keys: keys.Get, Store: store})
		if err != nil {
			return nil, err
		}
		authns = append(authns, s.tokens)
	}
	s.authn = &auth.Union{Authenticators: authns, Anonymous: cfg.Authentication.Anonymous}
	if s.rbac, err = auth.NewRBAC(context.Background(), store); err != nil {
		return nil, fmt.Errorf("lwserver: RBAC: %w", err)
	}
	return s, nil
}

func parseKeyFiles(contents [][]byte) ([]jose.JSONWebKey, error) {
	var out []jose.JSONWebKey
	for _, b := range contents {
		keys, err := auth.ParsePublicKeys(b)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// servingHosts are the generated certificate's SANs: every bind address's
// host (wildcards excepted), localhost, 127.0.0.1, the node name and the
// extra SANs.
func servingHosts(cfg Config) []string {
	hosts := []string{"localhost", "127.0.0.1"}
	for _, addr := range append([]string{cfg.Address}, cfg.ExtraAddresses...) {
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
			if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
				hosts = append(hosts, h)
			}
		}
	}
	node := cfg.TLS.NodeName
	if node == "" {
		node, _ = os.Hostname()
	}
	if node != "" {
		hosts = append(hosts, node)
	}
	return append(hosts, cfg.TLS.ExtraSANs...)
}

// tlsConfig serves the current certificate and asks for (but does not
// verify) client certificates: the x509 authenticator verifies them, so a
// foreign one is a 401 Status, as kube-apiserver answers.
func (s *security) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.serving(), nil
		},
	}
}

// subscriber follows the committed events: RBAC changes and deletions of
// objects that cached tokens are bound to.
func (s *security) subscriber() event.Subscriber {
	if s.tokens == nil {
		return s.rbac
	}
	return event.Subscribers{s.rbac, s.tokens}
}

// writeKubeconfig writes the admin kubeconfig (0600) for server
// ("https://HOST:PORT"), with the admin certificate (issued once, renewed
// near expiry).
func (s *security) writeKubeconfig(path, server string) error {
	admin, err := s.pkiDir.EnsureAdmin(s.ca)
	if err != nil {
		return err
	}
	b, err := pki.Kubeconfig(server, s.kubeconfigCA, admin)
	if err != nil {
		return err
	}
	return pki.WriteFile(path, b, 0o600)
}

// kubeconfigServer is the URL for a bound address: a wildcard bind is
// reached on loopback.
func kubeconfigServer(bound string) string {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return "https://" + bound
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return "https://" + net.JoinHostPort(host, port)
}
