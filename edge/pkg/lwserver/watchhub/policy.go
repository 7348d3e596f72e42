package watchhub

import "time"

// EvictionPolicy is the one slow-watcher rule of lwserver
// (docs/architecture.md, "Slow-watcher eviction"): what a watcher that does
// not keep up may pin, and how fast it is cut off once it reaches that.
// k8s.io/apiserver's cacher names its rule the same way (time_budget.go:
// how long the dispatcher may block on one watcher); ours never blocks the
// writer, it bounds memory instead.
//
// What one watcher can pin, end to end:
//
//	hub queue     MaxQueueEvents deliveries / MaxQueueBytes of objects
//	              (objects are shared between watchers; the queue holds
//	              references), then eviction: the queue is dropped at once
//	stream        one batch being written (handlers' stream buffer, 64 KiB
//	              of references to shared frames plus small copies)
//	kernel        the connection's send buffer, SendBufferBytes (SO_SNDBUF;
//	              Linux doubles the value for its bookkeeping)
//
// A watcher whose client stops reading therefore fills its socket, then its
// queue, and is evicted; its stream is then given CutOffGrace to write what
// it holds (the 410 ERROR event included) before its connection (HTTP/1.1)
// or its stream (HTTP/2) is closed. A client that reads, but no batch of
// which completes within WriteTimeout, is cut off too (a stalled connection
// that gets too few events to overflow its queue).
//
// The hub applies the queue bounds; the HTTP layer (handlers' watch stream)
// applies the others, reading them from Hub.EvictionPolicy.
type EvictionPolicy struct {
	// MaxQueueEvents bounds a watcher's backlog (deliveries published but
	// not yet taken by its reader). Zero or negative: DefaultMaxQueueEvents.
	MaxQueueEvents int
	// MaxQueueBytes bounds the object bytes of that backlog (the objects
	// the deliveries will send). A single event larger than MaxQueueBytes
	// is still accepted into an empty queue, so an oversized object cannot
	// evict every watcher forever. Zero or negative: DefaultMaxQueueBytes.
	MaxQueueBytes int64
	// SendBufferBytes is the kernel send buffer (SO_SNDBUF) of a connection
	// that carries a watch stream, set when the stream begins. Without it
	// Linux grows the buffer of a connection whose peer does not read up to
	// net.ipv4.tcp_wmem's maximum (4 MiB by default): 500 stalled watchers
	// held about 1 GiB of kernel memory. The cost is throughput on a long
	// fat link (a window of this size per round trip), which watch streams
	// do not need. On an HTTP/2 connection it also bounds the other
	// requests multiplexed on it. It must hold two segments of the
	// loopback's 64 KiB MSS (the kernel doubles the value): with 32 KiB
	// only one fits, every segment then waits for the client's delayed ACK
	// (~40 ms), and a stream's rate fell to ~1.6 MB/s (100 watches from
	// resourceVersion=0 at 1,000 pods: 2.45 s at 32 KiB, 0.23 s at 64 KiB;
	// 500 stalled watchers: 24.5 vs 73.3 MiB of send queues). Zero:
	// DefaultSendBufferBytes; negative leaves the kernel's autotuning.
	SendBufferBytes int
	// CutOffGrace is how long an evicted watcher's stream may still take to
	// write what it holds, the ERROR event included, before its connection
	// or HTTP/2 stream is closed. Zero or negative: DefaultCutOffGrace.
	CutOffGrace time.Duration
	// WriteTimeout bounds writing one batch of events to a client: a client
	// that does not take a batch within it (measured from 1× to 1.5× of it,
	// see handlers' streamOut.deadline) is cut off. Zero or negative:
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// The policy's defaults. lwserver's Config refers to them (one owner).
const (
	DefaultMaxQueueEvents  = 1000
	DefaultMaxQueueBytes   = 16 << 20
	DefaultSendBufferBytes = 64 << 10
	DefaultCutOffGrace     = 2 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
)

// DefaultEvictionPolicy is the policy with every default filled in.
func DefaultEvictionPolicy() EvictionPolicy { return EvictionPolicy{}.withDefaults() }

// withDefaults fills the zero fields.
func (p EvictionPolicy) withDefaults() EvictionPolicy {
	if p.MaxQueueEvents <= 0 {
		p.MaxQueueEvents = DefaultMaxQueueEvents
	}
	if p.MaxQueueBytes <= 0 {
		p.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if p.SendBufferBytes == 0 {
		p.SendBufferBytes = DefaultSendBufferBytes
	}
	if p.CutOffGrace <= 0 {
		p.CutOffGrace = DefaultCutOffGrace
	}
	if p.WriteTimeout <= 0 {
		p.WriteTimeout = DefaultWriteTimeout
	}
	return p
}

// overflows reports whether a delivery of size bytes would overflow a queue
// that holds queued deliveries of queuedBytes: the watcher is then evicted.
// An empty queue takes any delivery (see MaxQueueBytes).
func (p *EvictionPolicy) overflows(queued int, queuedBytes, size int64) bool {
	return queued > 0 && (queued >= p.MaxQueueEvents || queuedBytes+size > p.MaxQueueBytes)
}
