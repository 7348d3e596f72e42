package dao

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// compactAll runs compaction chunks until nothing is left to compact.
func (s *Store) compactAll() error {
	now := time.Now()
	for {
		n, err := s.compactChunk(now)
		if err != nil || n == 0 {
			return err
		}
	}
}

// compactChunk deletes up to compactChunk of the oldest events that are
// either both beyond the last WindowEvents events and older than WindowAge,
// or beyond the byte cap (WindowBytes: the oldest go until the log fits),
// advances the compacted revision to the highest deleted one and drops the
// tombstones at or below it. It runs on the writer goroutine, in its own
// small transaction. With no event to compact it returns freed pages to
// the file system instead (vacuumStep).
func (s *Store) compactChunk(now time.Time) (int, error) {
	ctx := context.Background()
	cur := s.rev.Load()
	from := s.compacted.Load()
	limitRev := cur
	if s.opts.WindowEvents > 0 {
		limitRev = cur - int64(s.opts.WindowEvents)
	}
	over, err := s.eventBytesOver(ctx)
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	if limitRev <= from && over <= 0 {
		return s.vacuumStep(ctx)
	}
	ageCut := int64(math.MaxInt64)
	if s.opts.WindowAge > 0 {
		ageCut = now.Add(-s.opts.WindowAge).UnixNano()
	}
	c := s.wconn
	// The deletable events are a prefix of the log (in revision order): stop
	// at the first one neither window lets go. Only the writer writes, so
	// what it reads here outside a transaction cannot change before the delete.
	rows, err := c.QueryContext(ctx, `SELECT revision, created_at, `+eventBytesExpr("")+` FROM events WHERE revision > ? ORDER BY revision LIMIT ?`,
		from, compactChunk)
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	upto, n := from, 0
	for rows.Next() {
		var rev, created, size int64
		if err := rows.Scan(&rev, &created, &size); err != nil {
			rows.Close()
			return 0, err
		}
		if over <= 0 && (rev > limitRev || created >= ageCut) {
			break
		}
		over -= size
		upto = rev
		n++
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, fmt.Errorf("compact: begin: %w", err)
	}
	commit := false
	defer func() {
		if !commit {
			_, _ = c.ExecContext(ctx, "ROLLBACK")
		}
	}()
	if _, err := c.ExecContext(ctx, `DELETE FROM events WHERE revision > ? AND revision <= ?`, from, upto); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM tombstones WHERE revision <= ?`, upto); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	if _, err := s.ws.setMeta.Exec(upto, "compacted"); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("compact: commit: %w", err)
	}
	commit = true
	s.compacted.Store(upto)
	s.kickCheckpoint()
	return n, nil
}

func isFatalSQLite(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCorrupt, sqlite3.ErrNotADB, sqlite3.ErrCantOpen, sqlite3.ErrNomem:
		return true
	}
	return false
}

// eventBytesExpr is the bytes one event row stores (its blobs and texts),
// for the row named prefix ("NEW.", "OLD." in triggers, "" in a query).
func eventBytesExpr(prefix string) string {
	cols := []string{"data", "prev_data", "labels", "fields", "prev_labels", "prev_fields"}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "ifnull(length(" + prefix + c + "),0)"
	}
	return "(" + strings.Join(parts, "+") + ")"
}

// eventBytesOver is how many bytes the event log holds beyond WindowBytes
// (<= 0 when it fits or there is no cap). The count is kept in meta by
// triggers on the events table (schemaSQL).
func (s *Store) eventBytesOver(ctx context.Context) (int64, error) {
	if s.opts.WindowBytes <= 0 {
		return 0, nil
	}
	var b int64
	if err := s.wconn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='event_bytes'`).Scan(&b); err != nil {
		return 0, err
	}
	return b - s.opts.WindowBytes, nil
}

// Returning freed pages. SQLite reuses the pages compaction frees for new
// events, so a store at its bounds does not grow; when it shrinks for good
// (a byte cap lowered, many objects deleted) the pages are returned to the
// file system a step at a time, on stores created with
// auto_vacuum=INCREMENTAL (docs/reliability.md "Storage bounds").
const (
	// vacuumStepBytes is the most one step returns: one short write
	// transaction on the writer, between groups.
	vacuumStepBytes = 8 << 20
	// vacuumFreeMinBytes: freelists smaller than this are left for reuse.
	vacuumFreeMinBytes = 4 << 20
)

// vacuumFreeMin is vacuumFreeMinBytes in pages of this store.
func (s *Store) vacuumFreeMin() int64 { return vacuumFreeMinBytes / s.pageSize }

// vacuumStep returns up to vacuumStepBytes of free pages when more than a
// quarter of the file (and more than vacuumFreeMinBytes) is free, down to
// a tenth; it returns the number of pages returned.
func (s *Store) vacuumStep(ctx context.Context) (int, error) {
	if !s.incrementalVacuum {
		return 0, nil
	}
	var pages, free int64
	c := s.wconn
	if err := c.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, fmt.Errorf("vacuum: %w", err)
	}
	if err := c.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return 0, fmt.Errorf("vacuum: %w", err)
	}
	if free < s.vacuumFreeMin() || free*4 < pages {
		return 0, nil
	}
	n := min(free-pages/10, vacuumStepBytes/s.pageSize)
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", n)); err != nil {
		return 0, fmt.Errorf("vacuum: %w", err)
	}
	s.kickCheckpoint()
	return int(n), nil
}
