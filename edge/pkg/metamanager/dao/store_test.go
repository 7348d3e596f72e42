package dao

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

func TestPutGetDeleteTombstone(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{Subscriber: rec})
	ctx := context.Background()
	lbls := map[string]string{"app": "web"}

	st := mustPut(t, s, podPut("default", "a", lbls, "n1", "100", 0))
	if st.Revision != 1 || s.Revision() != 1 {
		t.Fatalf("revision %d / %d, want 1", st.Revision, s.Revision())
	}
	got, err := s.Get(ctx, podKey("default", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != string(st.Data) || rvOf(t, got.Data) != "1" || got.CloudRV != "100" || got.Kind != "Pod" ||
		!reflect.DeepEqual(got.Labels, lbls) || got.Fields["spec.nodeName"] != "n1" {
		t.Fatalf("get: %+v", got)
	}

	st2 := mustPut(t, s, podPut("default", "a", map[string]string{"app": "db"}, "n1", "101", 0))
	if st2.Revision != 2 || rvOf(t, st2.Data) != "2" {
		t.Fatalf("update: %+v", st2)
	}

	del := mustDelete(t, s, podKey("default", "a"), "102")
	if del.Revision != 3 || rvOf(t, del.Data) != "3" {
		t.Fatalf("delete: rev %d rv %s", del.Revision, rvOf(t, del.Data))
	}
	if _, err := s.Get(ctx, podKey("default", "a")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	err = s.Update(ctx, func(tx Tx) error {
		ts, ok, err := tx.Tombstone(podKey("default", "a"))
		if err != nil || !ok || ts.Revision != 3 || ts.CloudRV != "102" {
			return fmt.Errorf("tombstone %+v %v %v", ts, ok, err)
		}
		if _, err := tx.Delete(podKey("default", "a"), "103"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("delete missing: %v", err)
		}
		if _, err := tx.Get(podKey("default", "a")); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("tx get: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Re-insert removes the tombstone and is ADDED.
	mustPut(t, s, podPut("default", "a", lbls, "n1", "104", 0))
	_ = s.Update(ctx, func(tx Tx) error {
		if _, ok, _ := tx.Tombstone(podKey("default", "a")); ok {
			t.Error("tombstone survived a put")
		}
		return nil
	})

	evs := rec.all()
	wantTypes := []watch.EventType{watch.Added, watch.Modified, watch.Deleted, watch.Added}
	if len(evs) != len(wantTypes) {
		t.Fatalf("published %d events, want %d", len(evs), len(wantTypes))
	}
	for i, e := range evs {
		if e.Type != wantTypes[i] || e.Revision != int64(i+1) || rvOf(t, e.Object) != itoa(e.Revision) {
			t.Errorf("event %d: %s rev %d rv %s", i, e.Type, e.Revision, rvOf(t, e.Object))
		}
	}
	if evs[0].PrevObject != nil || string(evs[1].PrevObject) != string(st.Data) || string(evs[2].PrevObject) != string(st2.Data) {
		t.Error("prev objects wrong")
	}
	if evs[1].Labels["app"] != "db" || evs[1].PrevLabels["app"] != "web" || evs[2].Labels["app"] != "db" {
		t.Errorf("labels wrong: %v %v %v", evs[1].Labels, evs[1].PrevLabels, evs[2].Labels)
	}
	// The event log equals what was published.
	logged, err := s.Events(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normEvents(logged), normEvents(evs)) {
		t.Fatalf("event log differs from published:\n%+v\n%+v", logged, evs)
	}
}

// normEvents makes empty and nil byte slices / maps compare equal.
func normEvents(evs []event.Event) []event.Event {
	out := make([]event.Event, len(evs))
	for i, e := range evs {
		if len(e.PrevObject) == 0 {
			e.PrevObject = nil
		}
		for _, m := range []*map[string]string{&e.Labels, &e.PrevLabels, &e.Fields, &e.PrevFields} {
			if len(*m) == 0 {
				*m = nil
			}
		}
		out[i] = e
	}
	return out
}

func TestRevisionsSurviveReopen(t *testing.T) {
	s, path := openTest(t, Options{})
	for i := 0; i < 5; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0))
	}
	mustDelete(t, s, podKey("ns", "p0"), "2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("update after close: %v", err)
	}
	s2, err := Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Revision() != 6 {
		t.Fatalf("revision after reopen %d, want 6", s2.Revision())
	}
	st := mustPut(t, s2, podPut("ns", "p9", nil, "", "1", 0))
	if st.Revision != 7 {
		t.Fatalf("next revision %d, want 7", st.Revision)
	}
	res, err := s2.List(context.Background(), podsGVR, ListOptions{})
	if err != nil || len(res.Items) != 5 || res.Revision != 7 {
		t.Fatalf("list after reopen: %v %d items rev %d", err, len(res.Items), res.Revision)
	}
	// The tombstone survived too.
	_ = s2.Update(context.Background(), func(tx Tx) error {
		if ts, ok, _ := tx.Tombstone(podKey("ns", "p0")); !ok || ts.Revision != 6 {
			t.Errorf("tombstone after reopen: %+v %v", ts, ok)
		}
		return nil
	})
}

// TestGroupCommitRollsBackOnlyTheFailure holds the writer inside one request
// so that many concurrent requests queue up and commit as one group.
func TestGroupCommitRollsBackOnlyTheFailure(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{Subscriber: rec})
	ctx := context.Background()
	release := make(chan struct{})
	entered := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := s.Update(ctx, func(tx Tx) error {
			close(entered)
			<-release
			_, err := tx.Put(podPut("ns", "first", nil, "", "1", 0))
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-entered
	const n = 60
	errs := make([]error, n)
	boom := errors.New("boom")
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx Tx) error {
				// Two changes per request; every third request fails after
				// making them, one panics.
				if _, err := tx.Put(podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0)); err != nil {
					return err
				}
				if _, err := tx.Put(podPut("ns", fmt.Sprint("q", i), nil, "", "1", 0)); err != nil {
					return err
				}
				if i == 7 {
					panic("bad message")
				}
				if i%3 == 0 {
					return boom
				}
				return nil
			})
		}(i)
	}
	// Wait until all are queued, then let the group run.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.reqs) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()

	ok := 1
	for i, err := range errs {
		switch {
		case i == 7:
			if err == nil {
				t.Errorf("request %d: panic not reported", i)
			}
		case i%3 == 0:
			if !errors.Is(err, boom) {
				t.Errorf("request %d: %v, want boom", i, err)
			}
		default:
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			ok++
		}
		_, err1 := s.Get(ctx, podKey("ns", fmt.Sprint("p", i)))
		if committed := err1 == nil; committed != (errs[i] == nil) {
			t.Errorf("request %d: committed=%v but returned %v", i, committed, errs[i])
		}
	}
	wantRev := int64(1 + 2*(ok-1))
	if s.Revision() != wantRev {
		t.Fatalf("revision %d, want %d (dense)", s.Revision(), wantRev)
	}
	evs := rec.all()
	if int64(len(evs)) != wantRev {
		t.Fatalf("%d events published, want %d", len(evs), wantRev)
	}
	for i, e := range evs {
		if e.Revision != int64(i+1) {
			t.Fatalf("event %d has revision %d: not dense/in order", i, e.Revision)
		}
	}
	rec.mu.Lock()
	calls := rec.calls
	rec.mu.Unlock()
	if calls > 3 {
		t.Errorf("%d publish calls: the queued requests were not group-committed", calls)
	}
	logged, err := s.Events(ctx, 0, 0)
	if err != nil || !reflect.DeepEqual(normEvents(logged), normEvents(evs)) {
		t.Fatalf("event log != published (%v)", err)
	}
}

