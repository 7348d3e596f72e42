package integration

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

// idleConn is a kept-alive HTTP/1.1 TLS connection that made one request.
func idleConn(t testing.TB, e *Edgecore) *tls.Conn {
	t.Helper()
	c, err := e.DialTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	return c
}

// closedWithin reports, per connection, whether the server closed it
// within d (a read returns EOF) or not (the read times out).
func closedWithin(conns []*tls.Conn, d time.Duration) []bool {
	out := make([]bool, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(d))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			out[i] = err != nil && !(errors.As(err, &ne) && ne.Timeout())
		}()
	}
	wg.Wait()
	return out
}

func count(bs []bool) (n int) {
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// TestSecurityIdleConnectionsClosed (issue 11): kept-alive connections
// that went silent are closed after limits.idleTimeout, and beyond
// limits.maxIdleConnections the longest-idle ones are closed at once, so
// idle clients cannot pin memory.
func TestSecurityIdleConnectionsClosed(t *testing.T) {
	t.Run("idle timeout", func(t *testing.T) {
		e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    limits:\n      idleTimeout: 1s\n"})
		var conns []*tls.Conn
		for i := 0; i < 10; i++ {
			conns = append(conns, idleConn(t, e))
		}
		if n := count(closedWithin(conns, 10*time.Second)); n != len(conns) {
			t.Fatalf("%d of %d idle connections closed within 10 s of a 1 s idle timeout", n, len(conns))
		}
	})
	t.Run("max idle connections", func(t *testing.T) {
		e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    limits:\n      maxIdleConnections: 8\n"})
		AdminClient.CloseIdleConnections() // the readiness probe's connection
		var conns []*tls.Conn
		for i := 0; i < 20; i++ {
			conns = append(conns, idleConn(t, e))
		}
		closed := closedWithin(conns, 3*time.Second)
		if n := count(closed); n < 12 || n > 13 {
			t.Fatalf("%d of 20 idle connections closed, want 12 (8 kept idle)", n)
		}
		// The ones kept still serve.
		for i, c := range conns {
			if closed[i] {
				continue
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("kept connection: %v %v", err, resp)
			}
			resp.Body.Close()
		}
		_, _, m := httpDo(t, "GET", e.URL()+"/metrics", nil)
		if v := metricValueLabeled(string(m), "lwserver_connections_idle"); v > 8 {
			t.Errorf("lwserver_connections_idle %d > 8", v)
		}
	})
}

// TestSecurityOperatorCertReload: an operator's serving certificate files
// are reloaded when they change on disk (how a certificate signed by the
// cluster CA is rotated in), without a restart.
func TestSecurityOperatorCertReload(t *testing.T) {
	op := pki.Dir{Path: t.TempDir()}
	for _, f := range []string{pki.CACert, pki.CAKey} {
		b, err := os.ReadFile(filepath.Join(sharedPKI, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(op.Path, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := op.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	first, err := op.EnsureServing(ca, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(op.Path, pki.ServingCert), filepath.Join(op.Path, pki.ServingKey)
	e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    tls:\n      certFile: " + certFile + "\n      keyFile: " + keyFile + "\n"})
	served := func() string {
		c, err := e.DialTLS()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := served(); got != first.Cert.SerialNumber.String() {
		t.Fatalf("serving %s, want the operator's %s", got, first.Cert.SerialNumber)
	}
	second, err := op.EnsureServing(ca, []string{"127.0.0.1", "edge-node.example"}) // rewrites both files
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the new certificate to be served", func() bool {
		return served() == second.Cert.SerialNumber.String()
	})
}
