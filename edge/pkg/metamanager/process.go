package metamanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// Operations a message may carry (route.operation).
const (
	OpInsert   = model.InsertOperation
	OpUpdate   = model.UpdateOperation
	OpDelete   = model.DeleteOperation
	OpPatch    = model.PatchOperation
	OpQuery    = model.QueryOperation
	OpResponse = model.ResponseOperation
	OpError    = model.ResponseErrorOperation
)

// ReplyOK is the content of a successful reply to a write.
const ReplyOK = "OK"

// crdRestype is the restype CustomResourceDefinitions arrive with.
const crdRestype = "customresourcedefinition"

// item is one object a message writes or deletes.
type item struct {
	key     dao.Key
	kind    string
	cloudRV string
	obj     map[string]interface{} // nil for a delete without content
	labels  map[string]string
	fields  map[string]string
	// data / rvOff: obj encoded by dao.EncodeObject on the worker, so the
	// store's single writer only splices the revision in (puts only).
	data  []byte
	rvOff int
	// labelsJSON / fieldsJSON: labels and fields encoded for the store, here
	// rather than on its writer (puts only).
	labelsJSON, fieldsJSON []byte
}

// plan is a validated message: everything that can be checked without the
// store has been checked, so applying it can only fail on the store itself
// (or, for a patch, on the stored object).
type plan struct {
	op    string
	res   Resource
	kr    kube.Resource
	items []item
	// noop: acknowledged without touching the store (a response without an object).
	noop bool
	// query
	key dao.Key
	// patch
	patch   []byte
	patchRV string
}

// prepare validates a message and decodes its content. It never touches the
// store.
func (m *MetaManager) prepare(msg *model.Message) (*plan, error) {
	op := msg.GetOperation()
	switch op {
	case OpInsert, OpUpdate, OpDelete, OpPatch, OpQuery, OpResponse:
	case "":
		return nil, errors.New("missing route.operation")
	default:
		return nil, fmt.Errorf("unknown operation %q (want insert, update, delete, patch, query or response)", printable(op))
	}
	res, err := ParseResource(msg.GetResource())
	if err != nil {
		return nil, err
	}
	p := &plan{op: op, res: res}
	kr, isListType, err := m.resolveRestype(res.Restype)
	if err != nil {
		// A response for a kind we do not know carries nothing to store only
		// if it carries nothing at all.
		return nil, err
	}
	p.kr = kr
	if err := checkScope(kr, res); err != nil {
		return nil, err
	}
	raw, isString, err := contentBytes(msg.Content)
	if err != nil {
		return nil, err
	}
	// The ingress validated the whole line already (jsonscan.Valid).
	_, validated := msg.Content.(jsonscan.Valid)
	headerRV := msg.Header.ResourceVersion

	switch op {
	case OpQuery:
		p.key = dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: res.Name}
		return p, nil
	case OpPatch:
		if res.Name == "" || isListType {
			return nil, fmt.Errorf("patch needs a single object: resource %q has no name", res.String())
		}
		if len(raw) == 0 || isString {
			return nil, errors.New("patch content must be a JSON object")
		}
		patch, err := decodeObject(raw)
		if err != nil {
			return nil, fmt.Errorf("patch content: %v", err)
		}
		p.key = dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: res.Name}
		p.patch = raw
		p.patchRV = headerRV
		if p.patchRV == "" {
			p.patchRV = stringAt(patch, "metadata", "resourceVersion")
		}
		return p, nil
	}

	// insert, update, response, delete
	if isString && op != OpResponse {
		return nil, errors.New("content must be a JSON object, not a string")
	}
	if len(raw) == 0 || isString {
		switch op {
		case OpDelete:
			if res.Name == "" {
				return nil, fmt.Errorf("delete without content needs a name: resource %q", res.String())
			}
			p.items = []item{{key: dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: res.Name}, cloudRV: headerRV}}
			return p, nil
		case OpResponse:
			p.noop = true
			return p, nil
		}
		return nil, fmt.Errorf("%s needs an object as content", op)
	}
	// CRDs are decoded in full (the mapper reads them); other objects keep
	// their big nested values as raw JSON, which is what the store encodes.
	var obj map[string]interface{}
	var raws map[string]json.RawMessage
	if kr.GVR == kube.CRDResource {
		obj, err = decodeObject(raw)
	} else {
		var so *shallowObj
		if so, err = decodeShallow(raw, validated); err == nil {
			obj, raws = so.view, so.raws
		}
	}
	if err != nil {
		return nil, fmt.Errorf("content: %v", err)
	}
	if isList(kr, obj) {
		if err := m.checkListKind(kr, obj); err != nil {
			return nil, err
		}
		rawItems, ok := obj["items"].([]interface{})
		if !ok && obj["items"] != nil {
			return nil, errors.New("content: items must be an array")
		}
		p.items = make([]item, 0, len(rawItems))
		for i, ri := range rawItems {
			var o map[string]interface{}
			var r map[string]json.RawMessage
			switch v := ri.(type) {
			case map[string]interface{}:
				o = v
			case *shallowObj:
				o, r = v.view, v.raws
			default:
				return nil, fmt.Errorf("content: items[%d] is not an object", i)
			}
			it, err := m.prepareItem(kr, res, o, r, headerRV, true, op)
			if err != nil {
				return nil, fmt.Errorf("items[%d]: %v", i, err)
			}
			p.items = append(p.items, it)
		}
		return p, nil
	}
	if isListType {
		return nil, fmt.Errorf("restype %q names a list but the content is not a list", res.Restype)
	}
	if res.Name == "" {
		return nil, fmt.Errorf("resource %q has no name", res.String())
	}
	it, err := m.prepareItem(kr, res, obj, raws, headerRV, false, op)
	if err != nil {
		return nil, err
	}
	p.items = []item{it}
	return p, nil
}

