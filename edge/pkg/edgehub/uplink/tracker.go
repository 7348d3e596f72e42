package uplink

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
)

// GVR names a resource.
type GVR = schema.GroupVersionResource

// tracker knows, per resource, which objects the edge holds (with the cloud
// resourceVersion last sent) and which streams currently deliver each. It
// turns stream events into messages: an object no stream holds any more is
// deleted from the edge; an object whose resourceVersion did not change is
// not sent again (a relist writes nothing for unchanged objects).
//
// All decisions and sends happen under mu, so messages reach the sink in
// the order the decisions were made.
type tracker struct {
	mu   sync.Mutex
	sink Sink
	objs map[GVR]*kindObjects
	// reconciled: the first full sync is done, objects no stream holds have
	// been deleted; from then on a lost holder deletes at once.
	reconciled bool
}

// kindObjects are the tracked objects of one resource.
type kindObjects struct {
	restype string            // lower-case kind, for the message's route.resource
	byKey   map[string]*entry // "namespace/name"
}

// entry is one object the edge holds.
type entry struct {
	// rv is the object's own cloud resourceVersion as last delivered; exact
	// is false while it is only what the store says (seeded, not yet
	// delivered by a stream).
	rv    string
	exact bool
	// header is the cloud resourceVersion the store holds for it: rv, or
	// the resourceVersion of the list that brought the object to the edge.
	header  string
	holders []int32 // ids of the streams that currently deliver it
	// written: the node wrote it through a forwarded write and no stream
	// delivers it yet (its by-name stream is starting). The cloud has it at
	// a revision newer than any list the first sync may still be reading,
	// so the reconciliation must not take it for one the cloud dropped.
	written bool
}

func newTracker(sink Sink) *tracker {
	return &tracker{sink: sink, objs: map[GVR]*kindObjects{}}
}

// kind returns (creating) the tracked objects of gvr.
func (t *tracker) kind(gvr GVR, kind string) *kindObjects {
	k := t.objs[gvr]
	if k == nil {
		k = &kindObjects{byKey: map[string]*entry{}}
		t.objs[gvr] = k
	}
	if k.restype == "" && kind != "" {
		k.restype = strings.ToLower(kind)
	}
	return k
}

// seed records an object the store holds (at start, before any stream):
// without a holder it is deleted by the reconciliation unless a stream
// delivers it, and delivered unchanged it is not written again.
func (t *tracker) seed(gvr GVR, kind, key, cloudRV string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.kind(gvr, kind).byKey[key] = &entry{rv: cloudRV, header: cloudRV}
}

// upsert records that stream sid delivers obj and sends it unless the store
// already holds it at that resourceVersion or a newer one. listRV is the
// resourceVersion of the list obj came in ("" for a watch event): an object
// new to the edge is sent with it, which is newer than any tombstone an
// earlier drop of the object may have left in the store.
func (t *tracker) upsert(sid int32, gvr GVR, obj *unstructured.Unstructured, listRV string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, e, op := t.entryFor(gvr, obj)
	rv := obj.GetResourceVersion()
	if sid != 0 && !slices.Contains(e.holders, sid) {
		e.holders = append(e.holders, sid)
		e.written = false
	}
	if op == model.UpdateOperation && !newer(rv, e.header) {
		// Unchanged (or a late copy from another stream): nothing to write.
		if !e.exact {
			e.rv, e.exact = rv, true
		}
		return
	}
	e.rv, e.exact, e.header = rv, true, rv
	if op == model.InsertOperation && newer(listRV, rv) {
		e.header = listRV
	}
	t.send(gvr, k, obj, op, e.header, nil)
}

// entryFor returns obj's entry (created when new: the operation is then an
// insert, else an update). mu is held.
func (t *tracker) entryFor(gvr GVR, obj *unstructured.Unstructured) (*kindObjects, *entry, string) {
	k := t.kind(gvr, obj.GetKind())
	key := objKey(obj.GetNamespace(), obj.GetName())
	if e := k.byKey[key]; e != nil {
		return k, e, model.UpdateOperation
	}
	e := &entry{}
	k.byKey[key] = e
	return k, e, model.InsertOperation
}

// written persists the cloud's answer to a forwarded write: always sent
// (metaManager drops it if a watch event brought the same revision first,
// and replies only after that one is committed), done gets the reply.
func (t *tracker) written(gvr GVR, obj *unstructured.Unstructured, done func(model.Message)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, e, op := t.entryFor(gvr, obj)
	rv := obj.GetResourceVersion()
	if newer(rv, e.header) || e.header == "" {
		e.rv, e.exact, e.header = rv, true, rv
	}
	if len(e.holders) == 0 {
		e.written = true
	}
	t.send(gvr, k, obj, op, rv, done)
}

