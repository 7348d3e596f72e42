package metamanager

import (
	"context"
	"errors"
	"strconv"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// apply runs a plan against the store and waits for its commit (Process:
// outside the ordered pipeline).
func (m *MetaManager) apply(ctx context.Context, p *plan) (interface{}, error) {
	if p.op == OpQuery {
		return m.query(ctx, p)
	}
	if !isWrite(p) {
		return ReplyOK, nil
	}
	fn, crds := m.writeFn(p)
	if err := m.store.Update(ctx, fn); err != nil {
		return nil, err
	}
	m.mirrorCRDs(*crds)
	return ReplyOK, nil
}

// isWrite reports whether a plan changes the store.
func isWrite(p *plan) bool {
	switch {
	case p.noop, p.op == OpQuery:
		return false
	case p.op == OpPatch:
		return true
	}
	return len(p.items) > 0
}

// writeFn returns the store function that applies a write plan: one message
// commits or rolls back as a unit. The CRD changes it made are in *crds once
// it has committed.
func (m *MetaManager) writeFn(p *plan) (func(tx dao.Tx) error, *[]crdChange) {
	crds := new([]crdChange)
	if p.op == OpPatch {
		return func(tx dao.Tx) error {
			*crds = (*crds)[:0]
			return m.applyPatch(tx, p, crds)
		}, crds
	}
	return func(tx dao.Tx) error {
		*crds = (*crds)[:0]
		for i := range p.items {
			it := &p.items[i]
			var err error
			if p.op == OpDelete {
				err = applyDelete(tx, it, crds)
			} else {
				err = applyPut(tx, it, crds)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, crds
}

func applyPut(tx dao.Tx, it *item, crds *[]crdChange) error {
	cur, err := tx.Get(it.key)
	switch {
	case err == nil:
		if notNewer(it.cloudRV, cur.CloudRV) {
			return nil // stale or duplicate: acknowledged, not applied
		}
	case errors.Is(err, dao.ErrNotFound):
		ts, ok, err := tx.Tombstone(it.key)
		if err != nil {
			return err
		}
		if ok && notNewer(it.cloudRV, ts.CloudRV) {
			return nil // a retransmission from before the delete: no resurrection
		}
	default:
		return err
	}
	if _, err := tx.Put(dao.PutRequest{
		Key: it.key, Kind: it.kind, CloudRV: it.cloudRV,
		Object: it.obj, Labels: it.labels, Fields: it.fields,
		Data: it.data, RVOffset: it.rvOff,
		LabelsJSON: it.labelsJSON, FieldsJSON: it.fieldsJSON,
	}); err != nil {
		return err
	}
	if it.key.GVR == kube.CRDResource {
		*crds = append(*crds, crdChange{name: it.key.Name, obj: it.obj})
	}
	return nil
}

func applyDelete(tx dao.Tx, it *item, crds *[]crdChange) error {
	cur, err := tx.Get(it.key)
	if errors.Is(err, dao.ErrNotFound) {
		return nil // already gone: deletes are idempotent
	}
	if err != nil {
		return err
	}
	if older(it.cloudRV, cur.CloudRV) {
		return nil // a stale delete must not remove a newer object
	}
	rv := it.cloudRV
	if rv == "" || older(rv, cur.CloudRV) {
		rv = cur.CloudRV
	}
	if _, err := tx.Delete(it.key, rv); err != nil {
		if errors.Is(err, dao.ErrNotFound) {
			return nil
		}
		return err
	}
	if it.key.GVR == kube.CRDResource {
		*crds = append(*crds, crdChange{name: it.key.Name})
	}
	return nil
}

func (m *MetaManager) mirrorCRDs(crds []crdChange) {
	for _, c := range crds {
		if c.obj == nil {
			m.mapper.RemoveCRD(c.name)
			continue
		}
		// Validated in prepare; an error here would be a mapper bug.
		_ = m.mapper.AddCRD(c.obj)
	}
}

// notNewer reports whether a message with cloud revision in is a stale or
// duplicate retransmission of what is stored with cloud revision stored:
// compared as unsigned integers when both parse, otherwise equal = duplicate.
// An unknown revision (either side empty) is never stale.
func notNewer(in, stored string) bool {
	if in == "" || stored == "" {
		return false
	}
	a, err1 := strconv.ParseUint(in, 10, 64)
	b, err2 := strconv.ParseUint(stored, 10, 64)
	if err1 == nil && err2 == nil {
		return a <= b
	}
	return in == stored
}

// older reports whether in is strictly older than stored.
func older(in, stored string) bool {
	if in == "" || stored == "" {
		return false
	}
	a, err1 := strconv.ParseUint(in, 10, 64)
	b, err2 := strconv.ParseUint(stored, 10, 64)
	return err1 == nil && err2 == nil && a < b
}
