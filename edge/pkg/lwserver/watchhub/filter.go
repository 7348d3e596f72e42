package watchhub

import (
	"fmt"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/watch"
)

// Field labels every object has. The store fills them into event.Fields, but
// we fall back to the event's own Name/Namespace when a producer left them
// out, so "metadata.name=x" works whatever the map holds.
const (
	fieldName      = "metadata.name"
	fieldNamespace = "metadata.namespace"
)

// matcher is a Request compiled once at Watch time into what the hot path
// needs: plain string compares for the key and pre-parsed selectors, so
// Publish evaluates a watcher without allocating.
type matcher struct {
	namespace string // "" = all namespaces
	name      string // "" = all names
	// none is set when the request contradicts itself (namespace=a and
	// metadata.namespace=b): such a watch is valid and simply sees nothing.
	none   bool
	labels labels.Selector // nil = everything
	fields []fieldReq      // requirements not turned into namespace/name above
}

type fieldReq struct {
	field, value string
	not          bool // "!=" rather than "=" / "=="
}

func compile(req Request) (matcher, error) {
	if req.GVR.Resource == "" {
		return matcher{}, fmt.Errorf("%w: resource is required", ErrInvalidRequest)
	}
	m := matcher{namespace: req.Namespace, name: req.Name}
	if req.Labels != nil && !req.Labels.Empty() {
		m.labels = req.Labels
	}
	if req.Fields == nil || req.Fields.Empty() {
		return m, nil
	}
	for _, r := range req.Fields.Requirements() {
		var not bool
		switch r.Operator {
		case selection.Equals, selection.DoubleEquals:
		case selection.NotEquals:
			not = true
		default:
			return matcher{}, fmt.Errorf("%w: unsupported field selector operator %q", ErrInvalidRequest, r.Operator)
		}
		// Equality on name or namespace becomes part of the key, so the
		// watcher is indexed by namespace and skipped by a string compare
		// instead of a selector evaluation (as the cacher's index triggers).
		if !not && (r.Field == fieldNamespace || r.Field == fieldName) {
			dst := &m.namespace
			if r.Field == fieldName {
				dst = &m.name
			}
			switch {
			case r.Value == "" && r.Field == fieldNamespace:
				// metadata.namespace= selects cluster-scoped objects: keep
				// it as a generic requirement rather than "all namespaces".
				m.fields = append(m.fields, fieldReq{field: r.Field, value: r.Value})
			case *dst == "":
				*dst = r.Value
			case *dst != r.Value:
				m.none = true
			}
			continue
		}
		m.fields = append(m.fields, fieldReq{field: r.Field, value: r.Value, not: not})
	}
	return m, nil
}

// keyMatches reports whether ev is about an object this watcher covers.
// The GVR is not checked: the hub index (and catch-up) do that.
func (m *matcher) keyMatches(ev *event.Event) bool {
	if m.none {
		return false
	}
	if m.namespace != "" && ev.Namespace != m.namespace {
		return false
	}
	return m.name == "" || ev.Name == m.name
}

// stateless is true when only the key matters: every state of a matching
// object matches, so the transition rule needs no previous state.
func (m *matcher) stateless() bool { return m.labels == nil && len(m.fields) == 0 }

// stateMatches evaluates the selectors on one state of the object: the
// current one (Labels/Fields) or the previous one (PrevLabels/PrevFields).
func (m *matcher) stateMatches(ev *event.Event, prev bool) bool {
	ls, fs := ev.Labels, ev.Fields
	if prev {
		ls, fs = ev.PrevLabels, ev.PrevFields
	}
	if m.labels != nil && !m.labels.Matches(labels.Set(ls)) {
		return false
	}
	for i := range m.fields {
		r := &m.fields[i]
		v, ok := fs[r.field]
		if !ok {
			switch r.field {
			case fieldName:
				v = ev.Name
			case fieldNamespace:
				v = ev.Namespace
			}
		}
		if (v == r.value) == r.not {
			return false
		}
	}
	return true
}

// delivery applies the transition rule of kube-apiserver's cacher to one
// event and says what (if anything) this watcher receives:
//
//	Added                         → ADDED if the object matches
//	Modified, cur and prev match  → MODIFIED
//	Modified, only cur matches    → ADDED   (the object entered the selection)
//	Modified, only prev matches   → DELETED with UsePrev (it left the selection;
//	                                the client is sent the last state it saw)
//	Deleted                       → DELETED if its last state (Object, Labels,
//	                                Fields) matches
//
// A Modified event without PrevObject has no known previous state: for a
// watcher with selectors it counts as "prev did not match" (kube does the
// same), so it may be delivered as ADDED and a departure cannot be seen.
func (m *matcher) delivery(ev *event.Event) (typ watch.EventType, usePrev, ok bool) {
	if !m.keyMatches(ev) {
		return "", false, false
	}
	switch ev.Type {
	case watch.Added:
		if m.stateMatches(ev, false) {
			return watch.Added, false, true
		}
	case watch.Deleted:
		if m.stateMatches(ev, false) {
			return watch.Deleted, false, true
		}
	case watch.Modified:
		if m.stateless() {
			return watch.Modified, false, true
		}
		cur := m.stateMatches(ev, false)
		prev := ev.PrevObject != nil && m.stateMatches(ev, true)
		switch {
		case cur && prev:
			return watch.Modified, false, true
		case cur:
			return watch.Added, false, true
		case prev:
			return watch.Deleted, true, true
		}
	}
	return "", false, false
}
