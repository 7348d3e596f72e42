package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgecore/edgecore/hack/kubeapiserver"
)

const namespaces = 4

// fleet is the control plane and the edgecores.
type fleet struct {
	cloud       *kubeapiserver.Server
	admin       kubernetes.Interface
	dir         string
	nodes, pods int
	edges       []*edge
}

// edge is one edgecore process.
type edge struct {
	node, dir, addr string
	cmd             *exec.Cmd
	client          *http.Client
	base            string
}

func startFleet(ctx context.Context, nodes, pods int) (*fleet, error) {
	cloud, err := kubeapiserver.Start(ctx, kubeapiserver.Config{})
	if err != nil {
		return nil, err
	}
	f := &fleet{cloud: cloud, admin: kubernetes.NewForConfigOrDie(cloud.Admin), dir: cloud.Dir, nodes: nodes, pods: pods}
	if err := f.populate(ctx); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// populate creates the read role for nodes, namespaces, nodes, and per
// node pods with their ConfigMaps and Secrets.
func (f *fleet) populate(ctx context.Context) error {
	if _, err := f.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "edgecore:uplink"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := f.admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "edgecore:uplink"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edgecore:uplink"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:nodes"}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for i := 0; i < namespaces; i++ {
		ns := fmt.Sprintf("fleet-%d", i)
		if err := f.cloud.EnsureNamespace(ctx, ns); err != nil {
			return err
		}
		if err := f.createCM(ctx, ns, "shared"); err != nil {
			return err
		}
	}
	for n := 0; n < f.nodes; n++ {
		node := fmt.Sprintf("node-%d", n)
		if _, err := f.admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		for p := 0; p < f.pods; p++ {
			if err := f.createPod(ctx, node, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fleet) createCM(ctx context.Context, ns, name string) error {
	_, err := f.admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"v": "0"},
	}, metav1.CreateOptions{})
	return err
}

func (f *fleet) createPod(ctx context.Context, node string, p int) error {
	ns := fmt.Sprintf("fleet-%d", p%namespaces)
	name := fmt.Sprintf("%s-p%d", node, p)
	if err := f.createCM(ctx, ns, name); err != nil {
		return err
	}
	if _, err := f.admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"k": "v"},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	vol := func(n string, src corev1.VolumeSource) corev1.Volume {
		return corev1.Volume{Name: n, VolumeSource: src}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "fleet"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes: []corev1.Volume{
				vol("own", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}),
				vol("shared", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "shared"}}}),
				vol("secret", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}),
			}},
	}
	_, err := f.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	return err
}

// startEdges execs one edgecore per node.
func (f *fleet) startEdges(bin string) error {
	for n := 0; n < f.nodes; n++ {
		node := fmt.Sprintf("node-%d", n)
		dir := filepath.Join(f.dir, "edge-"+node)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		rc, err := f.cloud.ClientConfig("system:node:"+node, "system:nodes")
		if err != nil {
			return err
		}
		kc, err := f.cloud.WriteKubeconfig(node, rc)
		if err != nil {
			return err
		}
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("modules:\n  edgeHub:\n    uplink:\n      kubeconfig: %s\n      nodeName: %s\n", kc, node)), 0o600); err != nil {
			return err
		}
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		logf, err := os.Create(filepath.Join(dir, "edgecore.log"))
		if err != nil {
			return err
		}
		cmd := exec.Command(bin, "--data-dir", dir, "--config", cfg, "--lwserver-address", addr)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return err
		}
		f.edges = append(f.edges, &edge{node: node, dir: dir, addr: addr, cmd: cmd})
	}
	return nil
}

// connect finds how to reach an edge's lwserver: its admin kubeconfig
// when it wrote one (TLS), else plain HTTP on its address.
func (e *edge) connect() {
	if e.client != nil {
		return
	}
	if rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(e.dir, "kubeconfig")); err == nil {
		if hc, err := rest.HTTPClientFor(rc); err == nil {
			e.client, e.base = hc, strings.TrimSuffix(rc.Host, "/")
			return
		}
	}
	e.client, e.base = &http.Client{Timeout: 5 * time.Second}, "http://"+e.addr
}

// metric reads one unlabelled sample of the edge's /metrics (-1: absent).
func (e *edge) metric(name string) float64 {
	e.connect()
	resp, err := e.client.Get(e.base + "/metrics")
	if err != nil {
		e.client = nil
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	// Not (yet) the right endpoint: its kubeconfig may not have existed
	// when we connected; connect again next time.
	e.client = nil
	return -1
}

// waitSynced polls every edge until edgecore_uplink_synced is 1; it
// returns each node's time from start.
func (f *fleet) waitSynced(ctx context.Context, start time.Time, timeout time.Duration) ([]time.Duration, error) {
	out := make([]time.Duration, len(f.edges))
	left := len(f.edges)
	for left > 0 {
		for i, e := range f.edges {
			if out[i] == 0 && e.metric("edgecore_uplink_synced") == 1 {
				out[i] = time.Since(start)
				left--
			}
		}
		if time.Since(start) > timeout {
			return nil, fmt.Errorf("%d edgecores not synced after %s (see %s)", left, timeout, f.dir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return out, nil
}

// cloudWatches sums kube-apiserver's open WATCH requests.
func (f *fleet) cloudWatches(ctx context.Context) (int, error) {
	body, err := f.admin.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	n := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "apiserver_longrunning_requests{") && strings.Contains(line, `verb="WATCH"`) {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			n += v
		}
	}
	return int(n), nil
}

// memory is each edgecore's VmRSS in bytes.
func (f *fleet) memory() []int64 {
	var out []int64
	for _, e := range f.edges {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				out = append(out, kb<<10)
			}
		}
	}
	return out
}

// messages sums edgecore_uplink_messages_total over the fleet.
func (f *fleet) messages() float64 {
	sum := 0.0
	for _, e := range f.edges {
		if v := e.metric("edgecore_uplink_messages_total"); v > 0 {
			sum += v
		}
	}
	return sum
}

// churn updates each node's pod ConfigMaps round-robin, one change every
// 50 ms, for d; it returns how many changes it made.
func (f *fleet) churn(ctx context.Context, d time.Duration) (int, error) {
	end := time.Now().Add(d)
	n := 0
	for time.Now().Before(end) {
		node, p := n%f.nodes, (n/f.nodes)%f.pods
		ns, name := fmt.Sprintf("fleet-%d", p%namespaces), fmt.Sprintf("node-%d-p%d", node, p)
		cm, err := f.admin.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return n, err
		}
		cm.Data["v"] = strconv.Itoa(n)
		if _, err := f.admin.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return n, err
		}
		n++
		time.Sleep(50 * time.Millisecond)
	}
	// Let the last changes arrive before counting.
	time.Sleep(2 * time.Second)
	return n, nil
}

func (f *fleet) stop() {
	for _, e := range f.edges {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, e := range f.edges {
		_, _ = e.cmd.Process.Wait()
	}
	_ = f.cloud.Stop()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
