// Package metaclient is the read API lwserver uses over edgecore.db. It is a
// thin layer over dao.Reader; lwserver sees dao's types only through the
// aliases below.
package metaclient

import (
	"context"

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

// Client reads the store.
type Client struct{ r dao.Reader }

// New returns a Client reading from r.
func New(r dao.Reader) *Client { return &Client{r: r} }

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
//
// Readers that cannot stream are served by List (the items are collected,
// then passed to fn).
func (c *Client) ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts ListOptions, fn func(rev int64, item Object) error) (ListResult, error) {
	if ls, ok := c.r.(dao.ListStreamer); ok {
		return ls.ListFunc(ctx, gvr, opts, fn)
	}
	res, err := c.r.List(ctx, gvr, opts)
	if err != nil {
		return ListResult{}, err
	}
	for _, it := range res.Items {
		if err := fn(res.Revision, it); err != nil {
			return ListResult{}, err
		}
	}
	res.Items = nil
	return res, nil
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
