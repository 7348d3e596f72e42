package metamanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

var (
	podsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	cmGVR      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	nodesGVR   = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	devicesGVR = schema.GroupVersionResource{Group: "devices.kubeedge.io", Version: "v1beta1", Resource: "devices"}
)

type env struct {
	t      testing.TB
	dir    string
	store  *dao.Store
	mapper *kube.Mapper
	mm     *MetaManager
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	s, err := dao.Open(filepath.Join(e.dir, "edgecore.db"), dao.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
	e.mapper = kube.NewMapper()
	e.mm, err = New(s, e.mapper, DefaultConfig())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
}

// reopen simulates a restart: a new store handle, mapper and metaManager.
func (e *env) reopen() {
	e.t.Helper()
	e.store.Close()
	e.open()
}

var msgSeq int

func msg(op, resource, rv string, content string) model.Message {
	msgSeq++
	m := model.Message{
		Header: model.MessageHeader{ID: fmt.Sprintf("m-%d", msgSeq), ResourceVersion: rv},
		Router: model.MessageRoute{Source: "edgecontroller", Group: "resource", Operation: op, Resource: resource},
	}
	if content != "" {
		m.Content = json.RawMessage(content)
	}
	return m
}

func (e *env) do(m model.Message) model.Message {
	e.t.Helper()
	r := e.mm.Process(context.Background(), m)
	if r.Header.ParentID != m.Header.ID || r.Header.ID == "" || r.Header.ID == m.Header.ID || r.Router.Resource != m.Router.Resource {
		e.t.Fatalf("bad reply header/route for %s: %+v", m.Header.ID, r)
	}
	return r
}

func (e *env) ok(m model.Message) model.Message {
	e.t.Helper()
	r := e.do(m)
	if r.Router.Operation != OpResponse {
		e.t.Fatalf("%s %s: got %s %v", m.Router.Operation, m.Router.Resource, r.Router.Operation, r.Content)
	}
	return r
}

// bad asserts an error reply containing want and no change to the store.
func (e *env) bad(m model.Message, want string) {
	e.t.Helper()
	before := e.store.Revision()
	r := e.do(m)
	if r.Router.Operation != OpError {
		e.t.Fatalf("%s %s: want error, got %s %v", m.Router.Operation, m.Router.Resource, r.Router.Operation, r.Content)
	}
	s, _ := r.Content.(string)
	if !strings.Contains(s, want) || strings.Contains(s, "\n") {
		e.t.Fatalf("error %q does not contain %q (or is not one line)", s, want)
	}
	if after := e.store.Revision(); after != before {
		e.t.Fatalf("store revision changed on a bad message: %d -> %d", before, after)
	}
}

func (e *env) get(gvr schema.GroupVersionResource, ns, name string) (dao.Stored, map[string]interface{}, bool) {
	e.t.Helper()
	st, err := e.store.Get(context.Background(), dao.Key{GVR: gvr, Namespace: ns, Name: name})
	if errors.Is(err, dao.ErrNotFound) {
		return st, nil, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var obj map[string]interface{}
	if err := json.Unmarshal(st.Data, &obj); err != nil {
		e.t.Fatal(err)
	}
	return st, obj, true
}

func (e *env) mustGet(gvr schema.GroupVersionResource, ns, name string) (dao.Stored, map[string]interface{}) {
	e.t.Helper()
	st, obj, ok := e.get(gvr, ns, name)
	if !ok {
		e.t.Fatalf("%s %s/%s not stored", gvr.Resource, ns, name)
	}
	return st, obj
}

func (e *env) mustNotExist(gvr schema.GroupVersionResource, ns, name string) {
	e.t.Helper()
	if _, _, ok := e.get(gvr, ns, name); ok {
		e.t.Fatalf("%s %s/%s stored, want absent", gvr.Resource, ns, name)
	}
}

func at(obj map[string]interface{}, path ...string) interface{} {
	var cur interface{} = obj
	for _, p := range path {
		m, _ := cur.(map[string]interface{})
		cur = m[p]
	}
	return cur
}

func pod(name, ns, image string, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":%q,"labels":{"app":"web"}},"spec":{"nodeName":"edge-1","containers":[{"name":"main","image":%q}]}%s}`, name, ns, image, extra)
}

func podNoTypeMeta(name, ns, image string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q,"namespace":%q},"spec":{"containers":[{"name":"main","image":%q}]}}`, name, ns, image)
}

const crd = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"devices.devices.kubeedge.io"},
"spec":{"group":"devices.kubeedge.io","names":{"kind":"Device","listKind":"DeviceList","plural":"devices","singular":"device"},"scope":"Namespaced",
"versions":[{"name":"v1beta1","served":true,"storage":true,"additionalPrinterColumns":[{"name":"PROTOCOL","type":"string","jsonPath":".spec.protocol"}]}]}}`

func TestInsertUpdateDeleteQuery(t *testing.T) {
	e := newEnv(t)
	e.ok(msg(OpInsert, "default/pod/web-1", "100", pod("web-1", "default", "nginx:1", "")))
	st, obj := e.mustGet(podsGVR, "default", "web-1")
	if st.CloudRV != "100" || st.Kind != "Pod" || st.Labels["app"] != "web" || st.Fields["spec.nodeName"] != "edge-1" {
		t.Fatalf("stored %+v", st)
	}
	if got := at(obj, "metadata", "resourceVersion"); got != fmt.Sprint(st.Revision) {
		t.Fatalf("served resourceVersion %v, want edge revision %d", got, st.Revision)
	}

	e.ok(msg(OpUpdate, "default/pod/web-1", "101", pod("web-1", "default", "nginx:2", "")))
	_, obj = e.mustGet(podsGVR, "default", "web-1")
	if img := at(obj, "spec", "containers").([]interface{})[0].(map[string]interface{})["image"]; img != "nginx:2" {
		t.Fatalf("update not applied: %v", img)
	}

	// query one object
	r := e.ok(msg(OpQuery, "default/pod/web-1", "", ""))
	var q map[string]interface{}
	if err := json.Unmarshal(r.Content.(json.RawMessage), &q); err != nil || at(q, "metadata", "name") != "web-1" || q["kind"] != "Pod" {
		t.Fatalf("query reply %v (%v)", q, err)
	}
	// query a collection
	e.ok(msg(OpInsert, "default/pod/web-2", "102", pod("web-2", "default", "nginx:1", "")))
	r = e.ok(msg(OpQuery, "default/pod", "", ""))
	var l struct {
		Kind     string
		Metadata struct{ ResourceVersion string }
		Items    []map[string]interface{}
	}
	if err := json.Unmarshal(r.Content.(json.RawMessage), &l); err != nil || l.Kind != "PodList" || len(l.Items) != 2 || l.Metadata.ResourceVersion != fmt.Sprint(e.store.Revision()) {
		t.Fatalf("list reply %+v (%v)", l, err)
	}
	e.bad(msg(OpQuery, "default/pod/nope", "", ""), `pods "nope" not found`)

	// delete with the object as content, and without content
	e.ok(msg(OpDelete, "default/pod/web-1", "103", pod("web-1", "default", "nginx:2", "")))
	e.mustNotExist(podsGVR, "default", "web-1")
	e.ok(msg(OpDelete, "default/pod/web-2", "", ""))
	e.mustNotExist(podsGVR, "default", "web-2")
	// deleting what is gone is acknowledged
	rev := e.store.Revision()
	e.ok(msg(OpDelete, "default/pod/web-2", "", ""))
	if e.store.Revision() != rev {
		t.Fatal("delete of a missing object changed the store")
	}
}

func TestMissingTypeMetaAndScopes(t *testing.T) {
	e := newEnv(t)
	e.ok(msg(OpInsert, "kube-system/pod/dns", "5", podNoTypeMeta("dns", "kube-system", "coredns")))
	_, obj := e.mustGet(podsGVR, "kube-system", "dns")
	if obj["apiVersion"] != "v1" || obj["kind"] != "Pod" {
		t.Fatalf("TypeMeta not filled: %v %v", obj["apiVersion"], obj["kind"])
	}
	// namespace and name missing from the content are taken from the resource
	e.ok(msg(OpInsert, "default/configmap/cfg", "6", `{"data":{"a":"b"}}`))
	_, obj = e.mustGet(cmGVR, "default", "cfg")
	if at(obj, "metadata", "namespace") != "default" || at(obj, "metadata", "name") != "cfg" || obj["kind"] != "ConfigMap" {
		t.Fatalf("configmap %v", obj)
	}
	// cluster-scoped
	e.ok(msg(OpInsert, "null/node/edge-1", "7", `{"metadata":{"name":"edge-1","labels":{"kubernetes.io/hostname":"edge-1"}},"spec":{"unschedulable":true}}`))
	st, obj := e.mustGet(nodesGVR, "", "edge-1")
	if obj["kind"] != "Node" || st.Fields["spec.unschedulable"] != "true" {
		t.Fatalf("node %v %v", obj, st.Fields)
	}
	// response carries objects too; a bare "OK" response is acknowledged
	e.ok(msg(OpResponse, "default/configmap/cfg2", "8", `{"data":{}}`))
	e.mustGet(cmGVR, "default", "cfg2")
	rev := e.store.Revision()
	e.ok(msg(OpResponse, "default/configmap/cfg2", "", `"OK"`))
	if e.store.Revision() != rev {
		t.Fatal("response without object changed the store")
	}
}

func TestLists(t *testing.T) {
	e := newEnv(t)
	list := fmt.Sprintf(`{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"50"},"items":[%s,%s,%s]}`,
		pod("a", "default", "x", `"status":{"phase":"Running"}`), podNoTypeMeta("b", "default", "y"), pod("c", "default", "z", ""))
	e.ok(msg(OpInsert, "default/pod", "", list))
	for _, n := range []string{"a", "b", "c"} {
		_, obj := e.mustGet(podsGVR, "default", n)
		if obj["kind"] != "Pod" {
			t.Fatalf("item %s: %v", n, obj)
		}
	}
	// {"items": [...]} with the restype, and a list restype
	e.ok(msg(OpUpdate, "default/configmap", "", `{"items":[{"metadata":{"name":"x","resourceVersion":"3"}},{"metadata":{"name":"y","resourceVersion":"4"}}]}`))
	st, _ := e.mustGet(cmGVR, "default", "y")
	if st.CloudRV != "4" {
		t.Fatalf("list item cloud revision %q, want its own (4)", st.CloudRV)
	}
	e.ok(msg(OpInsert, "default/podlist", "", `{"kind":"PodList","apiVersion":"v1","items":[`+podNoTypeMeta("d", "default", "w")+`]}`))
	e.mustGet(podsGVR, "default", "d")
	// a list is all or nothing: one bad item rejects the message
	bad := fmt.Sprintf(`{"kind":"PodList","apiVersion":"v1","items":[%s,%s]}`, podNoTypeMeta("e", "default", "x"), podNoTypeMeta("f", "other", "x"))
	e.bad(msg(OpInsert, "default/pod", "", bad), "items[1]")
	e.mustNotExist(podsGVR, "default", "e")
	// delete a list
	e.ok(msg(OpDelete, "default/pod", "", `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`))
	e.mustNotExist(podsGVR, "default", "a")
	e.mustNotExist(podsGVR, "default", "b")
	e.mustGet(podsGVR, "default", "c")
}

func TestCRDs(t *testing.T) {
	e := newEnv(t)
	e.bad(msg(OpInsert, "demo/device/t1", "1", `{"metadata":{"name":"t1"},"spec":{"protocol":"modbus"}}`), "unknown kind")
	e.ok(msg(OpInsert, "null/customresourcedefinition/devices.devices.kubeedge.io", "2", crd))
	e.mustGet(kube.CRDResource, "", "devices.devices.kubeedge.io")
	// objects of the CRD's kind without TypeMeta
	e.ok(msg(OpInsert, "demo/device/t1", "3", `{"metadata":{"name":"t1"},"spec":{"protocol":"modbus","tags":["a","b"]}}`))
	_, obj := e.mustGet(devicesGVR, "demo", "t1")
	if obj["apiVersion"] != "devices.kubeedge.io/v1beta1" || obj["kind"] != "Device" {
		t.Fatalf("device %v", obj)
	}
	e.ok(msg(OpInsert, "demo/device/t2", "4", `{"apiVersion":"devices.kubeedge.io/v1beta1","kind":"Device","metadata":{"name":"t2"}}`))
	e.ok(msg(OpInsert, "demo/devicelist", "", `{"kind":"DeviceList","items":[{"metadata":{"name":"t3","resourceVersion":"5"}}]}`))
	e.mustGet(devicesGVR, "demo", "t3")

	// merge patch (not a built-in kind): a list is replaced, null removes
	e.ok(msg(OpPatch, "demo/device/t1", "6", `{"spec":{"protocol":null,"tags":["c"]}}`))
	st, obj := e.mustGet(devicesGVR, "demo", "t1")
	spec := obj["spec"].(map[string]interface{})
	if _, ok := spec["protocol"]; ok || fmt.Sprint(spec["tags"]) != "[c]" || st.CloudRV != "6" {
		t.Fatalf("merge patch result %v (cloud rv %s)", spec, st.CloudRV)
	}

	// after a restart the stored CRD is mapped again
	e.reopen()
	if _, ok := e.mapper.ByRestype("device"); !ok {
		t.Fatal("stored CRD not loaded into the mapper on start")
	}
	e.ok(msg(OpInsert, "demo/device/t4", "7", `{"metadata":{"name":"t4"}}`))

	// an invalid CRD is refused
	e.bad(msg(OpInsert, "null/customresourcedefinition/bad.example.com", "8", `{"metadata":{"name":"bad.example.com"},"spec":{"group":"example.com"}}`), "required")

	// deleting the CRD unmaps its kind
	e.ok(msg(OpDelete, "null/customresourcedefinition/devices.devices.kubeedge.io", "9", ""))
	e.bad(msg(OpInsert, "demo/device/t5", "10", `{"metadata":{"name":"t5"}}`), "unknown kind")
}

func TestStaleAndDuplicate(t *testing.T) {
	e := newEnv(t)
	e.ok(msg(OpInsert, "default/pod/p", "10", pod("p", "default", "v10", "")))
	st0, _ := e.mustGet(podsGVR, "default", "p")
	rev := e.store.Revision()
	// stale (older) and duplicate (equal) are acknowledged, not applied
	e.ok(msg(OpUpdate, "default/pod/p", "9", pod("p", "default", "v9", "")))
	e.ok(msg(OpUpdate, "default/pod/p", "10", pod("p", "default", "v10-dup", "")))
	// cloud revision from the content when the header has none; numeric comparison (9 < 10)
	e.ok(msg(OpUpdate, "default/pod/p", "", strings.Replace(pod("p", "default", "v9b", ""), `"labels"`, `"resourceVersion":"9","labels"`, 1)))
	if e.store.Revision() != rev {
		t.Fatalf("stale/duplicate messages were applied")
	}
	st, _ := e.mustGet(podsGVR, "default", "p")
	if st.Revision != st0.Revision || st.CloudRV != "10" {
		t.Fatalf("object regressed: %+v", st)
	}
	// newer applies
	e.ok(msg(OpUpdate, "default/pod/p", "11", pod("p", "default", "v11", "")))
	if st, _ := e.mustGet(podsGVR, "default", "p"); st.CloudRV != "11" {
		t.Fatalf("newer update not applied: %+v", st)
	}
	// a stale delete does not remove a newer object
	e.ok(msg(OpDelete, "default/pod/p", "8", ""))
	e.mustGet(podsGVR, "default", "p")
	// delete, then a stale insert does not resurrect it
	e.ok(msg(OpDelete, "default/pod/p", "12", ""))
	e.mustNotExist(podsGVR, "default", "p")
	rev = e.store.Revision()
	e.ok(msg(OpInsert, "default/pod/p", "11", pod("p", "default", "v11", "")))
	e.ok(msg(OpInsert, "default/pod/p", "12", pod("p", "default", "v12", "")))
	e.mustNotExist(podsGVR, "default", "p")
	if e.store.Revision() != rev {
		t.Fatal("stale insert after delete changed the store")
	}
	// a newer insert does
	e.ok(msg(OpInsert, "default/pod/p", "13", pod("p", "default", "v13", "")))
	e.mustGet(podsGVR, "default", "p")

	// non-numeric revisions: equal = duplicate, different = applied
	e.ok(msg(OpInsert, "default/configmap/c", "abc", `{"data":{"v":"1"}}`))
	rev = e.store.Revision()
	e.ok(msg(OpUpdate, "default/configmap/c", "abc", `{"data":{"v":"2"}}`))
	if e.store.Revision() != rev {
		t.Fatal("duplicate with non-numeric revision applied")
	}
	e.ok(msg(OpUpdate, "default/configmap/c", "abd", `{"data":{"v":"3"}}`))
	if _, obj := e.mustGet(cmGVR, "default", "c"); at(obj, "data", "v") != "3" {
		t.Fatalf("newer non-numeric revision not applied: %v", obj)
	}
	// the revision survives a restart
	e.reopen()
	e.ok(msg(OpUpdate, "default/pod/p", "13", pod("p", "default", "dup", "")))
	if st, _ := e.mustGet(podsGVR, "default", "p"); st.CloudRV != "13" {
		t.Fatal("cloud revision lost across restart")
	}
}

func TestStrategicMergePatch(t *testing.T) {
	e := newEnv(t)
	e.ok(msg(OpInsert, "default/pod/p", "1", `{"metadata":{"name":"p","labels":{"a":"1"}},"spec":{"containers":[{"name":"app","image":"app:1"},{"name":"sidecar","image":"side:1"}]}}`))
	// strategic: containers merge by name
	e.ok(msg(OpPatch, "default/pod/p", "2", `{"metadata":{"labels":{"b":"2"}},"spec":{"containers":[{"name":"sidecar","image":"side:2"}]}}`))
	st, obj := e.mustGet(podsGVR, "default", "p")
	cs := at(obj, "spec", "containers").([]interface{})
	if len(cs) != 2 || cs[0].(map[string]interface{})["image"] != "app:1" || cs[1].(map[string]interface{})["image"] != "side:2" {
		t.Fatalf("strategic merge result %v", cs)
	}
	if st.Labels["a"] != "1" || st.Labels["b"] != "2" || st.CloudRV != "2" {
		t.Fatalf("labels/cloud rv after patch: %+v", st)
	}
	// stale patch: acknowledged, not applied
	rev := e.store.Revision()
	e.ok(msg(OpPatch, "default/pod/p", "2", `{"metadata":{"labels":{"c":"3"}}}`))
	if e.store.Revision() != rev {
		t.Fatal("duplicate patch applied")
	}
	e.bad(msg(OpPatch, "default/pod/missing", "3", `{"metadata":{"labels":{"c":"3"}}}`), "not found")
	e.bad(msg(OpPatch, "default/pod/p", "3", `{"metadata":{"name":"q"}}`), "must not change metadata.name")
	e.bad(msg(OpPatch, "default/pod/p", "3", `[{"op":"add"}]`), "JSON object")
	e.bad(msg(OpPatch, "default/pod", "3", `{}`), "single object")
}

func TestBadMessages(t *testing.T) {
	e := newEnv(t)
	e.ok(msg(OpInsert, "default/pod/p", "1", pod("p", "default", "x", "")))
	cases := []struct {
		name string
		m    model.Message
		want string
	}{
		{"malformed JSON", msg(OpInsert, "default/pod/q", "2", `{"metadata":{"name":"q"`), "invalid JSON"},
		{"trailing data", msg(OpInsert, "default/pod/q", "2", `{"metadata":{"name":"q"}} {}`), "invalid JSON"},
		{"content not object", msg(OpInsert, "default/pod/q", "2", `[1,2]`), "not a JSON object"},
		{"string content", msg(OpInsert, "default/pod/q", "2", `"hello"`), "not a string"},
		{"no content", msg(OpInsert, "default/pod/q", "2", ""), "needs an object"},
		{"unknown operation", msg("frobnicate", "default/pod/q", "2", pod("q", "default", "x", "")), "unknown operation"},
		{"missing operation", msg("", "default/pod/q", "2", pod("q", "default", "x", "")), "missing route.operation"},
		{"empty resource", msg(OpInsert, "", "2", pod("q", "default", "x", "")), "empty resource"},
		{"resource without restype", msg(OpInsert, "default", "2", pod("q", "default", "x", "")), "want <namespace>/<restype>/<name>"},
		{"empty restype", msg(OpInsert, "default//q", "2", pod("q", "default", "x", "")), "empty restype"},
		{"bad namespace", msg(OpInsert, "Default_NS/pod/q", "2", pod("q", "Default_NS", "x", "")), "invalid namespace"},
		{"name with slash", msg(OpInsert, "default/pod/q/r", "2", pod("q", "default", "x", "")), "invalid name"},
		{"upper-case restype", msg(OpInsert, "default/Pod/q", "2", pod("q", "default", "x", "")), "lower-case"},
		{"name mismatch", msg(OpInsert, "default/pod/q", "2", pod("other", "default", "x", "")), "does not match the resource name"},
		{"namespace mismatch", msg(OpInsert, "default/pod/q", "2", pod("q", "kube-system", "x", "")), "does not match the resource namespace"},
		{"kind mismatch", msg(OpInsert, "default/configmap/q", "2", pod("q", "default", "x", "")), "does not match restype"},
		{"kind mismatch without apiVersion", msg(OpInsert, "default/configmap/q", "2", `{"kind":"Secret","metadata":{"name":"q"}}`), "does not match restype"},
		{"unknown kind in content", msg(OpInsert, "default/pod/q", "2", `{"apiVersion":"v1","kind":"Frobnicator","metadata":{"name":"q"}}`), "unknown kind"},
		{"unknown restype", msg(OpInsert, "default/frobnicator/q", "2", `{"metadata":{"name":"q"}}`), "unknown kind"},
		{"namespaced kind with null", msg(OpInsert, "null/pod/q", "2", `{"metadata":{"name":"q"}}`), "namespaced"},
		{"cluster kind with namespace", msg(OpInsert, "default/node/n", "2", `{"metadata":{"name":"n"}}`), "cluster-scoped"},
		{"cluster kind with metadata.namespace", msg(OpInsert, "null/node/n", "2", `{"metadata":{"name":"n","namespace":"default"}}`), "cluster-scoped"},
		{"labels not strings", msg(OpInsert, "default/pod/q", "2", `{"metadata":{"name":"q","labels":{"a":1}}}`), "must be a string"},
		{"metadata not object", msg(OpInsert, "default/pod/q", "2", `{"metadata":"x"}`), "metadata must be an object"},
		{"list restype with object", msg(OpInsert, "default/podlist/q", "2", pod("q", "default", "x", "")), "not a list"},
		{"list item without name", msg(OpInsert, "default/pod", "2", `{"items":[{"metadata":{}}]}`), "no metadata.name"},
		{"wrong list kind", msg(OpInsert, "default/pod", "2", `{"kind":"ConfigMapList","items":[]}`), "does not match restype"},
		{"object without name in resource", msg(OpInsert, "default/pod", "2", pod("q", "default", "x", "")), "has no name"},
		{"delete of collection without content", msg(OpDelete, "default/pod", "2", ""), "needs a name"},
		{"bad apiVersion", msg(OpInsert, "default/pod/q", "2", `{"apiVersion":"a/b/c","kind":"Pod","metadata":{"name":"q"}}`), "invalid apiVersion"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.bad(c.m, c.want)
		})
	}
}

