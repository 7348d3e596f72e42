package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// kubeconfig is the part of a kubeconfig file the bench reads: edgecore
// writes <data-dir>/kubeconfig with the server URL, its CA and an admin
// client certificate, all inline.
type kubeconfig struct {
	Clusters []struct {
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthorityData string `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		User struct {
			ClientCertificateData string `json:"client-certificate-data"`
			ClientKeyData         string `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

// loadKubeconfig returns the server URL and client TLS config of a
// kubeconfig with inline credentials.
func loadKubeconfig(path string) (string, *tls.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(kc.Clusters) == 0 || len(kc.Users) == 0 {
		return "", nil, fmt.Errorf("%s: no cluster or no user", path)
	}
	cl, u := kc.Clusters[0].Cluster, kc.Users[0].User
	dec := func(s string) []byte { b, _ := base64.StdEncoding.DecodeString(s); return b }
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(dec(cl.CertificateAuthorityData)) {
		return "", nil, fmt.Errorf("%s: no inline CA (certificate-authority-data)", path)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if u.ClientCertificateData != "" {
		cert, err := tls.X509KeyPair(dec(u.ClientCertificateData), dec(u.ClientKeyData))
		if err != nil {
			return "", nil, fmt.Errorf("%s: client certificate: %w", path, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if !strings.HasPrefix(cl.Server, "https://") {
		return "", nil, fmt.Errorf("%s: server %q is not https", path, cl.Server)
	}
	return strings.TrimRight(cl.Server, "/"), tc, nil
}

// edgeTLSTarget is edgecore over HTTPS/1.1 with the admin kubeconfig it
// wrote into its data dir.
func (b *bench) edgeTLSTarget(srv *server) (*target, error) {
	base, tc, err := loadKubeconfig(filepath.Join(srv.dataDir, "kubeconfig"))
	if err != nil {
		return nil, err
	}
	t := newTarget("edgecore", base, tc, srv.target().procs...)
	t.newSink = b.socketSink(srv.sock())
	return t, nil
}

// tlsNA is why a TLS row could not be measured.
func tlsNA(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "n/a (edgecore serves no TLS yet: " + truncate(err.Error(), 100) + ")"
	}
	return "failed: " + truncate(err.Error(), 120)
}

// tlsRowKeys are the rows measureTLS fills.
var tlsRowKeys = []string{"tls-list", "h2-list", "h2-get", "h2-watch", "h2-update-1conn", "h2-update-conns"}

// measureTLS measures edgecore over TLS (its admin kubeconfig): a full list
// over HTTP/1.1 and HTTP/2 against the plain-HTTP list, a get on a kept-alive
// HTTP/2 connection, W watches from resourceVersion=0 multiplexed on one
// HTTP/2 connection with the update latency they see, and the update latency
// of W watchers on W HTTP/2 connections.
func (b *bench) measureTLS(srv *server, col int, ds *dataSet) {
	res := b.res
	t1, err := b.edgeTLSTarget(srv)
	if err != nil {
		for _, k := range tlsRowKeys {
			res.set(k, col, cell{na: tlsNA(err)})
		}
		return
	}
	t2 := newTargetH("edgecore", t1.base, t1.tls, true, t1.procs...)
	t2.newSink = t1.newSink
	all := map[bool]int{true: ds.n, false: -1}[ds.ours]
	items := func(l listShape) (string, error) {
		if all >= 0 && len(l.Items) != all {
			return fmt.Sprintf("⚠ %d items, expected %d", len(l.Items), all), nil
		}
		return fmt.Sprintf("%d items", len(l.Items)), nil
	}
	if c := b.tres.byKey["list-all"].cells[col]; c != nil {
		res.set("tls-list", col, *c) // measured already for the side-by-side table
	} else {
		res.set("tls-list", col, opCell(b.measureOp(t1, opSpec{path: "/api/v1/pods", validate: items})))
	}
	res.set("h2-list", col, opCell(b.measureOp(t2, opSpec{path: "/api/v1/pods", validate: items})))
	res.set("h2-get", col, opCell(b.measureOp(t2, opSpec{path: ds.getPath})))
	w := b.cfg.tlsWatchers
	wr := b.watchPhase(t2, ds.n, w, watchMode{fromRV0: int64(w)*int64(ds.n) <= b.cfg.watchBudget, h2: true, conns: 1}, ds)
	b.setWatchCells(res, "h2-watch", "h2-update-1conn", col, wr)
	wr = b.watchPhase(t2, ds.n, w, watchMode{h2: true, conns: w}, ds)
	b.setWatchCells(res, "", "h2-update-conns", col, wr)
	for _, k := range tlsRowKeys {
		logf("edgecore %-16s %s", k, res.get(k, col).brief("ms"))
	}
}
