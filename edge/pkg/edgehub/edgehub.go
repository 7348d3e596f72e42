// Package edgehub is edgecore's message ingress: a unix socket that takes
// newline-delimited JSON messages (docs/architecture.md §3.1), hands each to metaManager
// through beehive, and writes exactly one reply line per message on the same
// connection. Replies to messages for different objects may come back in any
// order; each carries parent_msg_id = the request's msg_id.
package edgehub

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/klog/v2"

	beehiveContext "github.com/kubeedge/beehive/pkg/core/context"

	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink"
)

// ModuleName is the ingress' beehive module name; GroupName its group.
const (
	ModuleName = "edgehub"
	GroupName  = "hub"
)

// SocketName is the socket's file name in the data directory.
const SocketName = "edgecore.sock"

// Config is edgehub's section of the edgecore config file.
type Config struct {
	Enable bool `json:"enable"`
	// Socket is the socket path; "" = <data-dir>/edgecore.sock.
	Socket string `json:"socket"`
	// SocketMode is the socket's permission bits, in octal ("0600", "0660").
	SocketMode string `json:"socketMode"`
	// MaxMessageBytes bounds one line; a longer line gets an error reply and
	// is skipped (the connection stays usable).
	MaxMessageBytes int `json:"maxMessageBytes"`
	// MaxInFlight bounds the messages of one connection that are read but
	// not yet answered; the connection is not read beyond it (back-pressure).
	MaxInFlight int `json:"maxInFlight"`
	// ContextSendModule is the beehive module messages are sent to.
	ContextSendModule string `json:"contextSendModule"`
	// Uplink syncs the node's objects from the cluster's kube-apiserver
	// (docs/uplink.md). Zero: off.
	Uplink uplink.Config `json:"uplink"`
}

