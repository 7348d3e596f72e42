package kubeapiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Start generates the PKI, starts etcd and kube-apiserver on free loopback
// ports and returns once /readyz answers 200 (RBAC's bootstrap roles exist
// then). On error nothing is left running.
func Start(ctx context.Context, cfg Config) (s *Server, err error) {
	if cfg.APIServerBin, err = findBinary(cfg.APIServerBin, EnvAPIServerBin, "kube-apiserver"); err != nil {
		return nil, err
	}
	if cfg.EtcdBin, err = findBinary(cfg.EtcdBin, EnvEtcdBin, "etcd"); err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 90 * time.Second
	}
	s = &Server{cfg: cfg, Dir: cfg.Dir}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "kubeapiserver-"); err != nil {
			return nil, err
		}
		s.ownsDir = true
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if s.pki, s.ServiceAccountPublicKey, err = newPKI(s.Dir); err != nil {
		return nil, fmt.Errorf("generate certificates: %w", err)
	}
	s.ServingCA = s.pki.servingCA.certPEM
	if err = s.startEtcd(ctx); err != nil {
		return nil, err
	}
	if s.apiPort, err = freePort(); err != nil {
		return nil, err
	}
	s.URL = "https://127.0.0.1:" + strconv.Itoa(s.apiPort)
	if s.Admin, err = s.ClientConfig("admin", "system:masters"); err != nil {
		return nil, err
	}
	if s.Kubeconfig, err = s.WriteKubeconfig("admin", s.Admin); err != nil {
		return nil, err
	}
	if err = s.StartAPIServer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Stop ends kube-apiserver and etcd and removes the directory Start created.
func (s *Server) Stop() error {
	errAPI := s.StopAPIServer()
	errEtcd := s.etcd.stop(10 * time.Second)
	if s.ownsDir {
		_ = os.RemoveAll(s.Dir)
	}
	if errAPI != nil {
		return errAPI
	}
	return errEtcd
}

// StopAPIServer ends kube-apiserver only (etcd keeps the data), as a
// control-plane restart or an outage of the cloud does: SIGTERM, and
// SIGKILL when it has not exited 5 s later (with watches open it may drain
// them longer; either way it is gone and its port free when this returns).
func (s *Server) StopAPIServer() error {
	if s.api == nil {
		return nil
	}
	if err := s.api.stop(5 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "kubeapiserver: %v\n", err)
	}
	s.api = nil
	return nil
}

// StartAPIServer starts kube-apiserver (again) on the same port and waits for
// /readyz.
func (s *Server) StartAPIServer(ctx context.Context) error {
	if s.api != nil {
		return fmt.Errorf("kube-apiserver is running")
	}
	args := []string{
		"--etcd-servers=" + s.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(s.apiPort),
		"--cert-dir=" + filepath.Join(s.Dir, "apiserver-certs"),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=" + Issuer,
		"--api-audiences=" + Audience,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
	}
	for flag, path := range s.pki.files {
		args = append(args, "--"+flag+"="+path)
	}
	args = append(args, s.cfg.ExtraArgs...)
	var err error
	s.api, err = startProcess("kube-apiserver", s.cfg.APIServerBin, args, filepath.Join(s.Dir, "kube-apiserver.log"), s.cfg.Log)
	if err != nil {
		return err
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.StopAPIServer()
		return err
	}
	return nil
}

func (s *Server) startEtcd(ctx context.Context) error {
	clientPort, err := freePort()
	if err != nil {
		return err
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	s.etcdURL = "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	args := []string{
		"--name=default", "--data-dir=" + filepath.Join(s.Dir, "etcd-data"),
		"--listen-client-urls=" + s.etcdURL, "--advertise-client-urls=" + s.etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		// A test cluster: durability across power loss is not needed, and
		// fsync on a shared 2-core machine costs seconds per test.
		"--unsafe-no-fsync", "--log-level=warn",
	}
	if s.etcd, err = startProcess("etcd", s.cfg.EtcdBin, args, filepath.Join(s.Dir, "etcd.log"), s.cfg.Log); err != nil {
		return err
	}
	return poll(ctx, s.cfg.ReadyTimeout, s.etcd, func() bool {
		resp, err := http.Get(s.etcdURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitReady polls kube-apiserver's /readyz as admin until it answers 200.
func (s *Server) waitReady(ctx context.Context) error {
	rt, err := rest.TransportFor(s.Admin)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	return poll(ctx, s.cfg.ReadyTimeout, s.api, func() bool {
		resp, err := client.Get(s.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// poll calls ready every 100 ms until it is true, p exits, ctx ends or
// timeout passes.
func poll(ctx context.Context, timeout time.Duration, p *process, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		if err := p.running(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s; log tail:\n%s", p.name, timeout, p.logTail(15))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// ClientConfig is a rest.Config authenticating as user in groups with a
// client certificate from the cluster's client CA (e.g. a node:
// "system:node:edge-1", "system:nodes").
func (s *Server) ClientConfig(user string, groups ...string) (*rest.Config, error) {
	certPEM, keyPEM, err := s.pki.clientCA.issue(user, groups, nil)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host: s.URL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: s.ServingCA, CertData: certPEM, KeyData: keyPEM,
		},
	}, nil
}

// WriteKubeconfig writes cfg as a kubeconfig file <Dir>/<name>.kubeconfig
// (mode 0600) and returns its path.
func (s *Server) WriteKubeconfig(name string, cfg *rest.Config) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: name}
	kc.CurrentContext = name
	path := filepath.Join(s.Dir, name+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", err
	}
	return path, nil
}

// findBinary resolves a binary: explicit path, else $env, else bin/<name> in
// the nearest parent of the working directory holding go.mod and that file.
func findBinary(path, env, name string) (string, error) {
	if path == "" {
		path = os.Getenv(env)
	}
	if path == "" {
		dir, err := os.Getwd()
		for err == nil {
			candidate := filepath.Join(dir, "bin", name)
			if _, e := os.Stat(filepath.Join(dir, "go.mod")); e == nil {
				if _, e := os.Stat(candidate); e == nil {
					path = candidate
					break
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if path == "" {
		return "", fmt.Errorf("%s binary not found: set %s (make test sets it to bin/%s; build it with make kube-tools)", name, env, name)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s binary %s (from %s or bin/): %w; build it with make kube-tools", name, path, env, err)
	}
	return path, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PIDs returns the process ids of kube-apiserver and etcd (0 for one that is
// not running), for callers that report their memory (make bench).
func (s *Server) PIDs() (apiserver, etcd int) {
	if s.api != nil {
		apiserver = s.api.cmd.Process.Pid
	}
	if s.etcd != nil {
		etcd = s.etcd.cmd.Process.Pid
	}
	return apiserver, etcd
}
