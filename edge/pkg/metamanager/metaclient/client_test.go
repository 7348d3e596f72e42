package metaclient_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

func TestClientDelegates(t *testing.T) {
	s, err := dao.Open(filepath.Join(t.TempDir(), "edgecore.db"), dao.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodes := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	err = s.Update(ctx, func(tx dao.Tx) error {
		for _, p := range []dao.PutRequest{
			{Key: dao.Key{GVR: pods, Namespace: "default", Name: "a"}, Kind: "Pod", CloudRV: "1",
				Object: map[string]interface{}{"metadata": map[string]interface{}{"name": "a", "namespace": "default"}}, Labels: map[string]string{"app": "x"}},
			{Key: dao.Key{GVR: pods, Namespace: "default", Name: "b"}, Kind: "Pod", CloudRV: "1",
				Object: map[string]interface{}{"metadata": map[string]interface{}{"name": "b", "namespace": "default"}}},
			{Key: dao.Key{GVR: nodes, Name: "edge-1"}, Kind: "Node", CloudRV: "1",
				Object: map[string]interface{}{"metadata": map[string]interface{}{"name": "edge-1"}}},
		} {
			if _, err := tx.Put(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	c := metaclient.New(s)
	if c.Revision() != 3 || c.CompactedRevision() != 0 {
		t.Fatalf("revision %d compacted %d", c.Revision(), c.CompactedRevision())
	}
	var obj metaclient.Object
	if obj, err = c.Get(ctx, metaclient.Key{GVR: nodes, Name: "edge-1"}); err != nil || obj.Kind != "Node" || obj.Revision != 3 {
		t.Fatalf("get: %+v %v", obj, err)
	}
	if _, err := c.Get(ctx, metaclient.Key{GVR: nodes, Name: "nope"}); !errors.Is(err, metaclient.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	res, err := c.List(ctx, pods, metaclient.ListOptions{Limit: 1})
	if err != nil || len(res.Items) != 1 || res.Continue != "default/a" || res.Remaining != 1 || res.Revision != 3 {
		t.Fatalf("list: %+v %v", res, err)
	}
	ns, name, err := metaclient.ParseContinueKey(res.Continue)
	if err != nil || ns != "default" || name != "a" || metaclient.ContinueKey(ns, name) != res.Continue {
		t.Fatalf("continue key: %q %q %v", ns, name, err)
	}
	res, err = c.List(ctx, pods, metaclient.ListOptions{Labels: labels.SelectorFromSet(labels.Set{"app": "x"})})
	if err != nil || len(res.Items) != 1 || res.Items[0].Name != "a" {
		t.Fatalf("list by label: %+v %v", res, err)
	}
	if _, err := c.List(ctx, pods, metaclient.ListOptions{Revision: 4}); !errors.Is(err, metaclient.ErrFutureRevision) {
		t.Fatalf("future: %v", err)
	}
	evs, err := c.Events(ctx, 1, 0)
	if err != nil || len(evs) != 2 || evs[0].Revision != 2 {
		t.Fatalf("events: %v %v", evs, err)
	}
	rcs, err := c.Resources(ctx)
	if err != nil || len(rcs) != 2 {
		t.Fatalf("resources: %v %v", rcs, err)
	}
	counts := map[string]int64{}
	for _, rc := range rcs {
		counts[rc.GVR.Resource+"/"+rc.Kind] = rc.Count
	}
	if counts["pods/Pod"] != 2 || counts["nodes/Node"] != 1 {
		t.Fatalf("resources: %v", counts)
	}
	if _, err := c.Events(ctx, -1, 0); !errors.Is(err, metaclient.ErrCompacted) {
		t.Fatalf("compacted: %v", err)
	}
}
