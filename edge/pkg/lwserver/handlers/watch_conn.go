package handlers

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// streamOut is the body writer of one watch stream.
//
// Through net/http's ResponseWriter an event of a few KB costs several write
// system calls: the response's 2 KB buffer passes it to the chunk writer,
// which frames it into the connection's 4 KB buffer, which writes it out in
// pieces, and the flush writes the rest. With 1,000 watchers that is
// thousands of system calls per update (and as many wake-ups of the
// readers). So an HTTP/1.1 stream takes its connection over once the
// response header is out (Hijack) and frames the chunks itself: each batch
// of events is one chunk written with one writev, the frames referenced
// where they are (each event's bytes are shared by every stream), not
// copied.
//
// A hijacked connection is no longer watched by the http.Server, so the
// stream does what the server did: a goroutine reads the connection and
// ends the stream when the client goes away; the stream terminates the
// chunked body, half-closes and lets that goroutine close the connection
// once the client has closed its side (bounded, as net/http's close);
// watchServer.Wait lets shutdown wait for the streams.
//
// Without Hijack (HTTP/2, tests' recorders, NoHijack) it writes through the
// ResponseWriter as before.
type streamOut struct {
	st      *stream
	raw     net.Conn // the hijacked connection; nil: through st.w
	writev  bool     // raw takes a batch in one writev
	timeout time.Duration

	iov     net.Buffers // pending pieces; with raw, iov[0] is the chunk header
	pending int         // bytes in iov (without chunk framing)
	scratch []byte      // copies of transient pieces (write)
	// lastCopy is the iov index of the piece in scratch that starts at
	// copyStart and ends at len(scratch): the next copy extends it (-1:
	// none).
	lastCopy, copyStart int
	hdr                 [20]byte    // chunk header bytes
	vec                 net.Buffers // the array of the pieces writev takes, reused
	wv                  net.Buffers // the pieces being written (WriteTo consumes it)

	// deadlineAt is the write deadline armed on the connection.
	deadlineAt time.Time
	err        error // first write error: the stream cannot go on

	// cutMu orders the deadlines armed by the stream (deadline) and by the
	// eviction policy's cut-off (cutOff, from the publishing goroutine):
	// once cut, the stream never moves its deadline again.
	cutMu sync.Mutex
	cut   atomic.Bool
	cutAt time.Time // the cut-off deadline (zero: not cut)
	ready bool      // init has run: raw is set (or stays nil)
}

const (
	// maxPieces bounds the pieces of one chunk (writev takes 1,024).
	maxPieces = 512
	// closeLinger bounds how long a finished stream waits for the client
	// to close its side (net/http's rstAvoidanceDelay).
	closeLinger = 500 * time.Millisecond
)

var (
	crlf           = []byte("\r\n")
	lastChunkCRLF  = []byte("\r\n0\r\n\r\n")
	chunkTerminate = []byte("0\r\n\r\n")
)

// init is called once the response header has been written and flushed;
// with hijack it takes the connection over.
func (o *streamOut) init(st *stream, hijack bool) {
	o.st = st
	o.timeout = st.s.policy.WriteTimeout
	o.iov = make(net.Buffers, 1, 16)
	o.lastCopy = -1
	var conn net.Conn
	if hijack {
		var brw *bufio.ReadWriter
		var err error
		if conn, brw, err = st.rc.Hijack(); err != nil {
			conn = nil // not HTTP/1 (or a wrapper without Hijack): the ResponseWriter path
		}
		// Bytes the client sent after the request (none from HTTP clients,
		// which do not pipeline) are of no interest; buffered writes there
		// are none (the header was flushed).
		_ = brw
	}
	// writev (net.Buffers.WriteTo) only reaches a plain TCP connection; a
	// TLS connection takes one Write per piece (writePieces).
	_, o.writev = conn.(*net.TCPConn)
	o.cutMu.Lock()
	o.raw, o.ready = conn, true
	if !o.cutAt.IsZero() {
		o.setDeadlineLocked(o.cutAt) // evicted before the stream began
	}
	o.cutMu.Unlock()
	if conn != nil {
		go o.watchClient(conn)
	}
}

