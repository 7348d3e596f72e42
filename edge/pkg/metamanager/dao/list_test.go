package dao

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type modelObj struct {
	ns, name string
	labels   map[string]string
	fields   map[string]string
	data     string
	rev      int64
}

// modelState is the expected store content at one revision.
type modelState map[string]modelObj

func (m modelState) clone() modelState {
	out := make(modelState, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// expect filters and orders the model like List should.
func (m modelState) expect(opts ListOptions) []modelObj {
	var out []modelObj
	for _, o := range m {
		if opts.Namespace != "" && o.ns != opts.Namespace {
			continue
		}
		if opts.Labels != nil && !opts.Labels.Matches(labels.Set(o.labels)) {
			continue
		}
		if opts.Fields != nil && !opts.Fields.Matches(fields.Set(o.fields)) {
			continue
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].ns, out[i].name, out[j].ns, out[j].name) })
	return out
}

// listAll pages through a list with the given page size, checking Continue
// and Remaining on every page; it returns everything it saw.
func listAll(t *testing.T, s *Store, opts ListOptions, page int64) []Stored {
	t.Helper()
	var all []Stored
	opts.Limit = page
	first := true
	var total int64 = -1
	for {
		res, err := s.List(context.Background(), podsGVR, opts)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		if opts.Revision != 0 && res.Revision != opts.Revision {
			t.Fatalf("list at %d reported revision %d", opts.Revision, res.Revision)
		}
		if first {
			opts.Revision = res.Revision // later pages read at the first page's revision, as continue tokens do
			first = false
		}
		all = append(all, res.Items...)
		if page > 0 && int64(len(res.Items)) > page {
			t.Fatalf("page of %d items, limit %d", len(res.Items), page)
		}
		if res.Continue == "" {
			if total >= 0 && total != int64(len(res.Items)) {
				t.Fatalf("remaining said %d, last page has %d", total, len(res.Items))
			}
			return all
		}
		if total >= 0 && total < int64(len(res.Items)) {
			t.Fatalf("remaining said %d, page has %d", total, len(res.Items))
		}
		if total >= 0 && total-int64(len(res.Items)) != res.Remaining {
			t.Fatalf("remaining %d then %d after a page of %d", total, res.Remaining, len(res.Items))
		}
		total = res.Remaining
		last := res.Items[len(res.Items)-1]
		if res.Continue != last.Namespace+"/"+last.Name {
			t.Fatalf("continue %q, last item %s/%s", res.Continue, last.Namespace, last.Name)
		}
		opts.After = res.Continue
	}
}

func compare(t *testing.T, what string, got []Stored, want []modelObj) {
	t.Helper()
	compareData(t, what, got, want, false)
}

