package dao

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// recorder is a Subscriber that keeps everything published.
type recorder struct {
	mu      sync.Mutex
	calls   int
	events  []event.Event
	onEvent func([]event.Event)
}

func (r *recorder) Publish(evs []event.Event) {
	if r.onEvent != nil {
		r.onEvent(evs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.events = append(r.events, evs...)
}

func (r *recorder) all() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.events...)
}

func openTest(tb testing.TB, opts Options) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "edgecore.db")
	if opts.CompactInterval == 0 {
		opts.CompactInterval = -1
	}
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, path
}

func podKey(ns, name string) Key { return Key{GVR: podsGVR, Namespace: ns, Name: name} }

// podObject builds a pod-like object; pad adds filler to reach a size.
func podObject(ns, name string, lbls map[string]string, node string, pad int) map[string]interface{} {
	l := map[string]interface{}{}
	for k, v := range lbls {
		l[k] = v
	}
	md := map[string]interface{}{"name": name, "namespace": ns, "labels": l, "uid": "uid-" + ns + "-" + name}
	if pad > 0 {
		md["annotations"] = map[string]interface{}{"filler": strings.Repeat("x", pad)}
	}
	return map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod", "metadata": md,
		"spec":   map[string]interface{}{"nodeName": node, "containers": []interface{}{map[string]interface{}{"name": "c", "image": "nginx"}}},
		"status": map[string]interface{}{"phase": "Running"},
	}
}

func podFields(ns, name, node string) map[string]string {
	return map[string]string{"metadata.name": name, "metadata.namespace": ns, "spec.nodeName": node, "status.phase": "Running"}
}

func podPut(ns, name string, lbls map[string]string, node string, cloudRV string, pad int) PutRequest {
	return PutRequest{
		Key: podKey(ns, name), Kind: "Pod", CloudRV: cloudRV,
		Object: podObject(ns, name, lbls, node, pad), Labels: lbls, Fields: podFields(ns, name, node),
	}
}

func mustPut(tb testing.TB, s *Store, req PutRequest) Stored {
	tb.Helper()
	var st Stored
	err := s.Update(context.Background(), func(tx Tx) error {
		var err error
		st, err = tx.Put(req)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func mustDelete(tb testing.TB, s *Store, key Key, cloudRV string) Stored {
	tb.Helper()
	var st Stored
	err := s.Update(context.Background(), func(tx Tx) error {
		var err error
		st, err = tx.Delete(key, cloudRV)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func rvOf(tb testing.TB, data []byte) string {
	tb.Helper()
	var o struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &o); err != nil {
		tb.Fatalf("decode %s: %v", data, err)
	}
	return o.Metadata.ResourceVersion
}

func keysOf(items []Stored) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Namespace + "/" + it.Name
	}
	return out
}

func itoa(i int64) string { return fmt.Sprint(i) }

func timeSleep(ns int64) { time.Sleep(time.Duration(ns)) }

func mustSelector(s string) labels.Selector {
	sel, err := labels.Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}
