package edgehub

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubeedge/beehive/pkg/core/model"
)

// echoHub starts an ingress whose "metaManager" answers every message OK
// after a random delay, so replies come back out of order.
func echoHub(t *testing.T, cfg Config) (*Hub, *atomic.Int64) {
	t.Helper()
	dir, err := os.MkdirTemp("", "eh") // short: unix socket paths are limited to 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := New(cfg, filepath.Join(dir, SocketName))
	forwarded := new(atomic.Int64)
	h.SetForwarder(func(msg model.Message) {
		forwarded.Add(1)
		go func() {
			time.Sleep(time.Duration(rand.Intn(3000)) * time.Microsecond)
			h.Deliver(model.Message{
				Header:  model.MessageHeader{ID: "r-" + msg.Header.ID, ParentID: msg.Header.ID},
				Router:  model.MessageRoute{Operation: model.ResponseOperation, Resource: msg.Router.Resource},
				Content: "OK",
			})
		}()
	})
	if err := h.Listen(); err != nil {
		t.Fatal(err)
	}
	go h.Serve()
	t.Cleanup(func() { h.Shutdown(context.Background()) })
	return h, forwarded
}

// reply is a decoded reply line.
type reply = Wire

func dial(t *testing.T, h *Hub) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", h.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func readReply(t *testing.T, r *bufio.Reader) reply {
	t.Helper()
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	var rep reply
	if err := json.Unmarshal(line, &rep); err != nil {
		t.Fatalf("reply %q: %v", line, err)
	}
	return rep
}

func msgLine(id, resource string) string {
	return fmt.Sprintf(`{"header":{"msg_id":%q},"route":{"operation":"insert","resource":%q},"content":{"metadata":{"name":"x"}}}`+"\n", id, resource)
}

// TestOneReplyPerMessage: every message gets exactly one reply, matched by
// parent_msg_id, even when two connections reuse the same ids.
func TestOneReplyPerMessage(t *testing.T) {
	h, _ := echoHub(t, DefaultConfig())
	const n = 200
	var wg sync.WaitGroup
	for client := 0; client < 2; client++ {
		c, r := dial(t, h)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				fmt.Fprint(c, msgLine(fmt.Sprint("m", i), "default/pod/x"))
			}
		}()
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			rep := readReply(t, r)
			if rep.Route.Operation != "response" {
				t.Fatalf("reply %+v", rep)
			}
			seen[rep.Header.ParentID]++
		}
		for i := 0; i < n; i++ {
			if seen[fmt.Sprint("m", i)] != 1 {
				t.Fatalf("client %d: message m%d answered %d times", client, i, seen[fmt.Sprint("m", i)])
			}
		}
	}
	wg.Wait()
}

// TestBadLinesKeepTheConnection: a line that is not JSON, and a line over the
// size limit, each get an error reply with an empty parent_msg_id, and the
// next message on the same connection is still served.
func TestBadLinesKeepTheConnection(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMessageBytes = 1024
	h, _ := echoHub(t, cfg)
	c, r := dial(t, h)
	for _, bad := range []string{
		"this is not json\n",
		`{"header":{"msg_id":"x"},"route":` + "\n", // truncated
		`{"header":{"msg_id":"big"},"content":"` + strings.Repeat("a", 4096) + `"}` + "\n",
	} {
		fmt.Fprint(c, bad)
		rep := readReply(t, r)
		if rep.Route.Operation != "error" || rep.Header.ParentID != "" || len(rep.Content) < 3 {
			t.Fatalf("bad line %.40q: reply %+v %s", bad, rep, rep.Content)
		}
		fmt.Fprint(c, msgLine("good", "default/pod/x"))
		if rep := readReply(t, r); rep.Route.Operation != "response" || rep.Header.ParentID != "good" {
			t.Fatalf("after %.40q: reply %+v", bad, rep)
		}
	}
}

// TestShutdownAnswersInFlight: messages read before Shutdown are answered
// before the connection closes.
func TestShutdownAnswersInFlight(t *testing.T) {
	h, forwarded := echoHub(t, DefaultConfig())
	c, r := dial(t, h)
	const n = 50
	for i := 0; i < n; i++ {
		fmt.Fprint(c, msgLine(fmt.Sprint("m", i), "default/pod/x"))
	}
	// Wait until the first reply: the messages are being read.
	got := map[string]bool{readReply(t, r).Header.ParentID: true}
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break
		}
		var rep reply
		if json.Unmarshal(line, &rep) == nil {
			got[rep.Header.ParentID] = true
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Every message the hub took (forwarded) got its reply before the
	// connection closed; reading may have stopped before the rest.
	if int64(len(got)) != forwarded.Load() || len(got) == 0 {
		t.Fatalf("%d messages forwarded, %d answered", forwarded.Load(), len(got))
	}
	if _, err := os.Stat(h.Path()); !os.IsNotExist(err) {
		t.Errorf("socket file left behind after Shutdown: %v", err)
	}
}

// TestListenReplacesStaleSocket: a socket file nobody serves is removed; a
// live one is refused.
func TestListenReplacesStaleSocket(t *testing.T) {
	h, _ := echoHub(t, DefaultConfig())
	second := New(DefaultConfig(), h.Path())
	if err := second.Listen(); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Listen on a live socket: %v", err)
	}
	h.Shutdown(context.Background())
	// Leave a stale socket file behind, as a SIGKILLed edgecore would.
	ln, err := net.Listen("unix", h.Path())
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	third := New(DefaultConfig(), h.Path())
	if err := third.Listen(); err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	third.Shutdown(context.Background())
}
