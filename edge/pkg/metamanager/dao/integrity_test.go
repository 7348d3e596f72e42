package dao

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fillPods stores n ~4 KB pods.
func fillPods(tb testing.TB, s *Store, n int) {
	tb.Helper()
	for i := 0; i < n; i += 500 {
		err := s.Update(context.Background(), func(tx Tx) error {
			for j := i; j < i+500 && j < n; j++ {
				if _, err := tx.Put(benchPod(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// damagePages overwrites the pages [from, to) of the database file at path
// with a byte pattern, as a failing disk or a stray writer would.
func damagePages(tb testing.TB, path string, from, to int64) {
	tb.Helper()
	size := filePageSize(tb, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	junk := []byte(strings.Repeat("\xa5", int(size)))
	for p := from; p < to; p++ {
		if _, err := f.WriteAt(junk, p*size); err != nil {
			tb.Fatal(err)
		}
	}
}

// pageCount is the number of pages the database file at path holds.
func pageCount(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size() / filePageSize(tb, path)
}

// filePageSize reads the page size from the database file's header (two
// big-endian bytes at offset 16; 1 means 65536).
func filePageSize(tb testing.TB, path string) int64 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var h [2]byte
	if _, err := f.ReadAt(h[:], 16); err != nil {
		tb.Fatal(err)
	}
	if n := int64(h[0])<<8 | int64(h[1]); n != 1 {
		return n
	}
	return 65536
}

func TestOpenRefusesDamagedStore(t *testing.T) {
	for _, mode := range []CheckMode{CheckQuick, CheckFull} {
		t.Run(string(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "edgecore.db")
			s, err := Open(path, Options{CompactInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			fillPods(t, s, 1000)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			n := pageCount(t, path)
			damagePages(t, path, n/2, n/2+4)
			_, err = Open(path, Options{CompactInterval: -1, StartupCheck: mode})
			var f *Fault
			if !errors.As(err, &f) || f.Kind != FaultDamaged || !f.Damaged() {
				t.Fatalf("Open of a damaged store: %v, want a FaultDamaged", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
			t.Logf("%v", err)
		})
	}
}

func TestOpenNamesTheCause(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	os.Mkdir(garbage, 0o700)
	if err := os.WriteFile(filepath.Join(garbage, "edgecore.db"), []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	dirAsDB := filepath.Join(dir, "dirdb")
	os.MkdirAll(filepath.Join(dirAsDB, "edgecore.db"), 0o700)
	for _, tc := range []struct {
		name string
		path string
		kind FaultKind
	}{
		{"data dir is a file", filepath.Join(notDir, "edgecore.db"), FaultNotADir},
		{"data dir missing", filepath.Join(dir, "nope", "edgecore.db"), FaultMissing},
		{"not a database", filepath.Join(garbage, "edgecore.db"), FaultNotADatabase},
		{"database is a directory", filepath.Join(dirAsDB, "edgecore.db"), FaultOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.path, Options{CompactInterval: -1})
			var f *Fault
			if !errors.As(err, &f) || f.Kind != tc.kind {
				t.Fatalf("Open: %v, want a Fault of kind %q", err, tc.kind)
			}
			if !strings.Contains(err.Error(), filepath.Dir(tc.path)) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

// TestDamageMetAtRunTime: pages overwritten behind the store's back are met
// by a list; the store fails: the list and every later write get an
// ErrStoreFailed without SQLite's text, and Health reports it.
func TestDamageMetAtRunTime(t *testing.T) {
	s, path := openTest(t, Options{})
	fillPods(t, s, 2000)
	if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	if s.Health() != nil {
		t.Fatalf("healthy store: Health = %v", s.Health())
	}
	n := pageCount(t, path)
	damagePages(t, path, 2, n)
	_, err := s.List(context.Background(), podsGVR, ListOptions{})
	if !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("List over damaged pages: %v, want ErrStoreFailed", err)
	}
	if strings.Contains(err.Error(), "malformed") {
		t.Errorf("the error carries SQLite's text: %q", err)
	}
	if h := s.Health(); !errors.Is(h, ErrStoreFailed) {
		t.Fatalf("Health after damage = %v", h)
	}
	err = s.Update(context.Background(), func(tx Tx) error {
		_, err := tx.Put(benchPod(99999))
		return err
	})
	if !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("Update on a failed store: %v, want ErrStoreFailed", err)
	}
}

// TestFilesRemovedUnderneath: with the WAL (or the database) removed or
// replaced while open, the next commit is not acknowledged, and the monitor
// notices without any write.
func TestFilesRemovedUnderneath(t *testing.T) {
	put := func(s *Store, i int) error {
		return s.Update(context.Background(), func(tx Tx) error {
			_, err := tx.Put(benchPod(i))
			return err
		})
	}
	for _, tc := range []struct {
		name   string
		break_ func(path string) error
		write  bool
	}{
		{"wal removed, then a write", func(p string) error { return os.Remove(p + "-wal") }, true},
		{"db removed, no write", func(p string) error { return os.Remove(p) }, false},
		{"db replaced by a copy", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p+".new", b, 0o600); err != nil {
				return err
			}
			return os.Rename(p+".new", p)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t, Options{})
			if err := put(s, 1); err != nil {
				t.Fatal(err)
			}
			if err := tc.break_(path); err != nil {
				t.Fatal(err)
			}
			if tc.write {
				if err := put(s, 2); !errors.Is(err, ErrStoreFailed) {
					t.Fatalf("write after the files changed: %v, want ErrStoreFailed", err)
				}
			} else {
				deadline := time.Now().Add(5 * healthCheckInterval)
				for s.Health() == nil && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if h := s.Health(); !errors.Is(h, ErrStoreFailed) {
				t.Fatalf("Health = %v, want ErrStoreFailed", h)
			}
			if err := put(s, 3); !errors.Is(err, ErrStoreFailed) {
				t.Fatalf("later write: %v, want ErrStoreFailed", err)
			}
		})
	}
}
