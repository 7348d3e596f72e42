package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is an edgecore process the bench started.
type server struct {
	bin     string
	dataDir string
	addr    string // the loopback plain-HTTP listener
	tlsAddr string // lwserver's HTTPS address (the admin kubeconfig points at it)
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	// noHTTP: the server did not answer HTTP when it was taken as ready;
	// readyAfter is then when its socket appeared.
	noHTTP     bool
	readyAfter time.Duration
	startedAt  time.Time
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts bin on dataDir and a free port and waits for /readyz.
// It returns how long the process took from exec to ready.
func startServer(bin, dataDir string, readyTimeout time.Duration) (*server, time.Duration, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, 0, fmt.Errorf("edgecore binary: %w (run make build)", err)
	}
	addr, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	s := &server{bin: bin, dataDir: dataDir, addr: addr, logPath: filepath.Join(dataDir, "bench-edgecore.log"), exited: make(chan struct{})}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	// lwserver serves HTTPS (docs/security.md); the bench measures its
	// plain-HTTP loopback listener on addr, whose anonymous requests a
	// ClusterRoleBinding lets read everything (grantAnonymousRead).
	if s.tlsAddr, err = freePort(); err != nil {
		return nil, 0, err
	}
	cfgFile := filepath.Join(dataDir, "bench-config.yaml")
	if err := os.WriteFile(cfgFile, []byte("modules:\n  lwServer:\n    insecureAddress: "+addr+"\n"), 0o600); err != nil {
		return nil, 0, err
	}
	s.cmd = exec.Command(bin, "--data-dir", dataDir, "--lwserver-address", s.tlsAddr, "--config", cfgFile)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Die with the bench, whatever happens to it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	start := time.Now()
	s.startedAt = start
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, 0, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	if err := s.waitReady(readyTimeout); err != nil {
		s.stop()
		return nil, 0, fmt.Errorf("%w; log tail: %s", err, s.logTail(5))
	}
	ready := time.Since(start)
	if err := grantAnonymousRead(s.sock()); err != nil {
		s.stop()
		return nil, 0, err
	}
	if s.noHTTP {
		ready = s.readyAfter
	}
	return s, ready, nil
}

// base is the plain-HTTP URL.
func (s *server) base() string { return "http://" + s.addr }

// target is how the bench's client reaches this edgecore.
func (s *server) target() *target {
	return newTarget("edgecore", s.base(), nil, proc{name: "edgecore", pid: s.pid()})
}
func (s *server) sock() string { return filepath.Join(s.dataDir, "edgecore.sock") }
func (s *server) pid() int     { return s.cmd.Process.Pid }
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz and the ingress socket. A server that answers
// HTTP with 404 for /readyz counts as ready; one that does not serve HTTP at
// all counts as ready (socket only) 2 s after its socket appeared, so that
// ingest can still be measured.
func (s *server) waitReady(timeout time.Duration) error {
	start := time.Now()
	deadline := start.Add(timeout)
	c := &http.Client{Timeout: time.Second}
	var sockAt time.Time
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("edgecore exited: %v", s.waitErr)
		default:
		}
		httpUp := false
		if resp, err := c.Get(s.base() + "/readyz"); err == nil {
			resp.Body.Close()
			httpUp = resp.StatusCode == 200 || resp.StatusCode == 404
		}
		if sockAt.IsZero() {
			if _, err := os.Stat(s.sock()); err == nil {
				sockAt = time.Now()
			}
		}
		if !sockAt.IsZero() {
			if httpUp {
				return nil
			}
			if time.Since(sockAt) > 2*time.Second {
				s.noHTTP = true
				s.readyAfter = sockAt.Sub(start)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("edgecore not ready after %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits up to 10 s, then kills the process group.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-s.pid(), syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
}

func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// procMem reads VmRSS and VmHWM (bytes) of pid.
func procMem(pid int) (rss, hwm int64, err error) {
	m, err := procStatus(pid)
	return m["VmRSS"], m["VmHWM"], err
}

// procStatus reads the kB fields of /proc/<pid>/status, in bytes.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64)
		if err == nil {
			out[k] = n << 10
		}
	}
	if out["VmRSS"] == 0 {
		return nil, errors.New("no VmRSS")
	}
	return out, nil
}

// memSampler tracks the peak VmRSS of a process over a phase.
type memSampler struct {
	pid    int
	name   string
	mu     sync.Mutex
	peak   int64 // VmRSS
	anon   int64 // RssAnon (private memory, without file mappings)
	cancel context.CancelFunc
	done   chan struct{}
}

func startMemSampler(pid int) *memSampler {
	ctx, cancel := context.WithCancel(context.Background())
	m := &memSampler{pid: pid, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memSampler) sample() {
	if st, err := procStatus(m.pid); err == nil {
		m.mu.Lock()
		m.peak = max(m.peak, st["VmRSS"])
		m.anon = max(m.anon, st["RssAnon"])
		m.mu.Unlock()
	}
}

// stop returns the peak VmRSS and RssAnon seen (bytes).
func (m *memSampler) stop() (rss, anon int64) {
	m.sample()
	m.cancel()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak, m.anon
}

// fileMaps sums the resident pages of pid's mappings of files whose name ends
// in suffix (SQLite maps edgecore.db once per connection; VmRSS counts each).
func fileMaps(pid int, suffix string) (maps int, rss int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if k, _, ok := strings.Cut(line, " "); ok && strings.Contains(k, "-") && !strings.HasSuffix(k, ":") {
			in = strings.HasSuffix(line, suffix)
			if in {
				maps++
			}
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			v := strings.Fields(line[4:])
			if len(v) > 0 {
				n, _ := strconv.ParseInt(v[0], 10, 64)
				rss += n << 10
			}
		}
	}
	return maps, rss
}

// anonymousRead binds system:anonymous to the bootstrap cluster-admin role,
// so the plain-HTTP listener's requests may read everything.
var anonymousRead = []byte(`{"header":{"msg_id":"bench-anonymous-read"},"route":{"source":"bench","group":"resource","operation":"insert","resource":"null/clusterrolebinding/bench-anonymous-read"},` +
	`"content":{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"bench-anonymous-read"},` +
	`"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},` +
	`"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"system:anonymous"}]}}` + "\n")

func grantAnonymousRead(sock string) error {
	res := ingest(sock, [][]byte{anonymousRead}, 1, 10*time.Second)
	if res.err != nil || res.firstErr != "" || res.ok != 1 {
		return fmt.Errorf("granting anonymous read: %v %s (%d OK)", res.err, res.firstErr, res.ok)
	}
	return nil
}

// memPeak is the peak resident memory of one process over a phase.
type memPeak struct {
	name      string
	rss, anon int64 // bytes
}

func startSamplers(ps []proc) []*memSampler {
	var out []*memSampler
	for _, p := range ps {
		if p.pid > 0 {
			m := startMemSampler(p.pid)
			m.name = p.name
			out = append(out, m)
		}
	}
	return out
}

func stopSamplers(ms []*memSampler) []memPeak {
	var out []memPeak
	for _, m := range ms {
		rss, anon := m.stop()
		out = append(out, memPeak{name: m.name, rss: rss, anon: anon})
	}
	return out
}
