// Package metaclient is the read API lwserver uses over edgecore.db.
//
// It stays a package, thin as it is, because it is a boundary: lwserver
// (handlers, watchhub, metrics) imports metaclient and never dao, so the
// store's writer, schema, SQL and compaction can change without lwserver
// seeing it, and the read contract (types, sentinel errors, continue keys)
// is stated in one place the readers can see. lwserver's handlers declare
// the subset they use as their own interface (handlers.Store) and Client
// implements it; tests there may use a fake instead.
package metaclient

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// Types re-exported from dao.
type (
	Key           = dao.Key
	Object        = dao.Stored
	ListOptions   = dao.ListOptions
	ListResult    = dao.ListResult
	ResourceCount = dao.ResourceCount
	Reader        = dao.Reader
	Event         = event.Event
)

// Sentinel errors (test with errors.Is).
var (
	ErrNotFound       = dao.ErrNotFound
	ErrCompacted      = dao.ErrCompacted
	ErrFutureRevision = dao.ErrFutureRevision
)

// Source is what a Client reads: the store's read side, streaming lists
// included (*dao.Store).
type Source interface {
	dao.Reader
	dao.ListStreamer
}

// Client reads the store.
type Client struct{ r Source }

// New returns a Client reading from r.
func New(r Source) *Client { return &Client{r: r} }

// Get returns one object, or ErrNotFound.
func (c *Client) Get(ctx context.Context, key Key) (Object, error) { return c.r.Get(ctx, key) }

// List returns one page of objects of gvr (see dao.ListOptions).
func (c *Client) List(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions) (ListResult, error) {
	return c.r.List(ctx, gvr, opts)
}

// ListFunc is List without collecting the items: fn is called with each
// item in key order while the rows are read, in the list's one read
// transaction, with rev the revision of the list (the result's Revision).
// item.Data may alias a buffer valid only during that call of fn (copy what
// you keep). The result has no Items; its Continue and Remaining are known
// only at the end. Errors that can be known before the first item
// (ErrCompacted, ErrFutureRevision, a bad continue key) are returned before
// fn is called; an error from fn stops the list and is returned.
func (c *Client) ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions, fn func(rev int64, item Object) error) (ListResult, error) {
	return c.r.ListFunc(ctx, gvr, opts, fn)
}

// revisionPoll is how often WaitForRevision looks at the revision: the
// store has no commit notification of its own (watchhub has one, for
// watches), and a get or list at a future revision is rare and waits at most
// a few seconds.
const revisionPoll = 5 * time.Millisecond

// WaitForRevision returns nil once Revision() >= rev, or ctx's error.
func (c *Client) WaitForRevision(ctx context.Context, rev int64) error {
	if rev <= c.r.Revision() {
		return nil
	}
	tick := time.NewTicker(revisionPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if rev <= c.r.Revision() {
				return nil
			}
		}
	}
}

// Events returns up to limit events after the revision (ErrCompacted if it is
// older than CompactedRevision, ErrFutureRevision if newer than Revision).
func (c *Client) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	return c.r.Events(ctx, after, limit)
}

// Revision is the store's current revision.
func (c *Client) Revision() int64 { return c.r.Revision() }

// CompactedRevision is the revision just before the oldest retained event.
func (c *Client) CompactedRevision() int64 { return c.r.CompactedRevision() }

// Resources lists the GVRs the store holds, with object counts.
func (c *Client) Resources(ctx context.Context) ([]ResourceCount, error) { return c.r.Resources(ctx) }

// ParseContinueKey splits a ListOptions.After / ListResult.Continue value
// ("namespace/name", "/name" for cluster-scoped) into its parts.
func ParseContinueKey(after string) (namespace, name string, err error) {
	return dao.ParseAfter(after)
}

// ContinueKey is the inverse of ParseContinueKey.
func ContinueKey(namespace, name string) string { return dao.KeyString(namespace, name) }