// TestDispatchOrderAndGroupCommit runs many messages through the worker pool:
// per-object order holds, and a CRD followed at once by objects of its kind
// works.
func TestDispatchOrderAndGroupCommit(t *testing.T) {
	e := newEnv(t)
	defer e.mm.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	replies := map[string]model.Message{}
	reply := func(r model.Message) {
		mu.Lock()
		replies[r.Header.ParentID] = r
		mu.Unlock()
		wg.Done()
	}
	send := func(m model.Message) {
		wg.Add(1)
		e.mm.Dispatch(m, reply)
	}
	send(msg(OpInsert, "null/customresourcedefinition/devices.devices.kubeedge.io", "1", crd))
	for i := 0; i < 20; i++ {
		send(msg(OpInsert, fmt.Sprintf("demo/device/d%d", i), "2", fmt.Sprintf(`{"metadata":{"name":"d%d"}}`, i)))
	}
	const keys, versions = 40, 25
	for v := 1; v <= versions; v++ {
		for k := 0; k < keys; k++ {
			send(msg(OpUpdate, fmt.Sprintf("default/configmap/c%d", k), "", fmt.Sprintf(`{"data":{"v":"%d"}}`, v)))
		}
	}
	wg.Wait()
	for id, r := range replies {
		if r.Router.Operation != OpResponse {
			t.Fatalf("%s: %v", id, r.Content)
		}
	}
	for k := 0; k < keys; k++ {
		_, obj := e.mustGet(cmGVR, "default", fmt.Sprintf("c%d", k))
		if got := at(obj, "data", "v"); got != fmt.Sprint(versions) {
			t.Fatalf("c%d: last applied %v, want %d (order broken)", k, got, versions)
		}
	}
	if want := int64(1 + 20 + keys*versions); e.store.Revision() != want {
		t.Fatalf("revision %d, want %d", e.store.Revision(), want)
	}
	e.mm.Stop()
	var got model.Message
	e.mm.Dispatch(msg(OpQuery, "default/configmap/c1", "", ""), func(r model.Message) { got = r })
	if got.Router.Operation != OpError {
		t.Fatal("dispatch after Stop should answer an error")
	}
}