// cutOff arms a deadline grace from now and keeps the stream from moving it:
// a stream blocked writing to a client that does not read fails then, and
// its connection (HTTP/1.1) or HTTP/2 stream is closed. Safe to call from
// any goroutine, once or more (the first call counts).
func (o *streamOut) cutOff(grace time.Duration) {
	o.cutMu.Lock()
	defer o.cutMu.Unlock()
	if o.cut.Load() {
		return
	}
	o.cut.Store(true)
	o.cutAt = time.Now().Add(grace)
	if o.ready {
		o.setDeadlineLocked(o.cutAt)
	}
}

// setDeadlineLocked arms the write deadline on the connection or, without
// hijack, on the response (HTTP/1.1 and HTTP/2 both support it). cutMu held.
func (o *streamOut) setDeadlineLocked(at time.Time) {
	if o.raw != nil {
		_ = o.raw.SetWriteDeadline(at)
		return
	}
	_ = o.st.rc.SetWriteDeadline(at)
}

// failed reports a write error.
func (o *streamOut) failed() bool { return o.err != nil }

// failedReason is why writes failed (see stream.failedReason).
func (o *streamOut) failedReason() endReason {
	var ne net.Error
	switch {
	case o.cut.Load():
		return endEvicted
	case errors.As(o.err, &ne) && ne.Timeout(), errors.Is(o.err, os.ErrDeadlineExceeded):
		return endStalled
	}
	return endClient
}

// watchClient reads (and discards) what the client sends until it closes
// the connection or the stream has ended, then ends the stream's context
// and closes the connection.
func (o *streamOut) watchClient(conn net.Conn) {
	var b [128]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			break
		}
	}
	o.st.cancel()
	_ = conn.Close()
}

// deadline arms the write deadline before a batch. Setting a deadline is a
// timer operation; doing it for every batch of every stream is a visible
// share of a fan-out. So the deadline is moved only when less than timeout
// is left, to 1.5 × timeout ahead: a write blocked for timeout to 1.5 ×
// timeout fails and ends the stream.
func (o *streamOut) deadline() {
	if o.timeout <= 0 || o.cut.Load() {
		return
	}
	now := time.Now()
	if o.deadlineAt.Sub(now) >= o.timeout {
		return
	}
	o.cutMu.Lock()
	defer o.cutMu.Unlock()
	if o.cut.Load() {
		return // cut off meanwhile: keep its deadline
	}
	o.deadlineAt = now.Add(o.timeout + o.timeout/2)
	o.setDeadlineLocked(o.deadlineAt)
}

// write queues a copy of b. Copies written one after the other are one
// piece.
func (o *streamOut) write(b []byte) {
	if o.err != nil || len(b) == 0 {
		return
	}
	if len(o.scratch)+len(b) > cap(o.scratch) {
		// Pieces already queued keep the old array alive until written.
		o.scratch = make([]byte, 0, max(16<<10, len(b)))
		o.lastCopy = -1
	}
	off := len(o.scratch)
	o.scratch = append(o.scratch, b...)
	if last := len(o.iov) - 1; last > 0 && last == o.lastCopy {
		o.iov[last] = o.scratch[o.copyStart:len(o.scratch):len(o.scratch)]
		o.pending += len(b)
		if o.pending >= streamBufferSize {
			o.flush()
		}
		return
	}
	o.lastCopy, o.copyStart = len(o.iov), off
	o.add(o.scratch[off:len(o.scratch):len(o.scratch)])
}

// writeShared queues b itself: it must not change until written.
func (o *streamOut) writeShared(b []byte) {
	if o.err != nil || len(b) == 0 {
		return
	}
	o.add(b)
}

func (o *streamOut) add(b []byte) {
	o.iov = append(o.iov, b)
	o.pending += len(b)
	if o.pending >= streamBufferSize || len(o.iov) >= maxPieces {
		o.flush()
	}
}