// resolveRestype maps a restype to its resource: the lower-case kind, or the
// lower-case list kind ("podlist"). Kinds come from the mapper only.
func (m *MetaManager) resolveRestype(restype string) (kube.Resource, bool, error) {
	if r, ok := m.mapper.ByRestype(restype); ok {
		return r, false, nil
	}
	for _, r := range m.mapper.Resources() {
		if strings.ToLower(r.ListKind) == restype {
			if r2, ok := m.mapper.ByRestype(strings.ToLower(r.Kind)); ok {
				return r2, true, nil
			}
			return r, true, nil
		}
	}
	return kube.Resource{}, false, fmt.Errorf("unknown kind: restype %q is neither a built-in kind nor the kind of a stored CustomResourceDefinition", printable(restype))
}

func checkScope(kr kube.Resource, res Resource) error {
	if kr.Namespaced && res.Namespace == ClusterScope {
		return fmt.Errorf("%s is namespaced: resource %q needs a namespace, not %q", kr.Kind, res.String(), ClusterScope)
	}
	if !kr.Namespaced && res.Namespace != ClusterScope {
		return fmt.Errorf("%s is cluster-scoped: resource %q must use the namespace %q", kr.Kind, res.String(), ClusterScope)
	}
	return nil
}

func keyNamespace(kr kube.Resource, res Resource) string {
	if !kr.Namespaced {
		return ""
	}
	return res.Namespace
}

// isList reports whether a content is a list to expand: it has items and a
// list kind (or no kind), or it is kr's list kind without items (empty).
func isList(kr kube.Resource, obj map[string]interface{}) bool {
	kind, _ := obj["kind"].(string)
	if _, ok := obj["items"]; ok {
		return kind == "" || strings.HasSuffix(kind, "List")
	}
	return kind != "" && kind == kr.ListKind
}

func (m *MetaManager) checkListKind(kr kube.Resource, obj map[string]interface{}) error {
	kind, _ := obj["kind"].(string)
	if kind == "" || kind == "List" {
		return nil
	}
	if kind != kr.ListKind {
		return fmt.Errorf("content kind %s does not match restype (want %s)", printable(kind), kr.ListKind)
	}
	if av, _ := obj["apiVersion"].(string); av != "" {
		gv, err := schema.ParseGroupVersion(av)
		if err != nil || gv.Group != kr.GVR.Group {
			return fmt.Errorf("content apiVersion %q does not match restype (want group %q)", printable(av), kr.GVR.Group)
		}
	}
	return nil
}

