package dao

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"k8s.io/klog/v2"
)

// WAL checkpointing. SQLite's automatic checkpoint runs inside the COMMIT
// that crosses wal_autocheckpoint pages, on the writer: it copies the WAL
// into the database file and fsyncs both, while every queued message waits.
// Instead a background goroutine runs PASSIVE checkpoints on its own
// connection (they never block the writer, nor readers) shortly after
// commits; the writer's own automatic checkpoint is kept only as a backstop
// at a much larger WAL (by then the background has copied nearly everything,
// so it is cheap, and it lets the next transaction restart the WAL from the
// beginning). Durability is unchanged: a commit is durable once its WAL
// frames are fsynced (synchronous=FULL), checkpoints only move data.
const (
	// writerAutoCheckpointBytes is the writer's wal_autocheckpoint, in
	// bytes of WAL (SQLite counts it in pages of the file's size).
	writerAutoCheckpointBytes = 32 << 20
	// checkpointEvery is the least time between background checkpoints.
	checkpointEvery = 200 * time.Millisecond
	// walSizeLimit is journal_size_limit: a WAL grown by a burst is truncated
	// back to this size when it restarts.
	walSizeLimit = 16 << 20
	// walIdleTruncate: writes paused this long, the WAL is truncated.
	walIdleTruncate = time.Second
)

// kickCheckpoint tells the checkpointer that a commit added WAL frames.
func (s *Store) kickCheckpoint() {
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}

func (s *Store) checkpointLoop(c *sql.Conn) {
	defer close(s.ckptDone)
	defer c.Close()
	ctx := context.Background()
	idle := time.NewTimer(walIdleTruncate)
	defer idle.Stop()
	for {
		select {
		case <-s.ckptKick:
		case <-idle.C:
			if n, err := fileSize(s.path + "-wal"); err == nil && n > 0 {
				s.truncateWAL(ctx, c)
			}
			idle.Reset(walIdleTruncate)
			continue
		case <-s.quit:
			return
		}
		idle.Reset(walIdleTruncate)
		var busy, logFrames, done int64
		if err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil {
			klog.V(2).Infof("dao: background checkpoint: %v", err)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-s.quit:
			return
		}
	}
}

// truncateWAL runs a TRUNCATE checkpoint without waiting (busy_timeout 0
// on this connection): it gives way to a writer or a reader that still
// uses the WAL (the next idle tick tries again).
func (s *Store) truncateWAL(ctx context.Context, c *sql.Conn) {
	var busy, logFrames, done int64
	if err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		klog.V(2).Infof("dao: truncating checkpoint: %v", err)
		return
	}
	klog.V(4).Infof("dao: truncating checkpoint: busy=%d log=%d checkpointed=%d", busy, logFrames, done)
}

// startCheckpointer configures the writer connection and starts the
// background checkpointer on a connection of its own.
func (s *Store) startCheckpointer() error {
	ctx := context.Background()
	for _, p := range []string{
		fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", writerAutoCheckpointBytes/s.pageSize),
		fmt.Sprintf("PRAGMA journal_size_limit=%d", walSizeLimit),
	} {
		if _, err := s.wconn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, "PRAGMA busy_timeout=0"); err != nil {
		c.Close()
		return err
	}
	s.ckptKick = make(chan struct{}, 1)
	s.ckptDone = make(chan struct{})
	go s.checkpointLoop(c)
	return nil
}
