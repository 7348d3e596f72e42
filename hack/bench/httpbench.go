package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

// newTransport is the bench's client transport: keep-alive, no
// compression (measure the server, not gzip), large read buffers. tc nil
// means plain HTTP; with tc, h2 selects HTTP/2 over TLS (as client-go does)
// instead of HTTP/1.1. dials, when not nil, counts the TCP connections made.
func newTransport(tc *tls.Config, h2 bool, dials *atomic.Int64) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials != nil {
				dials.Add(1)
			}
			return d.DialContext(ctx, network, addr)
		},
		DisableCompression:  true,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		ReadBufferSize:      256 << 10,
		WriteBufferSize:     16 << 10,
	}
	p := new(http.Protocols)
	if tc != nil {
		t.TLSClientConfig = tc.Clone()
		p.SetHTTP2(h2)
	}
	p.SetHTTP1(!h2 || tc == nil)
	t.Protocols = p
	return t
}

// statusError is a non-200 answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.code, truncate(strings.TrimSpace(e.body), 160))
}

// notServed reports whether err says "this endpoint/feature is not there".
func notServed(err error) bool {
	if se, ok := err.(*statusError); ok {
		switch se.code {
		case 404, 405, 406, 415, 501:
			return true
		}
	}
	return false
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// fetch GETs base+path, reads the whole body and returns its size; with keep
// set it also returns the body.
func fetch(ctx context.Context, c *http.Client, url, accept string, keep bool) (int64, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	} else {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, nil, &statusError{resp.StatusCode, string(b)}
	}
	if keep {
		b, err := io.ReadAll(resp.Body)
		return int64(len(b)), b, err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	var n int64
	for {
		k, err := resp.Body.Read(*bp)
		n += int64(k)
		if err == io.EOF {
			return n, nil, nil
		}
		if err != nil {
			return n, nil, err
		}
	}
}

// getJSON GETs path from t as JSON and decodes the answer into v.
func (b *bench) getJSON(t *target, path string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
	defer cancel()
	_, body, err := fetch(ctx, t.client, t.base+path, "", true)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// listShape is what the validation pass decodes from a list or Table.
type listShape struct {
	Kind     string `json:"kind"`
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
	Rows  []json.RawMessage `json:"rows"`
}

// opResult is the outcome of one measured operation.
type opResult struct {
	samples []time.Duration
	bytes   int64
	na      string // why it could not be measured
	note    string
}

func (r opResult) median() time.Duration { return percentile(r.samples, 0.5) }
func (r opResult) p99() time.Duration    { return percentile(r.samples, 0.99) }

// percentile is nearest-rank on a copy of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(float64(len(s))*p+0.999999) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(s) {
		k = len(s) - 1
	}
	return s[k]
}

type opSpec struct {
	path       string
	accept     string
	concurrent int // >1: that many identical requests at once per sample
	// validate checks the decoded body of one call (outside timing); it
	// returns a note, or an error making the row n/a.
	validate func(listShape) (string, error)
}

// measureOp validates once, warms up, then takes samples until cfg.samples
// are in or the op budget is spent (at least minSamples).
func (b *bench) measureOp(t *target, op opSpec) (r opResult) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
	n, body, err := fetch(ctx, t.client, t.base+op.path, op.accept, true)
	cancel()
	if err != nil {
		r.na = describeErr(err)
		return r
	}
	r.bytes = n
	if op.validate != nil {
		shape, err := decodeShape(body, op.accept)
		if err != nil {
			r.na = err.Error()
			return r
		}
		note, err := op.validate(shape)
		if err != nil {
			r.na = err.Error()
			return r
		}
		r.note = note
	}
	body = nil
	one := func() (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
		defer cancel()
		conc := max(op.concurrent, 1)
		errs := make(chan error, conc)
		start := time.Now()
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := fetch(ctx, t.client, t.base+op.path, op.accept, false)
				errs <- err
			}()
		}
		wg.Wait()
		d := time.Since(start)
		close(errs)
		for err := range errs {
			if err != nil {
				return d, err
			}
		}
		return d, nil
	}
	dials0 := t.dials.Load()
	defer func() {
		if d := t.dials.Load() - dials0; d > int64(max(op.concurrent, 1)) {
			r.note = joinNote(r.note, fmt.Sprintf("⚠ %d new TCP connections for %d requests (connections not kept alive)", d, (b.cfg.warmup+len(r.samples))*max(op.concurrent, 1)))
		}
	}()
	for i := 0; i < b.cfg.warmup; i++ {
		if _, err := one(); err != nil {
			r.na = describeErr(err)
			return r
		}
	}
	deadline := time.Now().Add(b.cfg.opBudget)
	for len(r.samples) < b.cfg.samples {
		d, err := one()
		if err != nil {
			r.na = describeErr(err)
			r.samples = nil
			return r
		}
		r.samples = append(r.samples, d)
		if time.Now().After(deadline) && len(r.samples) >= b.cfg.minSamples {
			r.note = joinNote(r.note, fmt.Sprintf("%d samples (time budget)", len(r.samples)))
			break
		}
	}
	return r
}

// decodeShape decodes an answer as the client that asked for it would: JSON,
// or protobuf when accept asked for it (then only kind and item count).
func decodeShape(body []byte, accept string) (listShape, error) {
	var shape listShape
	if accept == protoAccept {
		kind, items, err := decodeProto(body)
		if err != nil {
			if bytes.HasPrefix(body, []byte("{")) {
				return shape, errors.New("n/a (asked for protobuf, answered JSON)")
			}
			return shape, errors.New("failed: undecodable protobuf: " + truncate(err.Error(), 80))
		}
		shape.Kind, shape.Items = kind, make([]json.RawMessage, items)
		return shape, nil
	}
	if err := json.Unmarshal(body, &shape); err != nil {
		return shape, errors.New("failed: undecodable body: " + truncate(err.Error(), 80))
	}
	return shape, nil
}

func describeErr(err error) string {
	if notServed(err) {
		return "n/a (" + err.Error() + ")"
	}
	return "failed: " + truncate(err.Error(), 120)
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
