package uplink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"
)

// selection is what one stream lists and watches.
type selection struct {
	gvr           GVR
	namespace     string // "" = all namespaces (or cluster-scoped)
	labelSelector string
	fieldSelector string
}

func (s selection) String() string {
	out := s.gvr.Resource
	if s.gvr.Group != "" {
		out += "." + s.gvr.Group
	}
	if s.namespace != "" {
		out += " in " + s.namespace
	}
	if s.fieldSelector != "" {
		out += " fields " + s.fieldSelector
	}
	if s.labelSelector != "" {
		out += " labels " + s.labelSelector
	}
	return out
}

// streamHooks are what a stream reports besides the tracker.
type streamHooks struct {
	// synced is called once, after the first list is handed to the tracker.
	synced func()
	// event is called for every object the stream delivers (pods: their
	// references), before the object reaches the tracker when deleted is
	// false and after it when true.
	event func(obj *unstructured.Unstructured, deleted bool)
	// listed is called after each list with the keys it held.
	listed func(seen map[string]struct{})
	// result reports every call's outcome to the server checker.
	result func(err error)
}

// stream is a reflector without a cache: list, then watch from the list's
// resourceVersion, resuming from the last event (or bookmark) after a watch
// ends or the connection breaks, and listing again only when the cloud says
// the resourceVersion is too old (410).
type stream struct {
	id      int32
	sel     selection
	client  dynamic.Interface
	tracker *tracker
	hooks   streamHooks
	// rv is the resourceVersion to watch from; "" = list first.
	rv string
	// lastWarned is the last refusal logged at warning level.
	lastWarned string
}

// run lists and watches until ctx ends.
func (s *stream) run(ctx context.Context) {
	backoff := newBackoff()
	synced := false
	for ctx.Err() == nil {
		if s.rv == "" {
			if err := s.list(ctx); err != nil {
				s.report(ctx, err)
				backoff.wait(ctx)
				continue
			}
			if !synced {
				synced = true
				if s.hooks.synced != nil {
					s.hooks.synced()
				}
			}
		}
		err := s.watch(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
			klog.V(2).Infof("uplink: %s: resourceVersion %s is too old: relisting", s.sel, s.rv)
			s.rv = ""
		case err != nil:
			s.report(ctx, err)
			backoff.wait(ctx)
		default:
			backoff.reset()
		}
	}
}

func (s *stream) report(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	// A refusal (403, 404: a missing right or resource) repeats until an
	// operator acts: say it once at warning level; transport errors are
	// the checker's business.
	if msg := err.Error(); apierrors.ReasonForError(err) != metav1.StatusReasonUnknown && msg != s.lastWarned {
		s.lastWarned = msg
		klog.Warningf("uplink: %s: %v", s.sel, err)
	} else {
		klog.V(2).Infof("uplink: %s: %v", s.sel, err)
	}
	if s.hooks.result != nil {
		s.hooks.result(err)
	}
}

func (s *stream) resource() dynamic.ResourceInterface {
	r := s.client.Resource(s.sel.gvr)
	if s.sel.namespace != "" {
		return r.Namespace(s.sel.namespace)
	}
	return r
}

// list reads the whole selection (in pages) and hands it to the tracker as
// one relist.
func (s *stream) list(ctx context.Context) error {
	opts := metav1.ListOptions{LabelSelector: s.sel.labelSelector, FieldSelector: s.sel.fieldSelector, Limit: 500}
	seen := map[string]struct{}{}
	var items []unstructured.Unstructured
	listRV := ""
	for {
		l, err := s.resource().List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if listRV == "" {
			listRV = l.GetResourceVersion()
		}
		items = append(items, l.Items...)
		if l.GetContinue() == "" {
			break
		}
		opts.Continue = l.GetContinue()
	}
	if s.hooks.result != nil {
		s.hooks.result(nil)
	}
	for i := range items {
		obj := &items[i]
		if s.hooks.event != nil {
			s.hooks.event(obj, false)
		}
		seen[objKey(obj.GetNamespace(), obj.GetName())] = struct{}{}
		s.tracker.upsert(s.id, s.sel.gvr, obj, listRV)
	}
	s.tracker.relisted(s.id, s.sel.gvr, seen)
	if s.hooks.listed != nil {
		s.hooks.listed(seen)
	}
	s.rv = listRV
	return nil
}

// watch watches from s.rv until the watch ends; a nil error means it ended
// normally (timeout) and can be resumed from s.rv.
func (s *stream) watch(ctx context.Context) error {
	timeout := int64(300 + rand.IntN(300)) // as client-go's reflector: 5-10 min
	w, err := s.resource().Watch(ctx, metav1.ListOptions{
		LabelSelector: s.sel.labelSelector, FieldSelector: s.sel.fieldSelector,
		ResourceVersion: s.rv, AllowWatchBookmarks: true, TimeoutSeconds: &timeout,
	})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Stop()
	if s.hooks.result != nil {
		s.hooks.result(nil)
	}
	start, events := time.Now(), 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				if events == 0 && time.Since(start) < time.Second {
					// The connection broke at once: back off, as client-go's
					// reflector does, instead of spinning.
					return errors.New("watch: closed at once with no events")
				}
				return nil
			}
			events++
			if err := s.handle(ev); err != nil {
				return err
			}
		}
	}
}

func (s *stream) handle(ev watch.Event) error {
	if ev.Type == watch.Error {
		return apierrors.FromObject(ev.Object)
	}
	obj, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("watch: unexpected %T", ev.Object)
	}
	switch ev.Type {
	case watch.Bookmark:
	case watch.Added, watch.Modified:
		if s.hooks.event != nil {
			s.hooks.event(obj, false)
		}
		s.tracker.upsert(s.id, s.sel.gvr, obj, "")
	case watch.Deleted:
		s.tracker.remove(s.id, s.sel.gvr, obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion())
		if s.hooks.event != nil {
			s.hooks.event(obj, true)
		}
	default:
		return errors.New("watch: unknown event type " + string(ev.Type))
	}
	s.rv = obj.GetResourceVersion()
	return nil
}

// backoff is an exponential delay between failed calls: 200 ms doubling to
// 5 s, with jitter, so a restored cloud is reconnected within seconds.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: 200 * time.Millisecond} }

func (b *backoff) reset() { b.next = 200 * time.Millisecond }

func (b *backoff) wait(ctx context.Context) {
	d := b.next/2 + time.Duration(rand.Int64N(int64(b.next)))
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	b.next = min(2*b.next, 5*time.Second)
}
