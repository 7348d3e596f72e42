package kube

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func obj(t *testing.T, s string) map[string]interface{} {
	t.Helper()
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFields(t *testing.T) {
	m := NewMapper()
	res := func(g, r string) Resource {
		x, ok := m.ByGVR(schema.GroupVersionResource{Group: g, Version: "v1", Resource: r})
		if !ok {
			t.Fatalf("no resource %s", r)
		}
		return x
	}
	tests := []struct {
		name string
		res  Resource
		obj  string
		want map[string]string
	}{
		{"pod", res("", "pods"), `{"metadata":{"name":"p","namespace":"ns"},"spec":{"nodeName":"edge-1","hostNetwork":true,"restartPolicy":"Always"},"status":{"phase":"Running","podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.1"},{"ip":"fd00::1"}]}}`,
			map[string]string{"metadata.name": "p", "metadata.namespace": "ns", "spec.nodeName": "edge-1", "spec.restartPolicy": "Always",
				"spec.schedulerName": "", "spec.serviceAccountName": "", "spec.hostNetwork": "true", "status.phase": "Running",
				"status.podIP": "10.0.0.1", "status.podIPs": "10.0.0.1", "status.nominatedNodeName": ""}},
		{"secret", res("", "secrets"), `{"metadata":{"name":"s","namespace":"ns"},"type":"Opaque"}`,
			map[string]string{"metadata.name": "s", "metadata.namespace": "ns", "type": "Opaque"}},
		{"node is cluster-scoped", res("", "nodes"), `{"metadata":{"name":"n"}}`,
			map[string]string{"metadata.name": "n", "spec.unschedulable": "false"}},
		{"configmap", res("", "configmaps"), `{"metadata":{"name":"c","namespace":"ns"}}`,
			map[string]string{"metadata.name": "c", "metadata.namespace": "ns"}},
	}
	for _, tt := range tests {
		if got := Fields(tt.res, obj(t, tt.obj)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Fields = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateFieldSelector(t *testing.T) {
	m := NewMapper()
	pods, _ := m.ByGVR(schema.GroupVersionResource{Version: "v1", Resource: "pods"})
	nodes, _ := m.ByGVR(schema.GroupVersionResource{Version: "v1", Resource: "nodes"})
	tests := []struct {
		res     Resource
		sel     string
		wantErr string
	}{
		{pods, "spec.nodeName=edge-1,status.phase!=Failed", ""},
		{pods, "metadata.namespace=default", ""},
		{pods, "status.podIPs=10.0.0.1", ""},
		{pods, "spec.containers=x", "field label not supported: spec.containers"},
		{nodes, "metadata.namespace=x", "field label not supported: metadata.namespace"},
		{nodes, "spec.unschedulable=true", ""},
	}
	for _, tt := range tests {
		sel, err := fields.ParseSelector(tt.sel)
		if err != nil {
			t.Fatal(err)
		}
		err = ValidateFieldSelector(tt.res, sel)
		if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
			t.Errorf("%s %q: err = %v, want %q", tt.res.GVR.Resource, tt.sel, err, tt.wantErr)
		}
	}
}
