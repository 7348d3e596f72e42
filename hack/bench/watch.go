package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// framer splits a watch stream into events cheaply. kube-apiserver writes one
// JSON object per line; a server that does not is still framed correctly by
// a brace scanner. The mode is decided by what follows the first event.
type framer struct {
	r          io.Reader
	buf        []byte
	start, end int
	mode       int // 0 unknown, 1 newline-delimited, 2 brace scanning
	checkNext  bool
	readErr    error
}

func newFramer(r io.Reader) *framer { return &framer{r: r, buf: make([]byte, 64<<10)} }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// objectEnd returns the length of the JSON object at the start of b, or -1
// when b does not hold a complete one yet.
func objectEnd(b []byte) int {
	depth, inStr, esc := 0, false, false
	for i, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// next returns the next event; the slice is valid until the next call.
func (f *framer) next() ([]byte, error) {
	for {
		data := f.buf[f.start:f.end]
		if f.checkNext && f.mode == 0 {
			for _, c := range data {
				if c == '\n' {
					f.mode = 1
					break
				}
				if !isSpace(c) {
					f.mode = 2
					break
				}
			}
		}
		// Skip leading whitespace.
		i := 0
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		f.start += i
		data = data[i:]
		if len(data) > 0 {
			if f.mode == 1 {
				if k := bytes.IndexByte(data, '\n'); k >= 0 {
					f.start += k + 1
					return bytes.TrimRight(data[:k], " \r\t"), nil
				}
				if f.readErr != nil { // last event without its newline
					f.start = f.end
					return data, nil
				}
			} else if e := objectEnd(data); e > 0 {
				f.start += e
				if f.mode == 0 {
					f.checkNext = true
				}
				return data[:e], nil
			}
		}
		if f.readErr != nil {
			return nil, f.readErr
		}
		// Need more bytes: compact, grow, read.
		if f.start > 0 {
			n := copy(f.buf, f.buf[f.start:f.end])
			f.start, f.end = 0, n
		}
		if f.end == len(f.buf) {
			nb := make([]byte, 2*len(f.buf))
			copy(nb, f.buf[:f.end])
			f.buf = nb
		}
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		if err != nil {
			f.readErr = err
		}
	}
}

var seqKey = []byte(`"` + seqAnnotation + `":"`)

// watchRun is shared by the watchers of one phase.
type watchRun struct {
	expect    int // initial ADDED events per watcher (0: not waiting for any)
	start     time.Time
	seqBase   int64
	sendNanos []atomic.Int64 // since start, per update (index seq-seqBase); 0 = not sent
	delivered atomic.Int64
}

type watcher struct {
	connected   chan struct{}
	initialDone chan struct{}
	exited      chan struct{}
	connOnce    sync.Once
	initOnce    sync.Once

	added       int
	initialAt   time.Duration
	lat         []time.Duration
	latSeq      []int32 // update index of each lat entry
	unattrib    int
	errorEvents int
	errMu       sync.Mutex
	err         string
}

func (w *watcher) setErr(s string) {
	w.errMu.Lock()
	if w.err == "" {
		w.err = s
	}
	w.errMu.Unlock()
}

func (w *watcher) getErr() string {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func newWatcher() *watcher {
	return &watcher{connected: make(chan struct{}), initialDone: make(chan struct{}), exited: make(chan struct{})}
}

func (w *watcher) run(ctx context.Context, c *http.Client, url string, r *watchRun) {
	defer close(w.exited)
	defer w.initOnce.Do(func() { close(w.initialDone) })
	defer w.connOnce.Do(func() { close(w.connected) })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		w.setErr(err.Error())
		return
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.setErr(err.Error())
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		w.setErr((&statusError{resp.StatusCode, string(b)}).Error())
		return
	}
	w.connOnce.Do(func() { close(w.connected) })
	if r.expect == 0 {
		w.initOnce.Do(func() { close(w.initialDone) })
	}
	f := newFramer(resp.Body)
	for {
		ev, err := f.next()
		if err != nil {
			if ctx.Err() == nil {
				if errors.Is(err, io.EOF) {
					w.setErr("watch stream ended")
				} else {
					w.setErr(err.Error())
				}
			}
			return
		}
		typ := eventType(ev)
		switch typ {
		case "ADDED":
			w.added++
			if w.added == r.expect {
				w.initialAt = time.Since(r.start)
				w.initOnce.Do(func() { close(w.initialDone) })
			}
		case "MODIFIED":
			k := bytes.Index(ev, seqKey)
			if k < 0 {
				w.unattrib++
				continue
			}
			rest := ev[k+len(seqKey):]
			e := bytes.IndexByte(rest, '"')
			seq, perr := strconv.ParseInt(string(rest[:max(e, 0)]), 10, 64)
			i := seq - r.seqBase
			if perr != nil || i < 0 || i >= int64(len(r.sendNanos)) {
				w.unattrib++
				continue
			}
			sent := r.sendNanos[i].Load()
			if sent == 0 {
				w.unattrib++
				continue
			}
			w.lat = append(w.lat, time.Since(r.start)-time.Duration(sent))
			w.latSeq = append(w.latSeq, int32(i))
			r.delivered.Add(1)
		case "ERROR":
			w.errorEvents++
			w.setErr("ERROR event: " + truncate(string(ev), 160))
		}
	}
}

// eventType reads the event type from the usual prefix, falling back to a decode.
func eventType(ev []byte) string {
	const p = `{"type":"`
	if bytes.HasPrefix(ev, []byte(p)) {
		rest := ev[len(p):]
		for _, t := range [...]string{"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"} {
			if len(rest) > len(t) && rest[len(t)] == '"' && string(rest[:len(t)]) == t {
				return t
			}
		}
	}
	var t struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(ev, &t)
	return t.Type
}

// watchPhaseResult is what one (N, W) watch phase measured.
type watchPhaseResult struct {
	W          int
	initial    time.Duration // until every watcher has all N initial events
	initialNA  string
	initNote   string
	lat        []time.Duration // update → delivery, all deliveries
	lastLat    []time.Duration // per update: until its last delivery (updates delivered to every watcher)
	ack        []time.Duration // update → durable ack
	latNA      string
	latNote    string
	peakRSS    int64 // during the phase
	peakAnon   int64
	hwm        int64 // VmHWM after the phase
	skippedRV0 bool
}

// watchPhase opens W watches, waits for the initial events (from
// resourceVersion=0) or, when fromRV0 is false, just for the streams to be
// open (watching from the current revision), then injects updates at a
// steady rate and measures update → delivery latency to every watcher.
func (b *bench) watchPhase(base, sock string, n, W int, fromRV0 bool, ds *dataSet, pid int) (res watchPhaseResult) {
	res = watchPhaseResult{W: W, skippedRV0: !fromRV0}
	var ms *memSampler
	if pid > 0 {
		ms = startMemSampler(pid)
	}
	defer func() {
		if ms != nil {
			res.peakRSS, res.peakAnon = ms.stop()
			_, res.hwm, _ = procMem(pid)
		}
	}()
	tr := newTransport()
	tr.MaxIdleConnsPerHost = 0
	tr.ResponseHeaderTimeout = 30 * time.Second
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	url := base + "/api/v1/pods?watch=true&resourceVersion=0"
	r := &watchRun{expect: n}
	if !fromRV0 {
		r.expect = 0
		rv, err := b.currentRV(base)
		if err != nil {
			res.initialNA = "skipped"
			res.latNA = describeErr(err)
			return res
		}
		url = base + "/api/v1/pods?watch=true&resourceVersion=" + rv
	}
	updates := int(float64(b.cfg.updateRate) * b.cfg.updateDur.Seconds())
	r.seqBase = b.seq.Add(int64(updates)) - int64(updates)
	r.sendNanos = make([]atomic.Int64, updates)

	ctx, cancel := context.WithCancel(context.Background())
	ws := make([]*watcher, W)
	cpu0 := takeCPU(pid)
	r.start = time.Now()
	for i := range ws {
		ws[i] = newWatcher()
		go ws[i].run(ctx, client, url, r)
	}
	defer func() {
		cancel()
		deadline := time.After(15 * time.Second)
		for _, w := range ws {
			select {
			case <-w.exited:
			case <-deadline:
				return
			}
		}
	}()

	// Phase 1: initial events (or just open streams).
	timeout := time.After(b.cfg.initTimeout)
	timedOut := false
	for _, w := range ws {
		select {
		case <-w.initialDone:
		case <-timeout:
			timedOut = true
		}
		if timedOut {
			break
		}
	}
	failed, complete, firstErr := 0, 0, ""
	var last time.Duration
	for _, w := range ws {
		select {
		case <-w.initialDone:
			if fromRV0 && w.initialAt > 0 {
				complete++
				last = max(last, w.initialAt)
			}
		default:
		}
		if e := w.getErr(); e != "" {
			failed++
			if firstErr == "" {
				firstErr = e
			}
		}
	}
	switch {
	case failed == W:
		res.initialNA = describeWatchErr(firstErr)
		res.latNA = res.initialNA
		return res
	case !fromRV0:
		res.initialNA = "skipped"
	case timedOut || complete < W:
		res.initialNA = fmt.Sprintf("timeout: %d/%d watchers complete after %s", complete, W, b.cfg.initTimeout)
		if failed > 0 {
			res.initialNA += fmt.Sprintf(" (%d failed: %s)", failed, truncate(firstErr, 80))
		}
	default:
		res.initial = last
	}
	if failed > 0 {
		res.initNote = fmt.Sprintf("%d/%d watchers failed: %s", failed, W, truncate(firstErr, 100))
	}
	if fromRV0 {
		res.initNote = joinNote(res.initNote, takeCPU(pid).since(cpu0))
	}
	if ms != nil {
		ms.sample()
	}
	// Settle before the update phase: the server registers the last streams
	// (or finishes with the initial burst), the client collects its garbage.
	runtime.GC()
	time.Sleep(500 * time.Millisecond)

	// Phase 2: steady updates.
	if sock == "" || ds == nil || ds.n == 0 {
		res.latNA = "n/a (needs bench-seeded pods and the ingress socket)"
		return res
	}
	active := 0
	for _, w := range ws {
		if w.getErr() == "" {
			active++
		}
	}
	var ackMu sync.Mutex
	acks := make([]time.Duration, 0, updates)
	var ackErrs atomic.Int64
	var ackFirstErr atomic.Value
	var acked atomic.Int64
	sess, err := dialSession(sock, func(m *replyMsg, at time.Time) {
		acked.Add(1)
		if m.Route.Operation != "response" {
			ackErrs.Add(1)
			ackFirstErr.CompareAndSwap(nil, truncate(string(m.Content), 120))
			return
		}
		seq, err := strconv.ParseInt(m.Header.ParentMsgID[len(updPrefix):], 10, 64)
		if err != nil || seq < r.seqBase || seq >= r.seqBase+int64(updates) {
			return
		}
		sent := r.sendNanos[seq-r.seqBase].Load()
		ackMu.Lock()
		acks = append(acks, at.Sub(r.start)-time.Duration(sent))
		ackMu.Unlock()
	})
	if err != nil {
		res.latNA = "failed: ingress: " + err.Error()
		return res
	}
	defer sess.close()
	interval := time.Second / time.Duration(b.cfg.updateRate)
	cpu1 := takeCPU(pid)
	next := time.Now()
	for k := 0; k < updates; k++ {
		seq := r.seqBase + int64(k)
		i := ds.nextUpdate()
		rv := b.cloudRV.Add(1)
		msg := appendMessage(nil, updPrefix+strconv.FormatInt(seq, 10), "update",
			podNamespace(i)+"/pod/"+podName(i), rv, makePod(i, rv, seq))
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		r.sendNanos[k].Store(int64(time.Since(r.start)))
		if err := sess.send(msg); err != nil {
			res.latNA = "failed: ingress write: " + err.Error()
			return res
		}
	}
	expected := int64(updates * active)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (r.delivered.Load() < expected || acked.Load() < int64(updates)) {
		time.Sleep(5 * time.Millisecond)
	}
	cpuNote := takeCPU(pid).since(cpu1)
	cancel()
	unattrib, stuck := 0, 0
	exitDeadline := time.After(10 * time.Second)
	lastAt := make([]time.Duration, updates)
	count := make([]int, updates)
	for _, w := range ws {
		select {
		case <-w.exited:
			res.lat = append(res.lat, w.lat...)
			for j, d := range w.lat {
				k := w.latSeq[j]
				lastAt[k] = max(lastAt[k], d)
				count[k]++
			}
			unattrib += w.unattrib
		case <-exitDeadline:
			stuck++
		}
	}
	if stuck > 0 {
		res.latNote = joinNote(res.latNote, fmt.Sprintf("%d watchers did not stop", stuck))
	}
	for k := range lastAt {
		if count[k] == active {
			res.lastLat = append(res.lastLat, lastAt[k])
		}
	}
	ackMu.Lock()
	res.ack = append(res.ack, acks...)
	ackMu.Unlock()
	got := r.delivered.Load()
	if got == 0 {
		res.latNA = fmt.Sprintf("failed: no update delivered (%d acks, %d errors)", acked.Load(), ackErrs.Load())
		if v := ackFirstErr.Load(); v != nil {
			res.latNA += ": " + v.(string)
		}
		return res
	}
	res.latNote = joinNote(fmt.Sprintf("%d updates at %d/s, %d/%d deliveries", updates, b.cfg.updateRate, got, expected), res.latNote)
	if unattrib > 0 {
		res.latNote += fmt.Sprintf(", %d unattributed MODIFIED", unattrib)
	}
	if e := ackErrs.Load(); e > 0 {
		res.latNote += fmt.Sprintf(", %d error replies", e)
	}
	if len(res.lastLat) > 0 {
		res.latNote = joinNote(res.latNote, fmt.Sprintf("until the last of the %d watchers has it: p50 %s, p99 %s", active,
			fmtVal(ms2(percentile(res.lastLat, 0.5)), "ms"), fmtVal(ms2(percentile(res.lastLat, 0.99)), "ms")))
	}
	res.latNote = joinNote(res.latNote, cpuNote)
	return res
}

const updPrefix = "bench-upd-"

func describeWatchErr(s string) string {
	for _, code := range []string{"HTTP 404", "HTTP 405", "HTTP 406", "HTTP 501"} {
		if len(s) >= len(code) && s[:len(code)] == code {
			return "n/a (" + truncate(s, 100) + ")"
		}
	}
	return "failed: " + truncate(s, 100)
}

// currentRV returns the store revision from a one-item list.
func (b *bench) currentRV(base string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
	defer cancel()
	_, body, err := fetch(ctx, b.client, base+"/api/v1/pods?limit=1", "", true)
	if err != nil {
		return "", err
	}
	var l listShape
	if err := json.Unmarshal(body, &l); err != nil {
		return "", err
	}
	if l.Metadata.ResourceVersion == "" {
		return "", errors.New("list has no resourceVersion")
	}
	return l.Metadata.ResourceVersion, nil
}

// cpuSample is the CPU time used so far by edgecore (pid) and by the bench.
type cpuSample struct {
	at           time.Time
	server, self time.Duration
	hasServer    bool
}

func takeCPU(pid int) cpuSample {
	c := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pid > 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			// Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
			if i := bytes.LastIndexByte(b, ')'); i >= 0 {
				f := strings.Fields(string(b[i+1:]))
				if len(f) > 12 {
					u, _ := strconv.ParseInt(f[11], 10, 64)
					s, _ := strconv.ParseInt(f[12], 10, 64)
					c.server = time.Duration(u+s) * (time.Second / 100) // USER_HZ
					c.hasServer = true
				}
			}
		}
	}
	return c
}

// since describes the CPU used between c0 and c, in cores.
func (c cpuSample) since(c0 cpuSample) string {
	wall := c.at.Sub(c0.at).Seconds()
	if wall <= 0 {
		return ""
	}
	self := (c.self - c0.self).Seconds()
	if !c.hasServer {
		return fmt.Sprintf("bench client CPU %.2f cores", self/wall)
	}
	return fmt.Sprintf("CPU: edgecore %.2f cores, bench client %.2f cores", (c.server-c0.server).Seconds()/wall, self/wall)
}
