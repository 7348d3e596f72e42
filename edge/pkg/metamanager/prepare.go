package metamanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

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
	kr, isListType, err := m.resolveRestype(res.Restype)
	if err != nil {
		return nil, err
	}
	if err := checkScope(kr, res); err != nil {
		return nil, err
	}
	raw, isString, err := contentBytes(msg.Content)
	if err != nil {
		return nil, err
	}
	p := &plan{op: op, res: res, kr: kr}
	ic := itemContext{kr: kr, res: res, headerRV: msg.Header.ResourceVersion, op: op}
	switch op {
	case OpQuery:
		p.key = dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: res.Name}
		return p, nil
	case OpPatch:
		return preparePatch(p, ic, raw, isString, isListType)
	}
	// The ingress validated the whole line already (jsonscan.Valid).
	_, validated := msg.Content.(jsonscan.Valid)
	return m.prepareObjects(p, ic, raw, isString, isListType, validated)
}

// itemContext is what every object of one message is checked against.
type itemContext struct {
	kr       kube.Resource
	res      Resource
	headerRV string // header.resourceversion
	op       string
	inList   bool // the object is an item of a list content
}

func preparePatch(p *plan, ic itemContext, raw []byte, isString, isListType bool) (*plan, error) {
	if ic.res.Name == "" || isListType {
		return nil, fmt.Errorf("patch needs a single object: resource %q has no name", ic.res.String())
	}
	if len(raw) == 0 || isString {
		return nil, errors.New("patch content must be a JSON object")
	}
	patch, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("patch content: %v", err)
	}
	p.key = dao.Key{GVR: ic.kr.GVR, Namespace: keyNamespace(ic.kr, ic.res), Name: ic.res.Name}
	p.patch = raw
	p.patchRV = ic.headerRV
	if p.patchRV == "" {
		p.patchRV = stringAt(patch, "metadata", "resourceVersion")
	}
	return p, nil
}

// prepareObjects prepares an insert, update, response or delete: one object,
// a list of them, or (delete, response) no content at all.
func (m *MetaManager) prepareObjects(p *plan, ic itemContext, raw []byte, isString, isListType, validated bool) (*plan, error) {
	kr, res := ic.kr, ic.res
	if isString && ic.op != OpResponse {
		return nil, errors.New("content must be a JSON object, not a string")
	}
	if len(raw) == 0 || isString {
		switch ic.op {
		case OpDelete:
			if res.Name == "" {
				return nil, fmt.Errorf("delete without content needs a name: resource %q", res.String())
			}
			p.items = []item{{key: dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, res), Name: res.Name}, cloudRV: ic.headerRV}}
			return p, nil
		case OpResponse:
			p.noop = true
			return p, nil
		}
		return nil, fmt.Errorf("%s needs an object as content", ic.op)
	}
	// CRDs are decoded in full (the mapper reads them); other objects keep
	// their big nested values as raw JSON, which is what the store encodes.
	var obj map[string]interface{}
	var raws map[string]json.RawMessage
	var err error
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
		return m.prepareList(p, ic, obj)
	}
	if isListType {
		return nil, fmt.Errorf("restype %q names a list but the content is not a list", res.Restype)
	}
	if res.Name == "" {
		return nil, fmt.Errorf("resource %q has no name", res.String())
	}
	it, err := m.prepareItem(ic, obj, raws)
	if err != nil {
		return nil, err
	}
	p.items = []item{it}
	return p, nil
}

// prepareList expands a list content into its items.
func (m *MetaManager) prepareList(p *plan, ic itemContext, obj map[string]interface{}) (*plan, error) {
	if err := m.checkListKind(ic.kr, obj); err != nil {
		return nil, err
	}
	rawItems, ok := obj["items"].([]interface{})
	if !ok && obj["items"] != nil {
		return nil, errors.New("content: items must be an array")
	}
	ic.inList = true
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
		it, err := m.prepareItem(ic, o, r)
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %v", i, err)
		}
		p.items = append(p.items, it)
	}
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
// store owns (metadata.resourceVersion), computes labels and fields, and
// encodes it for the store.
//
// raws (from decodeShallow) are the original bytes of top-level values that
// obj holds split up; the stored object uses them instead.
func (m *MetaManager) prepareItem(ic itemContext, obj map[string]interface{}, raws map[string]json.RawMessage) (item, error) {
	kr := ic.kr
	if err := m.fillTypeMeta(ic, obj); err != nil {
		return item{}, err
	}
	md, ok := obj["metadata"].(map[string]interface{})
	if !ok {
		if obj["metadata"] != nil {
			return item{}, errors.New("metadata must be an object")
		}
		md = map[string]interface{}{}
		obj["metadata"] = md
	}
	name, err := fillNameNamespace(ic, md)
	if err != nil {
		return item{}, err
	}
	cloudRV, err := takeCloudRV(ic, md)
	if err != nil {
		return item{}, err
	}
	labels, err := labelsOf(md)
	if err != nil {
		return item{}, err
	}
	if kr.GVR == kube.CRDResource && ic.op != OpDelete {
		// A CRD must be mappable before it is stored: check on a scratch mapper.
		if err := kube.NewMapper().AddCRD(obj); err != nil {
			return item{}, err
		}
	}
	fields := kube.Fields(kr, obj)
	if len(raws) > 0 || kr.GVR != kube.CRDResource {
		obj = storeForm(obj, raws)
	}
	it := item{
		key:     dao.Key{GVR: kr.GVR, Namespace: keyNamespace(kr, ic.res), Name: name},
		kind:    kr.Kind,
		cloudRV: cloudRV,
		obj:     obj,
		labels:  labels,
		fields:  fields,
	}
	if ic.op != OpDelete {
		// Encode here, off the store's single writer, which only splices the
		// revision in.
		data, off, err := dao.EncodeObject(obj)
		if err != nil {
			return item{}, fmt.Errorf("encode: %v", err)
		}
		it.data, it.rvOff = data, off
		it.labelsJSON, it.fieldsJSON = dao.EncodeStringMap(labels), dao.EncodeStringMap(fields)
	}
	return it, nil
}

