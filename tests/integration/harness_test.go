package integration

// The shared harness for black-box tests: the edgecore binary is built once
// per test run (TestMain), and each test starts its own edgecore on a free
// port with a temporary data directory.
//
//	e := StartEdgecore(t, Options{})          // fresh data dir, free port, waits for the socket
//	replies := e.Inject(Msg("insert", "default/pod/p", pod))  // one Reply per message, in order
//	e.Kill(); e.Restart()                      // SIGKILL; start again on the same dir and port
//	e.Stop()                                   // SIGTERM, must exit 0 within 5 s
//
// Options.WaitAPI also waits for GET <URL>/readyz (tests that use lwserver
// set it). After Stop or Kill the database can be opened directly with
// dao.Open(filepath.Join(e.DataDir, "edgecore.db"), dao.Options{}).
//
// lwserver serves HTTPS only (docs/security.md). Every edgecore of a test
// run shares one CA and admin certificate (TestMain seeds them into each
// data dir's pki/, which edgecore reuses; Options.OwnPKI lets it create its
// own), so one client reaches them all:
//
//	e.URL() + "/api/v1/pods"                   // https://127.0.0.1:PORT
//	AdminClient.Get(url) / httpDo(t, "GET", url, nil)  // admin (system:masters), HTTP/2
//	AdminHTTP1Client                           // the same over HTTP/1.1 (a connection per stream)
//	e.RestConfig()                             // client-go, from the kubeconfig edgecore wrote
//	e.KubeconfigPath()                         // for kubectl --kubeconfig
//	e.DialTLS()                                // raw HTTP/1.1 over TLS, as admin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/pki"
)

// BuildTags are the build tags the binary is built with (space separated),
// from $EDGECORE_BUILD_TAGS.
var BuildTags = os.Getenv("EDGECORE_BUILD_TAGS")

var edgecoreBin string

// sharedPKI holds the CA and admin certificate every edgecore of this run
// reuses (see seedPKI).
var sharedPKI string

// AdminClient is an HTTPS client (HTTP/2 when offered) that trusts the
// shared CA and presents the admin certificate (system:masters). Set once
// by TestMain.
var AdminClient *http.Client

// AdminHTTP1Client is AdminClient limited to HTTP/1.1: one connection per
// concurrent request (a stream that is not read then cannot hold back the
// others, as it can on a shared HTTP/2 connection).
var AdminHTTP1Client *http.Client

// adminTLS is AdminClient's TLS configuration (ALPN left to the caller).
var adminTLS *tls.Config

// EdgecoreBinary is the path of the binary TestMain built.
func EdgecoreBinary() string { return edgecoreBin }

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "edgecore-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	edgecoreBin = filepath.Join(dir, "edgecore")
	args := []string{"build", "-o", edgecoreBin}
	if BuildTags != "" {
		args = append(args, "-tags", BuildTags)
	}
	args = append(args, "github.com/edgecore/edgecore/cmd/edgecore")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building edgecore: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if err := makeSharedPKI(filepath.Join(dir, "pki")); err != nil {
		fmt.Fprintf(os.Stderr, "pki: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// makeSharedPKI creates the run's CA and admin certificate with edgecore's
// own pki package, and the admin client.
func makeSharedPKI(dir string) error {
	d := pki.Dir{Path: dir}
	ca, err := d.EnsureCA()
	if err != nil {
		return err
	}
	admin, err := d.EnsureAdmin(ca)
	if err != nil {
		return err
	}
	cert, err := admin.TLS()
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	sharedPKI = dir
	adminTLS = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}
	AdminClient = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     adminTLS.Clone(),
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
	}}
	AdminHTTP1Client = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     adminTLS.Clone(),
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 64,
	}}
	return nil
}

