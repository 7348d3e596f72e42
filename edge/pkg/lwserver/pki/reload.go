package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// ReloadInterval is how often at most a Reloader looks at its files.
const ReloadInterval = time.Second

// Reloader holds a value parsed from files and parses them again when one
// of them changed on disk (size, modification time or inode: an atomic
// rename counts). Files are looked at on Get, at most once per
// ReloadInterval, so an idle server does no work. A change that does not
// parse is logged and the previous value kept (a half-written pair must not
// take the server down).
type Reloader[T any] struct {
	files []string
	parse func(contents [][]byte) (T, error)
	now   func() time.Time

	mu        sync.Mutex
	val       T
	stamps    []fileStamp
	lastCheck time.Time
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// NewReloader reads and parses the files once (an error here is the
// caller's: a bad file at start is a configuration error).
func NewReloader[T any](files []string, parse func([][]byte) (T, error)) (*Reloader[T], error) {
	r := &Reloader[T]{files: files, parse: parse, now: time.Now}
	stamps, val, err := r.read()
	if err != nil {
		return nil, err
	}
	r.val, r.stamps, r.lastCheck = val, stamps, r.now()
	return r, nil
}

// Get returns the current value, reloading it first when a file changed.
func (r *Reloader[T]) Get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.lastCheck) < ReloadInterval {
		return r.val
	}
	r.lastCheck = now
	if r.unchanged() {
		return r.val
	}
	stamps, val, err := r.read()
	if err != nil {
		klog.ErrorS(err, "lwserver: changed files do not load; keeping the previous ones", "files", r.files)
		r.stamps = stamps // do not retry until they change again
		return r.val
	}
	klog.InfoS("lwserver: reloaded changed files", "files", r.files)
	r.val, r.stamps = val, stamps
	return r.val
}

func (r *Reloader[T]) unchanged() bool {
	for i, f := range r.files {
		st, err := stat(f)
		if err != nil || i >= len(r.stamps) || st != r.stamps[i] {
			return false
		}
	}
	return true
}

func (r *Reloader[T]) read() ([]fileStamp, T, error) {
	var zero T
	stamps := make([]fileStamp, len(r.files))
	contents := make([][]byte, len(r.files))
	for i, f := range r.files {
		st, err := stat(f)
		if err != nil {
			return stamps, zero, err
		}
		stamps[i] = st
		if contents[i], err = os.ReadFile(f); err != nil {
			return stamps, zero, err
		}
	}
	v, err := r.parse(contents)
	if err != nil {
		return stamps, zero, fmt.Errorf("%v: %w", r.files, err)
	}
	return stamps, v, nil
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino
	}
	return s, nil
}

// NewCertFiles serves an operator's certificate and key files.
func NewCertFiles(certFile, keyFile string) (*Reloader[*tls.Certificate], error) {
	return NewReloader([]string{certFile, keyFile}, func(c [][]byte) (*tls.Certificate, error) {
		tc, err := tls.X509KeyPair(c[0], c[1])
		return &tc, err
	})
}

// NewCAPool is a pool of every certificate in the files plus extra (the
// generated CA, which signs the admin certificate).
func NewCAPool(files []string, extra ...*x509.Certificate) (*Reloader[*x509.CertPool], error) {
	return NewReloader(files, func(c [][]byte) (*x509.CertPool, error) {
		pool := x509.NewCertPool()
		for _, cert := range extra {
			pool.AddCert(cert)
		}
		for i, b := range c {
			if !pool.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("%s: no PEM certificate", files[i])
			}
		}
		return pool, nil
	})
}

// Generated serves the generated serving certificate and renews it (a new
// one from the CA, written to the pki dir) when it nears expiry.
type Generated struct {
	dir   Dir
	ca    *Pair
	hosts []string

	mu        sync.Mutex
	cur       *tls.Certificate
	notAfter  time.Time
	lastCheck time.Time
}

// NewGenerated ensures the serving certificate for hosts exists and is
// fresh, and serves it.
func NewGenerated(dir Dir, ca *Pair, hosts []string) (*Generated, error) {
	g := &Generated{dir: dir, ca: ca, hosts: hosts}
	if err := g.renew(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *Generated) renew() error {
	p, err := g.dir.EnsureServing(g.ca, g.hosts)
	if err != nil {
		return err
	}
	tc, err := p.TLS()
	if err != nil {
		return err
	}
	tc.Certificate = append(tc.Certificate, g.ca.Cert.Raw)
	g.cur, g.notAfter, g.lastCheck = &tc, p.Cert.NotAfter, g.dir.now()
	return nil
}

// Get returns the current certificate, renewing it first when due
// (checked at most once a minute).
func (g *Generated) Get() *tls.Certificate {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.dir.now()
	if now.Sub(g.lastCheck) < time.Minute {
		return g.cur
	}
	g.lastCheck = now
	if now.Add(RenewBefore).After(g.notAfter) {
		if err := g.renew(); err != nil {
			klog.ErrorS(err, "lwserver: renewing the serving certificate failed; serving the old one")
		} else {
			klog.InfoS("lwserver: serving certificate renewed", "notAfter", g.notAfter)
		}
	}
	return g.cur
}
