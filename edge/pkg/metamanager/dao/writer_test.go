package dao

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// TestPutLabelRows: label rows are inserted in statements of up to
// maxLabelRows; any number of labels is stored and selectable, and a
// relabelling replaces them.
func TestPutLabelRows(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	for _, n := range []int{0, 1, maxLabelRows, maxLabelRows + 1, 2*maxLabelRows + 3} {
		lbls := map[string]string{}
		for i := 0; i < n; i++ {
			lbls[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("v%d", i)
		}
		name := fmt.Sprintf("p%d", n)
		mustPut(t, s, podPut("ns", name, lbls, "n1", "1", 0))
		for i := 0; i < n; i++ {
			lr, err := s.List(ctx, podsGVR, ListOptions{Labels: mustSelector(fmt.Sprintf("k%02d=v%d", i, i))})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, it := range lr.Items {
				found = found || it.Name == name
			}
			if !found {
				t.Fatalf("%d labels: %s not found by k%02d", n, name, i)
			}
		}
	}
	mustPut(t, s, podPut("ns", "p11", map[string]string{"other": "x"}, "n1", "2", 0))
	lr, err := s.List(ctx, podsGVR, ListOptions{Labels: mustSelector("k00=v0")})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range lr.Items {
		if it.Name == "p11" {
			t.Fatal("relabelled object still found by an old label")
		}
	}
}

// TestPutAfterTombstoneCheck: an insert that found no tombstone skips
// deleting one, and an insert over a tombstone still removes it.
func TestPutAfterTombstoneCheck(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	put := func(name, rv string) {
		t.Helper()
		err := s.Update(ctx, func(tx Tx) error {
			if _, _, err := tx.Tombstone(podKey("ns", name)); err != nil {
				return err
			}
			_, err := tx.Put(podPut("ns", name, nil, "n1", rv, 0))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("a", "1")
	mustDelete(t, s, podKey("ns", "a"), "2")
	err := s.Update(ctx, func(tx Tx) error {
		if _, ok, err := tx.Tombstone(podKey("ns", "a")); err != nil || !ok {
			return fmt.Errorf("tombstone after delete: %v %v", ok, err)
		}
		// no tombstone for b: then a Put of a (which has one) must delete it
		if _, _, err := tx.Tombstone(podKey("ns", "b")); err != nil {
			return err
		}
		_, err := tx.Put(podPut("ns", "a", nil, "n1", "3", 0))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	put("b", "1")
	err = s.Update(ctx, func(tx Tx) error {
		for _, name := range []string{"a", "b"} {
			if _, ok, err := tx.Tombstone(podKey("ns", name)); err != nil || ok {
				return fmt.Errorf("%s: tombstone left after the insert: %v %v", name, ok, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupRetriesOnlyAfterAWrittenFailure: a group whose requests succeed,
// or fail before writing, runs each function once (no savepoints); a request
// that fails after writing makes the group run again with savepoints, and
// the others commit as if it had never run.
func TestGroupRetriesOnlyAfterAWrittenFailure(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		failAfter bool // request 3 fails after its Put (else before it)
		wantCalls int64
	}{
		{"fails before writing", false, 8},
		{"fails after writing", true, 4 + 8}, // 0..3, then all again
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t, Options{})
			ctx := context.Background()
			var calls atomic.Int64
			gate := make(chan struct{})
			first := s.Submit(ctx, func(Tx) error { <-gate; return nil })
			var done []<-chan error
			for i := 0; i < 8; i++ {
				done = append(done, s.Submit(ctx, func(tx Tx) error {
					calls.Add(1)
					if i == 3 && !tc.failAfter {
						return boom
					}
					if _, err := tx.Put(podPut("ns", fmt.Sprint("p", i), nil, "", "1", 0)); err != nil {
						return err
					}
					if i == 3 {
						return boom
					}
					return nil
				}))
			}
			close(gate)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for i, ch := range done {
				err := <-ch
				_, gerr := s.Get(ctx, podKey("ns", fmt.Sprint("p", i)))
				if i == 3 {
					if !errors.Is(err, boom) || !errors.Is(gerr, ErrNotFound) {
						t.Errorf("request 3: %v, stored: %v; want boom and nothing stored", err, gerr)
					}
					continue
				}
				if err != nil || gerr != nil {
					t.Errorf("request %d: %v, get: %v", i, err, gerr)
				}
			}
			if s.Revision() != 7 {
				t.Errorf("revision %d, want 7 (dense)", s.Revision())
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("functions ran %d times, want %d", got, tc.wantCalls)
			}
		})
	}
}
