package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cmpRow is one row of the side-by-side table: kube-apiserver's figure,
// edgecore's, the ratio (kube-apiserver / edgecore: how many times faster
// or smaller edgecore is) and the target (docs/benchmarks.md).
type cmpRow struct {
	key, label string
	p99        bool    // compare p99s (update latency), else medians/values
	ratio      float64 // target: ratio ≥ this (0: no ratio target)
	edgeLimit  float64 // target: edgecore's figure ≤ this (0: none)
	target     string
	rate       bool // a rate: ratio is edgecore / kube-apiserver
}

var cmpRows = []cmpRow{
	{key: "ingest", label: "seeding: edgecore's durable ingest through the socket vs kube-apiserver's API (creates + status updates), per second", rate: true, target: "edgecore ≥ 10,000 msg/s"},
	{key: "list-all", label: "list all pods, JSON", ratio: 6, target: "≥ 6× faster"},
	{key: "list-sel", label: "list, 1 % label selector", ratio: 5, target: "≥ 5×"},
	{key: "list-ns", label: "list one namespace (10 %)", ratio: 5, target: "≥ 5×"},
	{key: "get", label: "get one pod", ratio: 7, target: "≥ 7×"},
	{key: "table", label: "list as Table (what `kubectl get` asks for)", ratio: 3, target: "≥ 3×"},
	{key: "list-4x", label: "4 concurrent full lists", ratio: 5, target: "≥ 5×"},
	{key: "proto-list", label: "list all pods, protobuf", ratio: 5, target: "≥ 5×"},
	{key: "proto-get", label: "get one pod, protobuf", target: "— (JSON speed: see the sizes table)"},
	{key: "watch-100", label: "100 watches from resourceVersion=0, all initial events", ratio: 50, target: "≥ 50×"},
	{key: "proto-watch", label: "watches from resourceVersion=0, protobuf, all initial events", target: "—"},
	{key: "update-100", label: "update → last of 100 watchers, p99", p99: true, ratio: 4, target: "≥ 4×"},
	{key: "update-1000", label: "update → last of 1,000 watchers, p99 (edgecore only)", p99: true, edgeLimit: 5, target: "≤ 5 ms"},
	{key: "mem-lists", label: "peak VmRSS during the lists", edgeLimit: 100, target: "edgecore ≤ 100 MB"},
	{key: "mem-w100", label: "peak VmRSS with 100 watchers", edgeLimit: 100, target: "edgecore ≤ 100 MB"},
}

// writeCompare writes the side-by-side table at the comparison size and
// returns kube-apiserver's notes.
func (b *bench) writeCompare(w func(string, ...any)) []footnote {
	n := b.compareN()
	w("\n## Side by side with kube-apiserver at N=%s\n\n", withCommas(int64(n)))
	if b.cfg.kube.skip {
		w("Not run (`--no-kube`).\n")
		return nil
	}
	w("Same objects, same client, one after the other (edgecore first). kube-apiserver over HTTPS/1.1 with an admin\n")
	w("client certificate, seeded through its API, watch cache warm; edgecore over %s. Ratio = kube-apiserver / edgecore\n", b.edgeTransport())
	w("(× faster, or × less memory; for the seeding row edgecore / kube-apiserver). kube-apiserver's memory is its own,\n")
	w("etcd's beside it.\n\n")
	w("| work at %s pods | kube-apiserver | edgecore | ratio | target (ratio in the same run) | meets |\n", shortN(n))
	w("| --- | ---: | ---: | ---: | --- | --- |\n")
	var notes []footnote
	for _, cr := range cmpRows {
		rw, krw := b.res.byKey[cr.key], b.kres.byKey[cr.key]
		var e, k *cell
		if rw != nil {
			e = rw.cells[n]
		}
		if trw := b.tres.byKey[cr.key]; trw != nil && trw.cells[n] != nil {
			e = trw.cells[n] // edgecore over HTTPS/1.1, like kube-apiserver
			notes = append(notes, e.footnote(fmt.Sprintf("edgecore over TLS: %s, N=%s", cr.label, withCommas(int64(n))))...)
		}
		if krw != nil {
			k = krw.cells[n]
		}
		if e == nil && k == nil {
			continue
		}
		unit := "ms"
		if rw != nil {
			unit = rw.unit
		}
		label := cr.label
		if cr.key == "proto-watch" {
			label = fmt.Sprintf("%d watches from resourceVersion=0, protobuf, all initial events", b.cfg.protoWatchers)
		}
		kt, et := cmpText(k, cr, unit, "req/s"), cmpText(e, cr, unit, unit)
		ratio, verdict := cr.judge(k, e)
		w("| %s | %s | %s | %s | %s | %s |\n", label, kt, et, ratio, cr.target, verdict)
		notes = append(notes, k.footnote(fmt.Sprintf("kube-apiserver: %s, N=%s", label, withCommas(int64(n))))...)
	}
	return notes
}

