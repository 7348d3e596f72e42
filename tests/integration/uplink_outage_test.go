package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// edgeMetric reads one sample of lwserver's /metrics ("" when absent).
func edgeMetric(t *testing.T, e *Edgecore, name string) string {
	t.Helper()
	hc, err := rest.HTTPClientFor(restConfig(e))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(restConfig(e).Host + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

// cmEvents records an edge informer's ConfigMap events and counts its
// lists, plain or WatchList (a relist would show as a second one).
type cmEvents struct {
	mu     sync.Mutex
	events []string
	lists  atomic.Int32
}

func (l *cmEvents) add(s string) {
	l.mu.Lock()
	l.events = append(l.events, s)
	l.mu.Unlock()
}

func (l *cmEvents) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]string(nil), l.events...)
	l.events = nil
	sort.Strings(out)
	return out
}

// cmInformer starts an informer on the edge's ConfigMaps of ns.
func cmInformer(t *testing.T, edge kubernetes.Interface, ns string, stop <-chan struct{}) *cmEvents {
	t.Helper()
	l := &cmEvents{}
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			l.lists.Add(1)
			return edge.CoreV1().ConfigMaps(ns).List(context.Background(), o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			if o.SendInitialEvents != nil && *o.SendInitialEvents {
				l.lists.Add(1) // a WatchList: the streaming form of a list
			}
			return edge.CoreV1().ConfigMaps(ns).Watch(context.Background(), o)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &corev1.ConfigMap{}, 0, cache.Indexers{})
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { l.add("add " + o.(*corev1.ConfigMap).Name) },
		UpdateFunc: func(_, o any) { l.add("update " + o.(*corev1.ConfigMap).Name) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			l.add("delete " + o.(*corev1.ConfigMap).Name)
		},
	})
	go inf.Run(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("edge informer did not sync")
	}
	l.take()
	return l
}

// podUsing is a pod on node mounting the given ConfigMaps.
func podUsing(ns, name, node string, cms ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	for _, cm := range cms {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: cm, VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}},
		}})
	}
	return p
}

