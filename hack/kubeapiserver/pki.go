package kubeapiserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is what a control plane is given: two CAs (serving, client), the
// serving certificate, the service-account signing key. All live in memory
// and, for the processes, as files in the server's directory.
type pki struct {
	servingCA, clientCA *authority
	files               map[string]string // flag name → path
}

// authority is a CA able to issue certificates.
type authority struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

func newAuthority(name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, certPEM: pemBlock("CERTIFICATE", der), key: key}, nil
}

// issue signs a new key pair: a client certificate for user/groups, or (with
// hosts) a serving certificate. It returns the PEM of certificate and key.
func (a *authority) issue(cn string, orgs []string, hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

// newPKI generates the control plane's certificates and keys into dir. The
// service-account key is RSA (RS256, what kubeadm clusters use).
func newPKI(dir string) (*pki, []byte, error) {
	p := &pki{files: map[string]string{}}
	var err error
	if p.servingCA, err = newAuthority("kube-apiserver-serving-ca"); err != nil {
		return nil, nil, err
	}
	if p.clientCA, err = newAuthority("kube-apiserver-client-ca"); err != nil {
		return nil, nil, err
	}
	servingCert, servingKey, err := p.servingCA.issue("kube-apiserver", nil,
		[]string{"127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"})
	if err != nil {
		return nil, nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	saPriv, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		return nil, nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	saPubPEM := pemBlock("PUBLIC KEY", saPub)
	for flag, content := range map[string][]byte{
		"tls-cert-file":                    servingCert,
		"tls-private-key-file":             servingKey,
		"client-ca-file":                   p.clientCA.certPEM,
		"service-account-key-file":         saPubPEM,
		"service-account-signing-key-file": pemBlock("PRIVATE KEY", saPriv),
	} {
		path := filepath.Join(dir, flag+".pem")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			return nil, nil, err
		}
		p.files[flag] = path
	}
	return p, saPubPEM, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the platform's randomness is gone
	}
	return n
}
