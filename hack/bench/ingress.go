package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// replyMsg is the part of an ingress reply (docs/architecture.md §3.2) the bench reads.
type replyMsg struct {
	Header struct {
		MsgID       string `json:"msg_id"`
		ParentMsgID string `json:"parent_msg_id"`
	} `json:"header"`
	Route struct {
		Operation string `json:"operation"`
		Resource  string `json:"resource"`
	} `json:"route"`
	Content json.RawMessage `json:"content"`
}

// session is one connection to the ingress socket: the caller writes
// messages, a reader goroutine hands every reply line to onReply.
type session struct {
	conn    net.Conn
	mu      sync.Mutex // guards bw
	bw      *bufio.Writer
	onReply func(r *replyMsg, at time.Time)
	done    chan struct{} // closed when the reader exits
	readErr error         // set before done is closed
}

func dialSession(path string, onReply func(*replyMsg, time.Time)) (*session, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s := &session{conn: conn, bw: bufio.NewWriterSize(conn, 256<<10), onReply: onReply, done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *session) read() {
	defer close(s.done)
	br := bufio.NewReaderSize(s.conn, 256<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) > 1 {
			var r replyMsg
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				r.Route.Operation = "error"
				r.Content = json.RawMessage(fmt.Sprintf("%q", "unparsable reply: "+jerr.Error()))
			}
			s.onReply(&r, time.Now())
		}
		if err != nil {
			s.readErr = err
			return
		}
	}
}

// send writes one message and flushes it.
func (s *session) send(msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bw.Write(msg); err != nil {
		return err
	}
	return s.bw.Flush()
}

func (s *session) close() {
	_ = s.conn.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

type ingestResult struct {
	sent, ok, failed int
	firstErr         string
	elapsed          time.Duration
	err              error
}

// ingest pipelines msgs through one connection with up to window messages in
// flight (a writer goroutine and the reply reader), and returns when every
// message has its reply (or on timeout). elapsed runs from the first write to
// the last reply: the durable ingest time. Long because writer, reader and
// their end conditions belong together.
func ingest(path string, msgs [][]byte, window int, timeout time.Duration) ingestResult {
	var res ingestResult
	total := int64(len(msgs))
	var got, ok, failed atomic.Int64
	var errOnce sync.Once
	allIn := make(chan struct{})
	sem := make(chan struct{}, window)
	var lastReply atomic.Int64
	start := time.Now() // the dial below takes microseconds
	s, err := dialSession(path, func(r *replyMsg, at time.Time) {
		if r.Route.Operation == "response" {
			ok.Add(1)
		} else {
			failed.Add(1)
			errOnce.Do(func() {
				res.firstErr = fmt.Sprintf("%s %s: %s", r.Route.Operation, r.Route.Resource, truncate(string(r.Content), 200))
			})
		}
		select {
		case <-sem:
		default:
		}
		lastReply.Store(int64(at.Sub(start)))
		if got.Add(1) == total {
			close(allIn)
		}
	})
	if err != nil {
		res.err = err
		return res
	}
	defer s.close()
	_ = s.conn.SetDeadline(time.Now().Add(timeout))
	if total == 0 {
		return res
	}
	writeErr := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			select {
			case sem <- struct{}{}:
			default:
				if err := s.bw.Flush(); err != nil {
					writeErr <- err
					return
				}
				select {
				case sem <- struct{}{}:
				case <-s.done:
					writeErr <- errors.New("connection closed while writing")
					return
				}
			}
			if _, err := s.bw.Write(m); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- s.bw.Flush()
	}()
	var werr error
	for done := false; !done; {
		select {
		case <-allIn:
			done = true
		case werr = <-writeErr:
			if werr != nil {
				done = true
			}
		case <-s.done:
			done = true
			if got.Load() < total {
				werr = fmt.Errorf("connection ended after %d/%d replies: %v", got.Load(), total, s.readErr)
			}
		}
	}
	res.elapsed = time.Duration(lastReply.Load())
	res.sent = len(msgs)
	res.ok, res.failed = int(ok.Load()), int(failed.Load())
	if werr != nil {
		res.err = werr
	}
	return res
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