func (c *cloud) mustCreateCM(t *testing.T, ns, name, value string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": value}}
	if _, err := c.admin.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (c *cloud) mustSetCM(t *testing.T, ns, name, value string) {
	t.Helper()
	ctx := context.Background()
	cm, err := c.admin.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = value
	if _, err := c.admin.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// edgeCMValues is "name=value,…" of the edge's ConfigMaps in ns.
func edgeCMValues(edge kubernetes.Interface, ns string) string {
	l, err := edge.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	return names(l.Items, func(o *corev1.ConfigMap) string { return o.Name + "=" + o.Data["k"] })
}

// TestUplinkOutage cuts the link (a TCP proxy between edge and cloud):
// reads and open watches keep working, writes get 503 with Retry-After, the
// checker goes offline within 15 s; changes, creations and deletions made
// meanwhile reach the edge informer exactly once each after the link is
// back, without a relist.
func TestUplinkOutage(t *testing.T) {
	c := sharedCloud(t)
	ctx := context.Background()
	ns := c.namespace(t, "uplink-outage")
	node := "outage-a"
	for _, n := range []string{"cm-1", "cm-2", "cm-3", "cm-new"} {
		c.mustCreateCM(t, ns, n, "v1")
	}
	if _, err := c.admin.CoreV1().Pods(ns).Create(ctx, podUsing(ns, "p1", node, "cm-1", "cm-2", "cm-3"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cloudURL, _ := url.Parse(c.URL)
	proxy := newTCPProxy(t, cloudURL.Host)
	e := startAPI(t, Options{Config: uplinkConfig(c.nodeKubeconfig(t, node, proxy.addr), node)})
	edge := kubernetes.NewForConfigOrDie(restConfig(e))
	eventually(t, 30*time.Second, "edge synced", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm-1=v1,cm-2=v1,cm-3=v1", got
	})
	eventually(t, 15*time.Second, "checker online", func() (bool, string) {
		v := edgeMetric(t, e, "edgecore_uplink_online")
		return v == "1", v
	})
	stop := make(chan struct{})
	defer close(stop)
	events := cmInformer(t, edge, ns, stop)

	proxy.Cut()
	cutAt := time.Now()
	eventually(t, 15*time.Second, "checker offline after the cut", func() (bool, string) {
		v := edgeMetric(t, e, "edgecore_uplink_online")
		return v == "0", v
	})
	t.Logf("checker offline %s after the cut", time.Since(cutAt).Round(time.Millisecond))
	// Reads are served, lwserver stays ready, writes get 503 + Retry-After.
	if got := edgeCMValues(edge, ns); got != "cm-1=v1,cm-2=v1,cm-3=v1" {
		t.Fatalf("edge read while offline: %s", got)
	}
	hc, _ := rest.HTTPClientFor(restConfig(e))
	if resp, err := hc.Get(restConfig(e).Host + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("lwserver /readyz while offline: %v %v", resp, err)
	}
	body := strings.NewReader(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":%q}}`, ns))
	resp, err := hc.Post(restConfig(e).Host+"/api/v1/namespaces/"+ns+"/configmaps", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("write while offline: %d Retry-After=%q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// Meanwhile in the cloud: a change, a deletion, a new pod with a new
	// ConfigMap.
	c.mustSetCM(t, ns, "cm-1", "v2")
	if err := c.admin.CoreV1().ConfigMaps(ns).Delete(ctx, "cm-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.CoreV1().Pods(ns).Create(ctx, podUsing(ns, "p2", node, "cm-new"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := events.take(); len(ev) != 0 {
		t.Fatalf("edge informer saw %v while the link was cut", ev)
	}

	proxy.Restore(t)
	eventually(t, 30*time.Second, "edge catches up after restore", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm-1=v2,cm-3=v1,cm-new=v1", got
	})
	// The informer got each change exactly once, and never relisted.
	eventually(t, 5*time.Second, "informer events", func() (bool, string) {
		events.mu.Lock()
		n := len(events.events)
		events.mu.Unlock()
		return n >= 3, fmt.Sprint(n)
	})
	got := events.take()
	if want := "add cm-new,delete cm-2,update cm-1"; strings.Join(got, ",") != want {
		t.Fatalf("edge informer events after restore: %v, want %s", got, want)
	}
	if n := events.lists.Load(); n != 1 {
		t.Fatalf("edge informer listed %d times, want 1 (no relist)", n)
	}
	eventually(t, 15*time.Second, "checker online after restore", func() (bool, string) {
		v := edgeMetric(t, e, "edgecore_uplink_online")
		return v == "1", v
	})
}

// TestUplinkRestarts: the kube-apiserver restarts (the edge goes offline
// and catches up), and edgecore restarts while the link is cut (it serves
// what it has, then catches up).
func TestUplinkRestarts(t *testing.T) {
	c := sharedCloud(t)
	ctx := context.Background()
	ns := c.namespace(t, "uplink-restarts")
	node := "restart-a"
	c.mustCreateCM(t, ns, "cm", "v1")
	if _, err := c.admin.CoreV1().Pods(ns).Create(ctx, podUsing(ns, "p", node, "cm"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cloudURL, _ := url.Parse(c.URL)
	proxy := newTCPProxy(t, cloudURL.Host)
	e := startAPI(t, Options{Config: uplinkConfig(c.nodeKubeconfig(t, node, proxy.addr), node)})
	edge := kubernetes.NewForConfigOrDie(restConfig(e))
	eventually(t, 30*time.Second, "edge synced", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm=v1", got
	})

	// kube-apiserver stops and starts again (etcd keeps the data).
	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() { // the other tests share it
		if !restarted {
			if err := c.StartAPIServer(ctx); err != nil {
				t.Errorf("restart kube-apiserver: %v", err)
			}
		}
	}()
	eventually(t, 15*time.Second, "checker offline while kube-apiserver is down", func() (bool, string) {
		v := edgeMetric(t, e, "edgecore_uplink_online")
		return v == "0", v
	})
	restarted = true
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	c.mustSetCM(t, ns, "cm", "v2")
	eventually(t, 30*time.Second, "edge sees a change after kube-apiserver's restart", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm=v2", got
	})

	// edgecore restarts while the link is cut: it serves, then catches up.
	proxy.Cut()
	e.Restart()
	eventually(t, 20*time.Second, "edge serves after restarting offline", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm=v2", got
	})
	if v := edgeMetric(t, e, "edgecore_uplink_online"); v != "0" {
		t.Fatalf("edgecore_uplink_online = %q after restarting offline, want 0", v)
	}
	c.mustSetCM(t, ns, "cm", "v3")
	proxy.Restore(t)
	eventually(t, 30*time.Second, "edge catches up after restarting offline", func() (bool, string) {
		got := edgeCMValues(edge, ns)
		return got == "cm=v3", got
	})
}