// fillTypeMeta checks apiVersion and kind against the restype and the mapper
// and fills in what is absent.
func (m *MetaManager) fillTypeMeta(ic itemContext, obj map[string]interface{}) error {
	kr, res := ic.kr, ic.res
	apiVersion, ok1 := obj["apiVersion"].(string)
	kind, ok2 := obj["kind"].(string)
	if (!ok1 && obj["apiVersion"] != nil) || (!ok2 && obj["kind"] != nil) {
		return errors.New("apiVersion and kind must be strings")
	}
	switch {
	case kind != "" && apiVersion != "":
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return fmt.Errorf("invalid apiVersion %q", printable(apiVersion))
		}
		r2, ok := m.mapper.ByGVK(gv.WithKind(kind))
		if !ok {
			return fmt.Errorf("unknown kind %s in %s", printable(kind), printable(apiVersion))
		}
		if r2.GVR.GroupResource() != kr.GVR.GroupResource() {
			return fmt.Errorf("content kind %s does not match restype %q (%s)", kind, res.Restype, kr.Kind)
		}
	case kind != "":
		if kind != kr.Kind {
			if _, ok := m.mapper.ByRestype(strings.ToLower(kind)); !ok {
				return fmt.Errorf("unknown kind %s", printable(kind))
			}
			return fmt.Errorf("content kind %s does not match restype %q (%s)", printable(kind), res.Restype, kr.Kind)
		}
		obj["apiVersion"] = kr.GVR.GroupVersion().String()
	case apiVersion != "":
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return fmt.Errorf("invalid apiVersion %q", printable(apiVersion))
		}
		if _, ok := m.mapper.ByGVK(gv.WithKind(kr.Kind)); !ok || gv.Group != kr.GVR.Group {
			return fmt.Errorf("content apiVersion %s does not match restype %q (%s)", printable(apiVersion), res.Restype, kr.GVR.GroupVersion())
		}
		obj["kind"] = kr.Kind
	default:
		obj["apiVersion"] = kr.GVR.GroupVersion().String()
		obj["kind"] = kr.Kind
	}
	return nil
}

// fillNameNamespace checks metadata.name and metadata.namespace against the
// resource string, fills them in when absent, and returns the name.
func fillNameNamespace(ic itemContext, md map[string]interface{}) (string, error) {
	kr, res := ic.kr, ic.res
	name, ok := md["name"].(string)
	if !ok && md["name"] != nil {
		return "", errors.New("metadata.name must be a string")
	}
	switch {
	case ic.inList:
		if name == "" {
			return "", errors.New("no metadata.name")
		}
	case name == "":
		name = res.Name
		md["name"] = name
	case name != res.Name:
		return "", fmt.Errorf("metadata.name %q does not match the resource name %q", printable(name), res.Name)
	}
	if err := validateName(name); err != nil {
		return "", err
	}
	ns, ok := md["namespace"].(string)
	if !ok && md["namespace"] != nil {
		return "", errors.New("metadata.namespace must be a string")
	}
	if kr.Namespaced {
		switch {
		case ns == "":
			md["namespace"] = res.Namespace
		case ns != res.Namespace:
			return "", fmt.Errorf("metadata.namespace %q does not match the resource namespace %q", printable(ns), res.Namespace)
		}
	} else if ns != "" {
		return "", fmt.Errorf("%s is cluster-scoped but metadata.namespace is %q", kr.Kind, printable(ns))
	}
	return name, nil
}

// takeCloudRV removes metadata.resourceVersion (the store owns it) and
// returns the object's cloud revision: the header's, except for a list's
// items, which carry their own (the header's is the list's).
func takeCloudRV(ic itemContext, md map[string]interface{}) (string, error) {
	contentRV := ""
	switch v := md["resourceVersion"].(type) {
	case nil:
	case string:
		contentRV = v
	case json.Number:
		contentRV = v.String()
	default:
		return "", errors.New("metadata.resourceVersion must be a string")
	}
	delete(md, "resourceVersion")
	cloudRV := ic.headerRV
	if ic.inList || cloudRV == "" {
		cloudRV = contentRV
		if cloudRV == "" {
			cloudRV = ic.headerRV
		}
	}
	return cloudRV, nil
}

func labelsOf(md map[string]interface{}) (map[string]string, error) {
	lv, ok := md["labels"]
	if !ok || lv == nil {
		return nil, nil
	}
	lm, ok := lv.(map[string]interface{})
	if !ok {
		return nil, errors.New("metadata.labels must be an object")
	}
	labels := make(map[string]string, len(lm))
	for k, v := range lm {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("metadata.labels[%q] must be a string", printable(k))
		}
		labels[k] = s
	}
	return labels, nil
}

// storeForm is obj as the store encodes it: big values as the original
// (validated) bytes.
func storeForm(obj map[string]interface{}, raws map[string]json.RawMessage) map[string]interface{} {
	store := make(map[string]interface{}, len(obj))
	for k, v := range obj {
		if r, ok := raws[k]; ok {
			store[k] = dao.ValidJSON(r)
		} else {
			store[k] = validRaw(v)
		}
	}
	return store
}
