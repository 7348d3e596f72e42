package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
)

// shortTempDir is a temporary directory with a path short enough for a unix
// socket (sun_path holds 108 bytes; t.TempDir embeds the test name).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ec")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fakeEdgecore is a stand-in for edgecore's ingress socket: it answers
// each line as edgecore would (docs/architecture.md §3.2), with these test hooks on the
// line's text: "bad" gets an error reply, "noreply" gets none, "garbage"
// gets a reply that is not JSON, "hang" gets no reply and the connection is
// held open.
type fakeEdgecore struct {
	path string
	ln   net.Listener

	mu    sync.Mutex
	lines []string // every line received, without its '\n'

	quit     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func newFakeEdgecore(t *testing.T, path string) *fakeEdgecore {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeEdgecore{path: path, ln: ln, quit: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(f.stop)
	go f.serve()
	return f
}

func (f *fakeEdgecore) serve() {
	defer close(f.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.handle(c)
		}()
	}
}

func (f *fakeEdgecore) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	hang := false
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\n") {
				// edgecore treats a final unterminated line as a message;
				// inject must never send one.
				line += "<no newline>"
			}
			line = strings.TrimSuffix(line, "\n")
			f.mu.Lock()
			f.lines = append(f.lines, line)
			f.mu.Unlock()
			switch {
			case strings.Contains(line, "hang"):
				hang = true
			case strings.Contains(line, "noreply"):
			case strings.Contains(line, "garbage"):
				c.Write([]byte("not json\n"))
			case strings.Contains(line, "bad"):
				c.Write([]byte(`{"header":{"msg_id":"r","parent_msg_id":"m"},"route":{"operation":"error","resource":"x"},"content":"bad message"}` + "\n"))
			default:
				c.Write([]byte(`{"header":{"msg_id":"r","parent_msg_id":"m"},"route":{"operation":"response","resource":"x"},"content":"OK"}` + "\n"))
			}
		}
		if err != nil {
			break
		}
	}
	if hang {
		// Hold the connection open until stop.
		<-f.quit
	}
}

// stop closes the listener and waits for every connection to end.
func (f *fakeEdgecore) stop() {
	f.stopOnce.Do(func() { f.ln.Close(); close(f.quit) })
	<-f.done
}

func (f *fakeEdgecore) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

