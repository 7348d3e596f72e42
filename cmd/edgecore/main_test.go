package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
)

// run's argument handling up to (not including) serving.
func TestRunArgs(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("modules:\n  lwServer:\n    adress: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"--defaultconfig", []string{"--defaultconfig"}, 0, []string{"modules:", "lwServer:", "address: 127.0.0.1:10550"}, nil},
		// --defaultconfig prints the embedded default, whatever else is set.
		{"--defaultconfig ignores overrides", []string{"--defaultconfig", "--lwserver-address", "0.0.0.0:1", "--data-dir", "/x"}, 0, []string{"address: 127.0.0.1:10550", `dataDir: ""`}, nil},
		{"-h", []string{"-h"}, 0, nil, []string{"usage: edgecore [flags]", "edgecore inject", "-lwserver-address", "-data-dir", "-config", "-defaultconfig"}},
		{"unknown flag", []string{"--no-such-flag"}, 2, nil, []string{"flag provided but not defined"}},
		{"unexpected argument", []string{"serve"}, 2, nil, []string{`unexpected argument "serve"`}},
		{"missing config file", []string{"--config", filepath.Join(dir, "absent.yaml")}, 2, nil, []string{"edgecore:", "absent.yaml"}},
		{"unknown key in config", []string{"--config", badConfig}, 2, nil, []string{"edgecore: config " + badConfig, `unknown field "adress"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("run %v = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
		})
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// run serves in-process: --lwserver-address overrides the config file's
// lwServer.address and --data-dir its dataDir, and SIGTERM ends it with 0.
// (beehive's module registry is process-global, so this is the only test
// that may call serve.)
func TestRunServesWithOverrides(t *testing.T) {
	dataDir, err := os.MkdirTemp("", "ecrun") // short: the socket lives here
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dataDir)
	configDataDir := filepath.Join(t.TempDir(), "from-config")
	configAddr, flagAddr := freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "edgecore.yaml")
	content := fmt.Sprintf("dataDir: %s\nmemoryLimitMiB: 0\nmodules:\n  lwServer:\n    address: %s\n", configDataDir, configAddr)
	if err := os.WriteFile(config, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--config", config, "--data-dir", dataDir, "--lwserver-address", flagAddr}, &stdout, &stderr)
	}()

	// Wait until the ingress socket and (in a build with lwserver) the API
	// on the flag's address answer.
	deadline := time.Now().Add(3 * time.Second)
	// Once the socket answers, serve has its signal handler installed and a
	// SIGTERM stops it rather than this test binary.
	canSignal := false
	waitFor := func(what string, try func() error) {
		t.Helper()
		for {
			select {
			case code := <-done:
				t.Fatalf("run returned %d before serving; stderr: %s", code, stderr.String())
			default:
			}
			err := try()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				if canSignal {
					syscall.Kill(os.Getpid(), syscall.SIGTERM)
				}
				t.Fatalf("%s: %v", what, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("ingress socket in --data-dir", func() error {
		c, err := net.Dial("unix", filepath.Join(dataDir, edgehub.SocketName))
		if err == nil {
			c.Close()
		}
		return err
	})
	canSignal = true
	if haveLWServer {
		// HTTPS with the admin kubeconfig written into the data dir (0600).
		kc := filepath.Join(dataDir, "kubeconfig")
		waitFor("kubeconfig "+kc, func() error {
			st, err := os.Stat(kc)
			if err == nil && st.Mode().Perm() != 0o600 {
				t.Fatalf("kubeconfig mode %v, want 0600", st.Mode().Perm())
			}
			return err
		})
		rc, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Host != "https://"+flagAddr {
			t.Fatalf("kubeconfig server %s, want https://%s", rc.Host, flagAddr)
		}
		client, err := rest.HTTPClientFor(rc)
		if err != nil {
			t.Fatal(err)
		}
		waitFor("API on --lwserver-address "+flagAddr, func() error {
			resp, err := client.Get("https://" + flagAddr + "/api/v1/pods")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET /api/v1/pods as admin: %s", resp.Status)
				}
			}
			return err
		})
	}

	if c, err := net.DialTimeout("tcp", configAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on the config's address %s although --lwserver-address was given", configAddr)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "edgecore.db")); err != nil {
		t.Errorf("--data-dir: %v", err)
	}
	if _, err := os.Stat(configDataDir); err == nil {
		t.Errorf("the config's dataDir %s was created although --data-dir was given", configDataDir)
	}

	// The ingress socket is in the data dir and answers inject.
	var iout, ierr bytes.Buffer
	if code := runInject([]string{"--data-dir", dataDir, "--timeout", "3s"}, strings.NewReader("not json\n"), &iout, &ierr); code != 1 {
		t.Errorf("inject of a bad line = %d, want 1 (an error reply)\nstdout: %s\nstderr: %s", code, iout.String(), ierr.String())
	}
	if !strings.Contains(iout.String(), `"error"`) || !strings.Contains(ierr.String(), "1 messages, 1 replies, 1 errors") {
		t.Errorf("inject: stdout %s stderr %s", iout.String(), ierr.String())
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run after SIGTERM = %d, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return within 5 s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dataDir, edgehub.SocketName)); err == nil {
		t.Errorf("socket left behind after shutdown")
	}
}