func compareData(t *testing.T, what string, got []Stored, want []modelObj, dataOnly bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d items %v, want %d", what, len(got), keysOf(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		wl, wf := w.labels, w.fields
		if dataOnly {
			wl, wf = nil, nil
			if g.Labels != nil || g.Fields != nil {
				t.Fatalf("%s: DataOnly item %d has labels/fields", what, i)
			}
		}
		if g.Namespace != w.ns || g.Name != w.name || string(g.Data) != w.data || g.Revision != w.rev ||
			!equalMaps(g.Labels, wl) || !equalMaps(g.Fields, wf) || g.Kind != "Pod" || g.GVR != podsGVR {
			t.Fatalf("%s: item %d = %s/%s rev %d labels %v, want %s/%s rev %d labels %v", what, i,
				g.Namespace, g.Name, g.Revision, g.Labels, w.ns, w.name, w.rev, w.labels)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

var selectorCases = []string{
	"",
	"app=web",
	"app==web",
	"app!=web",
	"app in (web,db)",
	"app notin (web,db)",
	"tier",
	"!tier",
	"app=web,tier=front",
	"app in (web,db),!tier",
	"app!=db,tier notin (back)",
	"app=nope",
	"size>3",
	"app=web,size<5",
}

var fieldCases = []string{"", "spec.nodeName=n1", "spec.nodeName!=n1", "metadata.namespace=ns1,spec.nodeName=n2"}

// randomPut makes a random pod over a small key space.
func randomPut(r *rand.Rand) PutRequest {
	ns := fmt.Sprint("ns", r.Intn(3))
	if r.Intn(8) == 0 {
		ns = "" // cluster-scoped keys share the table
	}
	name := fmt.Sprint("p", r.Intn(25))
	l := map[string]string{}
	if r.Intn(5) > 0 {
		l["app"] = []string{"web", "db", "cache"}[r.Intn(3)]
	}
	if r.Intn(2) == 0 {
		l["tier"] = []string{"front", "back"}[r.Intn(2)]
	}
	if r.Intn(2) == 0 {
		l["size"] = fmt.Sprint(r.Intn(8))
	}
	if len(l) == 0 {
		l = nil
	}
	return podPut(ns, name, l, fmt.Sprint("n", r.Intn(3)), "1", r.Intn(300))
}

// TestListModel applies random puts and deletes, snapshots the expected state
// at every revision and compares List at random revisions, selectors and page
// sizes with it.
func TestListModel(t *testing.T) {
	s, _ := openTest(t, Options{})
	r := rand.New(rand.NewSource(1))
	ctx := context.Background()
	cur := modelState{}
	states := []modelState{cur.clone()} // states[rev]
	for i := 0; i < 400; i++ {
		// A few changes per Update, sometimes a failing one.
		fail := r.Intn(10) == 0
		next := cur.clone()
		rev := int64(len(states) - 1)
		var snaps []modelState
		err := s.Update(ctx, func(tx Tx) error {
			for j := 0; j < 1+r.Intn(3); j++ {
				if r.Intn(4) == 0 && len(next) > 0 {
					keys := make([]string, 0, len(next))
					for k := range next {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					o := next[keys[r.Intn(len(keys))]]
					if _, err := tx.Delete(podKey(o.ns, o.name), "1"); err != nil {
						return err
					}
					delete(next, o.ns+"/"+o.name)
				} else {
					req := randomPut(r)
					st, err := tx.Put(req)
					if err != nil {
						return err
					}
					next[req.Namespace+"/"+req.Name] = modelObj{ns: req.Namespace, name: req.Name, labels: req.Labels, fields: req.Fields, data: string(st.Data), rev: st.Revision}
				}
				rev++
				snaps = append(snaps, next.clone())
			}
			if fail {
				return errors.New("fail")
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("update %d: %v", i, err)
		}
		if !fail {
			cur = next
			states = append(states, snaps...)
		}
	}
	if s.Revision() != int64(len(states)-1) {
		t.Fatalf("revision %d, want %d", s.Revision(), len(states)-1)
	}
	for i := 0; i < 300; i++ {
		rev := int64(r.Intn(len(states)))
		if i%5 == 0 {
			rev = 0 // current
		}
		want := states[len(states)-1]
		if rev != 0 {
			want = states[rev]
		}
		opts := ListOptions{Revision: rev}
		if r.Intn(3) == 0 {
			opts.Namespace = fmt.Sprint("ns", r.Intn(3))
		}
		if sel := selectorCases[r.Intn(len(selectorCases))]; sel != "" {
			opts.Labels = mustSelector(sel)
		}
		if fs := fieldCases[r.Intn(len(fieldCases))]; fs != "" && r.Intn(2) == 0 {
			opts.Fields = fields.ParseSelectorOrDie(fs)
		}
		page := []int64{0, 1, 3, 7, 100}[r.Intn(5)]
		opts.DataOnly = r.Intn(4) == 0
		got := listAll(t, s, opts, page)
		compareData(t, fmt.Sprintf("list at %d ns=%q labels=%v fields=%v page=%d", rev, opts.Namespace, opts.Labels, opts.Fields, page),
			got, want.expect(opts), opts.DataOnly)
	}
}

// TestListSelectors covers every label operator and field selectors on a
// fixed data set, at the current revision.
func TestListSelectors(t *testing.T) {
	s, _ := openTest(t, Options{})
	m := modelState{}
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 120; i++ {
		req := randomPut(r)
		req.Name = fmt.Sprint("p", i)
		req.Key = podKey(req.Namespace, req.Name)
		st := mustPut(t, s, req)
		m[req.Namespace+"/"+req.Name] = modelObj{ns: req.Namespace, name: req.Name, labels: req.Labels, fields: req.Fields, data: string(st.Data), rev: st.Revision}
	}
	for _, sel := range selectorCases {
		for _, fs := range fieldCases {
			for _, ns := range []string{"", "ns1"} {
				t.Run(fmt.Sprintf("%s|%s|%s", sel, fs, ns), func(t *testing.T) {
					opts := ListOptions{Namespace: ns}
					if sel != "" {
						opts.Labels = mustSelector(sel)
					}
					if fs != "" {
						opts.Fields = fields.ParseSelectorOrDie(fs)
					}
					want := m.expect(opts)
					compare(t, "all", listAll(t, s, opts, 0), want)
					compare(t, "pages of 4", listAll(t, s, opts, 4), want)
					if len(want) > 0 && sel != "" {
						found := false
						for _, w := range want {
							found = found || w.labels != nil
						}
						_ = found
					}
				})
			}
		}
	}
	// Nothing() matches nothing.
	res, err := s.List(context.Background(), podsGVR, ListOptions{Labels: labels.Nothing()})
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("nothing: %v %d", err, len(res.Items))
	}
	// Another GVR is separate.
	res, err = s.List(context.Background(), schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, ListOptions{})
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("other gvr: %v %d", err, len(res.Items))
	}
	if _, err := s.List(context.Background(), podsGVR, ListOptions{After: "no-slash"}); err == nil {
		t.Fatal("bad continue key accepted")
	}
}

func TestListRevisionErrorsAndCompaction(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{Subscriber: rec, WindowEvents: 10, WindowAge: -1})
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprint("p", i%12), nil, "", "1", 0))
	}
	mustDelete(t, s, podKey("ns", "p0"), "9") // rev 31, tombstone at 31
	mustDelete(t, s, podKey("ns", "p1"), "9") // rev 32
	if _, err := s.List(ctx, podsGVR, ListOptions{Revision: 33}); !errors.Is(err, ErrFutureRevision) {
		t.Fatalf("future: %v", err)
	}
	if _, err := s.Events(ctx, 33, 0); !errors.Is(err, ErrFutureRevision) {
		t.Fatalf("future events: %v", err)
	}
	before, err := s.List(ctx, podsGVR, ListOptions{Revision: 25})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.CompactedRevision(); got != 22 {
		t.Fatalf("compacted %d, want 22 (32 - 10)", got)
	}
	if _, err := s.List(ctx, podsGVR, ListOptions{Revision: 21}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("compacted list: %v", err)
	}
	if _, err := s.Events(ctx, 21, 0); !errors.Is(err, ErrCompacted) {
		t.Fatalf("compacted events: %v", err)
	}
	after, err := s.List(ctx, podsGVR, ListOptions{Revision: 25})
	if err != nil || !reflect.DeepEqual(keysOf(after.Items), keysOf(before.Items)) {
		t.Fatalf("list at 25 changed by compaction: %v", err)
	}
	evs, err := s.Events(ctx, 22, 0)
	if err != nil || len(evs) != 10 || evs[0].Revision != 23 {
		t.Fatalf("events after compaction: %v %d", err, len(evs))
	}
	if !reflect.DeepEqual(normEvents(evs), normEvents(rec.all()[22:])) {
		t.Fatal("events differ from published")
	}
	// Page-limited events.
	evs, err = s.Events(ctx, 22, 3)
	if err != nil || len(evs) != 3 || evs[2].Revision != 25 {
		t.Fatalf("limited events: %v %d", err, len(evs))
	}
	// Tombstones at or below the compacted revision are gone, later ones kept.
	mustPut(t, s, podPut("ns", "z", nil, "", "1", 0))
	for i := 0; i < 12; i++ {
		mustPut(t, s, podPut("ns", "z", nil, "", "1", 0))
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if s.CompactedRevision() != 35 {
		t.Fatalf("compacted %d, want 35", s.CompactedRevision())
	}
	_ = s.Update(ctx, func(tx Tx) error {
		for _, n := range []string{"p0", "p1"} {
			if _, ok, _ := tx.Tombstone(podKey("ns", n)); ok {
				t.Errorf("tombstone %s survived compaction", n)
			}
		}
		return nil
	})

	// Compacted revision survives a restart.
}