// edgeTransport says how the side-by-side rows reached edgecore.
func (b *bench) edgeTransport() string {
	if b.tres.has("list-all", b.compareN()) {
		return "HTTPS/1.1 with the admin client certificate of the kubeconfig it writes (its plain-HTTP figures are in the sizes table)"
	}
	return "plain HTTP/1.1 (it served no TLS in this run)"
}

// cmpText is a cell of the side-by-side table.
func cmpText(c *cell, cr cmpRow, unit, rateUnit string) string {
	switch {
	case c == nil:
		return "—"
	case c.na != "":
		return shortNA(c.na)
	case c.value == 0 && c.p99 == 0:
		return "—"
	}
	if cr.rate {
		unit = rateUnit
	}
	v := c.value
	if cr.p99 {
		v = c.p99
	}
	s := fmtVal(v, unit)
	if unit == "req/s" {
		s = withCommas(int64(v+0.5)) + " req/s"
	}
	if c.extra != "" && unit == "MB" {
		s += " " + c.extra
	}
	return s
}

// judge returns the ratio text and the verdict.
func (cr cmpRow) judge(k, e *cell) (string, string) {
	val := func(c *cell) float64 {
		if c == nil || c.na != "" {
			return 0
		}
		if cr.p99 {
			return c.p99
		}
		return c.value
	}
	kv, ev := val(k), val(e)
	ratio, rtext := 0.0, "—"
	if kv > 0 && ev > 0 {
		ratio = kv / ev
		if cr.rate {
			ratio = ev / kv
		}
		rtext = fmt.Sprintf("×%.1f", ratio)
	}
	var parts []string
	if cr.ratio > 0 {
		switch {
		case ratio == 0:
			parts = append(parts, "—")
		case ratio >= cr.ratio:
			parts = append(parts, "✓")
		default:
			parts = append(parts, "✗")
		}
	}
	if cr.edgeLimit > 0 {
		switch {
		case ev == 0:
			parts = append(parts, "—")
		case ev <= cr.edgeLimit:
			parts = append(parts, "✓")
		default:
			parts = append(parts, "✗")
		}
	}
	if cr.rate && ev > 0 {
		parts = append(parts, map[bool]string{true: "✓", false: "✗"}[ev >= 10000])
	}
	return rtext, strings.Join(parts, " ")
}

