package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// crashModel is what the test knows it sent and what was acknowledged.
type crashModel struct {
	mu sync.Mutex
	// per configmap key: the last cloud revision sent and the highest acknowledged.
	nextRV map[string]uint64
	acked  map[string]uint64
	// list messages: each writes listSize new configmaps "l<n>-<i>" at once.
	listsSent, listsAcked map[int]bool
	// deletes: key -> acknowledged delete
	delAcked, delSent map[string]bool
	nextList          int
}

const (
	crashKeys = 30
	listSize  = 5
)

// TestCrashRecovery feeds a child edgecore through its socket and kills it
// with SIGKILL at random points, several times. After each kill, with the
// process dead, the database must hold every acknowledged change, no list
// message may be half-applied, and revisions keep increasing across restarts.
func TestCrashRecovery(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewSource(seed))
	m := &crashModel{nextRV: map[string]uint64{}, acked: map[string]uint64{},
		listsSent: map[int]bool{}, listsAcked: map[int]bool{}, delAcked: map[string]bool{}, delSent: map[string]bool{}}

	e := StartEdgecore(t, Options{})
	var lastRev int64
	for round := 0; round < 5; round++ {
		if round > 0 {
			e.Restart()
		}
		runUntilKilled(t, e, m, rnd, time.Duration(100+rnd.Intn(400))*time.Millisecond)
		lastRev = verifyCrashModel(t, e.DataDir, m, lastRev, round)
	}
}

// runUntilKilled pipelines messages until the process is killed after d.
func runUntilKilled(t *testing.T, e *Edgecore, m *crashModel, rnd *rand.Rand, d time.Duration) {
	c, err := e.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type sent struct {
		kind string // "cm", "list", "del"
		key  string
		rv   uint64
		list int
	}
	var pmu sync.Mutex
	pending := map[string]sent{}
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	// The sender owns its random source: rnd is not safe for two goroutines.
	srnd := rand.New(rand.NewSource(rnd.Int63()))
	go func() {
		defer close(senderDone)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			var msg Message
			var s sent
			switch r := srnd.Intn(10); {
			case r < 7:
				key := fmt.Sprintf("c%d", srnd.Intn(crashKeys))
				m.mu.Lock()
				m.nextRV[key]++
				rv := m.nextRV[key]
				m.mu.Unlock()
				s = sent{kind: "cm", key: key, rv: rv}
				msg = MsgRV("update", "default/configmap/"+key, strconv.FormatUint(rv, 10),
					map[string]any{"metadata": map[string]any{"name": key}, "data": map[string]any{"rv": strconv.FormatUint(rv, 10)}})
			case r < 9:
				m.mu.Lock()
				m.nextList++
				id := m.nextList
				m.listsSent[id] = true
				m.mu.Unlock()
				items := make([]any, listSize)
				for i := range items {
					items[i] = map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("l%d-%d", id, i), "resourceVersion": "1"},
						"data": map[string]any{"list": strconv.Itoa(id)}}
				}
				s = sent{kind: "list", list: id}
				msg = Msg("insert", "default/configmap", map[string]any{"apiVersion": "v1", "kind": "ConfigMapList", "items": items})
			default:
				// delete one item of an acknowledged list
				m.mu.Lock()
				var key string
				for id := range m.listsAcked {
					key = fmt.Sprintf("l%d-%d", id, srnd.Intn(listSize))
					break
				}
				if key != "" {
					m.delSent[key] = true
				}
				m.mu.Unlock()
				if key == "" {
					continue
				}
				s = sent{kind: "del", key: key}
				msg = MsgRV("delete", "default/configmap/"+key, "2", nil)
			}
			pmu.Lock()
			pending[msg.ID] = s
			pmu.Unlock()
			if err := c.SendBuffered(msg.Line); err != nil {
				return
			}
			if n%16 == 0 {
				if c.Flush() != nil {
					return
				}
			}
		}
	}()
	killed := make(chan struct{})
	firstAck := make(chan struct{})
	var killing atomic.Bool
	go func() {
		// The random point is measured from the first acknowledgement, not
		// from the start: on a loaded machine a restart can take longer than
		// d, and a kill before anything was acknowledged proves nothing.
		select {
		case <-firstAck:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(d)
		killing.Store(true)
		e.Kill()
		close(killed)
	}()
	acks := 0
	for {
		r, err := c.Recv()
		if err != nil {
			if !killing.Load() {
				t.Errorf("recv before the kill: %v", err)
			}
			break
		}
		pmu.Lock()
		s, ok := pending[r.ParentID]
		delete(pending, r.ParentID)
		pmu.Unlock()
		if !ok {
			t.Fatalf("reply for unknown message: %s", r.Raw)
		}
		if !r.OK() {
			t.Fatalf("error reply: %s", r.Raw)
		}
		acks++
		if acks == 1 {
			close(firstAck)
		}
		m.mu.Lock()
		switch s.kind {
		case "cm":
			if s.rv > m.acked[s.key] {
				m.acked[s.key] = s.rv
			}
		case "list":
			m.listsAcked[s.list] = true
		case "del":
			m.delAcked[s.key] = true
		}
		m.mu.Unlock()
	}
	close(stop)
	<-killed
	<-senderDone
	if acks == 0 {
		t.Fatalf("no message acknowledged before the kill")
	}
	t.Logf("killed after %v: %d acknowledged", d, acks)
}

