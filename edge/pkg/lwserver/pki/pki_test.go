package pki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"
)

// TestCreatedOnceAndReused: a second start reuses every file; the serving
// certificate is reissued (same CA) when near expiry or when a name it
// must cover is new.
func TestCreatedOnceAndReused(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "pki")}
	ca, err := d.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"127.0.0.1", "localhost", "edge-1"}
	srv, err := d.EnsureServing(ca, hosts)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := d.EnsureAdmin(ca)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CAKey, ServingKey, AdminKey} {
		if st, err := os.Stat(filepath.Join(d.Path, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st.Mode(), err)
		}
	}
	ca2, _ := d.EnsureCA()
	srv2, _ := d.EnsureServing(ca2, hosts)
	admin2, _ := d.EnsureAdmin(ca2)
	if !bytes.Equal(ca.CertPEM, ca2.CertPEM) || !bytes.Equal(srv.CertPEM, srv2.CertPEM) || !bytes.Equal(admin.CertPEM, admin2.CertPEM) {
		t.Fatal("second start did not reuse the pki")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "edge-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	if admin.Cert.Subject.CommonName != AdminUser || admin.Cert.Subject.Organization[0] != AdminGroup {
		t.Fatalf("admin subject %v", admin.Cert.Subject)
	}
	// A new bind address: reissued, same CA.
	srv3, _ := d.EnsureServing(ca, append(hosts, "10.0.0.7"))
	if bytes.Equal(srv3.CertPEM, srv.CertPEM) {
		t.Fatal("serving certificate not reissued for a new address")
	}
	// 11 months later: within the renewal window.
	late := Dir{Path: d.Path, Now: func() time.Time { return time.Now().Add(LeafValidity - RenewBefore/2) }}
	srv4, _ := late.EnsureServing(ca, append(hosts, "10.0.0.7"))
	if bytes.Equal(srv4.CertPEM, srv3.CertPEM) || srv4.Cert.NotAfter.Before(srv3.Cert.NotAfter) {
		t.Fatal("serving certificate not renewed near expiry")
	}
}

// TestGeneratedRenewsWhileServing: the served certificate is replaced in
// place when it nears expiry (no restart).
func TestGeneratedRenewsWhileServing(t *testing.T) {
	now := time.Now()
	d := Dir{Path: t.TempDir(), Now: func() time.Time { return now }}
	ca, _ := d.EnsureCA()
	g, err := NewGenerated(d, ca, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	first := g.Get()
	now = now.Add(LeafValidity - RenewBefore + time.Hour)
	second := g.Get()
	if second == first || len(second.Certificate) != 2 {
		t.Fatal("not renewed")
	}
}

// TestReloaderFollowsFiles: operator files are reloaded on change, and a
// broken change keeps the previous value.
func TestReloaderFollowsFiles(t *testing.T) {
	dir := t.TempDir()
	d := Dir{Path: dir}
	ca, _ := d.EnsureCA()
	srv, _ := d.EnsureServing(ca, []string{"127.0.0.1"})
	cf, kf := filepath.Join(dir, "op.crt"), filepath.Join(dir, "op.key")
	os.WriteFile(cf, srv.CertPEM, 0o644)
	os.WriteFile(kf, srv.KeyPEM, 0o600)
	r, err := NewCertFiles(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.now = func() time.Time { return now }
	first := r.Get()
	srv2, _ := d.EnsureServing(ca, []string{"127.0.0.2"})
	WriteFile(kf, srv2.KeyPEM, 0o600)
	WriteFile(cf, srv2.CertPEM, 0o644)
	if r.Get() != first {
		t.Fatal("reloaded before the interval")
	}
	now = now.Add(ReloadInterval)
	if got := r.Get(); got == first || !bytes.Equal(got.Certificate[0], srv2.Cert.Raw) {
		t.Fatal("not reloaded after the files changed")
	}
	WriteFile(cf, []byte("garbage"), 0o644)
	now = now.Add(ReloadInterval)
	if got := r.Get(); !bytes.Equal(got.Certificate[0], srv2.Cert.Raw) {
		t.Fatal("a broken file replaced the certificate")
	}
	if _, err := NewCAPool([]string{cf}); err == nil {
		t.Fatal("a garbage CA file loaded")
	}
}

func TestKubeconfig(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	ca, _ := d.EnsureCA()
	admin, _ := d.EnsureAdmin(ca)
	b, err := Kubeconfig("https://127.0.0.1:10550", ca.CertPEM, admin)
	if err != nil {
		t.Fatal(err)
	}
	var cfg clientcmdv1.Config
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext == "" || cfg.Clusters[0].Cluster.Server != "https://127.0.0.1:10550" ||
		!bytes.Equal(cfg.AuthInfos[0].AuthInfo.ClientCertificateData, admin.CertPEM) {
		t.Fatalf("%s", b)
	}
}
