package dao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
)

// encodeOld is what the store did before EncodeObject: set the revision in
// the map and json.Marshal it (on a copy; a raw metadata is decoded).
func encodeOld(t *testing.T, obj map[string]interface{}, rev int64) []byte {
	t.Helper()
	c := map[string]interface{}{}
	for k, v := range obj {
		c[k] = v
	}
	md := map[string]interface{}{}
	switch m := obj["metadata"].(type) {
	case map[string]interface{}:
		for k, v := range m {
			md[k] = v
		}
	case json.RawMessage:
		dec := json.NewDecoder(strings.NewReader(string(m)))
		dec.UseNumber()
		if err := dec.Decode(&md); err != nil {
			t.Fatal(err)
		}
	}
	c["metadata"] = md
	setResourceVersion(c, rev)
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEncodeObjectMatchesJSONMarshal(t *testing.T) {
	objs := []map[string]interface{}{
		{},
		{"metadata": nil},
		{"metadata": "junk"},
		{"kind": "Pod", "metadata": map[string]interface{}{"name": "a", "resourceVersion": "77", "labels": map[string]interface{}{"z": "1", "a": "<&>"}}},
		{"b": json.RawMessage(`{"x": [1, 2,  {"y":"a b"}]}`), "a": json.RawMessage(`"<tag>"`), "metadata": map[string]interface{}{"name": "x"}},
		{"spec": ValidJSON(`{"containers":[{"name":"app","args":["a b","c\"d","e\\\\f"]}]}`), "status": ValidJSON(`{"msg":"x\u2028y"}`), "metadata": map[string]interface{}{}},
		{"spec": ValidJSON("{\"s\":\"\u2028\",\"n\":\t1}"), "metadata": map[string]interface{}{"annotations": map[string]interface{}{"k": "héllo wörld", "bad": "\xff\xfe", "ctl": "a\x01b", "ls": "\u2029"}}},
		{"n": json.Number("12345678901234567890"), "f": 1.5, "i": 3, "t": true, "nil": nil, "arr": []interface{}{"x", nil, false, json.Number("1e3")}, "nilarr": []interface{}(nil), "nilmap": map[string]interface{}(nil), "ms": map[string]string{"a": "b"}, "metadata": json.RawMessage(`{"name":"r","generation":2}`)},
		{"metadata": map[string]interface{}{"name": "n", "resourceVersion": json.Number("5")}, "data": map[string]interface{}{"key with space": "v", "\"q\"": "x"}},
	}
	for i, obj := range objs {
		data, off, err := EncodeObject(obj)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got, err := spliceRevision(data, off, 4242)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		want := encodeOld(t, obj, 4242)
		if string(got) != string(want) {
			t.Errorf("%d:\n got %s\nwant %s", i, got, want)
		}
		re, err := jsonscan.SetResourceVersion(got, 99)
		if err != nil {
			t.Errorf("%d: SetResourceVersion failed on %s: %v", i, got, err)
		} else if want := encodeOld(t, obj, 99); string(re) != string(want) {
			t.Errorf("%d: SetResourceVersion:\n got %s\nwant %s", i, re, want)
		}
	}
	if _, err := spliceRevision([]byte(`{"a":1}`), 3, 1); err == nil {
		t.Error("bad offset accepted")
	}
}

func TestEncodeStringMapMatchesJSONMarshal(t *testing.T) {
	for _, m := range []map[string]string{
		{"app": "web", "tier": "front"},
		{"a<b": "c&d", "x": "é", "y": "\xff", "z": "\u2028", "q": `"\`},
		{"k": ""},
	} {
		want, _ := json.Marshal(m)
		if got := encodeStringMap(m); string(got) != string(want) {
			t.Errorf("got %s want %s", got, want)
		}
	}
}

// TestPutData: a Put with pre-encoded Data stores it with the revision
// spliced in; the same object through Object gives the same bytes.
func TestPutData(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{Subscriber: rec})
	ctx := context.Background()
	req := podPut("ns", "a", map[string]string{"x": "1"}, "n1", "3", 100)
	data, off, err := EncodeObject(req.Object)
	if err != nil {
		t.Fatal(err)
	}
	orig := string(data)
	byData := req
	byData.Object, byData.Data, byData.RVOffset = nil, data, off
	if err := s.Update(ctx, func(tx Tx) error { _, err := tx.Put(byData); return err }); err != nil {
		t.Fatal(err)
	}
	if string(data) != orig {
		t.Fatal("Put modified Data")
	}
	st1, err := s.Get(ctx, podKey("ns", "a"))
	if err != nil {
		t.Fatal(err)
	}
	req2 := podPut("ns", "a", map[string]string{"x": "1"}, "n1", "4", 100)
	if err := s.Update(ctx, func(tx Tx) error { _, err := tx.Put(req2); return err }); err != nil {
		t.Fatal(err)
	}
	st2, _ := s.Get(ctx, podKey("ns", "a"))
	if want := strings.Replace(string(st1.Data), `"resourceVersion":"1"`, `"resourceVersion":"2"`, 1); string(st2.Data) != want {
		t.Fatalf("Object path:\n%s\nData path:\n%s", st2.Data, st1.Data)
	}
	bad := byData
	bad.RVOffset = 3
	if err := s.Update(ctx, func(tx Tx) error { _, err := tx.Put(bad); return err }); err == nil {
		t.Fatal("bad RVOffset accepted")
	}
	// Delete splices the revision into the stored bytes.
	var del Stored
	if err := s.Update(ctx, func(tx Tx) error { var err error; del, err = tx.Delete(podKey("ns", "a"), "5"); return err }); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(string(st2.Data), `"resourceVersion":"2"`, `"resourceVersion":"3"`, 1); string(del.Data) != want {
		t.Fatalf("delete:\n%s\nwant\n%s", del.Data, want)
	}
	evs := rec.all()
	if len(evs) != 3 || string(evs[2].PrevObject) != string(st2.Data) || string(evs[1].PrevObject) != string(st1.Data) {
		t.Fatalf("events: %d", len(evs))
	}
}

// TestTxRowCache: reads inside one request see the request's own writes,
// failed requests leave nothing (also when they fail before any write), and
// a Get followed by a Put produces the same event as a Put alone.
func TestTxRowCache(t *testing.T) {
	rec := &recorder{}
	s, _ := openTest(t, Options{Subscriber: rec})
	ctx := context.Background()
	mustPut(t, s, podPut("ns", "a", map[string]string{"v": "1"}, "n1", "1", 0))
	err := s.Update(ctx, func(tx Tx) error {
		if _, err := tx.Get(podKey("ns", "a")); err != nil {
			return err
		}
		if _, err := tx.Get(podKey("ns", "b")); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("b: %v", err)
		}
		st, err := tx.Put(podPut("ns", "a", map[string]string{"v": "2"}, "n2", "2", 0))
		if err != nil {
			return err
		}
		got, err := tx.Get(podKey("ns", "a"))
		if err != nil || got.Revision != st.Revision || got.Labels["v"] != "2" || string(got.Data) != string(st.Data) {
			return fmt.Errorf("get after put: %+v %v", got, err)
		}
		if _, err := tx.Delete(podKey("ns", "a"), "3"); err != nil {
			return err
		}
		if _, err := tx.Get(podKey("ns", "a")); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("get after delete: %v", err)
		}
		if _, err := tx.Delete(podKey("ns", "a"), "3"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("second delete: %v", err)
		}
		_, err = tx.Put(podPut("ns", "a", map[string]string{"v": "3"}, "n3", "4", 0))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.all()
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	if evs[1].Type != "MODIFIED" || evs[1].PrevLabels["v"] != "1" || evs[1].Labels["v"] != "2" || evs[1].PrevFields["spec.nodeName"] != "n1" {
		t.Fatalf("modified event: %+v", evs[1])
	}
	if evs[2].Type != "DELETED" || evs[2].Labels["v"] != "2" || evs[3].Type != "ADDED" || evs[3].PrevObject != nil {
		t.Fatalf("events: %v %v", evs[2].Type, evs[3].Type)
	}
	// A request that only reads and fails, and one that fails after writing.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx Tx) error { _, _ = tx.Get(podKey("ns", "a")); return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx Tx) error {
		_, _ = tx.Get(podKey("ns", "a"))
		if _, err := tx.Put(podPut("ns", "a", map[string]string{"v": "9"}, "n9", "9", 0)); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	st, err := s.Get(ctx, podKey("ns", "a"))
	if err != nil || st.Labels["v"] != "3" || st.Revision != 4 || s.Revision() != 4 {
		t.Fatalf("after failures: %+v %v rev=%d", st, err, s.Revision())
	}
	res, err := s.List(ctx, podsGVR, ListOptions{Labels: mustSelector("v=3")})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("label index: %v %d", err, len(res.Items))
	}
	logged, err := s.Events(ctx, 0, 0)
	if err != nil || !reflect.DeepEqual(normEvents(logged), normEvents(rec.all())) {
		t.Fatalf("event log != published (%v)", err)
	}
}