func TestInjectArgs(t *testing.T) {
	type result struct {
		code           int
		stdout, stderr string
	}
	tests := []struct {
		name string
		// args may use {sock}, {dir}, {file}, {missing}: replaced below.
		args      []string
		stdin     string
		file      string // content of {file}
		wantCode  int
		wantSent  []string // lines the server received (nil = don't check)
		wantOut   []string // substrings of stdout
		wantErr   []string // substrings of stderr
		noConnect bool     // the server must see no connection at all
	}{
		{
			name: "stdin by default", args: []string{"--socket", "{sock}"},
			stdin: "{\"a\":1}\n{\"a\":2}\n", wantCode: 0,
			wantSent: []string{`{"a":1}`, `{"a":2}`},
			wantOut:  []string{`"operation":"response"`},
			wantErr:  []string{"2 messages, 2 replies, 0 errors"},
		},
		{
			name: "-f - is stdin", args: []string{"-f", "-", "--socket", "{sock}"},
			stdin: "{\"a\":1}\n", wantCode: 0,
			wantSent: []string{`{"a":1}`},
			wantErr:  []string{"1 messages, 1 replies, 0 errors"},
		},
		{
			name: "-f FILE", args: []string{"-f", "{file}", "--socket", "{sock}"},
			stdin: "{\"from\":\"stdin\"}\n", file: "{\"from\":\"file\"}\n", wantCode: 0,
			wantSent: []string{`{"from":"file"}`},
		},
		{
			name: "--f=FILE and --socket=PATH", args: []string{"--f={file}", "--socket={sock}"},
			file: "{\"a\":1}\n", wantCode: 0,
			wantSent: []string{`{"a":1}`},
		},
		{
			name: "--data-dir DIR uses DIR/edgecore.sock", args: []string{"--data-dir", "{dir}"},
			stdin: "{\"a\":1}\n", wantCode: 0,
			wantSent: []string{`{"a":1}`},
		},
		{
			name: "--socket wins over --data-dir", args: []string{"--data-dir", "{missing}", "--socket", "{sock}"},
			stdin: "{\"a\":1}\n", wantCode: 0,
			wantSent: []string{`{"a":1}`},
		},
		{
			name:  "blank lines skipped, last line without newline terminated",
			args:  []string{"--socket", "{sock}"},
			stdin: "\n  \n{\"a\":1}\r\n\t\n{\"a\":2}", wantCode: 0,
			wantSent: []string{"{\"a\":1}\r", `{"a":2}`},
			wantErr:  []string{"2 messages, 2 replies, 0 errors"},
		},
		{
			name: "empty input", args: []string{"--socket", "{sock}"},
			stdin: "", wantCode: 0, wantSent: []string{},
			wantErr: []string{"0 messages, 0 replies, 0 errors"},
		},
		{
			name: "error reply exits 1", args: []string{"--socket", "{sock}"},
			stdin: "{\"ok\":1}\n{\"bad\":1}\n", wantCode: 1,
			wantOut: []string{`"operation":"error"`, `"operation":"response"`},
			wantErr: []string{"2 messages, 2 replies, 1 errors"},
		},
		{
			name: "reply that is not JSON counts as an error", args: []string{"--socket", "{sock}"},
			stdin: "{\"garbage\":1}\n", wantCode: 1,
			wantOut: []string{"not json"},
			wantErr: []string{"1 messages, 1 replies, 1 errors"},
		},
		{
			name: "missing reply exits 1", args: []string{"--socket", "{sock}"},
			stdin: "{\"ok\":1}\n{\"noreply\":1}\n", wantCode: 1,
			wantErr: []string{"2 messages, 1 replies", "1 replies missing"},
		},
		{
			name: "-q prints only errors", args: []string{"-q", "--socket", "{sock}"},
			stdin: "{\"ok\":1}\n{\"bad\":1}\n{\"ok\":2}\n", wantCode: 1,
			wantOut: []string{`"operation":"error"`},
		},
		{
			name: "--timeout gives up on a silent edgecore", args: []string{"--timeout", "100ms", "--socket", "{sock}"},
			stdin: "{\"hang\":1}\n", wantCode: 1,
			wantErr: []string{"reading replies", "timeout"},
		},
		{
			name: "missing socket", args: []string{"--socket", "{missing}"},
			stdin: "{\"a\":1}\n", wantCode: 2, noConnect: true,
			wantErr: []string{"inject: connect to edgecore", "{missing}"},
		},
		{
			name: "--data-dir without a socket", args: []string{"--data-dir", "{missing}"},
			stdin: "{\"a\":1}\n", wantCode: 2, noConnect: true,
			wantErr: []string{"inject: connect to edgecore", "{missing}/edgecore.sock"},
		},
		{
			name: "missing -f file", args: []string{"-f", "{missing}", "--socket", "{sock}"},
			wantCode: 2, noConnect: true,
			wantErr: []string{"inject:", "{missing}", "no such file"},
		},
		{
			name: "unexpected argument", args: []string{"--socket", "{sock}", "extra.ndjson"},
			wantCode: 2, noConnect: true,
			wantErr: []string{`unexpected argument "extra.ndjson"`},
		},
		{
			name: "unknown flag", args: []string{"--bogus"},
			wantCode: 2, noConnect: true,
			wantErr: []string{"flag provided but not defined: -bogus", "usage: edgecore inject"},
		},
		{
			name: "-h", args: []string{"-h"},
			wantCode: 0, noConnect: true,
			wantErr: []string{"usage: edgecore inject", "-socket", "-data-dir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortTempDir(t)
			sock := filepath.Join(dir, edgehub.SocketName)
			srv := newFakeEdgecore(t, sock)
			file := filepath.Join(dir, "msgs.ndjson")
			if err := os.WriteFile(file, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			missing := filepath.Join(dir, "missing")
			subst := strings.NewReplacer("{sock}", sock, "{dir}", dir, "{file}", file, "{missing}", missing)
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = subst.Replace(a)
			}

			var stdout, stderr bytes.Buffer
			done := make(chan result, 1)
			go func() {
				code := runInject(args, strings.NewReader(tt.stdin), &stdout, &stderr)
				done <- result{code, stdout.String(), stderr.String()}
			}()
			var res result
			select {
			case res = <-done:
			case <-time.After(3 * time.Second):
				t.Fatalf("runInject %v did not return", args)
			}

			if res.code != tt.wantCode {
				t.Errorf("runInject %v = %d, want %d\nstdout: %s\nstderr: %s", args, res.code, tt.wantCode, res.stdout, res.stderr)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
				}
			}
			for _, s := range tt.wantErr {
				if s = subst.Replace(s); !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
			// Each reply is printed on a line of its own.
			if res.stdout != "" && !strings.HasSuffix(res.stdout, "\n") {
				t.Errorf("stdout does not end in a newline: %q", res.stdout)
			}
			srv.stop()
			got := srv.received()
			if tt.noConnect && len(got) > 0 {
				t.Errorf("server received %q, want no messages", got)
			}
			if tt.wantSent != nil && strings.Join(got, "|") != strings.Join(tt.wantSent, "|") {
				t.Errorf("server received %q, want %q", got, tt.wantSent)
			}
		})
	}
}