func TestCompactionAgeWindow(t *testing.T) {
	s, path := openTest(t, Options{WindowEvents: 2, WindowAge: 1 << 62})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		mustPut(t, s, podPut("ns", "a", nil, "", "1", 0))
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if s.CompactedRevision() != 0 {
		t.Fatalf("young events compacted: %d", s.CompactedRevision())
	}
	s.Close()
	s2, err := Open(path, Options{WindowEvents: 4, WindowAge: -1, CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if s2.CompactedRevision() != 6 {
		t.Fatalf("compacted %d, want 6", s2.CompactedRevision())
	}
	s2.Close()
	s3, err := Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if s3.CompactedRevision() != 6 || s3.Revision() != 10 {
		t.Fatalf("after reopen: compacted %d revision %d", s3.CompactedRevision(), s3.Revision())
	}
}

func TestBackgroundCompaction(t *testing.T) {
	s, _ := openTest(t, Options{WindowEvents: 5, WindowAge: -1, CompactInterval: 10e6})
	for i := 0; i < 3000; i++ {
		if i%500 == 0 {
			_ = s.Update(context.Background(), func(tx Tx) error { return nil })
		}
	}
	err := s.Update(context.Background(), func(tx Tx) error {
		for i := 0; i < 2500; i++ {
			if _, err := tx.Put(podPut("ns", fmt.Sprint("p", i%10), nil, "", "1", 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && s.CompactedRevision() != 2495; i++ {
		mustPut(t, s, podPut("ns", "x", nil, "", "1", 0))
		if s.CompactedRevision() >= s.Revision()-5 {
			break
		}
		timeSleep(10e6)
	}
	if c, r := s.CompactedRevision(), s.Revision(); c < 2490 || c > r-5 {
		t.Fatalf("background compaction: compacted %d revision %d", c, r)
	}
}