// TestPublishAfterCommit: when Publish runs, and when Update returns, a
// separate read connection already sees the commit.
func TestPublishAfterCommit(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{})
	var mu sync.Mutex
	var seen []string
	rec.onEvent = func(evs []event.Event) {
		for _, e := range evs {
			_, err := s.Get(context.Background(), podKey(e.Namespace, e.Name))
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%d:%v", e.Revision, err))
			mu.Unlock()
		}
	}
	s.SetSubscriber(rec)
	for i := 0; i < 20; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0))
		res, err := s.List(context.Background(), podsGVR, ListOptions{})
		if err != nil || len(res.Items) != i+1 || res.Revision != int64(i+1) {
			t.Fatalf("after update %d: %v items=%d rev=%d", i, err, len(res.Items), res.Revision)
		}
	}
	for i, x := range seen {
		if x != fmt.Sprintf("%d:<nil>", i+1) {
			t.Fatalf("publish %d ran before its commit was visible: %s", i, x)
		}
	}
	// Rolled-back work is never published.
	n := len(rec.all())
	_ = s.Update(context.Background(), func(tx Tx) error {
		tx.Put(podPut("ns", "nope", nil, "", "1", 0))
		return errors.New("no")
	})
	mustPut(t, s, podPut("ns", "yes", nil, "", "1", 0))
	evs := rec.all()[n:]
	if len(evs) != 1 || evs[0].Name != "yes" || evs[0].Revision != 21 {
		t.Fatalf("after rollback: %+v", evs)
	}
}