// prepareItem validates one object against the resource string and the
// mapper, fills in TypeMeta, namespace and name when absent, strips what the
// store owns (metadata.resourceVersion) and computes labels and fields.
//
// raws (from decodeShallow) are the original bytes of top-level values that
// obj holds split up; the stored object uses them instead.
func (m *MetaManager) prepareItem(kr kube.Resource, res Resource, obj map[string]interface{}, raws map[string]json.RawMessage, headerRV string, inList bool, op string) (item, error) {
	apiVersion, ok1 := obj["apiVersion"].(string)
	kind, ok2 := obj["kind"].(string)
	if (!ok1 && obj["apiVersion"] != nil) || (!ok2 && obj["kind"] != nil) {
		return item{}, errors.New("apiVersion and kind must be strings")
	}
	switch {
	case kind != "" && apiVersion != "":
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return item{}, fmt.Errorf("invalid apiVersion %q", printable(apiVersion))
		}
		r2, ok := m.mapper.ByGVK(gv.WithKind(kind))
		if !ok {
			return item{}, fmt.Errorf("unknown kind %s in %s", printable(kind), printable(apiVersion))
		}
		if r2.GVR.GroupResource() != kr.GVR.GroupResource() {
			return item{}, fmt.Errorf("content kind %s does not match restype %q (%s)", kind, res.Restype, kr.Kind)
		}
	case kind != "":
		if kind != kr.Kind {
			if _, ok := m.mapper.ByRestype(strings.ToLower(kind)); !ok {
				return item{}, fmt.Errorf("unknown kind %s", printable(kind))
			}
			return item{}, fmt.Errorf("content kind %s does not match restype %q (%s)", printable(kind), res.Restype, kr.Kind)
		}
		obj["apiVersion"] = kr.GVR.GroupVersion().String()
	case apiVersion != "":
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return item{}, fmt.Errorf("invalid apiVersion %q", printable(apiVersion))
		}
		if _, ok := m.mapper.ByGVK(gv.WithKind(kr.Kind)); !ok || gv.Group != kr.GVR.Group {
			return item{}, fmt.Errorf("content apiVersion %s does not match restype %q (%s)", printable(apiVersion), res.Restype, kr.GVR.GroupVersion())
		}
		obj["kind"] = kr.Kind
	default:
		obj["apiVersion"] = kr.GVR.GroupVersion().String()
		obj["kind"] = kr.Kind
	}

	md, ok := obj["metadata"].(map[string]interface{})
	if !ok {
		if obj["metadata"] != nil {
			return item{}, errors.New("metadata must be an object")
		}
		md = map[string]interface{}{}
		obj["metadata"] = md
	}
	name, ok := md["name"].(string)
	if !ok && md["name"] != nil {
		return item{}, errors.New("metadata.name must be a string")
	}
	switch {
	case inList:
		if name == "" {
			return item{}, errors.New("no metadata.name")
		}
	case name == "":
		name = res.Name
		md["name"] = name
	case name != res.Name:
		return item{}, fmt.Errorf("metadata.name %q does not match the resource name %q", printable(name), res.Name)
	}
	if err := validateName(name); err != nil {
		return item{}, err
	}
	ns, ok := md["namespace"].(string)
	if !ok && md["namespace"] != nil {
		return item{}, errors.New("metadata.namespace must be a string")
	}
	if kr.Namespaced {
		switch {
		case ns == "":
			md["namespace"] = res.Namespace
		case ns != res.Namespace:
			return item{}, fmt.Errorf("metadata.namespace %q does not match the resource namespace %q", printable(ns), res.Namespace)
		}
	} else if ns != "" {
		return item{}, fmt.Errorf("%s is cluster-scoped but metadata.namespace is %q", kr.Kind, printable(ns))
	}

	contentRV := ""
	switch v := md["resourceVersion"].(type) {
	case nil:
	case string:
		contentRV = v
	case json.Number:
		contentRV = v.String()
	default:
		return item{}, errors.New("metadata.resourceVersion must be a string")
	}
	delete(md, "resourceVersion")
	cloudRV := headerRV
	if inList || cloudRV == "" {
		// A list's items carry their own revisions; the header's is the list's.
		cloudRV = contentRV
		if cloudRV == "" {
			cloudRV = headerRV
		}
	}

	var labels map[string]string
	if lv, ok := md["labels"]; ok && lv != nil {
		lm, ok := lv.(map[string]interface{})
		if !ok {
			return item{}, errors.New("metadata.labels must be an object")
		}
		labels = make(map[string]string, len(lm))
		for k, v := range lm {
			s, ok := v.(string)
			if !ok {
				return item{}, fmt.Errorf("metadata.labels[%q] must be a string", printable(k))
			}
			labels[k] = s
		}
	}

	if kr.GVR == kube.CRDResource && op != OpDelete {
		// A CRD must be mappable before it is stored: check on a scratch mapper.
		if err := kube.NewMapper().AddCRD(obj); err != nil {
			return item{}, err
		}
	}

	fields := kube.Fields(kr, obj)
	if len(raws) > 0 || kr.GVR != kube.CRDResource {
		// Big values go to the store as the original (validated) bytes.
		store := make(map[string]interface{}, len(obj))
		for k, v := range obj {
			if r, ok := raws[k]; ok {
				store[k] = dao.ValidJSON(r)
			} else {
				store[k] = validRaw(v)
			}
		}
		obj = store
	}
	it := item{
		key:     dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: name},
		kind:    kr.Kind,
		cloudRV: cloudRV,
		obj:     obj,
		labels:  labels,
		fields:  fields,
	}
	if op != OpDelete {
		// Encode here, on this worker: the store's single writer only
		// splices the revision in.
		data, off, err := dao.EncodeObject(obj)
		if err != nil {
			return item{}, fmt.Errorf("encode: %v", err)
		}
		it.data, it.rvOff = data, off
		it.labelsJSON, it.fieldsJSON = dao.EncodeStringMap(labels), dao.EncodeStringMap(fields)
	}
	return it, nil
}

