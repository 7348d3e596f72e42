package dao

import (
	"context"
	"database/sql"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// Events implements Reader. limit <= 0 means no limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]event.Event, error) {
	tx, cur, compacted, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if after < compacted {
		return nil, fmt.Errorf("%w: revision %d, compacted %d", ErrCompacted, after, compacted)
	}
	if after > cur {
		return nil, fmt.Errorf("%w: revision %d, current %d", ErrFutureRevision, after, cur)
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := tx.QueryContext(ctx, `SELECT revision, type, gvr, namespace, name, data, prev_data, labels, fields, prev_labels, prev_fields
		FROM events WHERE revision > ? ORDER BY revision LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.Event
	var g, typ string
	var l, f, pl, pf sql.RawBytes
	lastGVR, lastGVRs := schema.GroupVersionResource{}, ""
	for rows.Next() {
		var e event.Event
		if err := rows.Scan(&e.Revision, &typ, &g, &e.Namespace, &e.Name, &e.Object, &e.PrevObject, &l, &f, &pl, &pf); err != nil {
			return nil, err
		}
		e.Type = watch.EventType(typ)
		if g != lastGVRs {
			if lastGVR, err = ParseGVRString(g); err != nil {
				return nil, err
			}
			lastGVRs = g
		}
		e.GVR = lastGVR
		for _, p := range []struct {
			dst *map[string]string
			raw []byte
		}{{&e.Labels, l}, {&e.Fields, f}, {&e.PrevLabels, pl}, {&e.PrevFields, pf}} {
			if *p.dst, err = decodeStringMap(p.raw); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
