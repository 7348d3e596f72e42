package dao

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// eventLogBytes returns the count the store keeps and the sum over the rows.
func eventLogBytes(t *testing.T, s *Store) (kept, actual int64) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key='event_bytes'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`SELECT ifnull(sum(` + eventBytesExpr("") + `),0) FROM events`).Scan(&actual); err != nil {
		t.Fatal(err)
	}
	return kept, actual
}

func updatePods(t *testing.T, s *Store, objects, rounds int) {
	t.Helper()
	for r := 0; r < rounds; r++ {
		fillPods(t, s, objects)
	}
}

// TestEventLogByteCap: with count and age windows that keep everything, the
// byte cap still compacts the oldest events until the log fits; the
// trigger-kept byte count matches the rows.
func TestEventLogByteCap(t *testing.T) {
	const budget = 1 << 20
	s, _ := openTest(t, Options{WindowEvents: 1_000_000, WindowAge: 24 * time.Hour, WindowBytes: budget})
	updatePods(t, s, 200, 5)
	kept, actual := eventLogBytes(t, s)
	if kept != actual || kept <= budget {
		t.Fatalf("before compaction: kept %d, actual %d (want equal, over %d)", kept, actual, budget)
	}
	if err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept, actual = eventLogBytes(t, s)
	if kept != actual || kept > budget || kept == 0 {
		t.Fatalf("after compaction: kept %d, actual %d, want equal and in (0, %d]", kept, actual, budget)
	}
	if s.CompactedRevision() == 0 {
		t.Fatal("nothing compacted")
	}
	evs, err := s.Events(context.Background(), s.CompactedRevision(), 0)
	if err != nil || int64(len(evs)) != s.Revision()-s.CompactedRevision() {
		t.Fatalf("events after %d: %d (%v), want %d", s.CompactedRevision(), len(evs), err, s.Revision()-s.CompactedRevision())
	}
	st, err := s.StorageStats(context.Background())
	if err != nil || st.EventBytes != kept || st.Events != int64(len(evs)) {
		t.Fatalf("StorageStats = %+v, %v", st, err)
	}
}

// TestEventBytesCountedForOldStores: a store from before the byte count
// (no meta row, no triggers) gets it counted when opened.
func TestEventBytesCountedForOldStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edgecore.db")
	s, err := Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	fillPods(t, s, 300)
	for _, q := range []string{`DROP TRIGGER events_bytes_del`, `DELETE FROM meta WHERE key='event_bytes'`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fillPods(t, s, 100)
	if kept, actual := eventLogBytes(t, s); kept != actual || kept == 0 {
		t.Fatalf("kept %d, actual %d", kept, actual)
	}
}

// TestFreedPagesReturned: a new store is created with
// auto_vacuum=INCREMENTAL; once most of it is compacted away, compaction
// returns the free pages and the file shrinks.
func TestFreedPagesReturned(t *testing.T) {
	s, path := openTest(t, Options{WindowEvents: -1, WindowAge: -1, WindowBytes: -1})
	if !s.incrementalVacuum {
		t.Fatal("new store not created with auto_vacuum=INCREMENTAL")
	}
	updatePods(t, s, 500, 4)
	var before int64
	s.db.QueryRow("PRAGMA page_count").Scan(&before)
	s.opts.WindowEvents, s.opts.WindowAge = 10, -1
	if err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	var after, free int64
	s.db.QueryRow("PRAGMA page_count").Scan(&after)
	s.db.QueryRow("PRAGMA freelist_count").Scan(&free)
	if after*2 > before || (free >= s.vacuumFreeMin() && free*4 > after) {
		t.Fatalf("pages %d -> %d (free %d): freed pages not returned", before, after, free)
	}
	checkpoint := func() {
		if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint()
	if n := pageCount(t, path); n > after {
		t.Fatalf("file holds %d pages after the checkpoint, the database %d", n, after)
	}
	t.Logf("pages %d -> %d", before, after)
}

// TestWALTruncatedWhenIdle: once writes pause, the checkpointer truncates
// the WAL to zero bytes.
func TestWALTruncatedWhenIdle(t *testing.T) {
	s, path := openTest(t, Options{})
	fillPods(t, s, 2000)
	grown, _ := fileSize(path + "-wal")
	deadline := time.Now().Add(10 * walIdleTruncate)
	for {
		n, err := fileSize(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes %v after the last write", n, 10*walIdleTruncate)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, err := s.StorageStats(context.Background()); err != nil || st.WALBytes != 0 || st.DBBytes == 0 {
		t.Fatalf("StorageStats = %+v, %v", st, err)
	}
	t.Logf("WAL %d bytes after the writes, 0 once idle", grown)
}

// TestPageSizeMigrated: a store created at another page size (4 KiB, the
// size before DefaultPageSize) is rebuilt at the configured size when
// opened, with its objects, revision and event log intact, and stays in WAL
// mode; a bad PageSize is refused.
func TestPageSizeMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edgecore.db")
	s, err := Open(path, Options{CompactInterval: -1, PageSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	fillPods(t, s, 300)
	rev := s.Revision()
	s.Close()
	if n := filePageSize(t, path); n != 4096 {
		t.Fatalf("created at page size %d, want 4096", n)
	}
	s, err = Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v; want wal", mode, err)
	}
	if s.pageSize != DefaultPageSize || filePageSize(t, path) != DefaultPageSize {
		t.Fatalf("page size %d (file %d), want %d", s.pageSize, filePageSize(t, path), DefaultPageSize)
	}
	res, err := s.List(context.Background(), podsGVR, ListOptions{})
	if err != nil || len(res.Items) != 300 || s.Revision() != rev {
		t.Fatalf("after the rebuild: %d pods, revision %d (want 300, %d), %v", len(res.Items), s.Revision(), rev, err)
	}
	var events int
	if err := s.db.QueryRow("SELECT count(*) FROM events").Scan(&events); err != nil || events != 300 {
		t.Fatalf("%d events, %v; want 300", events, err)
	}
	fillPods(t, s, 10)
	for _, n := range []int{100, 3000, 1 << 17} {
		if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{PageSize: n}); err == nil {
			t.Errorf("PageSize %d accepted", n)
		}
	}
}
