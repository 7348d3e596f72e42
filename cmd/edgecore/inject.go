package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
)

const injectUsage = `usage: edgecore inject [-f FILE|-] [--socket PATH | --data-dir DIR] [-q]

Sends newline-delimited JSON messages to a running edgecore through its
socket and prints each reply line. Messages are pipelined: all are written
while replies are read. Exits 1 if any reply is an error or a reply is
missing, 2 on a usage or connection error.
`

// injectOptions are the flags of `edgecore inject`.
type injectOptions struct {
	file, socket string // input file ("-" = stdin); socket path, resolved
	quiet        bool
	timeout      time.Duration
}

// runInject implements `edgecore inject`. It returns the exit code.
func runInject(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, code := parseInjectFlags(args, stderr)
	if code >= 0 {
		return code
	}
	in := stdin
	if o.file != "-" {
		f, err := os.Open(o.file)
		if err != nil {
			fmt.Fprintf(stderr, "inject: %v\n", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	c, err := net.Dial("unix", o.socket)
	if err != nil {
		fmt.Fprintf(stderr, "inject: connect to edgecore: %v\n", err)
		return 2
	}
	defer c.Close()
	if o.timeout > 0 {
		_ = c.SetDeadline(time.Now().Add(o.timeout))
	}
	uc := c.(*net.UnixConn)

	var sent atomic.Int64
	writeErr := make(chan error, 1)
	go func() {
		writeErr <- copyMessages(uc, in, &sent)
		_ = uc.CloseWrite()
	}()
	replies, errs, readErr := printReplies(uc, stdout, o.quiet)
	werr := <-writeErr
	n := sent.Load()
	fmt.Fprintf(stderr, "inject: %d messages, %d replies, %d errors\n", n, replies, errs)
	switch {
	case werr != nil:
		fmt.Fprintf(stderr, "inject: %v\n", werr)
		return 2
	case readErr != nil:
		fmt.Fprintf(stderr, "inject: reading replies: %v\n", readErr)
		return 1
	case replies < n:
		fmt.Fprintf(stderr, "inject: %d replies missing\n", n-replies)
		return 1
	case errs > 0:
		return 1
	}
	return 0
}

// parseInjectFlags returns the options, or an exit code >= 0 to end with.
func parseInjectFlags(args []string, stderr io.Writer) (injectOptions, int) {
	fs := flag.NewFlagSet("inject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, injectUsage); fs.PrintDefaults() }
	file := fs.String("f", "-", "file of NDJSON messages (- = stdin)")
	socket := fs.String("socket", "", "edgecore's socket (default <data-dir>/edgecore.sock)")
	dataDir := fs.String("data-dir", "", "edgecore's data directory (default: as edgecore)")
	quiet := fs.Bool("q", false, "print only error replies")
	timeout := fs.Duration("timeout", 0, "give up after this long (0 = never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return injectOptions{}, 0
		}
		return injectOptions{}, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "inject: unexpected argument %q\n", fs.Arg(0))
		return injectOptions{}, 2
	}
	o := injectOptions{file: *file, socket: *socket, quiet: *quiet, timeout: *timeout}
	if o.socket == "" {
		dir := *dataDir
		if dir == "" {
			dir = defaultDataDir()
		}
		o.socket = filepath.Join(dir, edgehub.SocketName)
	}
	return o, -1
}

// printReplies copies reply lines from r to stdout (only the errors when
// quiet) until r ends, counting replies and error replies.
func printReplies(r io.Reader, stdout io.Writer, quiet bool) (replies, errs int64, readErr error) {
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			replies++
			var rep edgehub.Wire
			isErr := json.Unmarshal(line, &rep) != nil || rep.Route.Operation == "error"
			if isErr {
				errs++
			}
			if !quiet || isErr {
				out.Write(line)
				if line[len(line)-1] != '\n' {
					out.WriteByte('\n')
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			return replies, errs, readErr
		}
	}
}

// copyMessages writes every non-blank line of in to w, counting them.
func copyMessages(w io.Writer, in io.Reader, sent *atomic.Int64) error {
	r := bufio.NewReaderSize(in, 1<<20)
	bw := bufio.NewWriterSize(w, 256<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(trimBlank(line)) > 0 {
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			if _, werr := bw.Write(line); werr != nil {
				return fmt.Errorf("send: %w", werr)
			}
			sent.Add(1)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
