package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

func testCA(t testing.TB) (*pki.Pair, *pki.Pair) {
	t.Helper()
	d := pki.Dir{Path: t.TempDir()}
	ca, err := d.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := d.EnsureAdmin(ca)
	if err != nil {
		t.Fatal(err)
	}
	return ca, admin
}

func certRequest(certs ...*x509.Certificate) *http.Request {
	r := httptest.NewRequest("GET", "/api", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: certs}
	return r
}

func TestX509(t *testing.T) {
	ca, admin := testCA(t)
	otherCA, foreign := testCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	a := NewX509(func() *x509.CertPool { return pool }, nil)

	u, ok, err := a.AuthenticateRequest(certRequest(admin.Cert))
	if err != nil || !ok {
		t.Fatal(err)
	}
	if u.GetName() != pki.AdminUser || strings.Join(u.GetGroups(), ",") != pki.AdminGroup+","+GroupAuthenticated {
		t.Fatalf("user %q groups %v", u.GetName(), u.GetGroups())
	}
	// A certificate from another CA is a 401, not anonymous.
	if _, ok, err := a.AuthenticateRequest(certRequest(foreign.Cert)); ok || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("foreign certificate: ok=%v err=%v", ok, err)
	}
	// The CA itself is not a client certificate (no client auth usage)...
	if _, ok, _ := a.AuthenticateRequest(certRequest(otherCA.Cert)); ok {
		t.Fatal("a CA certificate authenticated")
	}
	// ...and no TLS or no certificate is not this authenticator's business.
	if _, ok, err := a.AuthenticateRequest(httptest.NewRequest("GET", "/", nil)); ok || err != nil {
		t.Fatalf("plain request: %v %v", ok, err)
	}
	if _, ok, err := a.AuthenticateRequest(certRequest()); ok || err != nil {
		t.Fatalf("no certificate: %v %v", ok, err)
	}
	// An expired certificate fails (even once cached).
	late := NewX509(func() *x509.CertPool { return pool }, func() time.Time { return admin.Cert.NotAfter.Add(time.Hour) })
	if _, ok, err := late.AuthenticateRequest(certRequest(admin.Cert)); ok || err == nil {
		t.Fatalf("expired certificate: %v %v", ok, err)
	}
	// A new pool (client CA files reloaded) drops cached verifications.
	pool2 := x509.NewCertPool()
	pool2.AddCert(otherCA.Cert)
	pool = pool2
	if _, ok, _ := a.AuthenticateRequest(certRequest(admin.Cert)); ok {
		t.Fatal("certificate of a CA no longer trusted still authenticates")
	}
}