func verifyCrashModel(t *testing.T, dataDir string, m *crashModel, lastRev int64, round int) int64 {
	t.Helper()
	s, mc := openDB(t, dataDir)
	defer s.Close()
	ctx := context.Background()
	rev := s.Revision()
	if rev <= lastRev {
		t.Fatalf("round %d: store revision %d, not above %d before", round, rev, lastRev)
	}
	lr, err := mc.List(ctx, cmGVR, metaclient.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]metaclient.Object{}
	for _, it := range lr.Items {
		stored[it.Name] = it
		if it.Revision > rev {
			t.Fatalf("object revision %d above the store revision %d", it.Revision, rev)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// every acknowledged update is there (or something newer), and the object is whole
	for key, ack := range m.acked {
		it, ok := stored[key]
		if !ok {
			t.Fatalf("round %d: acknowledged %s (rv %d) missing", round, key, ack)
		}
		got, _ := strconv.ParseUint(it.CloudRV, 10, 64)
		if got < ack {
			t.Fatalf("round %d: %s at cloud rv %d, acknowledged %d", round, key, got, ack)
		}
		var o struct {
			Data     map[string]string
			Metadata struct{ ResourceVersion string }
		}
		if err := json.Unmarshal(it.Data, &o); err != nil || o.Data["rv"] != it.CloudRV || o.Metadata.ResourceVersion != strconv.FormatInt(it.Revision, 10) {
			t.Fatalf("round %d: %s inconsistent: %s (cloud rv %s, revision %d)", round, key, it.Data, it.CloudRV, it.Revision)
		}
		// The sender continues after the highest cloud revision stored.
		if got > m.nextRV[key] {
			t.Fatalf("round %d: %s stored rv %d never sent", round, key, got)
		}
	}
	// lists: all or nothing; acknowledged ones complete (but for items a
	// delete was sent for: it may have been applied without its ack arriving)
	for id := range m.listsSent {
		present := 0
		for i := 0; i < listSize; i++ {
			key := fmt.Sprintf("l%d-%d", id, i)
			_, ok := stored[key]
			if ok {
				present++
			} else if m.listsAcked[id] && !m.delSent[key] {
				t.Fatalf("round %d: item %s of acknowledged list %d missing", round, key, id)
			}
		}
		if !m.listsAcked[id] && present != 0 && present != listSize {
			// deletes only go to acknowledged lists, so this list is half-applied
			t.Fatalf("round %d: unacknowledged list %d half-applied (%d of %d items)", round, id, present, listSize)
		}
	}
	for key := range m.delAcked {
		if _, ok := stored[key]; ok {
			t.Fatalf("round %d: acknowledged delete of %s not applied", round, key)
		}
	}
	// the event log agrees with the revision counter
	evs, err := mc.Events(ctx, rev-1, 10)
	if err != nil || len(evs) != 1 || evs[0].Revision != rev {
		t.Fatalf("round %d: last event %v (%v), want revision %d", round, evs, err, rev)
	}
	t.Logf("round %d: revision %d, %d configmaps, %d lists sent (%d acknowledged)", round, rev, len(stored), len(m.listsSent), len(m.listsAcked))
	return rev
}
