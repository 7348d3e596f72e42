package integration

import (
	"context"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/pager"
)

// TestReadClientGo drives get and list through client-go's typed clientset,
// over JSON and over protobuf, against the demo data.
func TestReadClientGo(t *testing.T) {
	e := startDemo(t, "")
	ctx := context.Background()
	for _, ct := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
		t.Run(ct, func(t *testing.T) {
			cfg := restConfig(e)
			cfg.ContentType = ct
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			pods := cs.CoreV1().Pods("")
			all, err := pods.List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Items) != 10 || all.ResourceVersion == "" {
				t.Fatalf("%d pods at rv %q", len(all.Items), all.ResourceVersion)
			}
			p, err := cs.CoreV1().Pods("default").Get(ctx, "redis-0", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Spec.NodeName != "edge-1" || p.Status.PodIP != "10.244.1.12" || p.Labels["app"] != "redis" || p.ResourceVersion == "" {
				t.Fatalf("redis-0: %+v", p)
			}
			// a pod sent without TypeMeta is served like any other
			if _, err := cs.CoreV1().Pods("kube-system").Get(ctx, "kube-proxy-edge-1", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := cs.CoreV1().Pods("default").Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `pods "nope" not found`) {
				t.Fatalf("missing pod: %v", err)
			}
			names := func(l *corev1.PodList) string {
				var n []string
				for _, p := range l.Items {
					n = append(n, p.Namespace+"/"+p.Name)
				}
				sort.Strings(n)
				return strings.Join(n, ",")
			}
			for _, tc := range []struct {
				ns   string
				opts metav1.ListOptions
				want string
			}{
				{"default", metav1.ListOptions{LabelSelector: "app=nginx"}, "default/nginx-7c5ddbdf54-2xkqm,default/nginx-7c5ddbdf54-9vfzt"},
				{"", metav1.ListOptions{LabelSelector: "app in (redis,coredns)"}, "default/redis-0,kube-system/coredns-76f75df574-h8w4d"},
				{"demo", metav1.ListOptions{LabelSelector: "app notin (sensor-reader),app"}, "demo/data-sync-28871040-wq6nd,demo/mqtt-broker-0"},
				{"", metav1.ListOptions{FieldSelector: "status.phase=Pending"}, "demo/data-sync-28871040-wq6nd"},
				{"", metav1.ListOptions{FieldSelector: "metadata.name=redis-0"}, "default/redis-0"},
				{"kube-system", metav1.ListOptions{FieldSelector: "spec.nodeName=edge-1,metadata.name!=kube-proxy-edge-1", LabelSelector: "app!=coredns"}, "kube-system/edgemesh-agent-6q2zr"},
				{"empty", metav1.ListOptions{}, ""},
			} {
				l, err := cs.CoreV1().Pods(tc.ns).List(ctx, tc.opts)
				if err != nil {
					t.Fatalf("%+v: %v", tc.opts, err)
				}
				if got := names(l); got != tc.want {
					t.Fatalf("%s %+v: got %s, want %s", tc.ns, tc.opts, got, tc.want)
				}
			}
			if _, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.bogus=1"}); !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "field label not supported: spec.bogus") {
				t.Fatalf("bad field: %v", err)
			}

			// Limit / Continue by hand: consistent pages at one revision.
			var paged []string
			opts := metav1.ListOptions{Limit: 3}
			for pages := 0; ; pages++ {
				l, err := pods.List(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				if l.ResourceVersion != all.ResourceVersion {
					t.Fatalf("page at rv %s, list at %s", l.ResourceVersion, all.ResourceVersion)
				}
				if l.Continue != "" && (l.RemainingItemCount == nil || *l.RemainingItemCount != int64(10-len(paged)-len(l.Items))) {
					t.Fatalf("remainingItemCount %v after %d", l.RemainingItemCount, len(paged)+len(l.Items))
				}
				for _, p := range l.Items {
					paged = append(paged, p.Namespace+"/"+p.Name)
				}
				if l.Continue == "" {
					break
				}
				opts.Continue = l.Continue
			}
			if got, want := strings.Join(paged, ","), strings.Join(sortedNames(all), ","); got != want {
				t.Fatalf("paged %s\nall   %s", got, want)
			}

			// client-go's pager
			pg := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return pods.List(ctx, o)
			})
			pg.PageSize = 4
			var n int
			if err := pg.EachListItem(ctx, metav1.ListOptions{}, func(runtime.Object) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 10 {
				t.Fatalf("pager saw %d pods", n)
			}

			// other built-in kinds
			if l, err := cs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{FieldSelector: "type=kubernetes.io/service-account-token"}); err != nil || len(l.Items) != 1 {
				t.Fatalf("secrets by type: %v %v", l, err)
			}
			if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil || len(nodes.Items) != 1 || nodes.Items[0].Name != "edge-1" {
				t.Fatalf("nodes: %v %v", nodes, err)
			}
			if ns, err := cs.CoreV1().Namespaces().Get(ctx, "demo", metav1.GetOptions{}); err != nil || ns.Status.Phase != corev1.NamespaceActive {
				t.Fatalf("namespace: %v %v", ns, err)
			}
			if ep, err := cs.CoreV1().Endpoints("default").Get(ctx, "nginx", metav1.GetOptions{}); err != nil || len(ep.Subsets) == 0 {
				t.Fatalf("endpoints: %v %v", ep, err)
			}
			// discovery
			if v, err := cs.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.37.2-edgecore" {
				t.Fatalf("version %v %v", v, err)
			}
			rl, err := cs.Discovery().ServerResourcesForGroupVersion("devices.kubeedge.io/v1beta1")
			if err != nil || len(rl.APIResources) != 1 || rl.APIResources[0].Name != "devices" {
				t.Fatalf("CRD discovery %v %v", rl, err)
			}
		})
	}
}

