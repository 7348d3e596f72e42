// Package pki creates and keeps lwserver's certificates under
// <data-dir>/pki (docs/security.md): a CA, a serving certificate signed by
// it, and an admin client certificate in system:masters for the kubeconfig
// edgecore writes. Everything is created once and reused; the serving and
// admin certificates are renewed when they near expiry or (serving) when
// the names they must cover changed.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names under the pki directory.
const (
	CACert      = "ca.crt"
	CAKey       = "ca.key"
	ServingCert = "serving.crt"
	ServingKey  = "serving.key"
	AdminCert   = "admin.crt"
	AdminKey    = "admin.key"
)

// Validity periods and the renewal window.
const (
	CAValidity    = 10 * 365 * 24 * time.Hour
	LeafValidity  = 365 * 24 * time.Hour
	RenewBefore   = 30 * 24 * time.Hour
	AdminUser     = "edgecore-admin"
	AdminGroup    = "system:masters"
	caCommonName  = "edgecore-ca"
	srvCommonName = "edgecore-lwserver"
)

// Dir is a pki directory.
type Dir struct {
	Path string
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

func (d Dir) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Dir) file(name string) string { return filepath.Join(d.Path, name) }

// Pair is a certificate with its key, both PEM encoded, and parsed.
type Pair struct {
	CertPEM, KeyPEM []byte
	Cert            *x509.Certificate
	Key             crypto.Signer
}

// TLS is the pair as a tls.Certificate.
func (p *Pair) TLS() (tls.Certificate, error) { return tls.X509KeyPair(p.CertPEM, p.KeyPEM) }

// EnsureCA loads the CA, creating it when absent.
func (d Dir) EnsureCA() (*Pair, error) {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return nil, err
	}
	if p, err := d.load(CACert, CAKey); err == nil {
		return p, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pki: CA in %s: %w", d.Path, err)
	}
	now := d.now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	p, err := issue(tmpl, nil)
	if err != nil {
		return nil, err
	}
	return p, d.save(p, CACert, CAKey)
}

// EnsureServing loads the serving certificate, (re)issuing it from ca when
// absent, within RenewBefore of expiry, not signed by ca, or not covering
// hosts (DNS names and IPs).
func (d Dir) EnsureServing(ca *Pair, hosts []string) (*Pair, error) {
	p, err := d.load(ServingCert, ServingKey)
	if err == nil && d.fresh(p, ca) && covers(p.Cert, hosts) {
		return p, nil
	}
	now := d.now()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: srvCommonName},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(LeafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if p, err = issue(tmpl, ca); err != nil {
		return nil, err
	}
	return p, d.save(p, ServingCert, ServingKey)
}

// EnsureAdmin loads the admin client certificate (CN edgecore-admin, O
// system:masters), (re)issuing it like EnsureServing.
func (d Dir) EnsureAdmin(ca *Pair) (*Pair, error) {
	p, err := d.load(AdminCert, AdminKey)
	if err == nil && d.fresh(p, ca) {
		return p, nil
	}
	now := d.now()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(LeafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if p, err = issue(tmpl, ca); err != nil {
		return nil, err
	}
	return p, d.save(p, AdminCert, AdminKey)
}

// NeedsRenewal reports whether a leaf is within RenewBefore of expiry.
func (d Dir) NeedsRenewal(c *x509.Certificate) bool {
	return d.now().Add(RenewBefore).After(c.NotAfter)
}

func (d Dir) fresh(p *Pair, ca *Pair) bool {
	return !d.NeedsRenewal(p.Cert) && p.Cert.CheckSignatureFrom(ca.Cert) == nil
}

func covers(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(c.DNSNames, h) {
			return false
		}
	}
	return true
}

// issue creates a P-256 key and a certificate from tmpl, signed by ca (nil
// = self-signed).
func issue(tmpl *x509.Certificate, ca *Pair) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	parent, signer := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return Parse(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// Parse parses a PEM certificate (the first of the file) and its key.
func Parse(certPEM, keyPEM []byte) (*Pair, error) {
	tc, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	signer, ok := tc.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", tc.PrivateKey)
	}
	return &Pair{CertPEM: certPEM, KeyPEM: keyPEM, Cert: tc.Leaf, Key: signer}, nil
}

func (d Dir) load(certName, keyName string) (*Pair, error) {
	c, err := os.ReadFile(d.file(certName))
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(d.file(keyName))
	if err != nil {
		return nil, err
	}
	p, err := Parse(c, k)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", certName, keyName, err)
	}
	return p, nil
}

// save writes the pair atomically (key 0600, certificate 0644).
func (d Dir) save(p *Pair, certName, keyName string) error {
	if err := WriteFile(d.file(keyName), p.KeyPEM, 0o600); err != nil {
		return err
	}
	return WriteFile(d.file(certName), p.CertPEM, 0o644)
}

// WriteFile writes data to path atomically (temp file, fsync, rename)
// with mode perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
