package main

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchOverHTTP2 runs the watch phase over TLS against the fake
// edgecore: all watchers multiplexed on one HTTP/2 connection, then one
// connection each, with the TLS config read from a kubeconfig.
func TestWatchOverHTTP2(t *testing.T) {
	const n, w = 30, 8
	f, sock := startFake(t, n)
	srv := httptest.NewUnstartedServer(f)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	body := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority-data: %s\nusers:\n- name: u\n  user: {}\n",
		srv.URL, base64.StdEncoding.EncodeToString(ca))
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	base, tc, err := loadKubeconfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{cfg: config{updateRate: 50, updateDur: 200 * time.Millisecond, initTimeout: 10 * time.Second, reqTimeout: 5 * time.Second}}
	tg := newTarget("fake", base, tc)
	tg.newSink = b.socketSink(sock)
	for _, tc := range []struct {
		mode  watchMode
		conns string
	}{
		{watchMode{fromRV0: true, h2: true, conns: 1}, "1 TCP connections"},
		{watchMode{h2: true, conns: w}, fmt.Sprintf("%d TCP connections", w)},
	} {
		r := b.watchPhase(tg, n, w, tc.mode, &dataSet{n: n, ours: true})
		if r.latNA != "" || len(r.lastLat) != 10 {
			t.Errorf("%+v: latency %q, %d updates seen by all", tc.mode, r.latNA, len(r.lastLat))
		}
		if tc.mode.fromRV0 && r.initial <= 0 {
			t.Errorf("%+v: initial events %q", tc.mode, r.initialNA)
		}
		if !strings.Contains(r.initNote, tc.conns) {
			t.Errorf("%+v: %q, want %s", tc.mode, r.initNote, tc.conns)
		}
	}
}

func TestLoadKubeconfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty":   "apiVersion: v1\nkind: Config\n",
		"no ca":   "clusters:\n- cluster:\n    server: https://127.0.0.1:1\nusers:\n- user: {}\n",
		"garbage": "{{{",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		_ = os.WriteFile(p, []byte(body), 0o600)
		if _, _, err := loadKubeconfig(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name          string
		row           cmpRow
		k, e          *cell
		ratio, verdic string
	}{
		{"faster enough", cmpRow{ratio: 6}, &cell{value: 600}, &cell{value: 100}, "×6.0", "✓"},
		{"not enough", cmpRow{ratio: 6}, &cell{value: 500}, &cell{value: 100}, "×5.0", "✗"},
		{"p99", cmpRow{ratio: 4, p99: true}, &cell{value: 1, p99: 40}, &cell{value: 1, p99: 20}, "×2.0", "✗"},
		{"kube missing", cmpRow{ratio: 6}, nil, &cell{value: 100}, "—", "—"},
		{"kube n/a", cmpRow{ratio: 6}, &cell{na: "failed"}, &cell{value: 100}, "—", "—"},
		{"memory limit", cmpRow{edgeLimit: 100}, &cell{value: 1000}, &cell{value: 90}, "×11.1", "✓"},
		{"memory over", cmpRow{edgeLimit: 100}, &cell{value: 1000}, &cell{value: 120}, "×8.3", "✗"},
		{"rate", cmpRow{rate: true}, &cell{value: 1000}, &cell{value: 12000}, "×12.0", "✓"},
	} {
		r, v := tc.row.judge(tc.k, tc.e)
		if r != tc.ratio || v != tc.verdic {
			t.Errorf("%s: %q %q, want %q %q", tc.name, r, v, tc.ratio, tc.verdic)
		}
	}
}