// writeScale writes the scale point.
func (b *bench) writeScale(w func(string, ...any)) {
	sr := b.scale
	if !sr.ran {
		return
	}
	total := sr.pods + sr.cms
	w("\n## Scale point: %s objects (%s pods + %s configmaps)\n\n", withCommas(int64(total)), withCommas(int64(sr.pods)), withCommas(int64(sr.cms)))
	w("A fresh edgecore, seeded through the socket with all of them, then restarted on the same data dir.\n\n")
	w("| work | kube-apiserver | edgecore | target | meets |\n| --- | ---: | ---: | --- | --- |\n")
	base := b.res.get("ingest", b.compareN())
	ingNote, ingOK := "", "—"
	if sr.ingest.na == "" && base.na == "" && base.value > 0 {
		f := sr.ingest.value / base.value
		ingNote = fmt.Sprintf(" (%.0f %% of the rate at N=%s)", 100*f, shortN(b.compareN()))
		ingOK = map[bool]string{true: "✓", false: "✗"}[f >= 0.8]
	}
	w("| durable ingest of all %s through the socket | — | %s%s | ≥ 80 %% of the 10k rate | %s |\n", withCommas(int64(total)), cmpText(&sr.ingest, cmpRow{}, "msg/s", ""), ingNote, ingOK)
	coldOK := "—"
	if sr.cold.na == "" && sr.cold.extra != "" {
		if d, err := time.ParseDuration(strings.ReplaceAll(strings.ReplaceAll(sr.cold.extra, " ", ""), "min", "m")); err == nil {
			coldOK = map[bool]string{true: "✓", false: "✗"}[d <= time.Second]
		}
	}
	w("| cold start: exec → /readyz | — | %s | — | |\n", cmpText(&sr.cold, cmpRow{}, "ms", ""))
	w("| cold start: exec → first full pod list answered | — | %s | ≤ 1 s | %s |\n", orDash(sr.cold.extra), coldOK)
	if b.cfg.kube.skip {
		sr.kubeListCM, sr.kubeMem = cell{na: "not run"}, cell{na: "not run"}
	}
	ratio, verdict := cmpRow{ratio: 6}.judge(&sr.kubeListCM, &sr.listCM)
	w("| list all %s configmaps (JSON, median) | %s | %s | ≥ 6× faster (the list ratio); %s here | %s |\n", withCommas(int64(sr.cms)),
		cmpText(&sr.kubeListCM, cmpRow{}, "ms", ""), cmpText(&sr.listCM, cmpRow{}, "ms", ""), ratio, verdict)
	memOK := "—"
	if sr.mem.na == "" && sr.mem.value > 0 {
		memOK = map[bool]string{true: "✓", false: "✗"}[sr.mem.value <= 150]
	}
	w("| peak VmRSS while ingesting and listing | %s | %s | ≤ 150 MB | %s |\n", cmpText(&sr.kubeMem, cmpRow{}, "MB", ""), cmpText(&sr.mem, cmpRow{}, "MB", ""), memOK)
	w("| VmHWM of the restarted process after its first lists | — | %s | — | |\n", cmpText(&sr.memCold, cmpRow{}, "MB", ""))
	w("| `edgecore.db` size (+ WAL) | — | %s (+ %s) | reported | |\n", humanBytes(sr.dbBytes), humanBytes(sr.walBytes))
	var notes []string
	for _, x := range []struct {
		name string
		c    cell
	}{{"ingest", sr.ingest}, {"list configmaps", sr.listCM}, {"cold start", sr.cold}, {"memory", sr.mem},
		{"kube-apiserver list configmaps", sr.kubeListCM}, {"kube-apiserver seeding", sr.kubeSeed}, {"kube-apiserver memory", sr.kubeMem}} {
		if t := joinNote(map[bool]string{true: x.c.na}[x.c.na != shortNA(x.c.na)], x.c.note); t != "" {
			notes = append(notes, fmt.Sprintf("- %s: %s\n", x.name, t))
		}
	}
	if len(notes) > 0 {
		w("\n")
		for _, n := range notes {
			w("%s", n)
		}
	}
}

// loadSampler records the 1-minute load average during the run: the
// machine is shared, and the figures mean little without it.
type loadSampler struct {
	mu      sync.Mutex
	samples []float64
	stop    chan struct{}
}

func startLoadSampler(every time.Duration) *loadSampler {
	l := &loadSampler{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v, ok := load1(); ok {
				l.mu.Lock()
				l.samples = append(l.samples, v)
				l.mu.Unlock()
			}
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
		}
	}()
	return l
}

func load1() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// describe is the load-average line of the report.
func (l *loadSampler) describe(start, end string) string {
	s := fmt.Sprintf("at start %s, at end %s (1/5/15 min)", orDash(start), orDash(end))
	if l == nil {
		return s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return s
	}
	lo, hi, sum := l.samples[0], l.samples[0], 0.0
	for _, v := range l.samples {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	return s + fmt.Sprintf("; 1-min load during the run: min %.2f, mean %.2f, max %.2f (%d samples) on %d cores, the bench and its servers included (other work on the machine inflates the figures)",
		lo, sum/float64(len(l.samples)), hi, len(l.samples), numCPU())
}
