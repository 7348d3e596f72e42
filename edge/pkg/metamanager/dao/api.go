// Package dao is edgecore.db: the objects table, the event log and the
// revision counter, changed together in one SQLite transaction by a single
// writer that group-commits many messages per fsync.
//
// This file is the contract the rest of edgecore codes against; the
// implementation lives beside it.
package dao

import (
	"context"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"errors"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Errors returned by reads and writes. Callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrCompacted: the revision asked for is older than the start of the
	// retained event log (the watch / continue must get 410 Gone).
	ErrCompacted = errors.New("required revision has been compacted")
	// ErrFutureRevision: the revision asked for is newer than the store's.
	ErrFutureRevision = errors.New("revision is newer than the store revision")
)

// Key names one object.
type Key struct {
	GVR       schema.GroupVersionResource
	Namespace string // "" for cluster-scoped
	Name      string
}

// Stored is an object as the store holds it.
type Stored struct {
	Key
	Kind     string
	Revision int64  // edge revision of the last change
	CloudRV  string // cloud resourceVersion of the last applied message
	// Data is the object JSON; metadata.resourceVersion already equals Revision.
	Data   []byte
	Labels map[string]string
	Fields map[string]string
}

// Tombstone is what a delete leaves behind, so that a stale insert with an
// older cloud revision cannot resurrect the object. Kept as long as the event
// log window.
type Tombstone struct {
	Key
	Revision int64
	CloudRV  string
}

// ListOptions select and page a list. The zero value lists everything at the
// current revision.
type ListOptions struct {
	Namespace string          // "" = all namespaces
	Labels    labels.Selector // nil = everything
	Fields    fields.Selector // nil = everything; evaluated on Stored.Fields
	// Revision: 0 reads at the current revision; otherwise the list is the
	// state exactly at that revision (ErrCompacted if older than the log
	// start, ErrFutureRevision if newer than the store).
	Revision int64
	// After is the key to continue after: objects with (namespace, name)
	// strictly greater are returned. Format "namespace/name" ("/name" for
	// cluster-scoped). "" = from the start.
	After string
	// Limit caps the number of items; 0 = no limit.
	Limit int64
	// LimitBytes ends the page once its items' Data add up to at least
	// this many bytes (it has at least one item); 0 = no byte limit. With
	// Limit, whichever is reached first. For readers that hold a page in
	// memory (a watch's initial state): a page of Limit 4 KB pods is
	// Limit × 4 KB, per reader.
	LimitBytes int64
	// NoRemaining skips counting the items after a page (ListResult.Remaining
	// is then -1): a second query per page that only list metadata shows.
	NoRemaining bool
	// DataOnly leaves the Items' Labels and Fields nil (selectors still
	// apply): for callers that serve only Data, it saves decoding two maps
	// per item.
	DataOnly bool
}

// ListResult is one page.
type ListResult struct {
	// Revision is the store revision the list was read at.
	Revision int64
	Items    []Stored
	// Continue is the After key for the next page; "" when this is the last page.
	Continue string
	// Remaining is the number of matching items after this page (only
	// meaningful when Continue != ""; -1 if unknown).
	Remaining int64
}

// PutRequest stores (inserts or replaces) one object.
type PutRequest struct {
	Key
	Kind    string
	CloudRV string
	// Object is the object's unstructured content. The store sets
	// metadata.resourceVersion to the new revision and encodes it once.
	// Ignored when Data is set.
	Object map[string]interface{}
	Labels map[string]string
	Fields map[string]string
	// Data, when not nil, is the object already encoded by EncodeObject (on
	// the caller's goroutine, off the single writer): JSON whose
	// metadata.resourceVersion is an empty string with its contents at
	// RVOffset. The store splices the new revision in there (one copy) and
	// stores the result. Data is not modified.
	Data     []byte
	RVOffset int
	// LabelsJSON / FieldsJSON, when not nil, are EncodeStringMap(Labels) /
	// EncodeStringMap(Fields), encoded on the caller's goroutine (off the
	// single writer).
	LabelsJSON, FieldsJSON []byte
}

// Tx is what a write sees inside the writer's transaction. Everything done
// through one Tx (one message) commits or rolls back as a unit; many Txs share
// one SQLite transaction and one fsync (group commit).
type Tx interface {
	// Get returns the current object, or ErrNotFound.
	Get(key Key) (Stored, error)
	// Tombstone returns the tombstone of a deleted object, if one is kept.
	Tombstone(key Key) (Tombstone, bool, error)
	// Put inserts or replaces the object at a new revision (ADDED or
	// MODIFIED event) and removes any tombstone. It returns what was stored.
	Put(req PutRequest) (Stored, error)
	// Delete removes the object at a new revision (DELETED event), leaving a
	// tombstone with cloudRV. ErrNotFound if there is no such object.
	Delete(key Key, cloudRV string) (Stored, error)
}

// Writer is the single-writer side of the store.
type Writer interface {
	// Update runs fn inside the writer's current group transaction. It returns
	// nil only after the transaction holding fn's changes is committed and
	// durable, and only then are its events published. If fn returns an error
	// its changes (and only its) are rolled back and that error is returned.
	//
	// fn may run more than once: when another request of its group fails
	// after writing, the group is rolled back and run again (writer.go
	// runBatch). So fn must depend only on what it reads through tx and
	// must reset, not append to, anything it hands back.
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// Reader is the read side: consistent snapshots of the store.
type Reader interface {
	Get(ctx context.Context, key Key) (Stored, error)
	List(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions) (ListResult, error)
	// Events returns up to limit events with revision > after, in order.
	// ErrCompacted if after < CompactedRevision().
	Events(ctx context.Context, after int64, limit int) ([]event.Event, error)
	// Revision is the revision of the last commit (0 for an empty store).
	Revision() int64
	// CompactedRevision is the revision just before the oldest retained
	// event: watches and lists from revisions >= it can be served exactly.
	CompactedRevision() int64
	// Resources lists every GVR the store holds objects of, with counts.
	Resources(ctx context.Context) ([]ResourceCount, error)
}

// ListStreamer is implemented by readers that can pass a list's items to a
// function as they are read instead of collecting them (Store does).
type ListStreamer interface {
	// ListFunc is List calling fn with each item, in order, in the list's
	// read transaction; rev is the list's revision. item.Data may alias a
	// buffer valid only during that call. The result has no Items.
	ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions, fn func(rev int64, item Stored) error) (ListResult, error)
}

var _ ListStreamer = (*Store)(nil)

// ResourceCount is the number of objects of one GVR.
type ResourceCount struct {
	GVR   schema.GroupVersionResource
	Kind  string
	Count int64
}
