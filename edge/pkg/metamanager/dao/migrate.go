package dao

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"k8s.io/klog/v2"
)

// objectLabelsSQL is the label index: one row per label of an object, keyed
// by what a label selector looks up (resource, key, value) and then the
// object. It is the table's only b-tree: schema 1 kept a second one keyed by
// object (and this order as an index), so every label cost two b-tree
// inserts, ~20 % of the writer's time at ingest. What the object-keyed tree
// answered is answered without it: the writer deletes an object's rows by
// the labels stored with the object, and a selector's existence test reads
// the object's labels column (list_query.go).
const objectLabelsSQL = `CREATE TABLE IF NOT EXISTS object_labels (
		gvr TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
		namespace TEXT NOT NULL, name TEXT NOT NULL,
		PRIMARY KEY (gvr, key, value, namespace, name)) WITHOUT ROWID`

// migrations[v] brings a store at schema version v to v+1, in one
// transaction with the version's update.
var migrations = map[int64][]string{
	// 1 -> 2: the label index as one b-tree; the event log's byte count kept
	// by the writer instead of an insert trigger.
	1: {
		`DROP TRIGGER IF EXISTS events_bytes_ins`,
		`ALTER TABLE object_labels RENAME TO object_labels_v1`,
		objectLabelsSQL,
		`INSERT INTO object_labels (gvr, key, value, namespace, name)
			SELECT gvr, key, value, namespace, name FROM object_labels_v1`,
		`DROP TABLE object_labels_v1`,
	},
}

// migrate brings the store's schema to schemaVersion. It runs before the
// schema statements, so a table they would create at its new shape is still
// at its old one here. A store newer than this binary is refused by
// loadMeta.
func (s *Store) migrate() error {
	ctx := context.Background()
	for {
		var v int64
		err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='schema'`).Scan(&v)
		if err != nil {
			// A new store (no meta table yet, or no row) gets the current
			// schema from schemaSQL.
			return nil
		}
		steps, ok := migrations[v]
		if v >= schemaVersion || !ok {
			return nil
		}
		start := time.Now()
		if err := s.migrateStep(ctx, v, steps); err != nil {
			return openFault(s.path, fmt.Sprintf("migrating the schema from version %d", v), err)
		}
		klog.Infof("dao: %s schema %d -> %d in %v", s.path, v, v+1, time.Since(start).Round(time.Millisecond))
	}
}

func (s *Store) migrateStep(ctx context.Context, v int64, steps []string) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	tx, err := c.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.40s…: %w", q, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value=? WHERE key='schema'`, v+1); err != nil {
		return err
	}
	return tx.Commit()
}
