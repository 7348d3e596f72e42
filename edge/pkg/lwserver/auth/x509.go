package auth

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
)

// X509 authenticates client certificates against the client CAs: user =
// CN, groups = O (kube-apiserver's CommonNameUserConversion). A certificate
// that does not verify is an error (401): TLS only requests the
// certificate, verification is here, as in kube-apiserver.
type X509 struct {
	// roots returns the current client CA pool (operator files are
	// reloaded when they change); nil pool = no client certificates.
	roots func() *x509.CertPool
	now   func() time.Time

	mu    sync.Mutex
	pool  *x509.CertPool // the pool the cache was filled against
	cache map[[32]byte]x509Entry
}

type x509Entry struct {
	user    user.Info
	expires time.Time
}

// x509CacheSize bounds the verification cache (one entry per distinct
// client certificate).
const x509CacheSize = 1024

// NewX509 builds the authenticator; roots is called per request and must
// be cheap (it returns a cached pool).
func NewX509(roots func() *x509.CertPool, now func() time.Time) *X509 {
	if now == nil {
		now = time.Now
	}
	return &X509{roots: roots, now: now, cache: map[[32]byte]x509Entry{}}
}

// AuthenticateRequest implements Authenticator. Verification results are
// cached per certificate for up to a minute (chain verification costs far
// more than the rest of a request), and dropped when the CA pool changes.
func (a *X509) AuthenticateRequest(r *http.Request) (user.Info, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	roots := a.roots()
	if roots == nil {
		return nil, false, fmt.Errorf("%w: client certificate presented, but no client CA is configured", ErrUnauthorized)
	}
	now := a.now()
	sum := sha256.Sum256(leaf.Raw)
	a.mu.Lock()
	if a.pool != roots {
		a.pool, a.cache = roots, map[[32]byte]x509Entry{}
	}
	e, ok := a.cache[sum]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.user, true, nil
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		CurrentTime:   now,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range r.TLS.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return nil, false, fmt.Errorf("%w: verifying certificate %q: %v", ErrUnauthorized, leaf.Subject.CommonName, err)
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, fmt.Errorf("%w: client certificate has no common name", ErrUnauthorized)
	}
	u := &user.DefaultInfo{
		Name:   leaf.Subject.CommonName,
		Groups: append(append([]string(nil), leaf.Subject.Organization...), GroupAuthenticated),
	}
	e = x509Entry{user: u, expires: now.Add(time.Minute)}
	if leaf.NotAfter.Before(e.expires) {
		e.expires = leaf.NotAfter
	}
	a.mu.Lock()
	if len(a.cache) >= x509CacheSize {
		a.cache = map[[32]byte]x509Entry{}
	}
	a.cache[sum] = e
	a.mu.Unlock()
	return u, true, nil
}
