package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// podOn is a pod on node that mounts ConfigMap cm and reads Secret secret
// into its environment.
func podOn(ns, name, node, cm, secret string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name: "c", Image: "busybox",
				Env: []corev1.EnvVar{{Name: "S", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: "k"},
				}}},
			}},
			Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}},
			}}},
		},
	}
}

func names[T any](items []T, name func(*T) string) string {
	var out []string
	for i := range items {
		out = append(out, name(&items[i]))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestUplinkSyncScope: with pods on two nodes in the cloud, the edge of
// node-a stores its node, its pods and exactly the ConfigMaps and Secrets
// they reference, nothing of node-b's; an edge informer sees a cloud change
// within 1 s; a pod's deletion drops what only it referenced.
func TestUplinkSyncScope(t *testing.T) {
	c := sharedCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := c.namespace(t, "uplink-scope")
	nodeA, nodeB := "scope-a", "scope-b"
	for _, n := range []string{nodeA, nodeB} {
		if _, err := c.admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"cm-a", "cm-b", "cm-unused"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}, Data: map[string]string{"k": n}}
		if _, err := c.admin.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"sec-a", "sec-b"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}, StringData: map[string]string{"k": n}}
		if _, err := c.admin.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*corev1.Pod{podOn(ns, "pod-a", nodeA, "cm-a", "sec-a"), podOn(ns, "pod-b", nodeB, "cm-b", "sec-b")} {
		if _, err := c.admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	e := startAPI(t, Options{Config: uplinkConfig(c.nodeKubeconfig(t, nodeA, ""), nodeA)})
	edge := kubernetes.NewForConfigOrDie(restConfig(e))
	want := map[string]string{"pods": "pod-a", "configmaps": "cm-a", "secrets": "sec-a", "nodes": nodeA}
	state := func() map[string]string {
		got := map[string]string{}
		if l, err := edge.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
			got["pods"] = names(l.Items, func(o *corev1.Pod) string { return o.Name })
		}
		if l, err := edge.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); err == nil {
			got["configmaps"] = names(l.Items, func(o *corev1.ConfigMap) string { return o.Name })
		}
		if l, err := edge.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); err == nil {
			got["secrets"] = names(l.Items, func(o *corev1.Secret) string { return o.Name })
		}
		if l, err := edge.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
			got["nodes"] = names(l.Items, func(o *corev1.Node) string { return o.Name })
		}
		return got
	}
	eventually(t, 30*time.Second, "edge holds node-a's scope", func() (bool, string) {
		got := state()
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("got %v, want %v", got, want)
	})
	// The namespace and the default ServiceAccount the pod runs as are
	// synced too.
	if _, err := edge.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Errorf("namespace on the edge: %v", err)
	}
	if _, err := edge.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("pod's serviceaccount on the edge: %v", err)
	}

	// An informer on the edge sees a cloud change within 1 s.
	factory := informers.NewSharedInformerFactoryWithOptions(edge, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().ConfigMaps().Informer()
	seen := make(chan string, 16)
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		seen <- obj.(*corev1.ConfigMap).Data["k"]
	}})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("edge informer did not sync")
	}
	cm, err := c.admin.CoreV1().ConfigMaps(ns).Get(ctx, "cm-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "changed"
	start := time.Now()
	if _, err := c.admin.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-seen:
		if v != "changed" {
			t.Fatalf("edge informer saw %q", v)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("edge informer saw the cloud change after %s, want within 1 s", d)
		}
	case <-time.After(time.Second):
		t.Fatal("edge informer did not see the cloud change within 1 s")
	}
	// A change in what the edge does not hold is not delivered.
	cmB, err := c.admin.CoreV1().ConfigMaps(ns).Get(ctx, "cm-b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmB.Data["k"] = "changed-b"
	if _, err := c.admin.CoreV1().ConfigMaps(ns).Update(ctx, cmB, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Deleting pod-a drops cm-a and sec-a (no pod references them).
	zero := int64(0)
	if err := c.admin.CoreV1().Pods(ns).Delete(ctx, "pod-a", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"pods": "", "configmaps": "", "secrets": "", "nodes": nodeA}
	eventually(t, 15*time.Second, "edge drops what no pod references", func() (bool, string) {
		got := state()
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("got %v, want %v", got, want)
	})
	select {
	case v := <-seen:
		t.Fatalf("edge informer saw an update %q of an object outside the node's scope", v)
	default:
	}
}
