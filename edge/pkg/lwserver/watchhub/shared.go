package watchhub

import (
	"sync"
	"sync/atomic"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// Shared wraps one committed event for every watcher that receives it. The
// HTTP layer turns an event into bytes once per (variant, encoding) through
// Encoded and every watcher reuses those bytes: with 1,000 watchers of one
// resource the object is encoded once, not 1,000 times (the cost MetaServer
// pays and we avoid).
//
// A Shared is immutable apart from its encoding cache. The embedded Event and
// its byte slices and maps must not be modified.
type Shared struct {
	event.Event

	// encs is a copy-on-write list: readers load it without locking, the
	// rare writer (first use of a key) copies it under mu. The list stays
	// tiny (a handful of media types × event types), so a linear scan beats
	// a map and allocates nothing.
	encs atomic.Pointer[[]*encoding]
	mu   sync.Mutex
}

type encoding struct {
	key  string
	once sync.Once
	data []byte
	err  error
}

func newShared(ev event.Event) *Shared { return &Shared{Event: ev} }

// Encoded returns the bytes for key, calling encode at most once per key for
// the life of this Shared; concurrent callers with the same key wait for that
// one call and share its result (error included: encoding a committed event
// is deterministic, retrying would fail the same way).
//
// key must name everything that changes the bytes, e.g. the media type, the
// delivered watch event type (the same event is ADDED for one watcher and
// MODIFIED for another) and whether PrevObject is sent. The returned slice is
// shared: callers must not modify it.
func (s *Shared) Encoded(key string, encode func() ([]byte, error)) ([]byte, error) {
	e := s.entry(key)
	e.once.Do(func() { e.data, e.err = encode() })
	return e.data, e.err
}

func (s *Shared) entry(key string) *encoding {
	if p := s.encs.Load(); p != nil {
		for _, e := range *p {
			if e.key == key {
				return e
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur []*encoding
	if p := s.encs.Load(); p != nil {
		cur = *p
		for _, e := range cur {
			if e.key == key {
				return e
			}
		}
	}
	e := &encoding{key: key}
	next := make([]*encoding, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, e)
	s.encs.Store(&next)
	return e
}
