package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Soak bounds (docs/reliability.md "Soak"): with the default event-log
// window (100,000 events or 24 h, capped at 256 MiB) a steady stream of
// updates to 1,000 objects must keep edgecore.db, its WAL and the process's
// resident memory under these.
const (
	soakObjects = 1000
	// The cap counts the bytes events store (an update keeps the object
	// and its previous version); rows, index entries and partly filled or
	// free pages roughly double that on disk.
	soakDBBound  = 576 << 20
	soakWALBound = 64 << 20  // journal_size_limit 16 MiB, plus what one busy checkpoint interval adds
	soakRSSBound = 256 << 20 // the 128 MiB soft memory limit with SQLite's caches on top
	soakConns    = 4
	soakInFlight = 2000 // per connection
)

// TestReliabilitySoak sends EDGECORE_SOAK_UPDATES updates (default 20,000
// in make test; make soak sends 1,000,000) of ~1 KB configmaps to 1,000
// objects, pipelined over 4 connections, and samples the database, WAL
// and resident memory every second: every update is acknowledged and none
// exceeds its bound.
func TestReliabilitySoak(t *testing.T) {
	updates := 20000
	if v := os.Getenv("EDGECORE_SOAK_UPDATES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < soakObjects {
			t.Fatalf("EDGECORE_SOAK_UPDATES=%q: want a number >= %d", v, soakObjects)
		}
		updates = n
	}
	e := StartEdgecore(t, Options{})
	db := filepath.Join(e.DataDir, "edgecore.db")
	var maxDB, maxWAL, maxRSS atomic.Int64
	sample := func() {
		maxTo(&maxDB, statSize(db))
		maxTo(&maxWAL, statSize(db+"-wal"))
		maxTo(&maxRSS, procRSS(t, e.Pid()))
	}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				sample()
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, soakConns)
	for c := 0; c < soakConns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			errs <- soakConn(e, c, updates)
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Let compaction and the idle WAL truncation run, then sample again.
	time.Sleep(8 * time.Second)
	close(stop)
	<-sampled
	sample()
	final := statSize(db)
	t.Logf("%d updates to %d objects in %v (%.0f/s): max db %.1f MiB (final %.1f MiB), max WAL %.1f MiB (final %d B), max RSS %.1f MiB",
		updates, soakObjects, elapsed.Round(time.Second), float64(updates)/elapsed.Seconds(),
		mib(maxDB.Load()), mib(final), mib(maxWAL.Load()), statSize(db+"-wal"), mib(maxRSS.Load()))
	for _, b := range []struct {
		what       string
		got, bound int64
	}{{"database", maxDB.Load(), soakDBBound}, {"WAL", maxWAL.Load(), soakWALBound}, {"RSS", maxRSS.Load(), soakRSSBound}} {
		if b.got > b.bound {
			t.Errorf("%s reached %.1f MiB, bound %.1f MiB", b.what, mib(b.got), mib(b.bound))
		}
	}
}

// soakConn sends connection c's share of the updates (objects i with
// i%soakConns == c, so each object's updates arrive in order on one
// connection) with up to soakInFlight unanswered, and checks every reply.
func soakConn(e *Edgecore, c, updates int) error {
	conn, err := e.Dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	n := updates / soakConns
	slots := make(chan struct{}, soakInFlight)
	recvErr := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			r, err := conn.Recv()
			if err != nil {
				recvErr <- fmt.Errorf("connection %d: reply %d: %v", c, i, err)
				return
			}
			if !r.OK() {
				recvErr <- fmt.Errorf("connection %d: update not acknowledged: %s", c, r.Raw)
				return
			}
			<-slots
		}
		recvErr <- nil
	}()
	payload := strings.Repeat("x", 900)
	for i := 0; i < n; i++ {
		obj := (i*soakConns + c) % soakObjects
		rv := i/(soakObjects/soakConns) + 1
		line := MsgRV("update", fmt.Sprintf("default/configmap/soak-%04d", obj), strconv.Itoa(rv),
			map[string]any{"data": map[string]any{"seq": strconv.Itoa(i), "payload": payload}}).Line
		select {
		case slots <- struct{}{}:
		case err := <-recvErr:
			return err
		}
		if err := conn.SendBuffered(line); err != nil {
			return err
		}
		if len(slots) == cap(slots) || i == n-1 || i%64 == 63 {
			if err := conn.Flush(); err != nil {
				return err
			}
		}
	}
	return <-recvErr
}

func maxTo(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

func statSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// procRSS is the resident memory of pid (VmRSS), 0 once it is gone.
func procRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
