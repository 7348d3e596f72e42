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

// runInject implements `edgecore inject`. It returns the exit code.
func runInject(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "inject: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	path := *socket
	if path == "" {
		dir := *dataDir
		if dir == "" {
			dir = defaultDataDir()
		}
		path = filepath.Join(dir, edgehub.SocketName)
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Fprintf(stderr, "inject: %v\n", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Fprintf(stderr, "inject: connect to edgecore: %v\n", err)
		return 2
	}
	defer c.Close()
	if *timeout > 0 {
		_ = c.SetDeadline(time.Now().Add(*timeout))
	}
	uc := c.(*net.UnixConn)

	var sent atomic.Int64
	writeErr := make(chan error, 1)
	go func() {
		writeErr <- copyMessages(uc, in, &sent)
		_ = uc.CloseWrite()
	}()

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	r := bufio.NewReaderSize(uc, 64<<10)
	var replies, errs int64
	var readErr error
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			replies++
			var rep struct {
				Route struct {
					Operation string `json:"operation"`
				} `json:"route"`
			}
			isErr := json.Unmarshal(line, &rep) != nil || rep.Route.Operation == "error"
			if isErr {
				errs++
			}
			if !*quiet || isErr {
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
			break
		}
	}
	out.Flush()
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
