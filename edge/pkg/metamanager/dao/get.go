package dao

import (
	"context"
	"database/sql"
	"errors"
)

// Get implements Reader.
func (s *Store) Get(ctx context.Context, key Key) (Stored, error) {
	var (
		st                   = Stored{Key: key}
		labelsRaw, fieldsRaw []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT kind, revision, cloud_rv, labels, fields, data FROM objects WHERE gvr=? AND namespace=? AND name=?`,
		GVRString(key.GVR), key.Namespace, key.Name).Scan(&st.Kind, &st.Revision, &st.CloudRV, &labelsRaw, &fieldsRaw, &st.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Stored{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, err
	}
	if st.Labels, err = decodeStringMap(labelsRaw); err != nil {
		return Stored{}, err
	}
	if st.Fields, err = decodeStringMap(fieldsRaw); err != nil {
		return Stored{}, err
	}
	return st, nil
}

// beginRead starts a read transaction and reads the revision and compacted
// revision first, so that everything read later matches them (the snapshot
// starts at the first SELECT).
func (s *Store) beginRead(ctx context.Context) (*sql.Tx, int64, int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	var cur, compacted int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key='revision'), (SELECT value FROM meta WHERE key='compacted')`).Scan(&cur, &compacted)
	if err != nil {
		tx.Rollback()
		return nil, 0, 0, err
	}
	return tx, cur, compacted, nil
}

// Resources implements Reader.
func (s *Store) Resources(ctx context.Context) ([]ResourceCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT gvr, kind, count(*) FROM objects GROUP BY gvr`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ResourceCount
	for rows.Next() {
		var g string
		var rc ResourceCount
		if err := rows.Scan(&g, &rc.Kind, &rc.Count); err != nil {
			return nil, err
		}
		if rc.GVR, err = ParseGVRString(g); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}
