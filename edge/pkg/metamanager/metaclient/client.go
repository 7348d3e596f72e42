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
