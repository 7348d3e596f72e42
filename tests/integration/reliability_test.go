package integration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Exit codes of edgecore for a store it refuses (cmd/edgecore/exitcode.go,
// docs/reliability.md).
const (
	exitStoreDamaged  = 3
	exitStoreUnusable = 4
)

// runRefused runs the edgecore binary on dataDir and expects it to refuse
// to start:
// it returns the exit code and the output. A start that serves instead is a
// failure (it is killed after 20 s). See runRefusedCmd for a wrapper.
func runRefused(t *testing.T, dataDir string) (int, string) {
	t.Helper()
	return runRefusedCmd(t, []string{EdgecoreBinary()}, dataDir)
}

// expectRefusal checks the exit code and that the message names the cause
// and the path, and not SQLite's misleading "unable to open database file".
func expectRefusal(t *testing.T, code int, out string, wantCode int, wantCause, wantPath string) {
	t.Helper()
	if code != wantCode || !strings.Contains(out, wantCause) || !strings.Contains(out, wantPath) {
		t.Fatalf("exit %d, want %d with %q and the path %s in:\n%s", code, wantCode, wantCause, wantPath, tail(out, 10))
	}
	if strings.Contains(out, "unable to open database file") {
		t.Errorf("the message still says SQLite's %q:\n%s", "unable to open database file", tail(out, 10))
	}
	t.Logf("exit %d: %s", code, lastLine(out))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// fillConfigMaps stores n configmaps of ~3 KB (several MB of pages).
func fillConfigMaps(t *testing.T, e *Edgecore, n int) {
	t.Helper()
	msgs := make([]any, 0, n)
	for i := 0; i < n; i++ {
		msgs = append(msgs, MsgRV("insert", fmt.Sprintf("default/configmap/cm-%05d", i), "1",
			map[string]any{"data": map[string]any{"payload": strings.Repeat(fmt.Sprintf("%05d-", i), 500)}}))
	}
	MustOK(t, e.Inject(msgs...))
}

// damagePages overwrites the database file's pages [from, to) (4 KiB) with a
// byte pattern, as a failing disk or a stray writer would.
func damagePages(t *testing.T, path string, from, to int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if n := fi.Size() / 4096; to > n || to < 0 {
		to = n
	}
	junk := []byte(strings.Repeat("\xa5", 4096))
	for p := from; p < to; p++ {
		if _, err := f.WriteAt(junk, p*4096); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("overwrote pages %d..%d of %s", from, to-1, path)
}

// checkpoint moves everything the WAL holds into the database file, from
// another process as an operator's sqlite3 shell would (retried while
// edgecore's own checkpointer holds the checkpoint lock).
func checkpoint(t *testing.T, path string) {
	t.Helper()
	db := sql.OpenDB(sqliteConnector(path + "?_busy_timeout=10000"))
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var busy, log, done int
		if err := db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("checkpoint: still busy after 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteConnector opens dsn with mattn/go-sqlite3 without registering a
// driver name.
type sqliteConnector string

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite3.SQLiteDriver{}).Open(string(c))
}
func (c sqliteConnector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// getRaw is one GET returning code and body.
func getRaw(t *testing.T, url string) (int, string) {
	t.Helper()
	code, _, body := httpDo(t, http.MethodGet, url, nil)
	return code, string(body)
}

// TestReliabilityDamagedStoreRefusedAtStart: a store with four overwritten
// pages is refused at start (exit 3, the path and "damaged"); nothing is
// served from it.
func TestReliabilityDamagedStoreRefusedAtStart(t *testing.T) {
	e := StartEdgecore(t, Options{})
	fillConfigMaps(t, e, 1500)
	e.Stop()
	db := filepath.Join(e.DataDir, "edgecore.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	mid := fi.Size() / 4096 / 2
	damagePages(t, db, mid, mid+4)
	code, out := runRefused(t, e.DataDir)
	expectRefusal(t, code, out, exitStoreDamaged, "damaged", db)
}

// TestReliabilityDamageMetAtRunTime: pages overwritten while edgecore runs
// are met by a list: that request gets a 500 Status without SQLite's text,
// /readyz fails naming the damage, and writes are no longer acknowledged.
func TestReliabilityDamageMetAtRunTime(t *testing.T) {
	e := startAPI(t, Options{})
	fillConfigMaps(t, e, 1500)
	db := filepath.Join(e.DataDir, "edgecore.db")
	checkpoint(t, db)
	damagePages(t, db, 2, -1)

	code, body := getRaw(t, e.URL()+"/api/v1/namespaces/default/configmaps")
	st := mustStatus(t, []byte(body))
	if code != http.StatusInternalServerError || st.Code != 500 {
		t.Fatalf("list over damaged pages: %d %s", code, body)
	}
	for _, leak := range []string{"malformed", "sqlite", "SQLITE", "disk image"} {
		if strings.Contains(st.Message, leak) {
			t.Errorf("the 500's message carries internal error text (%q): %s", leak, st.Message)
		}
	}
	if !strings.Contains(st.Message, "damaged") {
		t.Errorf("the 500's message does not say the store is damaged: %s", st.Message)
	}
	if code, body := getRaw(t, e.URL()+"/readyz"); code != http.StatusInternalServerError || !strings.Contains(body, "damaged") {
		t.Errorf("/readyz after damage: %d %q", code, body)
	}
	for _, r := range e.Inject(MsgRV("update", "default/configmap/cm-00001", "2", map[string]any{"data": map[string]any{"k": "v"}})) {
		if r.OK() || !strings.Contains(r.Err(), "damaged") {
			t.Errorf("a write after the damage: %s, want an error naming the damage", r.Raw)
		}
	}
	if !strings.Contains(e.Logs(), "STORE FAILED") {
		t.Errorf("the log does not say the store failed:\n%s", tail(e.Logs(), 10))
	}
}

// TestReliabilityWALRemoved: with edgecore.db-wal deleted while edgecore
// runs, no further write is acknowledged and /readyz fails.
func TestReliabilityWALRemoved(t *testing.T) {
	e := startAPI(t, Options{})
	fillConfigMaps(t, e, 100)
	if err := os.Remove(filepath.Join(e.DataDir, "edgecore.db-wal")); err != nil {
		t.Fatal(err)
	}
	oks := 0
	for i := 0; i < 200; i++ {
		for _, r := range e.Inject(MsgRV("update", fmt.Sprintf("default/configmap/cm-%05d", i%100), fmt.Sprint(2+i), map[string]any{"data": map[string]any{"i": fmt.Sprint(i)}})) {
			if r.OK() {
				oks++
			}
		}
	}
	if oks != 0 {
		t.Fatalf("%d of 200 updates acknowledged after the WAL was removed", oks)
	}
	if code, body := getRaw(t, e.URL()+"/readyz"); code != http.StatusInternalServerError || !strings.Contains(body, "removed or replaced") {
		t.Errorf("/readyz after the WAL was removed: %d %q", code, body)
	}
	if !strings.Contains(e.Logs(), "edgecore.db-wal: removed or replaced while in use") {
		t.Errorf("the log does not name the removed file:\n%s", tail(e.Logs(), 10))
	}
}

// TestReliabilityStartErrorsNameTheCause: stores edgecore cannot use are
// refused with the cause and the path.
func TestReliabilityStartErrorsNameTheCause(t *testing.T) {
	t.Run("not a database", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "edgecore.db")
		if err := os.WriteFile(db, []byte(strings.Repeat("this is not SQLite\n", 500)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runRefused(t, dir)
		expectRefusal(t, code, out, exitStoreDamaged, "not a database", db)
	})
	t.Run("data dir is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		code, out := runRefused(t, f)
		expectRefusal(t, code, out, exitStoreUnusable, "not a directory (ENOTDIR)", f)
	})
	t.Run("EACCES", func(t *testing.T) {
		dir := sharedTempDir(t)
		if os.Geteuid() != 0 {
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			code, out := runRefused(t, dir)
			expectRefusal(t, code, out, exitStoreUnusable, "permission denied (EACCES)", dir)
			return
		}
		// As root, permissions do not bite: run edgecore as nobody on a
		// directory root owns (mode 0755).
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root without setpriv: cannot drop privileges to meet EACCES")
		}
		bin := sharedBinary(t)
		args := []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin}
		code, out := runRefusedCmd(t, args, dir)
		expectRefusal(t, code, out, exitStoreUnusable, "permission denied (EACCES)", dir)
	})
	t.Run("EROFS", func(t *testing.T) {
		dir := t.TempDir()
		code, out := inMountNamespace(t, fmt.Sprintf("mount --bind %[1]s %[1]s && mount -o remount,bind,ro %[1]s", dir), dir)
		expectRefusal(t, code, out, exitStoreUnusable, "read-only file system (EROFS)", dir)
	})
	t.Run("disk full", func(t *testing.T) {
		dir := t.TempDir()
		code, out := inMountNamespace(t, fmt.Sprintf("mount -t tmpfs -o size=256k tmpfs %[1]s && (dd if=/dev/zero of=%[1]s/fill bs=4k 2>/dev/null; true)", dir), dir)
		expectRefusal(t, code, out, exitStoreUnusable, "disk full (ENOSPC)", dir)
	})
}

// sharedTempDir is a temporary directory other users may traverse (0755,
// under os.TempDir, not under the test's 0700 TempDir).
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ec-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharedBinary is a copy of the edgecore binary any user may run.
func sharedBinary(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(EdgecoreBinary())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sharedTempDir(t), "edgecore")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// runRefusedCmd is runRefused with the command that runs edgecore (a
// wrapper such as setpriv first, the binary last).
func runRefusedCmd(t *testing.T, args []string, dataDir string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args = append(args, "--data-dir", dataDir, "--lwserver-address", freeAddr(t))
	return refusal(t, ctx, dataDir, exec.CommandContext(ctx, args[0], args[1:]...))
}

// refusal runs cmd (edgecore on dataDir) and returns its exit code and
// output; a start that is still serving when ctx ends fails the test.
func refusal(t *testing.T, ctx context.Context, dataDir string, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("edgecore served on %s instead of refusing it:\n%s", dataDir, tail(string(out), 20))
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("edgecore on %s: %v, want a refusal\n%s", dataDir, err, tail(string(out), 20))
	}
	return ee.ExitCode(), string(out)
}

// inMountNamespace prepares dataDir with setup (shell, as root, in a
// private mount namespace: nothing is left mounted) and runs edgecore on it
// there. Skipped, with the reason, where mount namespaces are not permitted.
func inMountNamespace(t *testing.T, setup, dataDir string) (int, string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1): cannot make a private mount namespace")
	}
	probe := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c", setup)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot prepare the file system in a private mount namespace (needs root with CAP_SYS_ADMIN): %v: %s", err, strings.TrimSpace(string(out)))
	}
	script := setup + ` && exec "$0" --data-dir "$1" --lwserver-address "$2"`
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return refusal(t, ctx, dataDir, exec.CommandContext(ctx, unshare, "-m", "--propagation", "private", "sh", "-c", script,
		EdgecoreBinary(), dataDir, freeAddr(t)))
}

