package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/edgecore/edgecore/hack/kubeapiserver"
)

// cloud is the real kube-apiserver + etcd the uplink tests share (started
// once per test binary: ~10-30 s on a loaded 2-core machine). Tests keep to
// their own namespaces and node names; a test that restarts kube-apiserver
// leaves it running.
type cloud struct {
	*kubeapiserver.Server
	admin kubernetes.Interface
}

var (
	cloudOnce sync.Once
	cloudInst *cloud
	cloudErr  error
)

// sharedCloud starts the control plane on first use; it dies with the test
// binary (the processes have Pdeathsig set).
func sharedCloud(t *testing.T) *cloud {
	t.Helper()
	cloudOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		s, err := kubeapiserver.Start(ctx, kubeapiserver.Config{})
		if err != nil {
			cloudErr = err
			return
		}
		cloudInst = &cloud{Server: s, admin: kubernetes.NewForConfigOrDie(s.Admin)}
		cloudErr = cloudInst.grantUplinkRole(ctx)
	})
	if cloudErr != nil {
		t.Fatalf("kube-apiserver for the uplink tests: %v", cloudErr)
	}
	return cloudInst
}

// grantUplinkRole lets nodes (group system:nodes) read what the uplink
// syncs, fetch the issuer's keys, and write (forwarded writes of local x509
// admins run as the node).
func (c *cloud) grantUplinkRole(ctx context.Context) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "edgecore:uplink"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		},
	}
	if _, err := c.admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "edgecore:uplink"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edgecore:uplink"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:nodes"}},
	}
	if _, err := c.admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// nodeKubeconfig writes a kubeconfig for node's identity (a client
// certificate for system:node:<node> in system:nodes), reaching the cloud at
// host:port when given (a proxy), else directly.
func (c *cloud) nodeKubeconfig(t *testing.T, node, via string) string {
	t.Helper()
	rc, err := c.ClientConfig("system:node:"+node, "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	if via != "" {
		rc.Host = "https://" + via
	}
	path, err := c.WriteKubeconfig(fmt.Sprintf("node-%s-%d", node, time.Now().UnixNano()), rc)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// namespace creates a fresh namespace (and its default ServiceAccount).
func (c *cloud) namespace(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.EnsureNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// uplinkConfig is an edgecore config with the uplink on.
func uplinkConfig(kubeconfig, node string) string {
	return fmt.Sprintf("modules:\n  edgeHub:\n    uplink:\n      kubeconfig: %s\n      nodeName: %s\n", kubeconfig, node)
}

// tcpProxy forwards a local port to the cloud; Cut closes every connection
// and refuses new ones (the port stays reserved), Restore accepts again.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

// Cut drops every connection and stops listening: new connections are
// refused, as when the link is down.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore listens on the same port again.
func (p *tcpProxy) Restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
