package dao

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"
)

// DefaultPageSize is the SQLite page size of edgecore.db (Options.PageSize).
//
// Why 32 KiB and not SQLite's 4 KiB: the objects table is WITHOUT ROWID
// (clustered by gvr, namespace, name, so a list is one sequential walk),
// and a WITHOUT ROWID b-tree keeps at most about a quarter of a page of a
// row on the page itself: (page-12)*64/255-23 bytes, 1,002 at 4 KiB, 8,198
// at 32 KiB. A 4.4 KB pod overflowed at 4 KiB, and SQLite reads overflow
// pages straight from the file (one pread each, past its page cache), also
// for every overflowing divider cell it compares while descending the tree:
// a get by key was 16 preads and a full list of 10k pods one or two per row.
// At 32 KiB rows up to ~8 KB stay on their page: the get does no I/O from a
// warm cache and the list reads ~1,400 whole pages (measured at 10k pods: a
// get 61 -> 34 µs, a key-order scan of the pods 104 -> 42 ms; the file is
// the same size).
const DefaultPageSize = 32 << 10

// checkPageSize validates Options.PageSize.
func checkPageSize(n int) error {
	if n < 512 || n > 65536 || n&(n-1) != 0 {
		return fmt.Errorf("dao: PageSize %d is not a power of two from 512 to 65536", n)
	}
	return nil
}

// migratePageSize rebuilds an existing store whose page size is not the
// configured one (a store created before DefaultPageSize changed): WAL mode
// is left, the file is rebuilt by VACUUM at the new size and WAL mode is
// entered again. VACUUM is atomic (it runs under the rollback journal), so
// a crash leaves the old file or the new one. A failed rebuild (no space for
// the copy, say) is logged and the store is used at its old page size.
//
// It must run before any other connection to the file is open: leaving WAL
// mode needs the only connection.
func (s *Store) migratePageSize(want int) error {
	ctx := context.Background()
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var have, tables int
	if err := c.QueryRowContext(ctx, "PRAGMA page_size").Scan(&have); err != nil {
		return openFault(s.path, "reading the page size", err)
	}
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return openFault(s.path, "reading the schema", err)
	}
	if have == want || tables == 0 {
		return nil
	}
	start := time.Now()
	for _, q := range []string{"PRAGMA journal_mode=DELETE", fmt.Sprintf("PRAGMA page_size=%d", want), "VACUUM"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			klog.Warningf("dao: %s keeps page size %d (rebuilding at %d: %s: %v)", s.path, have, want, q, err)
			break
		}
	}
	if _, err := c.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return openFault(s.path, "re-entering WAL mode", err)
	}
	var now int
	if err := c.QueryRowContext(ctx, "PRAGMA page_size").Scan(&now); err == nil && now == want {
		klog.Infof("dao: %s rebuilt from page size %d to %d in %v", s.path, have, want, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