// DefaultConfig is the embedded default.
func DefaultConfig() Config {
	return Config{
		Enable:            true,
		SocketMode:        "0600",
		MaxMessageBytes:   16 << 20,
		MaxInFlight:       1024,
		ContextSendModule: "metamanager",
		Uplink:            uplink.DefaultConfig(),
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SocketMode == "" {
		c.SocketMode = d.SocketMode
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.ContextSendModule == "" {
		c.ContextSendModule = d.ContextSendModule
	}
	return c
}

// Forwarder hands a message to the processing module. The reply must come
// back through Hub.Deliver with parent_msg_id = msg's msg_id.
type Forwarder func(msg model.Message)

// Hub is the ingress. Build it with New, open the socket with Listen, then
// run it as a beehive module (Start) or with Serve.
type Hub struct {
	cfg     Config
	path    string
	forward Forwarder

	ln net.Listener

	mu      sync.Mutex
	conns   map[*conn]struct{}
	pending map[string]pendingReply
	closing bool

	wg   sync.WaitGroup // connection handlers and the accept loop
	done chan struct{}  // closed by Shutdown
}

type pendingReply struct {
	c      *conn
	origID string
}

// New builds the ingress for the socket at socketPath (cfg.Socket, when set,
// wins). Messages go to cfg.ContextSendModule through beehive unless
// SetForwarder is called.
func New(cfg Config, socketPath string) *Hub {
	cfg = cfg.withDefaults()
	if cfg.Socket != "" {
		socketPath = cfg.Socket
	}
	h := &Hub{
		cfg:     cfg,
		path:    socketPath,
		conns:   map[*conn]struct{}{},
		pending: map[string]pendingReply{},
		done:    make(chan struct{}),
	}
	h.forward = func(msg model.Message) { beehiveContext.Send(cfg.ContextSendModule, msg) }
	return h
}

// SetForwarder replaces the beehive hand-off (in-process wiring and tests).
// Call before Serve.
func (h *Hub) SetForwarder(f Forwarder) { h.forward = f }

// Path is the socket path.
func (h *Hub) Path() string { return h.path }

// Name implements core.Module.
func (h *Hub) Name() string { return ModuleName }

// Group implements core.Module.
func (h *Hub) Group() string { return GroupName }

// Enable implements core.Module.
func (h *Hub) Enable() bool { return h.cfg.Enable }

// Listen opens the socket, removing a stale socket file left by a previous
// run. It fails if another process is serving on it.
func (h *Hub) Listen() error {
	mode, err := strconv.ParseUint(h.cfg.SocketMode, 8, 32)
	if err != nil || mode > 0o777 {
		return fmt.Errorf("edgehub: socketMode %q is not an octal permission", h.cfg.SocketMode)
	}
	if len(h.path) >= 108 {
		return fmt.Errorf("edgehub: socket path %q is %d bytes; unix sockets allow at most 107", h.path, len(h.path))
	}
	if fi, err := os.Lstat(h.path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("edgehub: %s exists and is not a socket", h.path)
		}
		if c, err := net.DialTimeout("unix", h.path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("edgehub: %s is in use by another process", h.path)
		}
		if err := os.Remove(h.path); err != nil {
			return fmt.Errorf("edgehub: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", h.path)
	if err != nil {
		return fmt.Errorf("edgehub: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(h.path, os.FileMode(mode)); err != nil {
		ln.Close()
		return fmt.Errorf("edgehub: %w", err)
	}
	h.ln = ln
	klog.Infof("edgehub: listening on %s", h.path)
	return nil
}

// Start implements core.Module: it serves the socket and delivers the replies
// beehive brings back until the module's channel goes away.
func (h *Hub) Start() {
	go h.Serve()
	for {
		msg, err := beehiveContext.Receive(ModuleName)
		if err != nil {
			return
		}
		if msg.IsEmpty() {
			select {
			case <-h.done:
				return
			case <-beehiveContext.Done():
				return
			default:
				continue
			}
		}
		h.Deliver(msg)
	}
}

// Serve accepts connections until Shutdown. Listen must have succeeded.
func (h *Hub) Serve() {
	h.mu.Lock()
	if h.closing || h.ln == nil {
		h.mu.Unlock()
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	for {
		nc, err := h.ln.Accept()
		if err != nil {
			select {
			case <-h.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			klog.Errorf("edgehub: accept: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c := &conn{h: h, nc: nc, sem: make(chan struct{}, h.cfg.MaxInFlight), wake: make(chan struct{}, 1)}
		h.mu.Lock()
		if h.closing {
			h.mu.Unlock()
			nc.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.wg.Add(1)
		h.mu.Unlock()
		go c.serve()
	}
}

// Deliver routes a reply to the connection its request came from.
func (h *Hub) Deliver(reply model.Message) {
	h.mu.Lock()
	p, ok := h.pending[reply.Header.ParentID]
	if ok {
		delete(h.pending, reply.Header.ParentID)
	}
	h.mu.Unlock()
	if !ok {
		klog.Warningf("edgehub: reply %s for unknown message %s dropped", reply.Header.ID, reply.Header.ParentID)
		return
	}
	reply.Header.ParentID = p.origID
	p.c.queueReply(reply)
	p.c.inflight.Done()
}

// Shutdown stops accepting connections and reading messages, waits until
// every message already read is answered and its reply written, then closes
// the connections. If ctx ends first, connections are closed at once.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if !h.closing {
		h.closing = true
		close(h.done)
		if h.ln != nil {
			h.ln.Close()
		}
		for c := range h.conns {
			// Wake the reader: it stops at the next read.
			_ = c.nc.SetReadDeadline(time.Now())
		}
	}
	h.mu.Unlock()
	finished := make(chan struct{})
	go func() { h.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.nc.Close()
		}
		h.mu.Unlock()
		return ctx.Err()
	}
}

// conn is one client connection: a reader that forwards messages and a
// writer that writes replies in the order they are delivered.
type conn struct {
	h        *Hub
	nc       net.Conn
	inflight sync.WaitGroup
	sem      chan struct{} // one token per message read and not yet written back

	qmu   sync.Mutex
	queue [][]byte
	wake  chan struct{}
	eof   bool // reader finished and every reply queued
}

func (c *conn) serve() {
	defer c.h.wg.Done()
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	c.readLoop()
	c.inflight.Wait()
	c.qmu.Lock()
	c.eof = true
	c.qmu.Unlock()
	c.signal()
	<-writerDone
	c.nc.Close()
	c.h.mu.Lock()
	delete(c.h.conns, c)
	c.h.mu.Unlock()
}

func (c *conn) readLoop() {
	max := c.h.cfg.MaxMessageBytes
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var long []byte // a line longer than the read buffer, being assembled
	tooLong := false
	for {
		select {
		case <-c.h.done:
			return
		default:
		}
		frag, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !tooLong {
				if len(long)+len(frag) > max+1 {
					tooLong, long = true, nil
				} else {
					long = append(long, frag...)
				}
			}
			continue
		}
		line := frag
		if long != nil {
			line = append(long, frag...)
			long = nil
		}
		if tooLong || len(trimSpace(line)) > max {
			tooLong = false
			c.sendError(fmt.Sprintf("message longer than %d bytes: skipped", max))
			if err != nil {
				return
			}
			continue
		}
		if err != nil {
			// A last line without its newline counts at EOF only.
			if err == io.EOF && len(trimSpace(line)) > 0 {
				c.handle(line)
			}
			if err != io.EOF {
				var ne net.Error
				if !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, net.ErrClosed) {
					klog.V(2).Infof("edgehub: read: %v", err)
				}
			}
			return
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		c.handle(line)
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func (c *conn) handle(line []byte) {
	msg, err := DecodeMessage(line)
	if err != nil {
		c.sendError(err.Error())
		return
	}
	c.sem <- struct{}{}
	id := uuid.NewString()
	c.h.mu.Lock()
	c.h.pending[id] = pendingReply{c: c, origID: msg.Header.ID}
	c.h.mu.Unlock()
	msg.Header.ID = id
	c.inflight.Add(1)
	c.h.forward(msg)
}

// sendError answers a line that never reached metaManager.
func (c *conn) sendError(reason string) {
	c.sem <- struct{}{}
	c.queueReply(model.Message{
		Header:  model.MessageHeader{ID: uuid.NewString(), Timestamp: time.Now().UnixMilli()},
		Router:  model.MessageRoute{Source: ModuleName, Operation: model.ResponseErrorOperation},
		Content: reason,
	})
}

func (c *conn) queueReply(reply model.Message) {
	b, err := EncodeMessage(reply)
	if err != nil {
		b, _ = EncodeMessage(model.Message{
			Header:  model.MessageHeader{ID: reply.Header.ID, ParentID: reply.Header.ParentID, Timestamp: reply.Header.Timestamp},
			Router:  model.MessageRoute{Source: reply.Router.Source, Operation: model.ResponseErrorOperation, Resource: reply.Router.Resource},
			Content: "cannot encode reply: " + err.Error(),
		})
	}
	c.qmu.Lock()
	c.queue = append(c.queue, b)
	c.qmu.Unlock()
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	broken := false
	var batch [][]byte
	for {
		c.qmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		eof := c.eof
		c.qmu.Unlock()
		for _, b := range batch {
			if !broken {
				if _, err := w.Write(b); err != nil {
					broken = true
				}
			}
			<-c.sem
		}
		clear(batch)
		if len(batch) > 0 && !broken {
			if err := w.Flush(); err != nil {
				broken = true
			}
		}
		if broken {
			// The client is gone: stop reading from it too.
			_ = c.nc.SetReadDeadline(time.Now())
		}
		if eof && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-c.wake
		}
	}
}
