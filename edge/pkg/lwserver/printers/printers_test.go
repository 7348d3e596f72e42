package printers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// now is the fixed clock of these tests; objects are created at t0 (1h ago).
var now = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

const t0 = "2025-11-25T11:00:00Z"

func resourceOf(t *testing.T, group, version, res string) kube.Resource {
	t.Helper()
	r, ok := kube.NewMapper().ByGVR(schema.GroupVersionResource{Group: group, Version: version, Resource: res})
	if !ok {
		t.Fatalf("no resource %s/%s/%s", group, version, res)
	}
	return r
}

func table(t *testing.T, res kube.Resource, include string, objs ...string) *metav1.Table {
	t.Helper()
	items := make([]Item, len(objs))
	for i, o := range objs {
		if !json.Valid([]byte(o)) {
			t.Fatalf("test object %d is not valid JSON: %s", i, o)
		}
		items[i] = Item{Data: []byte(o), Revision: int64(i + 1)}
	}
	tbl, err := New().Table(res, items, Options{IncludeObject: include, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func headers(tbl *metav1.Table) []string {
	var out []string
	for _, c := range tbl.ColumnDefinitions {
		h := strings.ToUpper(c.Name)
		if c.Priority > 0 {
			h += "*"
		}
		out = append(out, h)
	}
	return out
}

func TestBuiltinColumns(t *testing.T) {
	cases := []struct {
		name            string
		group, ver, res string
		obj             string
		headers         []string
		cells           []interface{}
	}{
		{
			name: "service ClusterIP", ver: "v1", res: "services",
			obj:     `{"metadata":{"name":"web","namespace":"default","creationTimestamp":"` + t0 + `"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"app":"web"},"ports":[{"port":80,"protocol":"TCP","targetPort":8080},{"port":443,"protocol":"TCP"}]}}`,
			headers: []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR*"},
			cells:   []interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,443/TCP", "60m", "app=web"},
		},
		{
			name: "service LoadBalancer pending, NodePort", ver: "v1", res: "services",
			obj:   `{"metadata":{"name":"lb","creationTimestamp":"` + t0 + `"},"spec":{"type":"LoadBalancer","clusterIPs":["10.96.1.1"],"ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}}`,
			cells: []interface{}{"lb", "LoadBalancer", "10.96.1.1", "<pending>", "80:30080/TCP", "60m", "<none>"},
		},
		{
			name: "configmap counts data and binaryData", ver: "v1", res: "configmaps",
			obj:     `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default","creationTimestamp":"` + t0 + `"},"data":{"a":"1","b":"x\"y"},"binaryData":{"c":"AAE="}}`,
			headers: []string{"NAME", "DATA", "AGE"},
			cells:   []interface{}{"cfg", int64(3), "60m"},
		},
		{
			name: "secret", ver: "v1", res: "secrets",
			obj:     `{"metadata":{"name":"tls","creationTimestamp":"` + t0 + `"},"type":"kubernetes.io/tls","data":{"tls.crt":"YQ==","tls.key":"Yg=="}}`,
			headers: []string{"NAME", "TYPE", "DATA", "AGE"},
			cells:   []interface{}{"tls", "kubernetes.io/tls", int64(2), "60m"},
		},
		{
			name: "node", ver: "v1", res: "nodes",
			obj: `{"metadata":{"name":"edge-1","creationTimestamp":"2025-11-20T12:00:00Z","labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/edge":"","kubernetes.io/role":"agent"}},
				"spec":{"unschedulable":true},"status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
				"addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"edge-1"}],
				"nodeInfo":{"kubeletVersion":"v1.37.2","osImage":"Ubuntu 24.04 LTS","kernelVersion":"6.8.0","containerRuntimeVersion":"containerd://2.0.0"}}}`,
			headers: []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP*", "EXTERNAL-IP*", "OS-IMAGE*", "KERNEL-VERSION*", "CONTAINER-RUNTIME*"},
			cells:   []interface{}{"edge-1", "Ready,SchedulingDisabled", "agent,control-plane,edge", "5d", "v1.37.2", "192.168.1.10", "<none>", "Ubuntu 24.04 LTS", "6.8.0", "containerd://2.0.0"},
		},
		{
			name: "node without conditions", ver: "v1", res: "nodes",
			obj:   `{"metadata":{"name":"n","creationTimestamp":"` + t0 + `"}}`,
			cells: []interface{}{"n", "Unknown", "<none>", "60m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"},
		},
		{
			name: "namespace", ver: "v1", res: "namespaces",
			obj:     `{"metadata":{"name":"kube-system","creationTimestamp":"` + t0 + `"},"status":{"phase":"Active"}}`,
			headers: []string{"NAME", "STATUS", "AGE"},
			cells:   []interface{}{"kube-system", "Active", "60m"},
		},
		{
			name: "endpoints", ver: "v1", res: "endpoints",
			obj:     `{"metadata":{"name":"web","creationTimestamp":"` + t0 + `"},"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}],"ports":[{"port":8080},{"port":9090}]}]}`,
			headers: []string{"NAME", "ENDPOINTS", "AGE"},
			cells:   []interface{}{"web", "10.0.0.1:8080,10.0.0.2:8080,10.0.0.1:9090 + 1 more...", "60m"},
		},
		{
			name: "endpoints empty", ver: "v1", res: "endpoints",
			obj:   `{"metadata":{"name":"none","creationTimestamp":"` + t0 + `"}}`,
			cells: []interface{}{"none", "<none>", "60m"},
		},
		{
			name: "event", ver: "v1", res: "events",
			obj: `{"metadata":{"name":"web.1787","namespace":"default","creationTimestamp":"` + t0 + `"},"involvedObject":{"kind":"Pod","name":"web-0","fieldPath":"spec.containers{web}"},
				"reason":"BackOff","message":"Back-off restarting failed container\n","type":"Warning","count":7,
				"firstTimestamp":"2025-11-25T10:00:00Z","lastTimestamp":"2025-11-25T11:55:00Z","source":{"component":"kubelet","host":"edge-1"}}`,
			headers: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT*", "SOURCE*", "MESSAGE", "FIRST SEEN*", "COUNT*", "NAME*"},
			cells:   []interface{}{"5m", "Warning", "BackOff", "pod/web-0", "spec.containers{web}", "kubelet, edge-1", "Back-off restarting failed container", "120m", int64(7), "web.1787"},
		},
		{
			name: "events.k8s.io event", group: "events.k8s.io", ver: "v1", res: "events",
			obj:   `{"metadata":{"name":"e2","creationTimestamp":"` + t0 + `"},"eventTime":"2025-11-25T11:59:00.000000Z","regarding":{"kind":"Node","name":"edge-1"},"reason":"Starting","note":"kubelet started","type":"Normal","reportingController":"kubelet","reportingInstance":"edge-1"}`,
			cells: []interface{}{"60s", "Normal", "Starting", "node/edge-1", "", "kubelet, edge-1", "kubelet started", "60s", int64(1), "e2"},
		},
		{
			name: "deployment", group: "apps", ver: "v1", res: "deployments",
			obj: `{"metadata":{"name":"web","creationTimestamp":"` + t0 + `"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
				"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"},{"name":"proxy","image":"envoy:1.30"}]}}},"status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}}`,
			headers: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
			cells:   []interface{}{"web", "2/3", int64(3), int64(2), "60m", "web,proxy", "nginx:1.27,envoy:1.30", "app=web"},
		},
		{
			name: "daemonset", group: "apps", ver: "v1", res: "daemonsets",
			obj: `{"metadata":{"name":"agent","creationTimestamp":"` + t0 + `"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"a","image":"agent:1"}]}}},
				"status":{"desiredNumberScheduled":4,"currentNumberScheduled":4,"numberReady":3,"updatedNumberScheduled":4,"numberAvailable":3}}`,
			headers: []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
			cells:   []interface{}{"agent", int64(4), int64(4), int64(3), int64(4), int64(3), "kubernetes.io/os=linux", "60m", "a", "agent:1", "app=agent"},
		},
		{
			name: "replicaset defaults replicas to 1", group: "apps", ver: "v1", res: "replicasets",
			obj:     `{"metadata":{"name":"web-7d9c","creationTimestamp":"` + t0 + `"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}},"status":{"replicas":1,"readyReplicas":1}}`,
			headers: []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
			cells:   []interface{}{"web-7d9c", int64(1), int64(1), int64(1), "60m", "web", "nginx", "app=web"},
		},
		{
			name: "statefulset", group: "apps", ver: "v1", res: "statefulsets",
			obj:     `{"metadata":{"name":"db","creationTimestamp":"` + t0 + `"},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"pg","image":"postgres:17"}]}}},"status":{"readyReplicas":3}}`,
			headers: []string{"NAME", "READY", "AGE", "CONTAINERS*", "IMAGES*"},
			cells:   []interface{}{"db", "3/3", "60m", "pg", "postgres:17"},
		},
		{
			name: "job running", group: "batch", ver: "v1", res: "jobs",
			obj: `{"metadata":{"name":"migrate","creationTimestamp":"` + t0 + `"},"spec":{"completions":1,"selector":{"matchLabels":{"job":"m"}},"template":{"spec":{"containers":[{"name":"m","image":"migrate:1"}]}}},
				"status":{"startTime":"2025-11-25T11:30:00Z","active":1}}`,
			headers: []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
			cells:   []interface{}{"migrate", "Running", "0/1", "30m", "60m", "m", "migrate:1", "job=m"},
		},
		{
			name: "job complete", group: "batch", ver: "v1", res: "jobs",
			obj: `{"metadata":{"name":"done","creationTimestamp":"` + t0 + `"},"spec":{"parallelism":3,"template":{"spec":{"containers":[]}}},
				"status":{"startTime":"2025-11-25T11:00:00Z","completionTime":"2025-11-25T11:02:05Z","succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}}`,
			cells: []interface{}{"done", "Complete", "1/1 of 3", "2m5s", "60m", "", "", "<none>"},
		},
		{
			name: "cronjob", group: "batch", ver: "v1", res: "cronjobs",
			obj: `{"metadata":{"name":"backup","creationTimestamp":"` + t0 + `"},"spec":{"schedule":"0 * * * *","suspend":false,"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"backup:2"}]}}}}},
				"status":{"active":[{"name":"backup-1"}],"lastScheduleTime":"2025-11-25T11:00:00Z"}}`,
			headers: []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"},
			cells:   []interface{}{"backup", "0 * * * *", "<none>", "False", int64(1), "60m", "60m", "b", "backup:2", "<none>"},
		},
		{
			name: "serviceaccount", ver: "v1", res: "serviceaccounts",
			obj:     `{"metadata":{"name":"default","creationTimestamp":"` + t0 + `"},"secrets":[{"name":"x"}]}`,
			headers: []string{"NAME", "AGE"},
			cells:   []interface{}{"default", "60m"},
		},
		{
			name: "pvc bound", ver: "v1", res: "persistentvolumeclaims",
			obj: `{"metadata":{"name":"data","creationTimestamp":"` + t0 + `"},"spec":{"volumeName":"pv-1","storageClassName":"local-path","volumeMode":"Filesystem","resources":{"requests":{"storage":"1Gi"}}},
				"status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"10Gi"}}}`,
			headers: []string{"NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE*"},
			cells:   []interface{}{"data", "Bound", "pv-1", "10Gi", "RWO", "local-path", "<unset>", "60m", "Filesystem"},
		},
		{
			name: "pv terminating", ver: "v1", res: "persistentvolumes",
			obj: `{"metadata":{"name":"pv-1","creationTimestamp":"` + t0 + `","deletionTimestamp":"2025-11-25T11:59:00Z"},"spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce","ReadOnlyMany"],
				"persistentVolumeReclaimPolicy":"Retain","claimRef":{"namespace":"default","name":"data"},"storageClassName":"local-path"},"status":{"phase":"Bound"}}`,
			headers: []string{"NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "VOLUMEMODE*"},
			cells:   []interface{}{"pv-1", "10Gi", "RWO,ROX", "Retain", "Terminating", "default/data", "local-path", "<unset>", "", "60m", "<unset>"},
		},
		{
			name: "lease", group: "coordination.k8s.io", ver: "v1", res: "leases",
			obj:     `{"metadata":{"name":"edge-1","namespace":"kube-node-lease","creationTimestamp":"` + t0 + `"},"spec":{"holderIdentity":"edge-1","leaseDurationSeconds":40}}`,
			headers: []string{"NAME", "HOLDER", "AGE"},
			cells:   []interface{}{"edge-1", "edge-1", "60m"},
		},
		{
			name: "ingress", group: "networking.k8s.io", ver: "v1", res: "ingresses",
			obj: `{"metadata":{"name":"web","creationTimestamp":"` + t0 + `"},"spec":{"ingressClassName":"nginx","rules":[{"host":"a.example.com"},{"host":"b.example.com"}],"tls":[{"hosts":["a.example.com"]}]},
				"status":{"loadBalancer":{"ingress":[{"ip":"192.168.1.50"},{"hostname":"lb.example.com"}]}}}`,
			headers: []string{"NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"},
			cells:   []interface{}{"web", "nginx", "a.example.com,b.example.com", "192.168.1.50,lb.example.com", "80, 443", "60m"},
		},
		{
			name: "customresourcedefinitions use the default convertor", group: "apiextensions.k8s.io", ver: "v1", res: "customresourcedefinitions",
			obj:     `{"metadata":{"name":"widgets.example.com","creationTimestamp":"` + t0 + `"},"spec":{"group":"example.com"}}`,
			headers: []string{"NAME", "CREATED AT"},
			cells:   []interface{}{"widgets.example.com", "2025-11-25T11:00:00Z"},
		},
		{
			name: "roles have no printer either", group: "rbac.authorization.k8s.io", ver: "v1", res: "roles",
			obj:     `{"metadata":{"name":"reader","creationTimestamp":"` + t0 + `"}}`,
			headers: []string{"NAME", "CREATED AT"},
			cells:   []interface{}{"reader", "2025-11-25T11:00:00Z"},
		},
		{
			name: "rolebinding", group: "rbac.authorization.k8s.io", ver: "v1", res: "rolebindings",
			obj:     `{"metadata":{"name":"rb","creationTimestamp":"` + t0 + `"},"roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"User","name":"alice"},{"kind":"ServiceAccount","namespace":"default","name":"bot"},{"kind":"Group","name":"devs"}]}`,
			headers: []string{"NAME", "ROLE", "AGE", "USERS*", "GROUPS*", "SERVICEACCOUNTS*"},
			cells:   []interface{}{"rb", "Role/reader", "60m", "alice", "devs", "default/bot"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tbl := table(t, resourceOf(t, tc.group, tc.ver, tc.res), "None", tc.obj)
			if tc.headers != nil && !reflect.DeepEqual(headers(tbl), tc.headers) {
				t.Errorf("headers\n got %q\nwant %q", headers(tbl), tc.headers)
			}
			if len(tbl.Rows) != 1 {
				t.Fatalf("rows: %d", len(tbl.Rows))
			}
			if got := tbl.Rows[0].Cells; !reflect.DeepEqual(got, tc.cells) {
				t.Errorf("cells\n got %#v\nwant %#v", got, tc.cells)
			}
			if len(tbl.ColumnDefinitions) != len(tbl.Rows[0].Cells) {
				t.Errorf("%d columns but %d cells", len(tbl.ColumnDefinitions), len(tbl.Rows[0].Cells))
			}
			if tbl.ColumnDefinitions[0].Format != "name" && tc.res != "events" {
				t.Errorf("first column format %q", tbl.ColumnDefinitions[0].Format)
			}
		})
	}
}

func TestColumnTypes(t *testing.T) {
	tbl := table(t, resourceOf(t, "", "v1", "pods"), "None")
	want := map[string]string{"Name": "string", "Ready": "string", "Status": "string", "Restarts": "string", "Age": "string"}
	for _, c := range tbl.ColumnDefinitions {
		if w, ok := want[c.Name]; ok && c.Type != w {
			t.Errorf("%s: type %q, want %q", c.Name, c.Type, w)
		}
		if c.Description == "" {
			t.Errorf("%s: no description", c.Name)
		}
	}
	if got := headers(tbl); !reflect.DeepEqual(got, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP*", "NODE*", "NOMINATED NODE*", "READINESS GATES*"}) {
		t.Errorf("pod headers %q", got)
	}
	if tbl.ColumnDefinitions[0].Format != "name" {
		t.Error("NAME column must have format name")
	}
	if len(tbl.Rows) != 0 {
		t.Error("rows for no items")
	}
}
