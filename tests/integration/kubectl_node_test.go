package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What an operator does with kubectl on an offline node beyond get:
// explain, apply (validated against the served OpenAPI), logs from the
// node's log files, and exec / port-forward (a clear refusal).

// try runs kubectl and returns stdout, stderr and its error (no failing).
func (k *kubectl) try(args ...string) (string, string, error) {
	k.t.Helper()
	all := append([]string{"--kubeconfig", k.kcfg, "--cache-dir", k.cacheDir, "--request-timeout", "20s"}, args...)
	cmd := exec.Command(k.bin, all...)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(k.kcfg), "KUBECONFIG="+k.kcfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func mustHave(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

func TestKubectlExplainAndApply(t *testing.T) {
	e := startDemo(t, "")
	k := newKubectl(t, e)

	out := k.run("explain", "pods.spec.containers")
	mustHave(t, "explain pods.spec.containers", out, "KIND:       Pod", "FIELD: containers <[]Container>",
		"List of containers belonging to the pod.", "imagePullPolicy\t<string>")
	out = k.run("explain", "devices")
	mustHave(t, "explain devices", out, "GROUP:      devices.kubeedge.io", "KIND:       Device", "VERSION:    v1beta1",
		"metadata\t<ObjectMeta>", "Device is a physical device")
	out = k.run("explain", "devices.spec")
	mustHave(t, "explain devices.spec", out, "KIND:       Device", "nodeName\t<string>",
		"NodeName is the edge node the device is attached to.", "protocol\t<Object>")
	out = k.run("explain", "deployments.spec.strategy", "--api-version", "apps/v1")
	mustHave(t, "explain deployments.spec.strategy", out, "GROUP:      apps", "rollingUpdate\t<RollingUpdateDeployment>")

	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\n%s:\n  a: b\n"
	if err := os.WriteFile(good, []byte(fmt.Sprintf(manifest, "data")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(fmt.Sprintf(manifest, "dataa")), 0o600); err != nil {
		t.Fatal(err)
	}
	// Validation on (the default): the valid manifest passes it and reaches
	// the write path (405 without an uplink); the invalid one is stopped by
	// kubectl's own validation against /openapi/v2.
	_, stderr, err := k.try("apply", "-f", good)
	if err == nil || !strings.Contains(stderr, "MethodNotAllowed") || strings.Contains(stderr, "openapi") {
		t.Fatalf("apply of a valid manifest: %v\n%s", err, stderr)
	}
	_, stderr, err = k.try("apply", "-f", bad)
	if err == nil || !strings.Contains(stderr, `unknown field "dataa"`) {
		t.Fatalf("apply of an invalid manifest: %v\n%s", err, stderr)
	}
}

// OpenAPI as kube-apiserver serves it: hash-addressed v3 documents,
// cacheable, ETags, 304, a stale hash redirected.
func TestOpenAPIHTTP(t *testing.T) {
	e := startDemo(t, "")
	code, _, body := httpDo(t, "GET", e.URL()+"/openapi/v3", nil)
	if code != 200 {
		t.Fatalf("/openapi/v3: %d %s", code, body)
	}
	var root struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	mustUnmarshal(t, body, &root)
	for _, gv := range []string{"api/v1", "apis/apps/v1", "apis/devices.kubeedge.io/v1beta1"} {
		if !strings.Contains(root.Paths[gv].ServerRelativeURL, "?hash=") {
			t.Fatalf("no hash-addressed %s in %s", gv, body)
		}
	}
	u := e.URL() + root.Paths["api/v1"].ServerRelativeURL
	resp := rawGet(t, u, nil)
	etag := resp.Header.Get("Etag")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, immutable" || etag == "" {
		t.Fatalf("%s: %d %v", u, resp.StatusCode, resp.Header)
	}
	if resp := rawGet(t, u, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	stale := e.URL() + "/openapi/v3/api/v1?hash=0123"
	if resp := rawGet(t, stale, nil); resp.StatusCode != http.StatusMovedPermanently ||
		resp.Header.Get("Location") != root.Paths["api/v1"].ServerRelativeURL {
		t.Fatalf("stale hash: %d %v", resp.StatusCode, resp.Header)
	}
	resp = rawGet(t, e.URL()+"/openapi/v2", map[string]string{"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" {
		t.Fatalf("/openapi/v2 protobuf: %d %v", resp.StatusCode, resp.Header)
	}
	if code, _, _ := httpDo(t, "GET", e.URL()+"/openapi/v3/apis/nope/v1", nil); code != 404 {
		t.Fatalf("unknown group-version: %d", code)
	}
}

func rawGet(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := *AdminClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// logPod is a running pod with two containers whose logs the test writes.
func logPod() map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web", "namespace": "default", "uid": "3f1c2a9e-web",
			"creationTimestamp": "2026-01-01T00:00:00Z"},
		"spec": map[string]any{"nodeName": "edge-1", "containers": []any{
			map[string]any{"name": "app", "image": "nginx"}, map[string]any{"name": "sidecar", "image": "busybox"}}},
		"status": map[string]any{"phase": "Running", "containerStatuses": []any{
			map[string]any{"name": "app", "ready": true, "restartCount": 1, "image": "nginx", "imageID": "", "state": map[string]any{"running": map[string]any{}}},
			map[string]any{"name": "sidecar", "ready": true, "restartCount": 0, "image": "busybox", "imageID": "", "state": map[string]any{"running": map[string]any{}}}}},
	}
}

// criLine is one CRI log record.
func criLine(at time.Time, text string) string {
	return at.UTC().Format(time.RFC3339Nano) + " stdout F " + text + "\n"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func TestKubectlLogs(t *testing.T) {
	logs := t.TempDir()
	e := startAPI(t, Options{Config: "modules:\n  lwServer:\n    podLogDir: " + logs + "\n"})
	MustOK(t, e.Inject(Msg("insert", "default/pod/web", logPod())))
	k := newKubectl(t, e)

	dir := filepath.Join(logs, "default_web_3f1c2a9e-web")
	now := time.Now()
	old := now.Add(-2 * time.Hour)
	writeFile(t, filepath.Join(dir, "app", "0.log"), criLine(old, "first run")+criLine(old, "first run crashed"))
	current := filepath.Join(dir, "app", "1.log")
	writeFile(t, current, criLine(old, "old line")+
		now.UTC().Format(time.RFC3339Nano)+" stderr P half a "+"\n"+criLine(now, "line")+criLine(now, "last line"))
	writeFile(t, filepath.Join(dir, "sidecar", "0.log"), criLine(now, "sidecar says hi"))

	if out := k.run("logs", "web", "-c", "app"); out != "old line\nhalf a line\nlast line\n" {
		t.Fatalf("logs -c app: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--tail", "1"); out != "last line\n" {
		t.Fatalf("--tail 1: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--since", "1h"); out != "half a line\nlast line\n" {
		t.Fatalf("--since 1h: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--since-time", now.Add(-time.Minute).UTC().Format(time.RFC3339)); out != "half a line\nlast line\n" {
		t.Fatalf("--since-time: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--tail", "1", "--timestamps"); out != now.UTC().Format(time.RFC3339Nano)+" last line\n" {
		t.Fatalf("--timestamps: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--previous"); out != "first run\nfirst run crashed\n" {
		t.Fatalf("--previous: %q", out)
	}
	if out := k.run("logs", "web", "-c", "sidecar"); out != "sidecar says hi\n" {
		t.Fatalf("-c sidecar: %q", out)
	}
	if out := k.run("logs", "web", "-c", "app", "--limit-bytes", "5"); out != "old l" {
		t.Fatalf("--limit-bytes 5: %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", "web", "-c", "nope"}, "container nope is not valid for pod web"},
		{[]string{"logs", "web", "-c", "sidecar", "--previous"}, `previous terminated container "sidecar" in pod "web" not found`},
		{[]string{"logs", "missing", "-c", "app"}, `pods "missing" not found`},
	} {
		if _, stderr, err := k.try(tc.args...); err == nil || !strings.Contains(stderr, tc.want) {
			t.Fatalf("kubectl %v: %v %q, want %q", tc.args, err, stderr, tc.want)
		}
	}

	// -f: the tail, then lines appended, then lines of the file that
	// replaced the rotated one.
	follow := exec.Command(k.bin, "--kubeconfig", k.kcfg, "--cache-dir", k.cacheDir, "logs", "-f", "web", "-c", "app", "--tail", "1")
	follow.Env = append(os.Environ(), "HOME="+filepath.Dir(k.kcfg))
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = follow.Process.Kill(); _ = follow.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got, ok := <-lines:
			if !ok || got != want {
				t.Fatalf("kubectl logs -f: %q (open %v), want %q; stderr %s", got, ok, want, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("kubectl logs -f: no %q; stderr %s", want, stderr.String())
		}
	}
	expect("last line")
	appendFile(t, current, criLine(time.Now(), "appended"))
	expect("appended")
	if err := os.Rename(current, current+"."+time.Now().UTC().Format("20060102-150405")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, current, criLine(time.Now(), "after rotation"))
	expect("after rotation")
	appendFile(t, current, criLine(time.Now(), "and more"))
	expect("and more")
}

func TestKubectlExecAndPortForward(t *testing.T) {
	e := startAPI(t, Options{})
	MustOK(t, e.Inject(Msg("insert", "default/pod/web", logPod())))
	k := newKubectl(t, e)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "web", "-c", "app", "--", "ls"}, "exec is not available through edgecore's API server"},
		{[]string{"attach", "web", "-c", "app"}, "attach is not available through edgecore's API server"},
		{[]string{"port-forward", "pod/web", "18080:80"}, "port-forward is not available through edgecore's API server"},
	} {
		_, stderr, err := k.try(tc.args...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Fatalf("kubectl %v: %v\n%s\nwant %q", tc.args, err, stderr, tc.want)
		}
	}
	base := e.URL() + "/api/v1/namespaces/default/pods/"
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "web/exec?command=ls", 501},
		{"POST", "web/portforward", 501},
		{"GET", "web/proxy/healthz", 501},
		{"GET", "missing/exec", 404},
		{"GET", "web/nosuch", 404},
		{"GET", "web/eviction", 405},
		{"GET", "web/ephemeralcontainers", 200},
		{"POST", "web/log", 405},
	} {
		code, _, body := httpDo(t, tc.method, base+tc.path, nil)
		if code != tc.code {
			t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, code, body, tc.code)
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
