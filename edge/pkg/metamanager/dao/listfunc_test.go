package dao

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// ListFunc passes the same items, in the same order, with the same page
// metadata, as List; at current and past revisions, with and without limits.
func TestListFuncMatchesList(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{CompactInterval: -1})
	for i := 0; i < 40; i++ {
		mustPut(t, s, podPut(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("p-%02d", i), map[string]string{"app": fmt.Sprint(i % 4)}, "n1", fmt.Sprint(i+1), 100))
	}
	mid := s.Revision()
	for i := 0; i < 40; i += 3 {
		mustDelete(t, s, podKey(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("p-%02d", i)), fmt.Sprint(100+i))
	}
	for i := 1; i < 40; i += 5 {
		mustPut(t, s, podPut(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("p-%02d", i), map[string]string{"app": "x"}, "n2", fmt.Sprint(200+i), 100))
	}
	for _, rev := range []int64{0, mid} {
		for _, opts := range []ListOptions{
			{}, {Limit: 7}, {Limit: 7, After: "ns-1/p-04"}, {Namespace: "ns-2", Limit: 3},
			{Labels: mustSelector("app=1")}, {Labels: mustSelector("app!=x"), Limit: 5}, {DataOnly: true, Limit: 100},
		} {
			opts.Revision = rev
			want, err := s.List(ctx, podsGVR, opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []Stored
			res, err := s.ListFunc(ctx, podsGVR, opts, func(r int64, it Stored) error {
				if r != want.Revision {
					t.Errorf("%+v: fn rev %d, want %d", opts, r, want.Revision)
				}
				it.Data = bytes.Clone(it.Data)
				got = append(got, it)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Items != nil || res.Revision != want.Revision || res.Continue != want.Continue || res.Remaining != want.Remaining {
				t.Errorf("%+v: result %+v, want %+v", opts, res, ListResult{Revision: want.Revision, Continue: want.Continue, Remaining: want.Remaining})
			}
			if len(got) != len(want.Items) {
				t.Fatalf("%+v: %d items, want %d", opts, len(got), len(want.Items))
			}
			for i := range got {
				g, w := got[i], want.Items[i]
				if g.Key != w.Key || g.Revision != w.Revision || g.CloudRV != w.CloudRV || !bytes.Equal(g.Data, w.Data) || !equalMaps(g.Labels, w.Labels) {
					t.Errorf("%+v: item %d = %v/%v rev %d, want %v/%v rev %d", opts, i, g.Namespace, g.Name, g.Revision, w.Namespace, w.Name, w.Revision)
				}
			}
		}
	}
}

func TestListFuncErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{CompactInterval: -1})
	for i := 0; i < 5; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprintf("p-%d", i), nil, "n1", fmt.Sprint(i+1), 10))
	}
	called := 0
	_, err := s.ListFunc(ctx, podsGVR, ListOptions{Revision: s.Revision() + 1}, func(int64, Stored) error { called++; return nil })
	if !errors.Is(err, ErrFutureRevision) || called != 0 {
		t.Fatalf("future revision: err %v, fn called %d times", err, called)
	}
	stop := errors.New("stop")
	_, err = s.ListFunc(ctx, podsGVR, ListOptions{}, func(int64, Stored) error {
		called++
		if called == 2 {
			return stop
		}
		return nil
	})
	if err != stop || called != 2 {
		t.Fatalf("fn error: err %v after %d calls", err, called)
	}
}

// LimitBytes pages by size: every item once, in order, each page just
// reaching the budget; NoRemaining skips the count.
func TestListLimitBytes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{CompactInterval: -1})
	for i := 0; i < 30; i++ {
		mustPut(t, s, podPut("ns", fmt.Sprintf("p-%02d", i), nil, "n1", fmt.Sprint(i+1), 200*(i%4)))
	}
	whole, err := s.List(ctx, podsGVR, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const budget = 1500
	for _, limit := range []int64{0, 3} {
		var got []string
		opts := ListOptions{LimitBytes: budget, Limit: limit, NoRemaining: true}
		for pages := 0; ; pages++ {
			if pages > 40 {
				t.Fatal("too many pages")
			}
			res, err := s.List(ctx, podsGVR, opts)
			if err != nil {
				t.Fatal(err)
			}
			var size int64
			for i, it := range res.Items {
				if i > 0 && size >= budget {
					t.Fatalf("page went on past %d bytes", budget)
				}
				size += int64(len(it.Data))
			}
			if res.Continue != "" && size < budget && (limit == 0 || int64(len(res.Items)) < limit) {
				t.Fatalf("page of %d bytes, %d items ended early", size, len(res.Items))
			}
			if res.Continue != "" && res.Remaining != -1 {
				t.Fatalf("NoRemaining: Remaining %d", res.Remaining)
			}
			got = append(got, keysOf(res.Items)...)
			if res.Continue == "" {
				break
			}
			opts.After, opts.Revision = res.Continue, res.Revision
		}
		if fmt.Sprint(got) != fmt.Sprint(keysOf(whole.Items)) {
			t.Fatalf("limit %d: paged %v, want %v", limit, got, keysOf(whole.Items))
		}
	}
}