func sortedNames(l *corev1.PodList) []string {
	var n []string
	for _, p := range l.Items {
		n = append(n, p.Namespace+"/"+p.Name)
	}
	return n
}

// TestReadDynamicAndMetadata drives the CRD through the dynamic client and
// PartialObjectMetadata through the metadata client.
func TestReadDynamicAndMetadata(t *testing.T) {
	e := startDemo(t, "")
	ctx := context.Background()
	dc, err := dynamic.NewForConfig(restConfig(e))
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "devices.kubeedge.io", Version: "v1beta1", Resource: "devices"}
	l, err := dc.Resource(gvr).Namespace("demo").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 4 || l.GetKind() != "DeviceList" || l.GetAPIVersion() != "devices.kubeedge.io/v1beta1" {
		t.Fatalf("devices: %d %s %s", len(l.Items), l.GetKind(), l.GetAPIVersion())
	}
	d, err := dc.Resource(gvr).Namespace("demo").Get(ctx, "thermometer-01", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := unstructured.NestedString(d.Object, "spec", "protocol", "protocolName"); p != "modbus" || d.GetKind() != "Device" {
		t.Fatalf("device %v", d.Object)
	}
	if _, err := dc.Resource(gvr).Namespace("demo").Get(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) ||
		!strings.Contains(err.Error(), `devices.devices.kubeedge.io "nope" not found`) {
		t.Fatalf("missing device: %v", err)
	}
	// paginated CRD list
	page, err := dc.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 3})
	if err != nil || len(page.Items) != 3 || page.GetContinue() == "" {
		t.Fatalf("page: %v %v", page, err)
	}
	// the CRD itself
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if c, err := dc.Resource(crds).Get(ctx, "devices.devices.kubeedge.io", metav1.GetOptions{}); err != nil || c.GetKind() != "CustomResourceDefinition" {
		t.Fatalf("crd: %v %v", c, err)
	}

	// metadata client (PartialObjectMetadataList over protobuf, as informers use it)
	cfg := restConfig(e)
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ml, err := mc.Resource(gvr).Namespace("demo").List(ctx, metav1.ListOptions{})
	if err != nil || len(ml.Items) != 4 || ml.Items[0].Namespace != "demo" {
		t.Fatalf("metadata list %v %v", ml, err)
	}
	mp, err := mc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace("default").Get(ctx, "redis-0", metav1.GetOptions{})
	if err != nil || mp.Labels["app"] != "redis" {
		t.Fatalf("metadata get %v %v", mp, err)
	}
}
