package handlers

import (
	"context"
	"net"
	"sync"
)

// The kernel's share of a watch stream (issue: stalled watchers pinned about
// 1 GiB in socket send queues). Linux grows the send buffer of a connection
// whose peer does not read up to net.ipv4.tcp_wmem's maximum; the eviction
// policy's SendBufferBytes caps it (SO_SNDBUF, which also turns the
// autotuning off) on every connection that carries a watch stream, and
// watchConns puts what those buffers hold on /metrics.

// connKey is the context key of the connection a request arrived on.
type connKey struct{}

// ConnContext is http.Server.ConnContext for lwserver's servers: it records
// each connection in its requests' context, so that a watch stream can bound
// its connection's kernel send buffer on HTTP/2 too (where the stream cannot
// take the connection over).
func (h *Handler) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// connOf is the connection r arrived on (ConnContext), or nil.
func connOf(ctx context.Context) net.Conn {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	return c
}

// tcpOf is the TCP connection under c (through TLS and other wrappers that
// expose NetConn), or nil.
func tcpOf(c net.Conn) *net.TCPConn {
	for range 8 {
		switch t := c.(type) {
		case *net.TCPConn:
			return t
		case interface{ NetConn() net.Conn }:
			c = t.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// watchConns is the set of connections carrying watch streams (HTTP/2 may
// carry many on one), with the number of streams on each.
type watchConns struct {
	sendBuffer int // EvictionPolicy.SendBufferBytes; <= 0: leave the kernel's

	mu    sync.Mutex
	conns map[*net.TCPConn]int
}

func newWatchConns(sendBuffer int) *watchConns {
	return &watchConns{sendBuffer: sendBuffer, conns: map[*net.TCPConn]int{}}
}

// add bounds the send buffer of c's TCP connection (on its first stream)
// and counts the stream; release undoes the count. c may be nil or not TCP:
// nothing to bound.
func (w *watchConns) add(c net.Conn) (release func()) {
	tc := tcpOf(c)
	if tc == nil {
		return func() {}
	}
	w.mu.Lock()
	w.conns[tc]++
	first := w.conns[tc] == 1
	w.mu.Unlock()
	if first && w.sendBuffer > 0 {
		_ = tc.SetWriteBuffer(w.sendBuffer)
	}
	return func() {
		w.mu.Lock()
		if w.conns[tc]--; w.conns[tc] <= 0 {
			delete(w.conns, tc)
		}
		w.mu.Unlock()
	}
}

// sendStats is what the kernel holds for the watch connections.
type sendStats struct {
	conns int
	// queued is the bytes in their send queues (not yet sent or not yet
	// acknowledged); maxQueued the largest of one connection.
	queued, maxQueued int64
	// buffers is the sum of their send buffer limits as the kernel reports
	// them (Linux doubles SO_SNDBUF for its bookkeeping).
	buffers int64
}

// stats reads the send queues (at scrape time).
func (w *watchConns) stats() sendStats {
	w.mu.Lock()
	conns := make([]*net.TCPConn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	w.mu.Unlock()
	s := sendStats{conns: len(conns)}
	for _, c := range conns {
		queued, limit, ok := sendQueue(c)
		if !ok {
			continue
		}
		s.queued += queued
		s.maxQueued = max(s.maxQueued, queued)
		s.buffers += limit
	}
	return s
}
