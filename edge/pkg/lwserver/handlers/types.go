package handlers

import (
	"context"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// The contracts of this package: what the handlers need from outside
// (Store, TableConvertor in table.go) and what they hand out (WatchServer).

// Store is what the handlers read: the store as of one revision per call.
// *metaclient.Client implements it over edgecore.db; tests may use a fake.
// Every method is required: a store that cannot stream a list or wait for a
// revision has to do it some slower way (collect, then call fn; poll).
type Store interface {
	// Get returns one object, or metaclient.ErrNotFound.
	Get(ctx context.Context, key metaclient.Key) (metaclient.Object, error)
	// List returns one page of objects of gvr (metaclient.ListOptions).
	List(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions) (metaclient.ListResult, error)
	// ListFunc streams a list: fn gets each item in key order while the
	// rows are read (item.Data valid only during the call), rev the list's
	// revision. Errors knowable before the first item (compacted or future
	// revision, bad continue key) come before fn is called; the result has
	// no Items.
	ListFunc(ctx context.Context, gvr schema.GroupVersionResource, opts metaclient.ListOptions, fn func(rev int64, item metaclient.Object) error) (metaclient.ListResult, error)
	// Revision is the revision of the last commit.
	Revision() int64
	// CompactedRevision is the revision just before the oldest retained
	// event: lists at older revisions and older continue tokens get 410.
	CompactedRevision() int64
	// WaitForRevision returns nil once Revision() >= rev, or ctx's error.
	WaitForRevision(ctx context.Context, rev int64) error
}

var _ Store = (*metaclient.Client)(nil)

// WatchServer serves watch requests (?watch=true and /watch/ paths). The
// router hands it every watch after parsing: req.Options carries the
// validated list options (resourceVersion, selectors, allowWatchBookmarks,
// sendInitialEvents, timeoutSeconds), req.Output the negotiated encoding
// (req.Output.Options.Accepted.StreamSerializer). Errors before the stream
// starts go through (*Handler).WriteError.
type WatchServer interface {
	ServeWatch(w http.ResponseWriter, r *http.Request, req *Request)
}
