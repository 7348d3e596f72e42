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
	expect    int  // initial ADDED events per watcher (0: not waiting for any)
	proto     bool // protobuf stream
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
	req.Header.Set("Accept", map[bool]string{false: "application/json", true: protoWatchAccept}[r.proto])
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
	if r.proto && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.kubernetes.protobuf") {
		w.setErr("n/a (asked for a protobuf watch, answered " + resp.Header.Get("Content-Type") + ")")
		return
	}
	w.connOnce.Do(func() { close(w.connected) })
	if r.expect == 0 {
		w.initOnce.Do(func() { close(w.initialDone) })
	}
	next := newFramer(resp.Body).next
	if r.proto {
		next = newProtoFramer(resp.Body).next
	}
	for {
		ev, err := next()
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
		typ, seqText := eventType(ev), []byte(nil)
		if r.proto {
			typ = protoEventType(ev)
		}
		switch typ {
		case "ADDED":
			w.added++
			if w.added == r.expect {
				w.initialAt = time.Since(r.start)
				w.initOnce.Do(func() { close(w.initialDone) })
			}
		case "MODIFIED":
			if r.proto {
				seqText = protoSeq(ev)
			} else if k := bytes.Index(ev, seqKey); k >= 0 {
				rest := ev[k+len(seqKey):]
				seqText = rest[:max(bytes.IndexByte(rest, '"'), 0)]
			}
			w.delivered(r, seqText)
		case "ERROR":
			w.errorEvents++
			w.setErr("ERROR event: " + truncate(string(ev), 160))
		}
	}
}

// delivered records the delivery of the update whose sequence number is
// seqText (nil: not one of this phase's updates).
func (w *watcher) delivered(r *watchRun, seqText []byte) {
	seq, perr := strconv.ParseInt(string(seqText), 10, 64)
	i := seq - r.seqBase
	if seqText == nil || perr != nil || i < 0 || i >= int64(len(r.sendNanos)) {
		w.unattrib++
		return
	}
	sent := r.sendNanos[i].Load()
	if sent == 0 {
		w.unattrib++
		return
	}
	w.lat = append(w.lat, time.Since(r.start)-time.Duration(sent))
	w.latSeq = append(w.latSeq, int32(i))
	r.delivered.Add(1)
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
	lastLat    []time.Duration // per update: until its last watcher had it (updates delivered to every watcher)
	ack        []time.Duration // update → durable ack
	latNA      string
	latNote    string
	peak       []memPeak // per process of the target, during the phase
	hwm        int64     // VmHWM after the phase
	skippedRV0 bool
}

// watchMode is how one watch phase connects.
type watchMode struct {
	fromRV0 bool // start at resourceVersion=0 (all initial events); else at the current revision
	proto   bool // protobuf watch stream (client-go's default for built-in kinds)
	h2      bool // HTTP/2 over TLS (the target must have TLS)
	// conns, with h2: the watchers share this many connections (1: all
	// multiplexed on one, as client-go does for the informers of one
	// client; 0 or W: one connection each). HTTP/1.1 always uses one each.
	conns     int
	noUpdates bool // initial events only
}

func (m watchMode) String() string {
	s := "HTTP/1.1"
	if m.h2 {
		s = "HTTP/2"
	}
	if m.proto {
		s += ", protobuf"
	}
	return s
}

