package uplink

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type recordSink struct{ msgs []string }

// Send records "op resource rv".
func (s *recordSink) Send(m model.Message, _ func(model.Message)) {
	s.msgs = append(s.msgs, fmt.Sprintf("%s %s %s", m.GetOperation(), m.GetResource(), m.Header.ResourceVersion))
}

func (s *recordSink) take() string {
	out := strings.Join(s.msgs, "; ")
	s.msgs = nil
	return out
}

func cm(ns, name, rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetResourceVersion(rv)
	return u
}

// TestTracker walks the tracker through the cases docs/uplink.md names: a
// relist writes nothing for unchanged objects, an object new to the edge is
// sent with the list's resourceVersion, an object held by two streams is
// deleted only when both let go, seeded objects nobody delivers are deleted
// at the reconciliation (not before), cloud deletions go at once.
func TestTracker(t *testing.T) {
	type step struct {
		name string
		do   func(tr *tracker)
		want string
	}
	steps := []step{
		{"seed stored objects", func(tr *tracker) {
			tr.seed(configMaps, "ConfigMap", "ns/kept", "5")
			tr.seed(configMaps, "ConfigMap", "ns/gone", "6")
		}, ""},
		{"list: unchanged seeded object not written, new one with list RV", func(tr *tracker) {
			tr.upsert(1, configMaps, cm("ns", "kept", "5"), "20")
			tr.upsert(1, configMaps, cm("ns", "new", "7"), "20")
			tr.relisted(1, configMaps, map[string]struct{}{"ns/kept": {}, "ns/new": {}})
		}, "insert ns/configmap/new 20"},
		{"second stream holds the same object: nothing sent", func(tr *tracker) {
			tr.upsert(2, configMaps, cm("ns", "new", "7"), "21")
		}, ""},
		{"watch change", func(tr *tracker) {
			tr.upsert(1, configMaps, cm("ns", "new", "22"), "")
		}, "update ns/configmap/new 22"},
		{"one holder of two leaves: kept", func(tr *tracker) {
			tr.dropStream(2, configMaps)
		}, ""},
		{"reconcile deletes what no stream delivers", func(tr *tracker) {
			if n := tr.reconcile(); n != 1 {
				panic(fmt.Sprintf("reconcile deleted %d", n))
			}
		}, "delete ns/configmap/gone "},
		{"relist without an object drops it", func(tr *tracker) {
			tr.relisted(1, configMaps, map[string]struct{}{"ns/new": {}})
		}, "delete ns/configmap/kept "},
		{"cloud deletion carries its RV", func(tr *tracker) {
			tr.remove(1, configMaps, "ns", "new", "30")
		}, "delete ns/configmap/new 30"},
		{"a deletion of something not held is ignored", func(tr *tracker) {
			tr.remove(1, configMaps, "ns", "new", "31")
		}, ""},
	}
	sink := &recordSink{}
	tr := newTracker(sink)
	for _, s := range steps {
		s.do(tr)
		if got := sink.take(); got != s.want {
			t.Errorf("%s: sent %q, want %q", s.name, got, s.want)
		}
	}
}

func TestTrackerNoDeleteBeforeReconcile(t *testing.T) {
	sink := &recordSink{}
	tr := newTracker(sink)
	tr.upsert(1, configMaps, cm("ns", "a", "3"), "4")
	tr.dropStream(1, configMaps)
	if got := sink.take(); got != "insert ns/configmap/a 4" {
		t.Fatalf("before the first full sync a dropped holder must not delete: %q", got)
	}
	tr.reconcile()
	if got := sink.take(); got != "delete ns/configmap/a " {
		t.Fatalf("reconcile: %q", got)
	}
}

// TestTrackerSeededListRV: an object the store holds with the list's
// resourceVersion (it came with a list) is not written again when a relist
// delivers it unchanged, and preconditions translate to its own
// resourceVersion.
func TestTrackerSeededListRV(t *testing.T) {
	sink := &recordSink{}
	tr := newTracker(sink)
	tr.seed(configMaps, "ConfigMap", "ns/a", "20")
	if got := tr.cloudRV(configMaps, "ns", "a", "20"); got != "20" {
		t.Fatalf("before any delivery: %s", got)
	}
	tr.upsert(1, configMaps, cm("ns", "a", "7"), "25")
	if got := sink.take(); got != "" {
		t.Fatalf("unchanged object written again: %q", got)
	}
	if got := tr.cloudRV(configMaps, "ns", "a", "20"); got != "7" {
		t.Fatalf("precondition for the stored 20: %s, want the object's own 7", got)
	}
	tr.upsert(1, configMaps, cm("ns", "a", "30"), "")
	if got := sink.take(); got != "update ns/configmap/a 30" {
		t.Fatalf("change: %q", got)
	}
	if got := tr.cloudRV(configMaps, "ns", "a", "20"); got != "20" {
		t.Fatalf("store still at 20 (update in flight): %s, want 20 (the cloud then answers 409)", got)
	}
}

// TestTrackerWrittenSurvivesReconcile: an object the node wrote through a
// forwarded write while the first sync was still listing is not deleted by
// the reconciliation (no stream holds it yet; its by-name stream is
// starting), and a stream that then delivers it unchanged writes nothing.
func TestTrackerWrittenSurvivesReconcile(t *testing.T) {
	sink := &recordSink{}
	tr := newTracker(sink)
	tr.written(configMaps, cm("ns", "w1", "40"), nil)
	if got := sink.take(); got != "insert ns/configmap/w1 40" {
		t.Fatalf("written: %q", got)
	}
	if n := tr.reconcile(); n != 0 {
		t.Fatalf("reconcile deleted %d (%q); the node's own write must stay", n, sink.take())
	}
	tr.upsert(7, configMaps, cm("ns", "w1", "40"), "41")
	if got := sink.take(); got != "" {
		t.Fatalf("by-name stream delivering the written object unchanged: %q", got)
	}
	tr.dropStream(7, configMaps)
	if got := sink.take(); got != "delete ns/configmap/w1 " {
		t.Fatalf("held, then dropped after the reconciliation: %q", got)
	}
}