// TestReliabilityStorageBounds: with a 2 MiB byte cap (count and age
// windows that would keep everything), the event log is compacted to fit,
// the WAL is truncated once writes pause, and /metrics shows the sizes.
func TestReliabilityStorageBounds(t *testing.T) {
	const budget = 2 << 20
	e := startAPI(t, Options{Config: fmt.Sprintf("modules:\n  metaManager:\n    eventLogWindowBytes: %d\n", budget)})
	for round := 0; round < 10; round++ {
		msgs := make([]any, 0, 200)
		for i := 0; i < 200; i++ {
			msgs = append(msgs, MsgRV("update", fmt.Sprintf("default/configmap/cm-%03d", i), fmt.Sprint(round+1),
				map[string]any{"data": map[string]any{"payload": strings.Repeat(fmt.Sprintf("%03d-%d.", i, round), 500)}}))
		}
		MustOK(t, e.Inject(msgs...))
	}
	deadline := time.Now().Add(30 * time.Second)
	var text string
	for {
		_, _, body := httpDo(t, http.MethodGet, e.URL()+"/metrics", nil)
		text = string(body)
		eb, wal := metricValue(text, "edgecore_event_log_bytes"), metricValue(text, "edgecore_store_wal_bytes")
		if eb > 0 && eb <= budget && wal == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event log %d bytes (cap %d), WAL %d bytes, 30 s after the writes", eb, budget, wal)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, m := range []string{"edgecore_store_db_bytes", "edgecore_store_free_bytes", "edgecore_event_log_events",
		"edgecore_event_log_oldest_age_seconds", "edgecore_event_log_bytes_limit", "edgecore_store_healthy"} {
		if metricValue(text, m) < 0 {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if metricValue(text, "edgecore_event_log_bytes_limit") != budget || metricValue(text, "edgecore_store_healthy") != 1 {
		t.Errorf("limit %d healthy %d", metricValue(text, "edgecore_event_log_bytes_limit"), metricValue(text, "edgecore_store_healthy"))
	}
	if n := metricValue(text, "edgecore_event_log_events"); n <= 0 || n >= 2000 {
		t.Errorf("%d events retained of 2000, want some and not all", n)
	}
	t.Logf("db %d bytes, event log %d events / %d bytes", metricValue(text, "edgecore_store_db_bytes"),
		metricValue(text, "edgecore_event_log_events"), metricValue(text, "edgecore_event_log_bytes"))
}