// contentBytes returns the message content as JSON. isString reports a
// content that is a JSON string (like "OK"), which carries no object.
func contentBytes(c interface{}) (raw []byte, isString bool, err error) {
	switch v := c.(type) {
	case nil:
		return nil, false, nil
	case json.RawMessage:
		raw = v
	case jsonscan.Valid:
		raw = v
	case []byte:
		raw = v
	case string:
		t := strings.TrimSpace(v)
		if strings.HasPrefix(t, "{") {
			return []byte(t), false, nil
		}
		return nil, t != "", nil
	default:
		raw, err = json.Marshal(v)
		if err != nil {
			return nil, false, fmt.Errorf("content: %v", err)
		}
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("content: %v", err)
		}
		t := strings.TrimSpace(s)
		if strings.HasPrefix(t, "{") {
			return []byte(t), false, nil
		}
		return nil, t != "", nil
	}
	return raw, false, nil
}

// shallowLimit: nested values up to this size are decoded; bigger ones below
// the second level stay raw JSON.
const shallowLimit = 256

// decodeShallow decodes a JSON object for storing: metadata in full, other
// values in full when small, and otherwise only their first level, keeping
// large nested values (container lists, volumes, statuses…) as
// json.RawMessage. Field labels (at most two levels deep, or small) and
// TypeMeta stay readable; the store re-encodes the raw parts by copying them,
// which is what makes ingest cheap. A list's items are decoded the same way.
//
// validated: raw is known to be valid JSON (it is not checked again).
func decodeShallow(raw []byte, validated bool) (*shallowObj, error) {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if !validated && !jsonscan.Validate(raw) {
		var v interface{}
		err := json.Unmarshal(raw, &v)
		if err == nil {
			err = errors.New("malformed")
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return shallowObject(raw, 1)
}

// shallowObj is a shallowly decoded object: view has the decoded parts (for
// validation and field labels), raws the original bytes of each top-level
// value that view holds split up (what the store encodes instead).
type shallowObj struct {
	view map[string]interface{}
	raws map[string]json.RawMessage
}

// validRaw marks a raw value of a validated document for dao.EncodeObject.
func validRaw(v interface{}) interface{} {
	if r, ok := v.(json.RawMessage); ok {
		return dao.ValidJSON(r)
	}
	return v
}

// shallowObject splits a valid JSON object (see decodeShallow).
func shallowObject(raw []byte, depth int) (*shallowObj, error) {
	so := &shallowObj{view: map[string]interface{}{}}
	obj := so.view
	err := jsonscan.Members(raw, func(k string, v []byte) error {
		var d interface{}
		var err error
		switch {
		case depth == 1 && k == "metadata":
			d, err = decodeValue(v)
		case depth == 1 && k == "items" && v[0] == '[':
			out := []interface{}{}
			err = jsonscan.Elements(v, func(_ int, it []byte) error {
				var o interface{}
				var err error
				if it[0] == '{' {
					var so *shallowObj
					if so, err = shallowObject(it, 1); err == nil {
						o = so
					}
				} else {
					o, err = decodeValue(it)
				}
				out = append(out, o)
				return err
			})
			d = out
		case len(v) <= shallowLimit:
			d, err = decodeValue(v)
		case v[0] == '{' && depth < 2:
			var sub *shallowObj
			sub, err = shallowObject(v, depth+1)
			if err == nil {
				d = sub.view
				if so.raws == nil {
					so.raws = map[string]json.RawMessage{}
				}
				so.raws[k] = json.RawMessage(v)
			}
		default:
			// big and deep (or a big array or string): kept raw
			d = json.RawMessage(v)
		}
		if err != nil {
			return err
		}
		obj[k] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return so, nil
}

// decodeValue decodes a value of a validated document (numbers as
// json.Number, as encoding/json with UseNumber).
func decodeValue(v []byte) (interface{}, error) {
	out, err := jsonscan.Decode(v)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return out, nil
}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(raw []byte) (map[string]interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: trailing data after the object")
	}
	obj, ok := v.(map[string]interface{})
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

func stringAt(obj map[string]interface{}, path ...string) string {
	var cur interface{} = obj
	for _, p := range path {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// notNewer reports whether a message with cloud revision in is a stale or
// duplicate retransmission of what is stored with cloud revision stored:
// compared as unsigned integers when both parse, otherwise equal = duplicate.
// An unknown revision (either side empty) is never stale.
func notNewer(in, stored string) bool {
	if in == "" || stored == "" {
		return false
	}
	a, err1 := strconv.ParseUint(in, 10, 64)
	b, err2 := strconv.ParseUint(stored, 10, 64)
	if err1 == nil && err2 == nil {
		return a <= b
	}
	return in == stored
}

// older reports whether in is strictly older than stored.
func older(in, stored string) bool {
	if in == "" || stored == "" {
		return false
	}
	a, err1 := strconv.ParseUint(in, 10, 64)
	b, err2 := strconv.ParseUint(stored, 10, 64)
	return err1 == nil && err2 == nil && a < b
}

// crdChange is a CRD change to mirror in the mapper once committed.
type crdChange struct {
	name string
	obj  map[string]interface{} // nil = removed
}

// apply runs a plan against the store. Writes run inside one Update call, so
// the message commits or rolls back as a unit.
func (m *MetaManager) apply(ctx context.Context, p *plan) (interface{}, error) {
	if p.noop {
		return ReplyOK, nil
	}
	switch p.op {
	case OpQuery:
		return m.query(ctx, p)
	case OpPatch:
		var crds []crdChange
		err := m.store.Update(ctx, func(tx dao.Tx) error {
			crds = crds[:0]
			return m.applyPatch(tx, p, &crds)
		})
		if err != nil {
			return nil, err
		}
		m.mirrorCRDs(crds)
		return ReplyOK, nil
	}
	if len(p.items) == 0 {
		return ReplyOK, nil
	}
	var crds []crdChange
	err := m.store.Update(ctx, func(tx dao.Tx) error {
		crds = crds[:0]
		for i := range p.items {
			it := &p.items[i]
			var err error
			if p.op == OpDelete {
				err = applyDelete(tx, it, &crds)
			} else {
				err = applyPut(tx, it, &crds)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.mirrorCRDs(crds)
	return ReplyOK, nil
}

func applyPut(tx dao.Tx, it *item, crds *[]crdChange) error {
	cur, err := tx.Get(it.key)
	switch {
	case err == nil:
		if notNewer(it.cloudRV, cur.CloudRV) {
			return nil // stale or duplicate: acknowledged, not applied
		}
	case errors.Is(err, dao.ErrNotFound):
		ts, ok, err := tx.Tombstone(it.key)
		if err != nil {
			return err
		}
		if ok && notNewer(it.cloudRV, ts.CloudRV) {
			return nil // a retransmission from before the delete: no resurrection
		}
	default:
		return err
	}
	if _, err := tx.Put(dao.PutRequest{
		Key: it.key, Kind: it.kind, CloudRV: it.cloudRV,
		Object: it.obj, Labels: it.labels, Fields: it.fields,
		Data: it.data, RVOffset: it.rvOff,
		LabelsJSON: it.labelsJSON, FieldsJSON: it.fieldsJSON,
	}); err != nil {
		return err
	}
	if it.key.GVR == kube.CRDResource {
		*crds = append(*crds, crdChange{name: it.key.Name, obj: it.obj})
	}
	return nil
}

func applyDelete(tx dao.Tx, it *item, crds *[]crdChange) error {
	cur, err := tx.Get(it.key)
	if errors.Is(err, dao.ErrNotFound) {
		return nil // already gone: deletes are idempotent
	}
	if err != nil {
		return err
	}
	if older(it.cloudRV, cur.CloudRV) {
		return nil // a stale delete must not remove a newer object
	}
	rv := it.cloudRV
	if rv == "" || older(rv, cur.CloudRV) {
		rv = cur.CloudRV
	}
	if _, err := tx.Delete(it.key, rv); err != nil {
		if errors.Is(err, dao.ErrNotFound) {
			return nil
		}
		return err
	}
	if it.key.GVR == kube.CRDResource {
		*crds = append(*crds, crdChange{name: it.key.Name})
	}
	return nil
}

func (m *MetaManager) mirrorCRDs(crds []crdChange) {
	for _, c := range crds {
		if c.obj == nil {
			m.mapper.RemoveCRD(c.name)
			continue
		}
		// Validated in prepare; an error here would be a mapper bug.
		_ = m.mapper.AddCRD(c.obj)
	}
}

func notFound(kr kube.Resource, name string) error {
	return fmt.Errorf("%s %q not found", kr.GVR.GroupResource().String(), name)
}

func (m *MetaManager) query(ctx context.Context, p *plan) (interface{}, error) {
	if p.res.Name != "" {
		st, err := m.store.Get(ctx, p.key)
		if errors.Is(err, dao.ErrNotFound) {
			return nil, notFound(p.kr, p.res.Name)
		}
		if err != nil {
			return nil, err
		}
		return json.RawMessage(st.Data), nil
	}
	lr, err := m.store.List(ctx, p.kr.GVR, dao.ListOptions{Namespace: p.key.Namespace})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"apiVersion":`)
	writeJSONString(&b, p.kr.GVR.GroupVersion().String())
	b.WriteString(`,"kind":`)
	writeJSONString(&b, p.kr.ListKind)
	b.WriteString(`,"metadata":{"resourceVersion":"`)
	b.WriteString(strconv.FormatInt(lr.Revision, 10))
	b.WriteString(`"},"items":[`)
	for i, it := range lr.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.Data)
	}
	b.WriteString(`]}`)
	return json.RawMessage(b.Bytes()), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