// cloudRV translates what the store holds for key (its cloud revision)
// into the object's own cloud resourceVersion, for a precondition sent
// upstream.
func (t *tracker) cloudRV(gvr GVR, namespace, name, stored string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := t.objs[gvr]; k != nil {
		if e := k.byKey[objKey(namespace, name)]; e != nil && e.exact && e.header == stored {
			return e.rv
		}
	}
	return stored
}

// held reports whether some stream delivers the object.
func (t *tracker) held(gvr GVR, namespace, name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := t.objs[gvr]; k != nil {
		if e := k.byKey[objKey(namespace, name)]; e != nil {
			return len(e.holders) > 0
		}
	}
	return false
}

func (t *tracker) send(gvr GVR, k *kindObjects, obj *unstructured.Unstructured, op, headerRV string, done func(model.Message)) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		klog.Errorf("uplink: encode %s %s/%s: %v", gvr.Resource, obj.GetNamespace(), obj.GetName(), err)
		if done != nil {
			done(model.Message{Router: model.MessageRoute{Operation: model.ResponseErrorOperation}, Content: err.Error()})
		}
		return
	}
	t.sink.Send(newMessage(op, k.resource(obj.GetNamespace(), obj.GetName()), headerRV, jsonscan.Valid(data)), done)
}

// remove records that stream sid no longer delivers the object (a DELETED
// event, or the object is missing from a relist). cloudRV is the deletion's
// resourceVersion ("" when the object left the stream's scope without a
// cloud deletion).
func (t *tracker) remove(sid int32, gvr GVR, namespace, name, cloudRV string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.objs[gvr]
	if k == nil {
		return
	}
	t.dropHolder(k, objKey(namespace, name), sid, cloudRV)
}

// deleted applies a deletion the node made through a forwarded write:
// the object is deleted from the edge whoever delivered it; done gets the
// reply.
func (t *tracker) deleted(gvr GVR, namespace, name, cloudRV string, done func(model.Message)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := objKey(namespace, name)
	k := t.objs[gvr]
	if k == nil {
		done(model.Message{Router: model.MessageRoute{Operation: model.ResponseOperation}})
		return
	}
	delete(k.byKey, key)
	ns, n, _ := strings.Cut(key, "/")
	t.sink.Send(newMessage(model.DeleteOperation, k.resource(ns, n), cloudRV, nil), done)
}

// relisted ends a relist of stream sid over gvr: every object it held and
// did not deliver in the list (seen) is removed.
func (t *tracker) relisted(sid int32, gvr GVR, seen map[string]struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.objs[gvr]
	if k == nil {
		return
	}
	for key, e := range k.byKey {
		if _, ok := seen[key]; !ok && slices.Contains(e.holders, sid) {
			t.dropHolder(k, key, sid, "")
		}
	}
}

// dropStream removes stream sid as a holder of everything (the stream was
// stopped: a referenced object no pod references any more).
func (t *tracker) dropStream(sid int32, gvr GVR) {
	t.relisted(sid, gvr, nil)
}

// reconcile ends the first full sync: every object no stream delivers is
// deleted from the edge, except those the node itself wrote meanwhile
// (entry.written).
func (t *tracker) reconcile() (deleted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reconciled = true
	for _, k := range t.objs {
		for key, e := range k.byKey {
			if len(e.holders) == 0 && !e.written {
				delete(k.byKey, key)
				t.sendDelete(k, key, "")
				deleted++
			}
		}
	}
	return deleted
}

func (t *tracker) dropHolder(k *kindObjects, key string, sid int32, cloudRV string) {
	e := k.byKey[key]
	if e == nil {
		return
	}
	e.holders = slices.DeleteFunc(e.holders, func(h int32) bool { return h == sid })
	if len(e.holders) > 0 || !t.reconciled && cloudRV == "" {
		return
	}
	delete(k.byKey, key)
	t.sendDelete(k, key, cloudRV)
}

func (t *tracker) sendDelete(k *kindObjects, key, cloudRV string) {
	ns, name, _ := strings.Cut(key, "/")
	t.sink.Send(newMessage(model.DeleteOperation, k.resource(ns, name), cloudRV, nil), nil)
}

// resource is the message's route.resource: <namespace>/<restype>/<name>,
// "null" for cluster-scoped objects (docs/architecture.md, messages).
func (k *kindObjects) resource(namespace, name string) string {
	if namespace == "" {
		namespace = "null"
	}
	return namespace + "/" + k.restype + "/" + name
}

func objKey(namespace, name string) string { return namespace + "/" + name }

// newMessage builds a message as the cloud would send it.
func newMessage(op, resource, cloudRV string, content interface{}) model.Message {
	return model.Message{
		Header: model.MessageHeader{
			ID: uuid.NewString(), Timestamp: time.Now().UnixMilli(), ResourceVersion: cloudRV,
		},
		Router:  model.MessageRoute{Source: ModuleName, Group: "resource", Operation: op, Resource: resource},
		Content: content,
	}
}

// newer reports whether resourceVersion a is newer than b (both etcd
// revisions; anything unparsable is not newer).
func newer(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}