// -q prints exactly the error replies, and every printed line is a whole
// reply.
func TestInjectQuietOutput(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, edgehub.SocketName)
	newFakeEdgecore(t, sock)
	var stdout, stderr bytes.Buffer
	code := runInject([]string{"-q", "--socket", sock}, strings.NewReader("{\"ok\":1}\n{\"bad\":1}\n{\"ok\":2}\n{\"bad\":2}\n"), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("code %d, want 1; stderr: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("-q printed %d lines, want the 2 error replies:\n%s", len(lines), stdout.String())
	}
	for _, l := range lines {
		var rep struct {
			Route struct{ Operation string } `json:"route"`
		}
		if err := json.Unmarshal([]byte(l), &rep); err != nil || rep.Route.Operation != "error" {
			t.Errorf("printed line %q is not an error reply (%v)", l, err)
		}
	}
	if !strings.Contains(stderr.String(), "4 messages, 4 replies, 2 errors") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// Many messages are pipelined (written while replies are read) without a
// deadlock when both directions fill their buffers.
func TestInjectPipelined(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, edgehub.SocketName)
	srv := newFakeEdgecore(t, sock)
	const n = 20000
	var in strings.Builder
	for i := 0; i < n; i++ {
		in.WriteString(`{"header":{"msg_id":"m"},"route":{"operation":"insert","resource":"ns/pod/p"},"content":{"pad":"` + strings.Repeat("x", 100) + `"}}` + "\n")
	}
	var stdout, stderr bytes.Buffer
	code := runInject([]string{"--socket", sock, "--timeout", "3s"}, strings.NewReader(in.String()), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("code %d; stderr: %s", code, stderr.String())
	}
	if got := strings.Count(stdout.String(), "\n"); got != n {
		t.Errorf("printed %d replies, want %d", got, n)
	}
	srv.stop()
	if got := len(srv.received()); got != n {
		t.Errorf("server received %d messages, want %d", got, n)
	}
}

func TestCopyMessages(t *testing.T) {
	tests := []struct {
		name, in, want string
		n              int64
	}{
		{"empty", "", "", 0},
		{"only blanks", "\n \n\t\r\n", "", 0},
		{"one line", "a\n", "a\n", 1},
		{"unterminated", "a", "a\n", 1},
		{"crlf kept", "a\r\nb\r\n", "a\r\nb\r\n", 2},
		{"blanks between", "a\n\n   \nb\n", "a\nb\n", 2},
		{"leading spaces kept", "  a  \n", "  a  \n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var sent atomic.Int64
			if err := copyMessages(&out, strings.NewReader(tt.in), &sent); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want || sent.Load() != tt.n {
				t.Errorf("copyMessages(%q) wrote %q (%d), want %q (%d)", tt.in, out.String(), sent.Load(), tt.want, tt.n)
			}
		})
	}
}
