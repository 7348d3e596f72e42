package openapi

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// The paths of a document: for each resource its list, get and patch
// operations, each carrying x-kubernetes-group-version-kind as
// kube-apiserver's do. kubectl explain finds a resource's kind that way.
// Writes are forwarded over the uplink (or refused while there is none), so
// the patch operation has no fieldValidation parameter: kubectl then
// validates on the client, against these schemas, before it writes.

// gvPath is a group-version's document path: "api/v1", "apis/apps/v1".
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

type gvkExt struct {
	Group   string `json:"group"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// operationPrefix is kube-apiserver's operation id part for a
// group-version: CoreV1, AppsV1, RbacAuthorizationV1, NetworkingV1, …
func operationPrefix(gv schema.GroupVersion) string {
	g := strings.TrimSuffix(strings.TrimSuffix(gv.Group, ".k8s.io"), ".authorization")
	if gv.Group == "rbac.authorization.k8s.io" {
		g = "rbac.authorization"
	}
	if g == "" {
		g = "core"
	}
	var b strings.Builder
	for _, part := range strings.FieldsFunc(g, func(r rune) bool { return r == '.' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	b.WriteString(strings.ToUpper(gv.Version[:1]) + gv.Version[1:])
	return b.String()
}

// addResourcePaths adds res's list and get paths to paths. ref makes a
// schema reference from a definition name; v3 selects OpenAPI 3's shapes
// (content and schema-wrapped parameters) over swagger 2.0's.
func addResourcePaths(paths map[string]json.RawMessage, res kube.Resource, kindName, listName string, ref func(string) string, v3 bool) {
	gv := res.GVR.GroupVersion()
	prefix := "/" + gvPath(gv) + "/"
	opID := operationPrefix(gv)
	ext := gvkExt{Group: gv.Group, Kind: res.Kind, Version: gv.Version}
	nsParam := param("namespace", "object name and auth scope, such as for teams and projects", v3)
	nameParam := param("name", "name of the "+res.Kind, v3)
	list := func(id string) map[string]interface{} {
		return operation("list or watch objects of kind "+res.Kind, id, "list", ext, ref(listName), v3)
	}
	if res.Namespaced {
		get := operation("read the specified "+res.Kind, "read"+opID+"Namespaced"+res.Kind, "get", ext, ref(kindName), v3)
		paths[prefix+res.GVR.Resource] = mustJSON(map[string]interface{}{"get": list("list" + opID + res.Kind + "ForAllNamespaces")})
		paths[prefix+"namespaces/{namespace}/"+res.GVR.Resource] = mustJSON(map[string]interface{}{
			"get": list("list" + opID + "Namespaced" + res.Kind), "parameters": []interface{}{nsParam}})
		paths[prefix+"namespaces/{namespace}/"+res.GVR.Resource+"/{name}"] = mustJSON(map[string]interface{}{
			"get": get, "patch": patch(res, opID+"Namespaced", ext, ref(kindName), v3), "parameters": []interface{}{nameParam, nsParam}})
		return
	}
	get := operation("read the specified "+res.Kind, "read"+opID+res.Kind, "get", ext, ref(kindName), v3)
	paths[prefix+res.GVR.Resource] = mustJSON(map[string]interface{}{"get": list("list" + opID + res.Kind)})
	paths[prefix+res.GVR.Resource+"/{name}"] = mustJSON(map[string]interface{}{
		"get": get, "patch": patch(res, opID, ext, ref(kindName), v3), "parameters": []interface{}{nameParam}})
}

// operation is one GET operation answering with the schema at ref.
func operation(desc, id, action string, ext gvkExt, ref string, v3 bool) map[string]interface{} {
	resp := map[string]interface{}{"description": "OK"}
	if v3 {
		resp["content"] = map[string]interface{}{
			"application/json": map[string]interface{}{"schema": map[string]interface{}{"$ref": ref}},
		}
	} else {
		resp["schema"] = map[string]interface{}{"$ref": ref}
	}
	op := map[string]interface{}{
		"description":                     desc,
		"operationId":                     id,
		"responses":                       map[string]interface{}{"200": resp, "401": map[string]interface{}{"description": "Unauthorized"}},
		"x-kubernetes-action":             action,
		"x-kubernetes-group-version-kind": ext,
	}
	if !v3 {
		op["produces"] = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
		op["schemes"] = []string{"https"}
	}
	return op
}

// param is a required path parameter.
func param(name, desc string, v3 bool) map[string]interface{} {
	p := map[string]interface{}{"name": name, "in": "path", "required": true, "description": desc, "uniqueItems": true}
	if v3 {
		p["schema"] = map[string]interface{}{"type": "string", "uniqueItems": true}
		delete(p, "uniqueItems")
	} else {
		p["type"] = "string"
	}
	return p
}

// mustJSON marshals values built from maps, slices and strings: it cannot
// fail.
func mustJSON(v interface{}) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// patch is the PATCH operation of one object (without fieldValidation).
func patch(res kube.Resource, opID string, ext gvkExt, ref string, v3 bool) map[string]interface{} {
	op := operation("partially update the specified "+res.Kind, "patch"+opID+res.Kind, "patch", ext, ref, v3)
	if !v3 {
		op["consumes"] = []string{"application/json-patch+json", "application/merge-patch+json",
			"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	}
	return op
}
