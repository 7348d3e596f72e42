package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// Arrival order (docs/architecture.md, "Order"): the updates one connection
// sends are applied in the order sent, even with many of them in flight and
// for different objects.
const (
	orderObjects  = 200
	orderUpdates  = 2000
	orderInFlight = 500
	orderNS       = "order"
)

func orderUpdate(i int) Message {
	name := fmt.Sprintf("c%03d", i%orderObjects)
	return MsgRV("update", orderNS+"/configmap/"+name, strconv.Itoa(1000+i),
		map[string]any{"metadata": map[string]any{"name": name}, "data": map[string]any{"i": strconv.Itoa(i)}})
}

// seedOrderObjects inserts the objects the updates change and returns the
// store revision after them.
func seedOrderObjects(t *testing.T, e *Edgecore) {
	t.Helper()
	msgs := make([]any, orderObjects)
	for k := range msgs {
		name := fmt.Sprintf("c%03d", k)
		msgs[k] = MsgRV("insert", orderNS+"/configmap/"+name, "1", map[string]any{"metadata": map[string]any{"name": name}})
	}
	MustOK(t, e.Inject(msgs...))
}

// sendOrdered pipelines the updates on one connection with at most
// orderInFlight unanswered, and returns the indexes acknowledged OK (in reply
// order) once every reply came or the connection broke. onAck, if set, is
// called with the number of acknowledgements so far.
func sendOrdered(t *testing.T, e *Edgecore, onAck func(n int)) (acked []int, recvErr error) {
	t.Helper()
	c, err := e.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids := map[string]int{}
	var mu sync.Mutex
	sem := make(chan struct{}, orderInFlight)
	recvDone := make(chan struct{})
	defer close(recvDone)
	go func() {
		for i := 0; i < orderUpdates; i++ {
			m := orderUpdate(i)
			mu.Lock()
			ids[m.ID] = i
			mu.Unlock()
			select {
			case sem <- struct{}{}:
			case <-recvDone:
				return
			}
			if c.SendBuffered(m.Line) != nil {
				return
			}
			if len(sem) == cap(sem) || i == orderUpdates-1 {
				if c.Flush() != nil {
					return
				}
			}
		}
	}()
	for len(acked) < orderUpdates {
		r, err := c.Recv()
		if err != nil {
			return acked, err
		}
		<-sem
		if !r.OK() {
			t.Fatalf("error reply: %s", r.Raw)
		}
		mu.Lock()
		i, ok := ids[r.ParentID]
		mu.Unlock()
		if !ok {
			t.Fatalf("reply for an unknown message: %s", r.Raw)
		}
		acked = append(acked, i)
		if onAck != nil {
			onAck(len(acked))
		}
	}
	return acked, nil
}

// TestArrivalOrderWatch: 2,000 updates to 200 objects, 500 in flight on one
// connection; a client-go watcher sees them in exactly the order sent, with
// increasing resourceVersions.
func TestArrivalOrderWatch(t *testing.T) {
	e := startAPI(t, Options{})
	seedOrderObjects(t, e)
	cs, err := kubernetes.NewForConfig(restConfig(e))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	list, err := cs.CoreV1().ConfigMaps(orderNS).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != orderObjects {
		t.Fatalf("list: %v (%d items)", err, len(list.Items))
	}
	w, err := cs.CoreV1().ConfigMaps(orderNS).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := sendOrdered(t, e, nil); err != nil {
		t.Fatalf("recv: %v", err)
	}
	lastRV := int64(0)
	for i := 0; i < orderUpdates; i++ {
		var ev watch.Event
		select {
		case ev = <-w.ResultChan():
		case <-ctx.Done():
			t.Fatalf("watch: %d of %d events", i, orderUpdates)
		}
		cm, ok := ev.Object.(interface {
			GetName() string
			GetResourceVersion() string
		})
		if ev.Type != watch.Modified || !ok {
			t.Fatalf("event %d: %s %T", i, ev.Type, ev.Object)
		}
		got, _ := json.Marshal(ev.Object)
		var o struct{ Data map[string]string }
		_ = json.Unmarshal(got, &o)
		if o.Data["i"] != strconv.Itoa(i) {
			t.Fatalf("event %d is update %s of %s: not the order sent", i, o.Data["i"], cm.GetName())
		}
		rv, _ := strconv.ParseInt(cm.GetResourceVersion(), 10, 64)
		if rv <= lastRV {
			t.Fatalf("event %d: resourceVersion %d after %d", i, rv, lastRV)
		}
		lastRV = rv
	}
}

// TestArrivalOrderCrashPrefix kills edgecore (SIGKILL) while such a run is in
// flight: the event log after the seed holds exactly updates 0..k-1 (a prefix
// of what was sent, every acknowledged update within it), and each object
// holds its last update below k.
func TestArrivalOrderCrashPrefix(t *testing.T) {
	e := StartEdgecore(t, Options{})
	seedOrderObjects(t, e)
	e.Stop()
	s, mc := openDB(t, e.DataDir)
	s0 := s.Revision()
	s.Close()
	e.Restart()
	// Kill somewhere in the middle, with up to orderInFlight updates in
	// flight: after a random number of acknowledgements.
	killAt := 200 + rand.Intn(orderUpdates-orderInFlight-200)
	killed := make(chan struct{})
	acked, err := sendOrdered(t, e, func(n int) {
		if n == killAt {
			go func() { e.Kill(); close(killed) }()
		}
	})
	switch {
	case err == nil:
		t.Fatalf("every update was acknowledged: the kill after %d came too late", killAt)
	case len(acked) < killAt:
		t.Fatalf("the connection broke before the kill: %v", err)
	}
	<-killed
	e.Kill()
	s, mc = openDB(t, e.DataDir)
	defer s.Close()
	evs, err := mc.Events(context.Background(), s0, 0)
	if err != nil {
		t.Fatal(err)
	}
	k := len(evs)
	for n, ev := range evs {
		var o struct{ Data map[string]string }
		if err := json.Unmarshal(ev.Object, &o); err != nil {
			t.Fatal(err)
		}
		if o.Data["i"] != strconv.Itoa(n) {
			t.Fatalf("event %d after the seed is update %s: the store does not hold a prefix of what was sent", n, o.Data["i"])
		}
	}
	for _, i := range acked {
		if i >= k {
			t.Fatalf("update %d acknowledged but the store holds only updates below %d", i, k)
		}
	}
	for obj := 0; obj < orderObjects; obj++ {
		want := ""
		for i := obj; i < k; i += orderObjects {
			want = strconv.Itoa(i)
		}
		st, err := mc.Get(context.Background(), metaclient.Key{GVR: cmGVR, Namespace: orderNS, Name: fmt.Sprintf("c%03d", obj)})
		if err != nil {
			t.Fatal(err)
		}
		var o struct{ Data map[string]string }
		_ = json.Unmarshal(st.Data, &o)
		if o.Data["i"] != want {
			t.Fatalf("c%03d holds update %q, want %q (prefix of %d)", obj, o.Data["i"], want, k)
		}
	}
	t.Logf("killed after %d acknowledgements: %d of %d updates stored, %d acknowledged", killAt, k, orderUpdates, len(acked))
}
