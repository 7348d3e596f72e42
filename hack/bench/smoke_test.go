package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke runs the smoke configuration (N=200, W=10) against bin/edgecore
// when it has been built (make test builds it first), so the harness cannot
// rot. Its numbers are not asserted.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := filepath.Join(repoRoot(), "bin", "edgecore")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no bin/edgecore (make build)")
	}
	cfg := parseFlags([]string{"--smoke", "--edgecore", bin})
	if cfg.out != "" || cfg.svg != "" || cfg.sizes[0] != 200 || cfg.watchers[0] != 10 {
		t.Fatalf("smoke config: %+v", cfg)
	}
	b := newBench(cfg)
	b.runSize(200)
	b.runScale()
	md := b.markdown(0)
	if !strings.Contains(md, "| list all pods (JSON) |") {
		t.Fatalf("no table:\n%s", md)
	}
	if len(b.failed) > 0 {
		t.Errorf("harness failures: %v", b.failed)
	}
	t.Log("\n" + md[strings.Index(md, "## edgecore at several sizes"):strings.Index(md, "## Method")])
}
