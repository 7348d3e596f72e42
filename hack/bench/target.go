package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// target is one API server under test, as the bench's client reaches it:
// edgecore, or the kube-apiserver it is compared with. Every row runs the
// same client code against either.
type target struct {
	name   string      // "edgecore" or "kube-apiserver"
	base   string      // URL without a trailing slash
	tls    *tls.Config // nil: plain HTTP
	client *http.Client
	dials  *atomic.Int64 // TCP connections client has opened
	procs  []proc        // processes whose memory is reported; the first is the server
	// newSink opens the path updates take to the server (nil: no updates).
	newSink func(onAck ackFunc) (updateSink, error)
}

// proc is a process whose resident memory the bench samples.
type proc struct {
	name string
	pid  int
}

// pid is the server's process id (0 when the bench did not start it).
func (t *target) pid() int {
	if len(t.procs) == 0 {
		return 0
	}
	return t.procs[0].pid
}

// ackFunc is told when the server has accepted update seq (errText "" = ok).
type ackFunc func(seq int64, at time.Time, errText string)

// updateSink sends pod updates stamped with a sequence number; it must not
// block for the server's answer, so a steady rate can be kept.
type updateSink interface {
	send(podIndex int, seq int64) error
	close()
}

func newTarget(name, base string, tc *tls.Config, procs ...proc) *target {
	return newTargetH(name, base, tc, false, procs...)
}

// newTargetH is newTarget with the choice of HTTP/2 (over TLS).
func newTargetH(name, base string, tc *tls.Config, h2 bool, procs ...proc) *target {
	dials := new(atomic.Int64)
	return &target{name: name, base: base, tls: tc, client: &http.Client{Transport: newTransport(tc, h2, dials)}, dials: dials, procs: procs}
}

// socketSink sends edgecore's updates through its ingress socket; the
// durable ack is the reply.
type socketSink struct {
	b    *bench
	sess *session
}

func (b *bench) socketSink(sock string) func(ackFunc) (updateSink, error) {
	return func(onAck ackFunc) (updateSink, error) {
		sess, err := dialSession(sock, func(m *replyMsg, at time.Time) {
			seq, err := strconv.ParseInt(m.Header.ParentMsgID[min(len(updPrefix), len(m.Header.ParentMsgID)):], 10, 64)
			if err != nil {
				return
			}
			if m.Route.Operation != "response" {
				onAck(seq, at, truncate(string(m.Content), 120))
				return
			}
			onAck(seq, at, "")
		})
		if err != nil {
			return nil, fmt.Errorf("ingress: %w", err)
		}
		return &socketSink{b: b, sess: sess}, nil
	}
}

func (s *socketSink) send(i int, seq int64) error {
	rv := s.b.cloudRV.Add(1)
	msg := appendMessage(nil, updPrefix+strconv.FormatInt(seq, 10), "update",
		podNamespace(i)+"/pod/"+podName(i), rv, makePod(i, rv, seq))
	return s.sess.send(msg)
}

func (s *socketSink) close() { s.sess.close() }

// apiSink sends updates through kube-apiserver's API as a merge patch of the
// sequence annotation (what controllers mostly send; a PUT of the pod as
// edgecore gets it would be refused: admission added a toleration and a
// token volume at create, which an update may not remove). Each is followed
// by the whole pod in the watch events, as on edgecore; the ack is the 200.
type apiSink struct {
	t      *target
	onAck  ackFunc
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

func apiSinkFor(t *target) func(ackFunc) (updateSink, error) {
	return func(onAck ackFunc) (updateSink, error) {
		ctx, cancel := context.WithCancel(context.Background())
		return &apiSink{t: t, onAck: onAck, ctx: ctx, cancel: cancel}, nil
	}
}

func (s *apiSink) send(i int, seq int64) error {
	body := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"%d"}}}`, seqAnnotation, seq)
	url := s.t.base + "/api/v1/namespaces/" + podNamespace(i) + "/pods/" + podName(i)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		code, text, err := doJSON(s.ctx, s.t.client, http.MethodPatch, url, "application/merge-patch+json", body)
		switch {
		case err != nil:
			s.onAck(seq, time.Now(), err.Error())
		case code != http.StatusOK:
			s.onAck(seq, time.Now(), fmt.Sprintf("HTTP %d %s", code, truncate(text, 100)))
		default:
			s.onAck(seq, time.Now(), "")
		}
	}()
	return nil
}

func (s *apiSink) close() {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	s.cancel()
}

// doJSON sends body with method to url and returns the status and, for
// errors, the start of the answer.
func doJSON(ctx context.Context, c *http.Client, method, url, contentType string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return resp.StatusCode, string(b), nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, "", nil
}