// TestDispatchCommitsInArrivalOrder: messages for many objects, with invalid
// ones and queries among them, take their revisions, and are answered, in
// the order they were dispatched (parallel preparation must not reorder).
func TestDispatchCommitsInArrivalOrder(t *testing.T) {
	e := newEnv(t)
	defer e.mm.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var replied []string // parent ids in reply order
	var sent []string    // ids of the updates, in order
	reply := func(r model.Message) {
		mu.Lock()
		replied = append(replied, r.Header.ParentID)
		mu.Unlock()
		wg.Done()
	}
	var all []string
	for i := 0; i < 600; i++ {
		var m model.Message
		switch {
		case i%97 == 50:
			m = msg(OpUpdate, "default/nokind/x", "", `{}`) // invalid: answered in turn
		case i%89 == 40:
			m = msg(OpQuery, fmt.Sprintf("default/configmap/c%d", i%50), "", "")
		default:
			// Sizes differ so that preparation takes different times.
			m = msg(OpUpdate, fmt.Sprintf("default/configmap/c%d", i%50), "", fmt.Sprintf(`{"data":{"i":"%d","pad":"%s"}}`, i, strings.Repeat("x", (i*7919)%5000)))
			sent = append(sent, fmt.Sprint(i))
		}
		all = append(all, m.Header.ID)
		wg.Add(1)
		e.mm.Dispatch(m, reply)
	}
	wg.Wait()
	if strings.Join(replied, ",") != strings.Join(all, ",") {
		t.Fatalf("replies out of dispatch order")
	}
	evs, err := e.store.Events(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var applied []string
	for _, ev := range evs {
		var obj map[string]interface{}
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, fmt.Sprint(at(obj, "data", "i")))
	}
	if strings.Join(applied, ",") != strings.Join(sent, ",") {
		t.Fatalf("revisions do not follow dispatch order:\n got %v\nwant %v", applied, sent)
	}
}