// seedPKI copies the shared CA and admin certificate into dataDir/pki
// unless it has a pki already (edgecore reuses them and issues its serving
// certificate from that CA).
func seedPKI(t testing.TB, dataDir string) {
	t.Helper()
	dst := filepath.Join(dataDir, "pki")
	if _, err := os.Stat(dst); err == nil {
		return
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{pki.CACert, pki.CAKey, pki.AdminCert, pki.AdminKey} {
		b, err := os.ReadFile(filepath.Join(sharedPKI, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Options for StartEdgecore. The zero value is a fresh edgecore.
type Options struct {
	// DataDir to use; "" = a new temporary directory removed at the end of
	// the test.
	DataDir string
	// Config is the content of a config file (YAML) passed with --config.
	Config string
	// Args are extra command-line flags.
	Args []string
	// WaitAPI also waits until GET URL()/readyz answers 200.
	WaitAPI bool
	// OwnPKI lets edgecore create its own CA and certificates instead of
	// reusing the run's shared ones (AdminClient then does not trust it;
	// use e.HTTPClient or e.RestConfig, built from its kubeconfig).
	OwnPKI bool
	// StartTimeout bounds the wait for readiness (default 20 s).
	StartTimeout time.Duration
}

// Edgecore is a running (or stopped) edgecore child process.
type Edgecore struct {
	// Addr is lwserver's HOST:PORT (a free port on 127.0.0.1), HTTPS.
	Addr string
	// DataDir holds edgecore.db and edgecore.sock.
	DataDir string
	// Socket is the ingress socket path.
	Socket string

	t       testing.TB
	opts    Options
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	logPath string
}

// StartEdgecore starts edgecore and waits until its socket accepts
// connections (and, with WaitAPI, until /readyz is 200). The process is
// killed at the end of the test if still running.
func StartEdgecore(t testing.TB, opts Options) *Edgecore {
	t.Helper()
	dir := opts.DataDir
	if dir == "" {
		// Short path: unix socket paths are limited to 107 bytes.
		d, err := os.MkdirTemp("", "ec-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	e := &Edgecore{t: t, opts: opts, DataDir: dir, Socket: filepath.Join(dir, "edgecore.sock"), Addr: freeAddr(t)}
	if !opts.OwnPKI {
		seedPKI(t, dir)
	}
	lf, err := os.CreateTemp("", "edgecore-log-")
	if err != nil {
		t.Fatal(err)
	}
	lf.Close()
	e.logPath = lf.Name()
	t.Cleanup(func() {
		if e.Running() {
			e.Kill()
		}
		if t.Failed() {
			t.Logf("edgecore log (last 40 lines):\n%s", tail(e.Logs(), 40))
		}
		os.Remove(e.logPath)
	})
	e.start()
	return e
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (e *Edgecore) start() {
	e.t.Helper()
	args := []string{"--data-dir", e.DataDir, "--lwserver-address", e.Addr}
	if e.opts.Config != "" {
		p := filepath.Join(e.DataDir, "test-config.yaml")
		if err := os.WriteFile(p, []byte(e.opts.Config), 0o600); err != nil {
			e.t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	args = append(args, e.opts.Args...)
	lf, err := os.OpenFile(e.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(lf, "=== start %s %s\n", edgecoreBin, strings.Join(args, " "))
	cmd := exec.Command(edgecoreBin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		e.t.Fatal(err)
	}
	e.cmd = cmd
	e.exited = make(chan struct{})
	go func() {
		e.exitErr = cmd.Wait()
		lf.Close()
		close(e.exited)
	}()
	timeout := e.opts.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-e.exited:
			e.t.Fatalf("edgecore exited during start: %v\n%s", e.exitErr, tail(e.Logs(), 30))
		default:
		}
		if c, err := net.Dial("unix", e.Socket); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("edgecore socket not ready after %v\n%s", timeout, tail(e.Logs(), 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e.opts.WaitAPI {
		for {
			resp, err := e.getWithin(e.URL()+"/readyz", time.Second)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("edgecore API not ready after %v (%v)\n%s", timeout, err, tail(e.Logs(), 30))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// URL is lwserver's base URL, https://Addr.
func (e *Edgecore) URL() string { return "https://" + e.Addr }

// KubeconfigPath is the admin kubeconfig edgecore writes on start.
func (e *Edgecore) KubeconfigPath() string { return filepath.Join(e.DataDir, "kubeconfig") }

// RestConfig is a client-go config from the kubeconfig edgecore wrote
// (admin, HTTPS, HTTP/2), with generous client-side rate limits.
func (e *Edgecore) RestConfig() *rest.Config {
	e.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", e.KubeconfigPath())
	if err != nil {
		e.t.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst, cfg.Timeout = 1000, 1000, 30*time.Second
	return cfg
}

// HTTPClient is an admin client for this edgecore: AdminClient, or one
// built from its kubeconfig with OwnPKI.
func (e *Edgecore) HTTPClient() *http.Client {
	e.t.Helper()
	if !e.opts.OwnPKI {
		return AdminClient
	}
	c, err := rest.HTTPClientFor(e.RestConfig())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// DialTLS opens a raw TLS connection to lwserver speaking HTTP/1.1, with
// the admin certificate (shared pki only).
func (e *Edgecore) DialTLS() (*tls.Conn, error) {
	cfg := adminTLS.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	return tls.Dial("tcp", e.Addr, cfg)
}

// getWithin is one GET with a timeout, as admin.
func (e *Edgecore) getWithin(url string, d time.Duration) (*http.Response, error) {
	if e.opts.OwnPKI {
		if _, err := os.Stat(e.KubeconfigPath()); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// Running reports whether the process is alive.
func (e *Edgecore) Running() bool {
	if e.exited == nil {
		return false
	}
	select {
	case <-e.exited:
		return false
	default:
		return true
	}
}

// Pid is the process id of the running edgecore.
func (e *Edgecore) Pid() int { return e.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to die.
func (e *Edgecore) Kill() {
	e.t.Helper()
	if !e.Running() {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.exited
}

// Stop sends SIGTERM and fails the test unless edgecore exits with status 0
// within 5 seconds.
func (e *Edgecore) Stop() {
	e.t.Helper()
	if !e.Running() {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		if e.exitErr != nil {
			e.t.Fatalf("edgecore exited with %v after SIGTERM\n%s", e.exitErr, tail(e.Logs(), 30))
		}
	case <-time.After(5 * time.Second):
		e.Kill()
		e.t.Fatalf("edgecore did not exit within 5 s of SIGTERM\n%s", tail(e.Logs(), 30))
	}
}

// Restart stops edgecore (SIGTERM) if it is running, then starts it again on
// the same data directory and address.
func (e *Edgecore) Restart() {
	e.t.Helper()
	e.Stop()
	e.start()
}

// Logs returns everything the process (and earlier runs of it) logged.
func (e *Edgecore) Logs() string {
	b, _ := os.ReadFile(e.logPath)
	return string(b)
}

// Reply is one reply line from the ingress.
type Reply struct {
	Raw       []byte
	ID        string
	ParentID  string
	Operation string // "response" or "error"
	Resource  string
	Content   json.RawMessage
}

// OK reports a "response" reply.
func (r Reply) OK() bool { return r.Operation == "response" }

// Err is the reason of an error reply ("" otherwise).
func (r Reply) Err() string {
	if r.Operation != "error" {
		return ""
	}
	var s string
	if json.Unmarshal(r.Content, &s) != nil {
		return string(r.Content)
	}
	return s
}

// ParseReply decodes one reply line.
func ParseReply(line []byte) (Reply, error) {
	var w edgehub.Wire
	if err := json.Unmarshal(line, &w); err != nil {
		return Reply{}, fmt.Errorf("bad reply %q: %v", line, err)
	}
	return Reply{Raw: append([]byte(nil), line...), ID: w.Header.ID, ParentID: w.Header.ParentID,
		Operation: w.Route.Operation, Resource: w.Route.Resource, Content: w.Content}, nil
}

var msgCounter atomic.Int64

// Message is one message line to inject (see Msg).
type Message struct {
	ID   string
	Line []byte
}

// Msg builds a message: op and resource go to the route, content (any JSON
// value, a json.RawMessage, or nil) to the content. The msg_id is unique.
func Msg(op, resource string, content any) Message {
	return MsgRV(op, resource, "", content)
}

// MsgRV is Msg with header.resourceversion set.
func MsgRV(op, resource, rv string, content any) Message {
	id := fmt.Sprintf("t-%d-%d", os.Getpid(), msgCounter.Add(1))
	m := map[string]any{
		"header": map[string]any{"msg_id": id, "timestamp": time.Now().UnixMilli(), "resourceversion": rv},
		"route":  map[string]any{"source": "edgecontroller", "group": "resource", "operation": op, "resource": resource},
	}
	if content != nil {
		m["content"] = content
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return Message{ID: id, Line: b}
}

// Inject sends the messages on one connection (pipelined) and returns their
// replies in message order. Each message is a Message, a string or []byte
// line. A line without msg_id (or not JSON) matches its reply by position
// among the replies with an empty parent_msg_id. Fails the test on a
// transport error or a missing reply.
func (e *Edgecore) Inject(msgs ...any) []Reply {
	e.t.Helper()
	c, err := e.Dial()
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	ids := make([]string, len(msgs))
	errc := make(chan error, 1)
	go func() {
		for i, m := range msgs {
			var line []byte
			switch v := m.(type) {
			case Message:
				line = v.Line
			case string:
				line = []byte(v)
			case []byte:
				line = v
			default:
				errc <- fmt.Errorf("Inject: unsupported message type %T", m)
				return
			}
			ids[i] = lineID(line)
			if err := c.Send(line); err != nil {
				errc <- err
				return
			}
		}
		errc <- c.CloseWrite()
	}()
	var replies []Reply
	for {
		r, err := c.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			e.t.Fatalf("Inject: %v", err)
		}
		replies = append(replies, r)
	}
	if err := <-errc; err != nil {
		e.t.Fatalf("Inject: %v", err)
	}
	if len(replies) != len(msgs) {
		e.t.Fatalf("Inject: %d messages, %d replies", len(msgs), len(replies))
	}
	byParent := map[string]Reply{}
	var anon []Reply
	for _, r := range replies {
		if r.ParentID == "" {
			anon = append(anon, r)
		} else {
			byParent[r.ParentID] = r
		}
	}
	out := make([]Reply, len(msgs))
	for i, id := range ids {
		if r, ok := byParent[id]; ok && id != "" {
			out[i] = r
		} else if len(anon) > 0 {
			out[i], anon = anon[0], anon[1:]
		} else {
			e.t.Fatalf("Inject: no reply for message %d (msg_id %q)", i, id)
		}
	}
	return out
}

// MustOK fails the test unless every reply is a "response".
func MustOK(t testing.TB, replies []Reply) {
	t.Helper()
	for i, r := range replies {
		if !r.OK() {
			t.Fatalf("reply %d (%s): %s %s", i, r.Resource, r.Operation, r.Content)
		}
	}
}

func lineID(line []byte) string {
	var w struct {
		Header struct {
			ID string `json:"msg_id"`
		} `json:"header"`
	}
	if json.Unmarshal(line, &w) != nil {
		return ""
	}
	return w.Header.ID
}

// Conn is a raw connection to the ingress socket: Send writes one line, Recv
// reads one reply. Send and Recv may be used from two goroutines.
type Conn struct {
	c  *net.UnixConn
	r  *bufio.Reader
	mu sync.Mutex
	w  *bufio.Writer
}

// Dial connects to the ingress socket.
func (e *Edgecore) Dial() (*Conn, error) {
	c, err := net.Dial("unix", e.Socket)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	return &Conn{c: uc, r: bufio.NewReaderSize(uc, 1<<20), w: bufio.NewWriterSize(uc, 256<<10)}, nil
}

// Send writes one message line (a newline is added) and flushes.
func (c *Conn) Send(line []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(bytes.TrimRight(line, "\n"))
	c.w.WriteByte('\n')
	return c.w.Flush()
}

// SendBuffered writes one line without flushing (call Flush).
func (c *Conn) SendBuffered(line []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(bytes.TrimRight(line, "\n"))
	return c.w.WriteByte('\n')
}

// Flush flushes buffered lines.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Flush()
}

// Recv reads the next reply; io.EOF when the server closed the connection.
func (c *Conn) Recv() (Reply, error) {
	line, err := c.r.ReadBytes('\n')
	if len(line) > 0 && line[len(line)-1] == '\n' {
		return ParseReply(line)
	}
	if err == nil || (err == io.EOF && len(line) > 0) {
		err = io.ErrUnexpectedEOF
	}
	return Reply{}, err
}

// CloseWrite tells the server no more messages come; it still answers the
// ones sent, then closes.
func (c *Conn) CloseWrite() error {
	if err := c.Flush(); err != nil {
		return err
	}
	return c.c.CloseWrite()
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