// flush writes what is queued (one chunk, one system call) and, without
// hijack, flushes the ResponseWriter.
func (o *streamOut) flush() { o.writeOut(false) }

// writeOut writes the queued pieces; last appends the terminating chunk.
func (o *streamOut) writeOut(last bool) {
	if o.err != nil {
		return
	}
	if o.raw == nil {
		o.err = writePieces(o.st.w, o.iov[1:])
		if o.err == nil {
			o.err = o.st.rc.Flush()
		}
		o.reset()
		return
	}
	if o.pending == 0 && !last {
		return
	}
	// WriteTo consumes the slice it is given: keep o.vec's array for reuse.
	vec := o.vec[:0]
	if o.pending > 0 {
		h := strconv.AppendInt(o.hdr[:0], int64(o.pending), 16)
		h = append(h, '\r', '\n')
		o.iov[0] = h
		vec = append(vec, o.iov...)
		if last {
			vec = append(vec, lastChunkCRLF)
		} else {
			vec = append(vec, crlf)
		}
	} else {
		vec = append(vec, chunkTerminate)
	}
	o.vec = vec[:0]
	if o.writev {
		// A field, not a local: WriteTo takes its address (it would escape).
		o.wv = vec
		_, o.err = o.wv.WriteTo(o.raw)
		o.wv = nil
	} else {
		o.err = writePieces(o.raw, vec)
	}
	clear(o.vec[:cap(o.vec)])
	o.reset()
}

// gatherSize is how many bytes writePieces gathers per Write: a TLS
// record's worth (16 KiB), so a stream blocked on a stalled client pins no
// more than that beside what TLS itself holds.
const gatherSize = 16 << 10

// gatherBuffers are writePieces' buffers, shared between streams and held
// only while a Write is in progress.
var gatherBuffers = sync.Pool{New: func() any { b := make([]byte, 0, gatherSize); return &b }}

// writePieces writes pieces to w. Without writev (TLS, HTTP/2 and HTTP/1.1
// ResponseWriters) each Write is a TLS record, an HTTP/2 frame hand-off to
// the connection's writer, or a system call: small pieces are gathered into
// writes of gatherSize; a piece that large is written as it is.
func writePieces(w io.Writer, pieces [][]byte) error {
	bp := gatherBuffers.Get().(*[]byte)
	flat := (*bp)[:0]
	defer func() {
		*bp = flat[:0]
		gatherBuffers.Put(bp)
	}()
	for _, b := range pieces {
		if len(flat) > 0 && len(flat)+len(b) > gatherSize {
			if _, err := w.Write(flat); err != nil {
				return err
			}
			flat = flat[:0]
		}
		if len(b) >= gatherSize {
			if _, err := w.Write(b); err != nil {
				return err
			}
			continue
		}
		flat = append(flat, b...)
	}
	if len(flat) > 0 {
		_, err := w.Write(flat)
		return err
	}
	return nil
}

func (o *streamOut) reset() {
	clear(o.iov)
	o.iov = o.iov[:1]
	o.pending = 0
	o.scratch = o.scratch[:0]
	o.lastCopy = -1
	if cap(o.iov) > 4*maxPieces {
		o.iov = make(net.Buffers, 1, 16)
	}
}

// end finishes the body. Without hijack net/http terminates it when the
// handler returns. With hijack: the pending pieces and the terminating chunk
// in one write, then a half-close; the client closes its side and
// watchClient closes the connection (or after closeLinger).
func (o *streamOut) end() {
	if o.raw == nil {
		return
	}
	if o.err == nil {
		o.deadline()
		o.writeOut(true)
	}
	if o.err != nil {
		_ = o.raw.Close()
		return
	}
	if tc, ok := o.raw.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		_ = o.raw.SetReadDeadline(time.Now().Add(closeLinger))
		return
	}
	_ = o.raw.Close()
}
