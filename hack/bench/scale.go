package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// scaleResult is the scale point: many objects on one node (the shape of a
// gateway holding many devices: a few pods, many configmaps).
type scaleResult struct {
	ran        bool
	pods, cms  int
	ingest     cell // durable ingest of all of them into a fresh store
	listCM     cell // list all configmaps
	cold       cell // exec → /readyz; extra: exec → first full pod list
	mem        cell // peak VmRSS while ingesting and listing
	memCold    cell // VmHWM of the restarted process after its first lists
	dbBytes    int64
	walBytes   int64
	kubeListCM cell // the same list against kube-apiserver
	kubeSeed   cell
	kubeMem    cell
}

// runScale seeds a fresh edgecore with scalePods pods and scaleCMs
// configmaps through the socket, times the configmap list, restarts it on
// the same data dir and times the cold start to the first full list.
func (b *bench) runScale() {
	cfg := b.cfg
	sr := &b.scale
	sr.ran, sr.pods, sr.cms = true, cfg.scalePods, cfg.scaleCMs
	logf("=== edgecore scale point: %d pods + %d configmaps", sr.pods, sr.cms)
	fail := func(why string) {
		for _, c := range []*cell{&sr.ingest, &sr.listCM, &sr.cold, &sr.mem, &sr.memCold} {
			if c.na == "" && c.value == 0 {
				c.na = why
			}
		}
		b.failed = append(b.failed, "scale point: "+why)
	}
	dataDir, err := os.MkdirTemp("", "edgecore-bench-scale-")
	if err != nil {
		fail("failed: " + err.Error())
		return
	}
	if !cfg.keep {
		defer os.RemoveAll(dataDir)
	}
	srv, _, err := startServer(cfg.edgecore, dataDir, 30*time.Second)
	if err != nil {
		fail("n/a (edgecore did not start: " + truncate(err.Error(), 100) + ")")
		return
	}
	defer func() { srv.stop() }()
	t := srv.target()
	samplers := startSamplers(t.procs)
	msgs := b.seedMessages(sr.pods, 0, sr.cms)
	ing := ingest(srv.sock(), msgs, cfg.window, 2*time.Minute+time.Duration(len(msgs))*2*time.Millisecond)
	msgs = nil
	sr.ingest = ingestCell(ing)
	logf("scale ingest: %s", sr.ingest.brief("msg/s"))
	if ing.ok == 0 {
		stopSamplers(samplers)
		fail("n/a (ingest failed)")
		return
	}
	sr.listCM = opCell(b.measureOp(t, opSpec{path: "/api/v1/configmaps", validate: func(l listShape) (string, error) {
		if len(l.Items) != sr.cms {
			return fmt.Sprintf("⚠ %d items, expected %d", len(l.Items), sr.cms), nil
		}
		return fmt.Sprintf("%d items", len(l.Items)), nil
	}}))
	logf("scale list configmaps: %s", sr.listCM.brief("ms"))
	sr.mem, _ = memCell(t, stopSamplers(samplers))
	srv.stop()
	sr.dbBytes, sr.walBytes = fileSize(filepath.Join(dataDir, "edgecore.db")), fileSize(filepath.Join(dataDir, "edgecore.db-wal"))

	scratch := newResults()
	scratch.ensureWatchRows(nil)
	s2, err := b.restart(dataDir, scratch, sr.pods, sr.pods)
	if err != nil {
		fail("n/a (edgecore did not restart)")
		return
	}
	srv = s2
	t = srv.target()
	sr.cold = scratch.get("cold", sr.pods)
	if _, err := b.countItems(t, "/api/v1/configmaps"); err != nil {
		sr.cold.note = joinNote(sr.cold.note, "list of configmaps after restart: "+err.Error())
	}
	if _, hwm, err := procMem(t.pid()); err == nil {
		sr.memCold, _ = memCell(t, []memPeak{{name: t.name, rss: hwm}})
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
