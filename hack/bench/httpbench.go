package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"

func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:  true, // measure the server, not gzip
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		ReadBufferSize:      256 << 10,
		WriteBufferSize:     16 << 10,
	}
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
func (b *bench) measureOp(base string, op opSpec) opResult {
	var r opResult
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
	n, body, err := fetch(ctx, b.client, base+op.path, op.accept, true)
	cancel()
	if err != nil {
		r.na = describeErr(err)
		return r
	}
	r.bytes = n
	if op.validate != nil {
		var shape listShape
		if err := json.Unmarshal(body, &shape); err != nil {
			r.na = "undecodable body: " + truncate(err.Error(), 80)
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
				_, _, err := fetch(ctx, b.client, base+op.path, op.accept, false)
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
