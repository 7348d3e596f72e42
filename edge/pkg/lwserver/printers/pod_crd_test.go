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

func pod(meta, spec, status string) string {
	if meta == "" {
		meta = `"name":"p","namespace":"default","creationTimestamp":"` + t0 + `"`
	}
	return `{"apiVersion":"v1","kind":"Pod","metadata":{` + meta + `},"spec":` + spec + `,"status":` + status + `}`
}

const twoContainers = `{"nodeName":"edge-1","containers":[{"name":"a","image":"a"},{"name":"b","image":"b"}]}`

func TestPodColumns(t *testing.T) {
	cases := []struct {
		name string
		obj  string
		want []interface{} // NAME READY STATUS RESTARTS AGE IP NODE NOMINATED READINESS-GATES
		cond string        // row condition reason, if any
	}{
		{
			name: "running, one ready of two",
			obj: pod("", twoContainers, `{"phase":"Running","podIP":"10.0.0.5","podIPs":[{"ip":"10.0.0.5"},{"ip":"fd00::5"}],"conditions":[{"type":"Ready","status":"False"}],
				"containerStatuses":[{"name":"a","ready":true,"restartCount":0,"state":{"running":{"startedAt":"`+t0+`"}}},{"name":"b","ready":false,"restartCount":0,"state":{"running":{}}}]}`),
			want: []interface{}{"p", "1/2", "Running", "0", "60m", "10.0.0.5", "edge-1", "<none>", "<none>"},
		},
		{
			name: "CrashLoopBackOff with restarts and last restart time",
			obj: pod("", `{"containers":[{"name":"a"}]}`, `{"phase":"Running","containerStatuses":[{"name":"a","ready":false,"restartCount":3,
				"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},"lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2025-11-25T11:55:00Z"}}}]}`),
			want: []interface{}{"p", "0/1", "CrashLoopBackOff", "3 (5m ago)", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "Init:0/1 while the init container runs",
			obj: pod("", `{"initContainers":[{"name":"init"}],"containers":[{"name":"a"}]}`, `{"phase":"Pending","conditions":[{"type":"Initialized","status":"False"}],
				"initContainerStatuses":[{"name":"init","ready":false,"restartCount":0,"state":{"running":{}}}],
				"containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}`),
			want: []interface{}{"p", "0/1", "Init:0/1", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "Init:CrashLoopBackOff counts init restarts",
			obj: pod("", `{"initContainers":[{"name":"init"}],"containers":[{"name":"a"}]}`, `{"phase":"Pending",
				"initContainerStatuses":[{"name":"init","restartCount":2,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1,"finishedAt":"2025-11-25T11:58:00Z"}}}]}`),
			want: []interface{}{"p", "0/1", "Init:CrashLoopBackOff", "2 (2m ago)", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "Init:Error and Init:ExitCode",
			obj: pod("", `{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]}`, `{"phase":"Pending",
				"initContainerStatuses":[{"name":"i1","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},{"name":"i2","state":{"terminated":{"exitCode":3}}}]}`),
			want: []interface{}{"p", "0/1", "Init:ExitCode:3", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "sidecar (restartable init container) counts toward READY",
			obj: pod("", `{"initContainers":[{"name":"side","restartPolicy":"Always"}],"containers":[{"name":"a"}]}`, `{"phase":"Running","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}],
				"initContainerStatuses":[{"name":"side","ready":true,"started":true,"restartCount":1,"state":{"running":{}}}],
				"containerStatuses":[{"name":"a","ready":true,"restartCount":0,"state":{"running":{}}}]}`),
			want: []interface{}{"p", "2/2", "Running", "1", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "Completed",
			obj: pod("", `{"containers":[{"name":"a"}]}`, `{"phase":"Succeeded","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
				"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}`),
			want: []interface{}{"p", "0/1", "Completed", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
			cond: "Succeeded",
		},
		{
			name: "Completed container beside a running one is NotReady",
			obj:  pod("", twoContainers, `{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}},{"name":"b","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}`),
			want: []interface{}{"p", "1/2", "NotReady", "0", "60m", "<none>", "edge-1", "<none>", "<none>"},
		},
		{
			name: "Terminating",
			obj: pod(`"name":"p","creationTimestamp":"`+t0+`","deletionTimestamp":"2025-11-25T11:59:30Z","deletionGracePeriodSeconds":30`, `{"containers":[{"name":"a"}]}`,
				`{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}}]}`),
			want: []interface{}{"p", "1/1", "Terminating", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "deleted on an unreachable node is Unknown",
			obj: pod(`"name":"p","creationTimestamp":"`+t0+`","deletionTimestamp":"2025-11-25T11:59:30Z"`, `{"containers":[{"name":"a"}]}`,
				`{"phase":"Running","reason":"NodeLost"}`),
			want: []interface{}{"p", "0/1", "Unknown", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "Evicted",
			obj:  pod("", `{"containers":[{"name":"a"}]}`, `{"phase":"Failed","reason":"Evicted","message":"The node was low on resource: memory."}`),
			want: []interface{}{"p", "0/1", "Evicted", "0", "60m", "<none>", "<none>", "<none>", "<none>"},
			cond: "Failed",
		},
		{
			name: "SchedulingGated, nominated node, readiness gates",
			obj: pod("", `{"containers":[{"name":"a"}],"readinessGates":[{"conditionType":"example.com/lb"},{"conditionType":"example.com/dns"}]}`,
				`{"phase":"Pending","nominatedNodeName":"edge-2","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"},{"type":"example.com/lb","status":"True"}]}`),
			want: []interface{}{"p", "0/1", "SchedulingGated", "0", "60m", "<none>", "<none>", "edge-2", "1/2"},
		},
		{
			name: "no creationTimestamp",
			obj:  `{"metadata":{"name":"p"},"spec":{"containers":[]},"status":{}}`,
			want: []interface{}{"p", "0/0", "", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
	}
	res := resourceOf(t, "", "v1", "pods")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tbl := table(t, res, "None", tc.obj)
			row := tbl.Rows[0]
			if !reflect.DeepEqual(row.Cells, tc.want) {
				t.Errorf("cells\n got %#v\nwant %#v", row.Cells, tc.want)
			}
			got := ""
			if len(row.Conditions) > 0 {
				got = row.Conditions[0].Reason
			}
			if got != tc.cond {
				t.Errorf("row condition %q, want %q", got, tc.cond)
			}
		})
	}
}

func crdResource(cols ...kube.PrinterColumn) kube.Resource {
	return kube.Resource{
		GVR:  schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"},
		Kind: "Widget", ListKind: "WidgetList", Namespaced: true, PrinterColumns: cols,
	}
}

func TestCustomResourceColumns(t *testing.T) {
	res := crdResource(
		kube.PrinterColumn{Name: "Size", Type: "integer", JSONPath: ".spec.size"},
		kube.PrinterColumn{Name: "Ratio", Type: "number", JSONPath: ".spec.ratio"},
		kube.PrinterColumn{Name: "Enabled", Type: "boolean", JSONPath: ".spec.enabled"},
		kube.PrinterColumn{Name: "Phase", Type: "string", JSONPath: ".status.phase", Description: "The phase."},
		kube.PrinterColumn{Name: "Replicas", Type: "string", JSONPath: ".spec.size"},
		kube.PrinterColumn{Name: "First", Type: "string", JSONPath: ".spec.items[0].name", Priority: 1},
		kube.PrinterColumn{Name: "Started", Type: "date", JSONPath: ".status.startedAt"},
		kube.PrinterColumn{Name: "Bad Date", Type: "date", JSONPath: ".status.bad"},
		kube.PrinterColumn{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp"},
	)
	full := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"default","creationTimestamp":"` + t0 + `"},
		"spec":{"size":3,"ratio":1.5,"enabled":true,"items":[{"name":"first"},{"name":"second"}]},"status":{"phase":"Ready","startedAt":"2025-11-25T11:58:00Z","bad":"yesterday"}}`
	empty := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w2","creationTimestamp":"` + t0 + `"}}`
	tbl := table(t, res, "None", full, empty)

	wantHeaders := []string{"NAME", "SIZE", "RATIO", "ENABLED", "PHASE", "REPLICAS", "FIRST*", "STARTED", "BAD DATE", "AGE"}
	if got := headers(tbl); !reflect.DeepEqual(got, wantHeaders) {
		t.Errorf("headers %q", got)
	}
	cd := tbl.ColumnDefinitions
	if cd[1].Type != "integer" || cd[7].Type != "date" || cd[4].Description != "The phase." ||
		cd[1].Description != "Custom resource definition column (in JSONPath format): .spec.size" {
		t.Errorf("column definitions: %+v", cd)
	}
	want1 := []interface{}{"w1", int64(3), 1.5, true, "Ready", "3", "first", "2m", "<invalid>", "60m"}
	if !reflect.DeepEqual(tbl.Rows[0].Cells, want1) {
		t.Errorf("full row\n got %#v\nwant %#v", tbl.Rows[0].Cells, want1)
	}
	// Missing fields are null cells (kubectl prints <none>).
	want2 := []interface{}{"w2", nil, nil, nil, nil, nil, nil, nil, nil, "60m"}
	if !reflect.DeepEqual(tbl.Rows[1].Cells, want2) {
		t.Errorf("empty row\n got %#v\nwant %#v", tbl.Rows[1].Cells, want2)
	}
}

func TestCustomResourceWithoutColumnsIsNameAge(t *testing.T) {
	tbl := table(t, crdResource(), "None", `{"metadata":{"name":"w","creationTimestamp":"`+t0+`"}}`)
	if got := headers(tbl); !reflect.DeepEqual(got, []string{"NAME", "AGE"}) {
		t.Errorf("headers %q", got)
	}
	if tbl.ColumnDefinitions[1].Type != "date" {
		t.Errorf("AGE type %q (kube's default CRD column is a date)", tbl.ColumnDefinitions[1].Type)
	}
	if !reflect.DeepEqual(tbl.Rows[0].Cells, []interface{}{"w", "60m"}) {
		t.Errorf("cells %#v", tbl.Rows[0].Cells)
	}
}

func TestIncludeObject(t *testing.T) {
	res := resourceOf(t, "", "v1", "configmaps")
	obj := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"default","resourceVersion":"42","labels":{"a":"b"},"creationTimestamp":"` + t0 + `"},"data":{"k":"v"}}`

	for _, include := range []string{"", "Metadata"} {
		tbl := table(t, res, include, obj)
		raw := tbl.Rows[0].Object.Raw
		var pom metav1.PartialObjectMetadata
		if err := json.Unmarshal(raw, &pom); err != nil {
			t.Fatalf("%q: %v: %s", include, err, raw)
		}
		if pom.Kind != "PartialObjectMetadata" || pom.APIVersion != "meta.k8s.io/v1" || pom.Name != "cfg" ||
			pom.Namespace != "default" || pom.ResourceVersion != "42" || pom.Labels["a"] != "b" {
			t.Errorf("%q: partial metadata %s", include, raw)
		}
		if strings.Contains(string(raw), `"data"`) {
			t.Errorf("%q: metadata row carries the object's data: %s", include, raw)
		}
	}
	if raw := table(t, res, "Object", obj).Rows[0].Object.Raw; string(raw) != obj {
		t.Errorf("Object: %s", raw)
	}
	if o := table(t, res, "None", obj).Rows[0].Object; o.Raw != nil || o.Object != nil {
		t.Errorf("None: %+v", o)
	}
	if _, err := New().Table(res, nil, Options{IncludeObject: "All"}); err == nil {
		t.Error("an unknown includeObject must fail")
	}
}

func TestCacheServesChangedObjects(t *testing.T) {
	res := resourceOf(t, "", "v1", "pods")
	p := New()
	clock := now
	opts := Options{IncludeObject: "None", Now: func() time.Time { return clock }}
	v1 := pod("", `{"containers":[{"name":"a"}]}`, `{"phase":"Pending"}`)
	v2 := pod("", `{"containers":[{"name":"a"}]}`, `{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}}]}`)

	status := func(it Item) interface{} {
		tbl, err := p.Table(res, []Item{it}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return tbl.Rows[0].Cells[2]
	}
	if s := status(Item{Data: []byte(v1), Revision: 7}); s != "Pending" {
		t.Fatalf("v1: %v", s)
	}
	if s := status(Item{Data: []byte(v2), Revision: 8}); s != "Running" {
		t.Fatalf("v2: %v", s)
	}
	// Same revision reused for other bytes (a caller bug) is still caught.
	if s := status(Item{Data: []byte(v1), Revision: 8}); s != "Pending" {
		t.Fatalf("revision reuse: %v", s)
	}
	// Cached rows still age.
	clock = now.Add(2 * time.Hour)
	tbl, _ := p.Table(res, []Item{{Data: []byte(v2), Revision: 8}}, opts)
	if age := tbl.Rows[0].Cells[4]; age != "3h" {
		t.Errorf("cached row AGE %v, want 3h", age)
	}
}

func TestBadJSON(t *testing.T) {
	res := resourceOf(t, "", "v1", "pods")
	for _, bad := range []string{``, `[]`, `{"metadata":{"name":"x"`, `{"metadata":{"name":"x"},"spec":{"containers":[{]}}`, `nul`} {
		if _, err := New().Table(res, []Item{{Data: []byte(bad)}}, Options{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestManyItemsKeepOrder(t *testing.T) {
	res := resourceOf(t, "", "v1", "pods")
	items := make([]Item, 1000)
	for i := range items {
		items[i] = Item{Data: benchPod(i), Revision: int64(i + 1)}
	}
	p := New()
	for round := 0; round < 2; round++ {
		tbl, err := p.Table(res, items, Options{Now: func() time.Time { return benchNow }})
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range tbl.Rows {
			var pom metav1.PartialObjectMetadata
			if err := json.Unmarshal(row.Object.Raw, &pom); err != nil {
				t.Fatal(err)
			}
			if row.Cells[0] != pom.Name || !strings.HasPrefix(pom.Name, "web-") || pom.ResourceVersion == "" || len(pom.ManagedFields) != 2 {
				t.Fatalf("round %d row %d: %v vs %s", round, i, row.Cells[0], pom.Name)
			}
			if i%3 != 0 && !strings.HasSuffix(row.Cells[3].(string), " ago)") {
				t.Fatalf("row %d restarts %v", i, row.Cells[3])
			}
		}
	}
}
