// Package event defines a committed change of the store: the one value that
// flows from metaManager (after commit) to lwserver's watch hub, and that the
// event log in edgecore.db keeps. It imports nothing of ours, so both sides
// can depend on it without depending on each other.
package event

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// Event is one committed change at one revision.
type Event struct {
	// Revision is the edge revision assigned at commit; unique and increasing.
	Revision int64
	// Type is watch.Added, watch.Modified or watch.Deleted.
	Type      watch.EventType
	GVR       schema.GroupVersionResource
	Namespace string // "" for cluster-scoped objects
	Name      string

	// Object is the JSON of the object after the change, with
	// metadata.resourceVersion = Revision. For Deleted it is the last state of
	// the object, also carrying resourceVersion = Revision (as kube-apiserver
	// sends deletions).
	Object []byte
	// PrevObject is the JSON of the object before the change (nil for Added).
	// Watchers with selectors need it for the transition rule.
	PrevObject []byte

	// Labels and Fields are the label set and field-label values
	// (metadata.name, metadata.namespace, spec.nodeName, …) of Object;
	// PrevLabels and PrevFields those of PrevObject. Selectors are evaluated on
	// these without decoding the object.
	Labels, PrevLabels map[string]string
	Fields, PrevFields map[string]string
}

// Subscriber receives committed events. Publish is called by the store's single
// writer after each commit, with that commit's events in revision order. It
// must not block: a slow subscriber must buffer or drop, never hold the writer.
type Subscriber interface {
	Publish(events []Event)
}

// Subscribers fans one commit out to several subscribers.
type Subscribers []Subscriber

// Publish implements Subscriber.
func (s Subscribers) Publish(events []Event) {
	for _, sub := range s {
		sub.Publish(events)
	}
}
