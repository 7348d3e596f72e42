package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// dataDirCase is one environment for defaultDataDir and what it should
// return for a non-root user (root always gets /var/lib/edgecore).
type dataDirCase struct {
	name        string
	xdg, home   string
	wantNonRoot func() string
}

var dataDirCases = []dataDirCase{
	{"XDG_STATE_HOME set", "/xdg/state", "/home/u", func() string { return "/xdg/state/edgecore" }},
	{"XDG_STATE_HOME with trailing slash", "/xdg/state/", "/home/u", func() string { return "/xdg/state/edgecore" }},
	{"XDG_STATE_HOME unset", "", "/home/u", func() string { return "/home/u/.local/state/edgecore" }},
	// The XDG spec: a relative path is invalid and is ignored.
	{"XDG_STATE_HOME relative", "rel/state", "/home/u", func() string { return "/home/u/.local/state/edgecore" }},
	{"no XDG_STATE_HOME, no HOME", "", "", func() string {
		return filepath.Join(os.TempDir(), fmt.Sprintf("edgecore-%d", os.Geteuid()))
	}},
}

func checkDataDirCases(t *testing.T, root bool) {
	for _, c := range dataDirCases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", c.xdg)
			t.Setenv("HOME", c.home)
			want := "/var/lib/edgecore"
			if !root {
				want = c.wantNonRoot()
			}
			if got := defaultDataDir(); got != want {
				t.Errorf("defaultDataDir() with XDG_STATE_HOME=%q HOME=%q = %q, want %q", c.xdg, c.home, got, want)
			}
		})
	}
}

// defaultDataDir reads os.Geteuid itself, so the branch for the other kind
// of user runs in a copy of this test binary started as nobody (when the
// tests run as root; as non-root the root branch cannot be reached).
func TestDefaultDataDir(t *testing.T) {
	if os.Getenv("EDGECORE_TEST_DATADIR_CHILD") == "1" {
		checkDataDirCases(t, os.Geteuid() == 0)
		return
	}
	root := os.Geteuid() == 0
	t.Run(fmt.Sprintf("euid=%d", os.Geteuid()), func(t *testing.T) { checkDataDirCases(t, root) })
	if !root {
		t.Log("not root: the /var/lib/edgecore branch is not exercised")
		return
	}
	t.Run("euid=65534", func(t *testing.T) {
		// The test binary may sit in a directory nobody cannot enter.
		dir, err := os.MkdirTemp("", "ecdd")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "edgecore.test")
		if err := copyExecutable(os.Args[0], bin); err != nil {
			t.Skipf("copy test binary: %v", err)
		}
		cmd := exec.Command(bin, "-test.run=^TestDefaultDataDir$", "-test.v")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "EDGECORE_TEST_DATADIR_CHILD=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Skipf("cannot start the test binary as nobody: %v", err)
			}
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
		t.Logf("as nobody:\n%s", out)
	})
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
