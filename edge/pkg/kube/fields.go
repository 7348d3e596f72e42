package kube

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fieldPath says where a field label's value lives in the object.
type fieldPath struct {
	label string
	path  []string
	// boolean fields are rendered "true"/"false" as kube-apiserver does.
	boolean bool
}

func fp(label string, path ...string) fieldPath { return fieldPath{label: label, path: path} }

// kindFields are the field labels kube-apiserver supports per built-in kind,
// beyond metadata.name and metadata.namespace (pkg/registry/*/strategy.go).
var kindFields = map[schema.GroupResource][]fieldPath{
	{Resource: "pods"}: {
		fp("spec.nodeName", "spec", "nodeName"),
		fp("spec.restartPolicy", "spec", "restartPolicy"),
		fp("spec.schedulerName", "spec", "schedulerName"),
		fp("spec.serviceAccountName", "spec", "serviceAccountName"),
		{label: "spec.hostNetwork", path: []string{"spec", "hostNetwork"}, boolean: true},
		fp("status.phase", "status", "phase"),
		fp("status.podIP", "status", "podIP"),
		fp("status.nominatedNodeName", "status", "nominatedNodeName"),
	},
	{Resource: "secrets"}:    {fp("type", "type")},
	{Resource: "namespaces"}: {fp("status.phase", "status", "phase")},
	{Resource: "nodes"}:      {{label: "spec.unschedulable", path: []string{"spec", "unschedulable"}, boolean: true}},
	{Resource: "services"}: {
		fp("spec.clusterIP", "spec", "clusterIP"),
		fp("spec.type", "spec", "type"),
	},
	{Resource: "replicationcontrollers"}:                                   {fp("status.replicas", "status", "replicas")},
	{Group: "apps", Resource: "replicasets"}:                               {fp("status.replicas", "status", "replicas")},
	{Group: "batch", Resource: "jobs"}:                                     {fp("status.successful", "status", "succeeded")},
	{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}: {fp("spec.signerName", "spec", "signerName")},
	{Resource: "events"}: {
		fp("involvedObject.kind", "involvedObject", "kind"),
		fp("involvedObject.namespace", "involvedObject", "namespace"),
		fp("involvedObject.name", "involvedObject", "name"),
		fp("involvedObject.uid", "involvedObject", "uid"),
		fp("involvedObject.apiVersion", "involvedObject", "apiVersion"),
		fp("involvedObject.resourceVersion", "involvedObject", "resourceVersion"),
		fp("involvedObject.fieldPath", "involvedObject", "fieldPath"),
		fp("reason", "reason"),
		fp("reportingComponent", "reportingComponent"),
		fp("source", "source", "component"),
		fp("type", "type"),
	},
}

// Fields returns the field-label values of an object of resource r: the set
// field selectors are evaluated on, for lists and for watches.
func Fields(r Resource, obj map[string]interface{}) map[string]string {
	set := map[string]string{}
	set["metadata.name"], _, _ = unstructured.NestedString(obj, "metadata", "name")
	if r.Namespaced {
		set["metadata.namespace"], _, _ = unstructured.NestedString(obj, "metadata", "namespace")
	}
	for _, f := range kindFields[r.GVR.GroupResource()] {
		v, found, _ := unstructured.NestedFieldNoCopy(obj, f.path...)
		switch {
		case f.boolean:
			b, _ := v.(bool)
			set[f.label] = strconv.FormatBool(b)
		case !found || v == nil:
			set[f.label] = ""
		default:
			set[f.label] = fmt.Sprint(v)
		}
	}
	if r.GVR.GroupResource() == (schema.GroupResource{Resource: "pods"}) {
		// kube-apiserver matches status.podIPs against the first (primary) IP.
		ips, _, _ := unstructured.NestedSlice(obj, "status", "podIPs")
		set["status.podIPs"] = ""
		if len(ips) > 0 {
			if m, ok := ips[0].(map[string]interface{}); ok {
				set["status.podIPs"], _, _ = unstructured.NestedString(m, "ip")
			}
		}
	}
	return set
}

// SupportedField reports whether kube-apiserver accepts label in a field
// selector for resource r.
func SupportedField(r Resource, label string) bool {
	switch label {
	case "metadata.name":
		return true
	case "metadata.namespace":
		return r.Namespaced
	case "status.podIPs":
		return r.GVR.GroupResource() == schema.GroupResource{Resource: "pods"}
	}
	for _, f := range kindFields[r.GVR.GroupResource()] {
		if f.label == label {
			return true
		}
	}
	return false
}

// ValidateFieldSelector returns kube-apiserver's error for the first field
// label the resource does not support ("field label not supported: x").
func ValidateFieldSelector(r Resource, sel fields.Selector) error {
	if sel == nil {
		return nil
	}
	for _, req := range sel.Requirements() {
		if !SupportedField(r, req.Field) {
			return fmt.Errorf("field label not supported: %s", req.Field)
		}
	}
	return nil
}