func TestParseResource(t *testing.T) {
	good := map[string]Resource{
		"default/pod/nginx": {"default", "pod", "nginx"},
		"null/node/edge-1":  {"null", "node", "edge-1"},
		"default/pod":       {"default", "pod", ""},
		"default/pod/":      {"default", "pod", ""},
		"demo/device/a.b-c": {"demo", "device", "a.b-c"},
		"null/customresourcedefinition/devices.devices.kubeedge.io": {"null", "customresourcedefinition", "devices.devices.kubeedge.io"},
	}
	for s, want := range good {
		got, err := ParseResource(s)
		if err != nil || got != want {
			t.Errorf("ParseResource(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "default", "/pod/x", "default//x", "default/pod/a/b", "default/pod/..", "default/pod/a%2f", "UPPER/pod/x", "default/POD/x", "default/pod/a\nb", strings.Repeat("a", 2000)} {
		if r, err := ParseResource(s); err == nil {
			t.Errorf("ParseResource(%q) = %+v, want error", s, r)
		}
	}
}

func TestNewReply(t *testing.T) {
	req := msg(OpInsert, "default/pod/x", "", "")
	r := NewReply(req, OpError, "line one\nline two")
	if r.Header.ParentID != req.Header.ID || r.Router.Resource != req.Router.Resource || r.Content != "line one line two" || len(r.Header.ID) != 36 {
		t.Fatalf("%+v", r)
	}
}
