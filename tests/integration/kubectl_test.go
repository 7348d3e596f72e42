package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// kubectlPath finds the pinned kubectl: $KUBECTL, then <repo>/bin/kubectl
// (built by the lead from hack/tools), then kubectl on PATH.
func kubectlPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KUBECTL"); p != "" {
		return p
	}
	if p, err := filepath.Abs(filepath.Join("..", "..", "bin", "kubectl")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p
	}
	t.Skip("SKIP: no kubectl ($KUBECTL, bin/kubectl or on PATH)")
	return ""
}

type kubectl struct {
	t         *testing.T
	bin, kcfg string
	cacheDir  string
}

func newKubectl(t *testing.T, e *Edgecore) *kubectl {
	// The admin kubeconfig edgecore wrote (HTTPS, client certificate in
	// system:masters), copied so kubectl's HOME can sit beside it.
	dir := t.TempDir()
	kcfg := filepath.Join(dir, "kubeconfig")
	b, err := os.ReadFile(e.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kcfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return &kubectl{t: t, bin: kubectlPath(t), kcfg: kcfg, cacheDir: filepath.Join(dir, "cache")}
}

func (k *kubectl) run(args ...string) string {
	k.t.Helper()
	stdout, stderr, err := k.try(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	if strings.Contains(stderr, "error") || strings.Contains(stderr, "couldn't get") {
		k.t.Fatalf("kubectl %s wrote errors:\n%s", strings.Join(args, " "), stderr)
	}
	return stdout
}

// fields splits the lines of kubectl's table output into columns.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func rowFor(t *testing.T, out string, key ...string) []string {
	t.Helper()
	for _, r := range tableRows(out) {
		if len(r) >= len(key) && strings.Join(r[:len(key)], " ") == strings.Join(key, " ") {
			return r
		}
	}
	t.Fatalf("no row %v in:\n%s", key, out)
	return nil
}

func wantCols(t *testing.T, out string, cols ...string) {
	t.Helper()
	hdr := tableRows(out)[0]
	if strings.Join(hdr, " ") != strings.Join(cols, " ") {
		t.Fatalf("columns %v, want %v:\n%s", hdr, cols, out)
	}
}

var ageRE = regexp.MustCompile(`^\d+(s|m|h|d|y)`)

func TestKubectl(t *testing.T) {
	e := startDemo(t, "")
	k := newKubectl(t, e)

	out := k.run("get", "pods", "-A")
	wantCols(t, out, "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE")
	if n := len(tableRows(out)) - 1; n != 10 {
		t.Fatalf("%d pods:\n%s", n, out)
	}
	r := rowFor(t, out, "default", "redis-0")
	if r[2] != "1/1" || r[3] != "Running" || r[4] != "0" || !ageRE.MatchString(r[5]) {
		t.Fatalf("redis-0 row %v", r)
	}
	r = rowFor(t, out, "demo", "data-sync-28871040-wq6nd")
	if r[2] != "0/1" || r[3] == "Running" {
		t.Fatalf("data-sync row %v", r)
	}
	r = rowFor(t, out, "demo", "sensor-reader-5b9f6c8d4-kx7pq")
	if r[4] != "3" && !strings.HasPrefix(strings.Join(r[4:], " "), "3 (") {
		t.Fatalf("sensor-reader restarts %v", r)
	}

	out = k.run("get", "pods", "-o", "wide", "-n", "default")
	wantCols(t, out, "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES")
	r = rowFor(t, out, "redis-0")
	if r[5] != "10.244.1.12" || r[6] != "edge-1" {
		t.Fatalf("wide row %v", r)
	}

	out = k.run("get", "pod", "redis-0", "-n", "default", "-o", "yaml")
	for _, want := range []string{"kind: Pod", "apiVersion: v1", "name: redis-0", "nodeName: edge-1", "podIP: 10.244.1.12", "resourceVersion:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("yaml lacks %q:\n%s", want, out)
		}
	}

	out = k.run("get", "pods", "-n", "default", "-l", "app=nginx")
	if rows := tableRows(out); len(rows) != 3 || !strings.HasPrefix(rows[1][0], "nginx-") || !strings.HasPrefix(rows[2][0], "nginx-") {
		t.Fatalf("-l app=nginx:\n%s", out)
	}
	out = k.run("get", "pods", "-A", "--field-selector", "status.phase=Pending")
	if rows := tableRows(out); len(rows) != 2 || rows[1][1] != "data-sync-28871040-wq6nd" {
		t.Fatalf("--field-selector:\n%s", out)
	}
	out = k.run("get", "pods", "-A", "--field-selector", "spec.nodeName=edge-1", "-l", "app in (redis,coredns)", "--no-headers")
	if rows := tableRows(out); len(rows) != 2 {
		t.Fatalf("combined selectors:\n%s", out)
	}

	out = k.run("get", "devices", "-n", "demo")
	wantCols(t, out, "NAME", "PROTOCOL", "NODE", "AGE")
	r = rowFor(t, out, "thermometer-01")
	if r[1] != "modbus" || r[2] != "edge-1" {
		t.Fatalf("device row %v", r)
	}
	if out2 := k.run("get", "dev", "-n", "demo", "-o", "name"); !strings.Contains(out2, "device.devices.kubeedge.io/camera-gate") {
		t.Fatalf("short name:\n%s", out2)
	}

	out = k.run("get", "nodes")
	wantCols(t, out, "NAME", "STATUS", "ROLES", "AGE", "VERSION")
	rowFor(t, out, "edge-1")
	out = k.run("get", "svc", "-n", "default")
	wantCols(t, out, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE")
	out = k.run("get", "cm,secrets", "-n", "demo")
	if !strings.Contains(out, "sensor-config") || !strings.Contains(out, "mqtt-credentials") {
		t.Fatalf("cm,secrets:\n%s", out)
	}

	out = k.run("api-resources")
	wantCols(t, out, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
	if r := rowFor(t, out, "pods"); strings.Join(r, " ") != "pods po v1 true Pod" {
		t.Fatalf("pods row %v", r)
	}
	if r := rowFor(t, out, "devices"); strings.Join(r, " ") != "devices dev devices.kubeedge.io/v1beta1 true Device" {
		t.Fatalf("devices row %v", r)
	}
	if r := rowFor(t, out, "nodes"); strings.Join(r, " ") != "nodes no v1 false Node" {
		t.Fatalf("nodes row %v", r)
	}

	out = k.run("get", "--raw", "/version")
	if !strings.Contains(out, `"gitVersion": "v1.37.2-edgecore"`) {
		t.Fatalf("/version:\n%s", out)
	}
	out = k.run("version", "-o", "json")
	if !strings.Contains(out, "v1.37.2-edgecore") {
		t.Fatalf("kubectl version:\n%s", out)
	}

	out = k.run("describe", "pod", "redis-0", "-n", "default")
	for _, re := range []string{`(?m)^Name:\s+redis-0$`, `(?m)^Namespace:\s+default$`, `(?m)^Node:\s+edge-1`, `(?m)^Status:\s+Running$`, `(?m)^IP:\s+10.244.1.12$`, `(?m)^Labels:\s+app=redis`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Fatalf("describe lacks %s:\n%s", re, out)
		}
	}

	// a write is refused with kube's wording
	cmd := exec.Command(k.bin, "--kubeconfig", k.kcfg, "--cache-dir", k.cacheDir, "delete", "pod", "redis-0", "-n", "default")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "the server does not allow this method on the requested resource") {
		t.Fatalf("delete: %v\n%s", err, b)
	}
	// not found
	cmd = exec.Command(k.bin, "--kubeconfig", k.kcfg, "--cache-dir", k.cacheDir, "get", "pod", "nope", "-n", "default")
	b, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), `pods "nope" not found`) {
		t.Fatalf("get missing: %v\n%s", err, b)
	}
}