func TestTxGetSeesEarlierChangesInBatch(t *testing.T) {
	s, _ := openTest(t, Options{})
	err := s.Update(context.Background(), func(tx Tx) error {
		if _, err := tx.Put(podPut("ns", "a", map[string]string{"x": "1"}, "", "5", 0)); err != nil {
			return err
		}
		st, err := tx.Get(podKey("ns", "a"))
		if err != nil || st.Revision != 1 || st.CloudRV != "5" || st.Labels["x"] != "1" {
			return fmt.Errorf("tx get: %+v %v", st, err)
		}
		_, err = tx.Delete(podKey("ns", "a"), "6")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision() != 2 {
		t.Fatalf("revision %d", s.Revision())
	}
}

func TestUpdateContextCanceled(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, func(Tx) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Fatalf("err=%v called=%v", err, called)
	}
}

type panicky struct{}

func (panicky) Publish([]event.Event) { panic("subscriber bug") }

func TestPanickingSubscriberDoesNotStopWriter(t *testing.T) {
	s, _ := openTest(t, Options{Subscriber: panicky{}})
	for i := 0; i < 3; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0))
	}
	if s.Revision() != 3 {
		t.Fatalf("revision %d", s.Revision())
	}
}

// TestCloseFinishesQueuedWrites: every Update racing with Close either
// returns nil (and is durable: visible after reopen) or ErrClosed.
func TestCloseFinishesQueuedWrites(t *testing.T) {
	s, path := openTest(t, Options{})
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(tx Tx) error {
				_, err := tx.Put(podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0))
				return err
			})
		}(i)
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2, err := Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	okCount := 0
	for i, e := range errs {
		_, gerr := s2.Get(context.Background(), podKey("ns", fmt.Sprint("p", i)))
		switch {
		case e == nil:
			okCount++
			if gerr != nil {
				t.Errorf("acknowledged write %d lost: %v", i, gerr)
			}
		case errors.Is(e, ErrClosed):
			if gerr == nil {
				t.Errorf("write %d refused but stored", i)
			}
		default:
			t.Errorf("write %d: %v", i, e)
		}
	}
	if s2.Revision() != int64(okCount) {
		t.Fatalf("revision %d, %d acknowledged", s2.Revision(), okCount)
	}
}

// TestDurabilitySettings: WAL with synchronous=FULL on every connection, so a
// nil Update means the commit is on disk.
func TestDurabilitySettings(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "0"},
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.pragma, got, c.want)
		}
	}
	var v string
	if err := s.Orm().Raw("SELECT value FROM meta WHERE key = ?", "schema").QueryRow(&v); err != nil || v != strconv.Itoa(schemaVersion) {
		t.Fatalf("schema version via beego: %q %v", v, err)
	}
}