// watchPhase opens W watches, waits for the initial events (from
// resourceVersion=0) or, when not fromRV0, just for the streams to be
// open (watching from the current revision), then sends updates at a
// steady rate and measures update → delivery latency to every watcher.
// Long because it is the phase's script: connect, initial events, updates.
func (b *bench) watchPhase(t *target, n, W int, mode watchMode, ds *dataSet) (res watchPhaseResult) {
	res = watchPhaseResult{W: W, skippedRV0: !mode.fromRV0}
	samplers := startSamplers(t.procs)
	defer func() {
		res.peak = stopSamplers(samplers)
		if pid := t.pid(); pid > 0 {
			_, res.hwm, _ = procMem(pid)
		}
	}()
	clients, dials, closeAll := watchClients(t, W, mode)
	defer closeAll()
	if mode.h2 {
		// Open each client's connection first: watches started together on
		// a client without one would each dial (the spares are closed once
		// HTTP/2 is up, but they skew the connection count).
		for _, c := range clients {
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
			_, _, err := fetch(ctx, c, t.base+"/api/v1/pods?limit=1", "", false)
			cancel()
			if err != nil {
				res.initialNA, res.latNA = describeErr(err), describeErr(err)
				return res
			}
		}
	}

	url := t.base + "/api/v1/pods?watch=true&resourceVersion=0"
	r := &watchRun{expect: n, proto: mode.proto}
	if !mode.fromRV0 {
		r.expect = 0
		rv, err := b.currentRV(t)
		if err != nil {
			res.initialNA = "skipped"
			res.latNA = describeErr(err)
			return res
		}
		url = t.base + "/api/v1/pods?watch=true&resourceVersion=" + rv
	}
	updates := int(float64(b.cfg.updateRate) * b.cfg.updateDur.Seconds())
	if mode.noUpdates {
		updates = 0
	}
	r.seqBase = b.seq.Add(int64(updates)) - int64(updates)
	r.sendNanos = make([]atomic.Int64, updates)

	ctx, cancel := context.WithCancel(context.Background())
	ws := make([]*watcher, W)
	cpu0 := takeCPU(t.pid())
	r.start = time.Now()
	for i := range ws {
		ws[i] = newWatcher()
		go ws[i].run(ctx, clients[i%len(clients)], url, r)
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
	active := b.initialEvents(ws, mode, &res)
	if active == 0 {
		return res
	}
	if strings.HasPrefix(res.initialNA, "timeout") {
		// Watchers still busy with their initial events would time those,
		// not the delivery of updates.
		res.latNA = "n/a (the watchers did not get their initial events in time)"
		return res
	}
	if mode.fromRV0 {
		res.initNote = joinNote(res.initNote, takeCPU(t.pid()).since(cpu0, t.name))
	}
	if mode.h2 {
		res.initNote = joinNote(res.initNote, fmt.Sprintf("%d TCP connections", dials.Load()))
	}
	for _, s := range samplers {
		s.sample()
	}
	if mode.noUpdates {
		res.latNA = "not measured"
		return res
	}
	// Settle before the update phase: the server registers the last streams
	// (or finishes with the initial burst), the client collects its garbage.
	runtime.GC()
	time.Sleep(500 * time.Millisecond)
	if t.newSink == nil || ds == nil || ds.n == 0 {
		res.latNA = "n/a (needs bench-seeded pods and a way to update them)"
		return res
	}
	b.updatePhase(t, ws, r, active, updates, ds, cancel, &res)
	return res
}

// watchClients returns the HTTP clients the W watchers use: one per
// connection wanted (HTTP/2), or one HTTP/1.1 client that opens a connection
// per watch. dials counts the TCP connections they make.
func watchClients(t *target, W int, mode watchMode) ([]*http.Client, *atomic.Int64, func()) {
	dials := new(atomic.Int64)
	k := 1
	if mode.h2 && mode.conns != 1 {
		k = W
		if mode.conns > 0 {
			k = min(mode.conns, W)
		}
	}
	var trs []*http.Transport
	clients := make([]*http.Client, k)
	for i := range clients {
		tr := newTransport(t.tls, mode.h2, dials)
		tr.MaxIdleConnsPerHost = 0
		tr.ResponseHeaderTimeout = 30 * time.Second
		trs = append(trs, tr)
		clients[i] = &http.Client{Transport: tr}
	}
	return clients, dials, func() {
		for _, tr := range trs {
			tr.CloseIdleConnections()
		}
	}
}

// initialEvents waits until every watcher has its initial events (or its
// stream is open) and records the time; it returns how many watchers are
// still healthy (0: the phase cannot go on).
func (b *bench) initialEvents(ws []*watcher, mode watchMode, res *watchPhaseResult) int {
	W := len(ws)
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
			if mode.fromRV0 && w.initialAt > 0 {
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
		return 0
	case !mode.fromRV0:
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
	return W - failed
}

// updatePhase sends updates at a steady rate with the watchers open and
// collects every delivery and ack.
func (b *bench) updatePhase(t *target, ws []*watcher, r *watchRun, active, updates int, ds *dataSet, stopWatchers func(), res *watchPhaseResult) {
	var ackMu sync.Mutex
	acks := make([]time.Duration, 0, updates)
	var ackErrs, acked atomic.Int64
	var ackFirstErr atomic.Value
	sink, err := t.newSink(func(seq int64, at time.Time, errText string) {
		if seq < r.seqBase || seq >= r.seqBase+int64(updates) {
			return
		}
		acked.Add(1)
		if errText != "" {
			ackErrs.Add(1)
			ackFirstErr.CompareAndSwap(nil, errText)
			return
		}
		sent := r.sendNanos[seq-r.seqBase].Load()
		ackMu.Lock()
		acks = append(acks, at.Sub(r.start)-time.Duration(sent))
		ackMu.Unlock()
	})
	if err != nil {
		res.latNA = "failed: " + err.Error()
		return
	}
	defer sink.close()
	interval := time.Second / time.Duration(b.cfg.updateRate)
	cpu1 := takeCPU(t.pid())
	next := time.Now()
	for k := 0; k < updates; k++ {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		r.sendNanos[k].Store(int64(time.Since(r.start)))
		if err := sink.send(ds.nextUpdate(), r.seqBase+int64(k)); err != nil {
			res.latNA = "failed: update: " + err.Error()
			return
		}
	}
	expected := int64(updates * active)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (r.delivered.Load() < expected || acked.Load() < int64(updates)) {
		time.Sleep(5 * time.Millisecond)
	}
	cpuNote := takeCPU(t.pid()).since(cpu1, t.name)
	stopWatchers()
	b.collectLatency(ws, r, active, updates, res)
	ackMu.Lock()
	res.ack = append(res.ack, acks...)
	ackMu.Unlock()
	got := r.delivered.Load()
	if got == 0 {
		res.latNA = fmt.Sprintf("failed: no update delivered (%d acks, %d errors)", acked.Load(), ackErrs.Load())
		if v := ackFirstErr.Load(); v != nil {
			res.latNA += ": " + v.(string)
		}
		return
	}
	res.latNote = joinNote(fmt.Sprintf("%d updates at %d/s, %d/%d deliveries; every delivery p50 %s, p99 %s", updates, b.cfg.updateRate, got, expected,
		fmtVal(ms2(percentile(res.lat, 0.5)), "ms"), fmtVal(ms2(percentile(res.lat, 0.99)), "ms")), res.latNote)
	if e := ackErrs.Load(); e > 0 {
		res.latNote += fmt.Sprintf(", %d failed updates (first: %s)", e, ackFirstErr.Load())
	}
	res.latNote = joinNote(res.latNote, cpuNote)
}

// collectLatency gathers the watchers' deliveries once they have stopped:
// every delivery, and per update the time until its last watcher had it.
func (b *bench) collectLatency(ws []*watcher, r *watchRun, active, updates int, res *watchPhaseResult) {
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
	missed := 0
	for k := range lastAt {
		if count[k] == active {
			res.lastLat = append(res.lastLat, lastAt[k])
		} else {
			missed++
		}
	}
	if missed > 0 {
		res.latNote = joinNote(res.latNote, fmt.Sprintf("%d updates did not reach every watcher (left out of the p50/p99)", missed))
	}
	if unattrib > 0 {
		res.latNote = joinNote(res.latNote, fmt.Sprintf("%d unattributed MODIFIED", unattrib))
	}
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
func (b *bench) currentRV(t *target) (string, error) {
	var l listShape
	if err := b.getJSON(t, "/api/v1/pods?limit=1", &l); err != nil {
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
func (c cpuSample) since(c0 cpuSample, server string) string {
	wall := c.at.Sub(c0.at).Seconds()
	if wall <= 0 {
		return ""
	}
	self := (c.self - c0.self).Seconds()
	if !c.hasServer {
		return fmt.Sprintf("bench client CPU %.2f cores", self/wall)
	}
	return fmt.Sprintf("CPU: %s %.2f cores, bench client %.2f cores", server, (c.server-c0.server).Seconds()/wall, self/wall)
}
