package watchhub

import (
	"errors"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

func TestTransitionRule(t *testing.T) {
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	noPrev := func(ev event.Event) event.Event {
		ev.PrevObject, ev.PrevLabels, ev.PrevFields = nil, nil, nil
		return ev
	}
	withFields := func(ev event.Event, cur, prev string) event.Event {
		ev.Fields = map[string]string{"metadata.name": ev.Name, "metadata.namespace": ev.Namespace, "spec.nodeName": cur}
		if ev.PrevObject != nil {
			ev.PrevFields = map[string]string{"metadata.name": ev.Name, "metadata.namespace": ev.Namespace, "spec.nodeName": prev}
		}
		return ev
	}
	appWeb := labels.SelectorFromSet(web)
	onNode1 := fields.OneTermEqualSelector("spec.nodeName", "node1")

	tests := []struct {
		name    string
		req     Request
		ev      event.Event
		want    watch.EventType // "" = not delivered
		usePrev bool
	}{
		{"added, no selector", Request{}, mkEvent(watch.Added, pods, "ns", "a", web, nil), watch.Added, false},
		{"added, matching", Request{Labels: appWeb}, mkEvent(watch.Added, pods, "ns", "a", web, nil), watch.Added, false},
		{"added, not matching", Request{Labels: appWeb}, mkEvent(watch.Added, pods, "ns", "a", db, nil), "", false},
		{"modified, no selector", Request{}, mkEvent(watch.Modified, pods, "ns", "a", db, web), watch.Modified, false},
		{"modified, no selector, no prev", Request{}, noPrev(mkEvent(watch.Modified, pods, "ns", "a", db, web)), watch.Modified, false},
		{"modified, both match", Request{Labels: appWeb}, mkEvent(watch.Modified, pods, "ns", "a", web, web), watch.Modified, false},
		{"modified, enters selection", Request{Labels: appWeb}, mkEvent(watch.Modified, pods, "ns", "a", web, db), watch.Added, false},
		{"modified, leaves selection", Request{Labels: appWeb}, mkEvent(watch.Modified, pods, "ns", "a", db, web), watch.Deleted, true},
		{"modified, neither", Request{Labels: appWeb}, mkEvent(watch.Modified, pods, "ns", "a", db, db), "", false},
		{"modified, unknown prev counts as not matching", Request{Labels: appWeb}, noPrev(mkEvent(watch.Modified, pods, "ns", "a", web, web)), watch.Added, false},
		{"deleted, matching last state", Request{Labels: appWeb}, mkEvent(watch.Deleted, pods, "ns", "a", web, web), watch.Deleted, false},
		{"deleted, not matching", Request{Labels: appWeb}, mkEvent(watch.Deleted, pods, "ns", "a", db, db), "", false},
		{"deleted, no selector", Request{}, mkEvent(watch.Deleted, pods, "ns", "a", nil, nil), watch.Deleted, false},
		{"field enters", Request{Fields: onNode1}, withFields(mkEvent(watch.Modified, pods, "ns", "a", nil, nil), "node1", ""), watch.Added, false},
		{"field leaves", Request{Fields: onNode1}, withFields(mkEvent(watch.Modified, pods, "ns", "a", nil, nil), "node2", "node1"), watch.Deleted, true},
		{"field stays", Request{Fields: onNode1}, withFields(mkEvent(watch.Modified, pods, "ns", "a", nil, nil), "node1", "node1"), watch.Modified, false},
		{"field !=", Request{Fields: fields.ParseSelectorOrDie("spec.nodeName!=node1")}, withFields(mkEvent(watch.Added, pods, "ns", "a", nil, nil), "node2", ""), watch.Added, false},
		{"field != excluded", Request{Fields: fields.ParseSelectorOrDie("spec.nodeName!=node1")}, withFields(mkEvent(watch.Added, pods, "ns", "a", nil, nil), "node1", ""), "", false},
		{"labels and fields", Request{Labels: appWeb, Fields: onNode1}, withFields(mkEvent(watch.Added, pods, "ns", "a", web, nil), "node1", ""), watch.Added, false},
		{"labels and fields, one fails", Request{Labels: appWeb, Fields: onNode1}, withFields(mkEvent(watch.Added, pods, "ns", "a", db, nil), "node1", ""), "", false},
		{"label exists selector", Request{Labels: mustParseLabels("app")}, mkEvent(watch.Added, pods, "ns", "a", db, nil), watch.Added, false},
		{"namespace", Request{Namespace: "ns"}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), watch.Added, false},
		{"other namespace", Request{Namespace: "other"}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), "", false},
		{"name", Request{Name: "a"}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), watch.Added, false},
		{"other name", Request{Name: "b"}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), "", false},
		{"metadata.name selector", Request{Fields: fields.OneTermEqualSelector("metadata.name", "a")}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), watch.Added, false},
		{"metadata.name selector, other", Request{Fields: fields.OneTermEqualSelector("metadata.name", "b")}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), "", false},
		{"metadata.namespace selector", Request{Fields: fields.OneTermEqualSelector("metadata.namespace", "ns")}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), watch.Added, false},
		{"metadata.name != falls back to event name", Request{Fields: fields.ParseSelectorOrDie("metadata.name!=a")}, noFields(mkEvent(watch.Added, pods, "ns", "a", nil, nil)), "", false},
		{"name and metadata.name disagree", Request{Name: "a", Fields: fields.OneTermEqualSelector("metadata.name", "b")}, mkEvent(watch.Added, pods, "ns", "a", nil, nil), "", false},
		{"cluster-scoped, metadata.namespace= ", Request{Fields: fields.OneTermEqualSelector("metadata.namespace", "")}, noFields(mkEvent(watch.Added, pods, "", "n1", nil, nil)), watch.Added, false},
		{"unknown event type", Request{}, func() event.Event { e := podAdded("ns", "a"); e.Type = "BOGUS"; return e }(), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.GVR = pods
			m, err := compile(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			typ, usePrev, ok := m.delivery(&tc.ev)
			if tc.want == "" {
				if ok {
					t.Fatalf("delivered %s, want nothing", typ)
				}
				return
			}
			if !ok || typ != tc.want || usePrev != tc.usePrev {
				t.Fatalf("got (%q, usePrev=%v, %v), want (%q, usePrev=%v)", typ, usePrev, ok, tc.want, tc.usePrev)
			}
		})
	}
}

