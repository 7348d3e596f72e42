package dao

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// compactChunk deletes up to compactChunk of the oldest events that are both
// beyond the last WindowEvents events and older than WindowAge, advances the
// compacted revision to the highest deleted one and drops the tombstones at
// or below it. It runs on the writer goroutine, in its own small transaction.
func (s *Store) compactChunk(now time.Time) (int, error) {
	ctx := context.Background()
	cur := s.rev.Load()
	from := s.compacted.Load()
	limitRev := cur
	if s.opts.WindowEvents > 0 {
		limitRev = cur - int64(s.opts.WindowEvents)
	}
	if limitRev <= from {
		return 0, nil
	}
	ageCut := int64(math.MaxInt64)
	if s.opts.WindowAge > 0 {
		ageCut = now.Add(-s.opts.WindowAge).UnixNano()
	}
	c := s.wconn
	// The deletable events are a prefix of the log (in revision order): stop
	// at the first one that is too young. Only the writer writes, so what it
	// reads here outside a transaction cannot change before the delete.
	rows, err := c.QueryContext(ctx, `SELECT revision, created_at FROM events WHERE revision > ? AND revision <= ? ORDER BY revision LIMIT ?`,
		from, limitRev, compactChunk)
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	upto, n := from, 0
	for rows.Next() {
		var rev, created int64
		if err := rows.Scan(&rev, &created); err != nil {
			rows.Close()
			return 0, err
		}
		if created >= ageCut {
			break
		}
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
