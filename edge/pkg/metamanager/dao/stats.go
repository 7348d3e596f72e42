package dao

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"time"
)

// StorageStats are the store's sizes against its bounds, for /metrics
// (docs/reliability.md "Storage bounds").
type StorageStats struct {
	// DBBytes and WALBytes are the sizes of edgecore.db and edgecore.db-wal.
	DBBytes, WALBytes int64
	// FreeBytes is the part of DBBytes on SQLite's freelist (reused by new
	// writes, or returned by compaction).
	FreeBytes int64
	// Events is the number of retained events, EventBytes what they store
	// (bounded by Options.WindowBytes), OldestEventAge the age of the oldest
	// (0 with none).
	Events, EventBytes int64
	OldestEventAge     time.Duration
}

// StorageStats reads the sizes (a few stats and small queries).
func (s *Store) StorageStats(ctx context.Context) (StorageStats, error) {
	st := StorageStats{Events: s.rev.Load() - s.compacted.Load()}
	var err error
	if st.DBBytes, err = fileSize(s.path); err != nil {
		return st, err
	}
	if st.WALBytes, err = fileSize(s.path + "-wal"); err != nil {
		return st, err
	}
	var free, pageSize int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return st, err
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return st, err
	}
	st.FreeBytes = free * pageSize
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='event_bytes'`).Scan(&st.EventBytes); err != nil {
		return st, err
	}
	var created int64
	err = s.db.QueryRowContext(ctx, `SELECT created_at FROM events WHERE revision > ? ORDER BY revision LIMIT 1`, s.compacted.Load()).Scan(&created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return st, err
	default:
		st.OldestEventAge = time.Since(time.Unix(0, created))
	}
	return st, nil
}

// fileSize is the size of the file at p, 0 when there is none.
func fileSize(p string) (int64, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// EventLogWindowBytes is the event log's byte cap in effect (Options.WindowBytes
// after defaults; < 0 = none).
func (s *Store) EventLogWindowBytes() int64 { return s.opts.WindowBytes }

// countEventBytes adds the meta row the event-log byte triggers keep, for
// a store created before them: one scan of the events, once (a row that
// exists is left alone, so a normal start reads nothing).
func (s *Store) countEventBytes() error {
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM meta WHERE key='event_bytes'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := s.db.Exec(`INSERT OR IGNORE INTO meta (key, value) SELECT 'event_bytes', ifnull(sum(` + eventBytesExpr("") + `), 0) FROM events`)
	return err
}