func noFields(ev event.Event) event.Event { ev.Fields, ev.PrevFields = nil, nil; return ev }

func mustParseLabels(s string) labels.Selector {
	sel, err := labels.Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

func TestCompile(t *testing.T) {
	if _, err := compile(Request{}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("missing GVR: got %v", err)
	}
	m, err := compile(Request{GVR: pods, Fields: fields.ParseSelectorOrDie("metadata.namespace=ns,metadata.name=a,spec.nodeName=n")})
	if err != nil {
		t.Fatal(err)
	}
	if m.namespace != "ns" || m.name != "a" || len(m.fields) != 1 || m.none {
		t.Fatalf("name/namespace equality should become the key: %+v", m)
	}
	m, _ = compile(Request{GVR: pods, Namespace: "x", Fields: fields.OneTermEqualSelector("metadata.namespace", "y")})
	if !m.none {
		t.Fatalf("contradictory namespaces should match nothing: %+v", m)
	}
	m, _ = compile(Request{GVR: pods, Labels: labels.Everything(), Fields: fields.Everything()})
	if !m.stateless() {
		t.Fatalf("Everything selectors should cost nothing: %+v", m)
	}
}

// Publish evaluates a watcher without allocating: the hot path of fan-out.
func TestDeliveryDoesNotAllocate(t *testing.T) {
	m, err := compile(Request{GVR: pods, Labels: labels.SelectorFromSet(map[string]string{"app": "web"}), Fields: fields.OneTermEqualSelector("spec.nodeName", "n1")})
	if err != nil {
		t.Fatal(err)
	}
	ev := mkEvent(watch.Modified, pods, "ns", "a", map[string]string{"app": "web"}, map[string]string{"app": "db"})
	ev.Fields["spec.nodeName"] = "n1"
	if a := testing.AllocsPerRun(1000, func() { m.delivery(&ev) }); a != 0 {
		t.Fatalf("delivery allocates %v times per call", a)
	}
}
