package main

import (
	"debug/buildinfo"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cell is one figure: a duration in ms, a rate, or MB, by row unit.
type cell struct {
	na      string
	value   float64 // median (or the single value)
	p99     float64
	single  bool
	samples int
	note    string
	extra   string // shown beside the value in the side-by-side table (etcd's memory, the first list after a cold start)
}

func (c cell) brief(unit string) string {
	if c.na != "" {
		return c.na
	}
	if c.single {
		return fmtVal(c.value, unit)
	}
	return fmt.Sprintf("median %s p99 %s (%d samples)", fmtVal(c.value, unit), fmtVal(c.p99, unit), c.samples)
}

// check is one target test (the targets are the ones docs/benchmarks.md lists).
type check struct {
	atN     int  // the size it applies to (0: every size)
	useP99  bool // compare p99 rather than the median/value
	limit   float64
	atLeast bool   // value must be ≥ limit (rates)
	relKey  string // limit is a multiple of this row's value at the same size
}

type row struct {
	key, label, unit string
	target, meta     string
	checks           []check
	cells            map[int]*cell
	notes            map[int]string
}

type results struct {
	rows    []*row
	byKey   map[string]*row
	columns []int
}

func newResults() *results {
	r := &results{byKey: map[string]*row{}}
	add := func(key, label, unit, target, meta string, checks ...check) {
		rw := &row{key: key, label: label, unit: unit, target: target, meta: meta, checks: checks, cells: map[int]*cell{}, notes: map[int]string{}}
		r.rows = append(r.rows, rw)
		r.byKey[key] = rw
	}
	add("ingest", "durable ingest through the socket (N pods + N configmaps)", "msg/s", "≥ 10,000 msg/s", "—",
		check{atN: 10000, limit: 10000, atLeast: true})
	add("list-all", "list all pods (JSON)", "ms", "≤ 100 ms", "210 ms / 2,130 ms", check{atN: 10000, limit: 100})
	add("list-sel", "list pods, label selector matching 1 %", "ms", "≤ 10 ms", "102 ms / 865 ms", check{atN: 10000, limit: 10})
	add("list-ns", "list pods of one namespace (10 %)", "ms", "≤ 15 ms", "24 ms / 248 ms", check{atN: 10000, limit: 15})
	add("get", "get one pod", "ms", "≤ 0.5 ms", "1.7 ms / 18.7 ms", check{atN: 10000, limit: 0.5})
	add("table", "list pods as Table", "ms", "≤ 150 ms", "134 ms / 1,337 ms", check{atN: 10000, limit: 150})
	add("list-4x", "4 concurrent full lists (until all 4 done)", "ms", "—", "—")
	add("proto-list", "list all pods, protobuf", "ms", "≤ 1.25× the JSON list (JSON speed)", "—", check{atN: 10000, limit: 1.25, relKey: "list-all"})
	add("proto-get", "get one pod, protobuf", "ms", "≤ 1.25× the JSON get", "—", check{atN: 10000, limit: 1.25, relKey: "get"})
	add("tls-list", "list all pods over TLS (HTTP/1.1)", "ms", "≤ 1.5× plain HTTP", "—", check{atN: 10000, limit: 1.5, relKey: "list-all"})
	add("h2-list", "list all pods over TLS (HTTP/2)", "ms", "≤ 1.5× plain HTTP", "—", check{atN: 10000, limit: 1.5, relKey: "list-all"})
	add("h2-get", "get one pod over TLS (HTTP/2, kept-alive connection)", "ms", "≤ 0.5 ms", "—", check{atN: 10000, limit: 0.5})
	return r
}

// ensureWatchRows adds the per-W rows in the order of the flags.
func (r *results) ensureWatchRows(ws []int) {
	for _, w := range ws {
		k := "watch-" + strconv.Itoa(w)
		if r.byKey[k] != nil {
			continue
		}
		var checks []check
		target, meta := "—", "—"
		if w == 100 {
			target, meta = "≤ 1 s at 1k, ≤ 20 s at 10k", "13 s / 2 min 15 s"
			checks = []check{{atN: 1000, limit: 1000}, {atN: 10000, limit: 20000}}
		}
		r.add(k, fmt.Sprintf("%d watches from resourceVersion=0, all initial events delivered", w), "ms", target, meta, checks...)
	}
	r.add("proto-watch", "watches from resourceVersion=0, protobuf, all initial events delivered (count in the notes)", "ms", "—", "—")
	r.add("h2-watch", "watches from resourceVersion=0 multiplexed on one HTTP/2 connection (TLS), all initial events", "ms", "≤ 3 s at 10k (100 watches)", "—",
		check{atN: 10000, limit: 3000})
	for _, w := range ws {
		k := "update-" + strconv.Itoa(w)
		if r.byKey[k] != nil {
			continue
		}
		var checks []check
		target, meta := "—", "—"
		if w == 100 {
			meta = "p99 25 ms / 28 ms"
		}
		if w == 1000 {
			target = "p99 ≤ 5 ms"
			checks = []check{{atN: 10000, useP99: true, limit: 5}}
		}
		r.add(k, fmt.Sprintf("update → delivered to the last of %d watchers (p50 / p99)", w), "ms", target, meta, checks...)
	}
	r.add("h2-update-1conn", "update → the last of the watchers on one HTTP/2 connection (TLS; p50 / p99)", "ms", "p99 ≤ 10 ms", "—",
		check{atN: 10000, useP99: true, limit: 10})
	r.add("h2-update-conns", "update → the last of the watchers on one HTTP/2 connection each (TLS; p50 / p99)", "ms", "p99 ≤ 10 ms", "—",
		check{atN: 10000, useP99: true, limit: 10})
	if r.byKey["ack"] == nil {
		r.add("ack", "update → durable ack on the socket (p50 / p99)", "ms", "—", "—")
	}
	r.add("mem-seeded", "resident memory after seeding (VmRSS)", "MB", "—", "—")
	r.add("mem-lists", "peak resident memory during the list runs", "MB", "≤ 100 MB", "— / 4.1 GB (4 concurrent lists)", check{atN: 10000, limit: 100})
	for _, w := range ws {
		var checks []check
		target, meta := "—", "—"
		if w == 100 {
			target, meta = "≤ 100 MB", "1.3 GB / 10.9 GB"
			checks = []check{{atN: 10000, limit: 100}}
		}
		r.add("mem-w"+strconv.Itoa(w), fmt.Sprintf("peak resident memory with %d watchers", w), "MB", target, meta, checks...)
	}
	r.add("mem-hwm", "VmHWM of the process after the reads", "MB", "—", "—")
	r.add("mem-hwm2", "VmHWM of the restarted process after the watch phases", "MB", "—", "—")
	r.add("cold", "cold start on the same data dir (2N objects) → /readyz", "ms", "< 1 s with 100,000 objects", "—",
		check{atN: 50000, limit: 1000})
}

func (r *results) add(key, label, unit, target, meta string, checks ...check) {
	if r.byKey[key] != nil {
		return
	}
	rw := &row{key: key, label: label, unit: unit, target: target, meta: meta, checks: checks, cells: map[int]*cell{}, notes: map[int]string{}}
	r.rows = append(r.rows, rw)
	r.byKey[key] = rw
}

func (r *results) set(key string, n int, c cell) {
	rw := r.byKey[key]
	if rw == nil {
		return
	}
	c.note = joinNote(rw.notes[n], c.note)
	rw.cells[n] = &c
	r.columns = appendUnique(r.columns, n)
}

func (r *results) has(key string, n int) bool {
	rw := r.byKey[key]
	return rw != nil && rw.cells[n] != nil
}

func (r *results) get(key string, n int) cell {
	if rw := r.byKey[key]; rw != nil && rw.cells[n] != nil {
		return *rw.cells[n]
	}
	return cell{na: "—"}
}

func (r *results) addNote(key string, n int, note string) {
	if rw := r.byKey[key]; rw != nil {
		if c := rw.cells[n]; c != nil {
			c.note = joinNote(c.note, note)
		} else {
			rw.notes[n] = joinNote(rw.notes[n], note)
		}
	}
}

func (r *results) allNA(n int, why string) {
	r.columns = appendUnique(r.columns, n)
	for _, rw := range r.rows {
		if rw.cells[n] == nil {
			rw.cells[n] = &cell{na: why}
		}
	}
}

func fmtVal(v float64, unit string) string {
	switch unit {
	case "msg/s":
		return withCommas(int64(math.Round(v))) + " msg/s"
	case "MB":
		return fmt.Sprintf("%.0f MB", v)
	}
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", v)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", v)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", v)
	case d < time.Minute:
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

func withCommas(v int64) string {
	s := strconv.FormatInt(v, 10)
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// verdict evaluates a row's checks against the sizes that were measured.
func (rw *row) verdict(r *results) string {
	if len(rw.checks) == 0 {
		return ""
	}
	var parts []string
	for _, ch := range rw.checks {
		c := rw.cells[ch.atN]
		if c == nil {
			continue
		}
		if c.na != "" {
			parts = append(parts, fmt.Sprintf("✗ n/a at %s", shortN(ch.atN)))
			continue
		}
		v := c.value
		if ch.useP99 {
			v = c.p99
		}
		limit := ch.limit
		if ch.relKey != "" {
			ref := r.byKey[ch.relKey].cells[ch.atN]
			if ref == nil || ref.na != "" || ref.value <= 0 {
				parts = append(parts, fmt.Sprintf("— at %s (no %s figure)", shortN(ch.atN), ch.relKey))
				continue
			}
			limit = ch.limit * ref.value
			v = c.value
		}
		ok := v <= limit
		if ch.atLeast {
			ok = v >= ch.limit
		}
		mark := "✓"
		if !ok {
			mark = "✗"
		}
		if ch.relKey != "" {
			parts = append(parts, fmt.Sprintf("%s at %s (×%.2f)", mark, shortN(ch.atN), v/(limit/ch.limit)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s at %s", mark, shortN(ch.atN)))
	}
	if len(parts) == 0 {
		return "not run at target size"
	}
	return strings.Join(parts, ", ")
}

func shortN(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

type machine struct {
	cpuModel, mem, goVersion, commit, binRev, os, load string
	cores                                              int
}

func numCPU() int { return runtime.NumCPU() }

func machineFacts(bin string) machine {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version(), os: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if i := strings.Index(l, ":"); i >= 0 {
					m.cpuModel = strings.TrimSpace(l[i+1:])
				}
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.load = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					m.mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			m.commit += " (working tree has uncommitted changes)"
		}
	}
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		var rev, mod string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				mod = s.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			m.binRev = rev
			if mod == "true" {
				m.binRev += "+dirty"
			}
		}
		m.binRev = strings.TrimSpace(m.binRev + " " + bi.GoVersion)
	}
	return m
}

// footnote is one figure's note, named by row and size.
type footnote struct{ key, text string }

// markdown renders docs/benchmarks.md: the run, the side-by-side table with
// kube-apiserver, edgecore at every size, the scale point, notes, method.
func (b *bench) markdown(elapsed time.Duration) string {
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w("# Benchmarks\n\n")
	w("End-to-end figures against the project's targets, measured through the real `edgecore` binary by `hack/bench`, beside a real\n")
	w("kube-apiserver holding the same objects (`make bench`; smoke: `make bench-smoke`). Regenerate with `make bench`\n")
	w("(flags: `BENCH_FLAGS=...`; `--no-kube` skips the kube-apiserver side).\n\n")
	b.writeRun(w, elapsed)
	var notes []footnote
	notes = append(notes, b.writeCompare(w)...)
	notes = append(notes, b.writeSizes(w)...)
	b.writeScale(w)
	writeNotes(w, notes)
	if len(b.failed)+len(b.warnings) > 0 {
		w("\n## Failures\n\n")
		for _, f := range append(append([]string(nil), b.failed...), b.warnings...) {
			w("- %s\n", f)
		}
	}
	w("\n## Method\n\n")
	w(methodText)
	if b.cfg.svg != "" {
		w("\n![median latency against N](bench-latency.svg)\n")
	}
	return sb.String()
}

// writeRun writes the facts of the run: machine, load, commit, data.
func (b *bench) writeRun(w func(string, ...any), elapsed time.Duration) {
	m := machineFacts(b.cfg.edgecore)
	if b.commitStart != "" {
		m.commit, m.binRev = b.commitStart, b.binRevStart
	}
	w("## Run\n\n")
	w("| | |\n| --- | --- |\n")
	w("| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w("| command | `go run ./hack/bench %s` (%s) |\n", b.cfg.args, elapsed.Round(time.Second))
	w("| machine | %s, %d cores (runtime.NumCPU), %s RAM, %s |\n", orDash(m.cpuModel), m.cores, orDash(m.mem), m.os)
	w("| Go | %s |\n", m.goVersion)
	w("| load average | %s |\n", b.load.describe(b.loadStart, m.load))
	w("| commit | %s |\n", orDash(m.commit))
	if b.cfg.endpoint == "" {
		w("| edgecore binary | `%s` built from %s |\n", b.cfg.edgecore, orDash(m.binRev))
	} else {
		w("| endpoint | %s |\n", b.cfg.endpoint)
	}
	if b.kubeVersion != "" {
		w("| kube-apiserver | %s |\n", b.kubeVersion)
	}
	w("| data | N pods (%s of JSON each as edgecore stores them: 2 containers with env, probes, resources, volume mounts; status with conditions and containerStatuses) and N configmaps (%s each) in %d namespaces; label `tier=canary` on 1 %% of pods |\n",
		humanBytes(int64(b.podSize)), humanBytes(int64(b.cmSize)), numNamespaces)
	w("| samples | %d per operation after %d warm-up calls (at least %d if an operation exceeds its %s budget); median and p99 (nearest rank) |\n",
		b.cfg.samples, b.cfg.warmup, b.cfg.minSamples, b.cfg.opBudget)
	w("| watch | W watchers, one HTTP/1.1 connection each unless the row says HTTP/2; updates at %d/s for %s while they are open; initial events from resourceVersion=0 timed when W×N ≤ %s |\n",
		b.cfg.updateRate, b.cfg.updateDur, withCommas(b.cfg.watchBudget))
}

// writeSizes writes edgecore's figures at every size and returns their notes.
func (b *bench) writeSizes(w func(string, ...any)) []footnote {
	r := b.res
	cols := append([]int(nil), r.columns...)
	sort.Ints(cols)
	w("\n## edgecore at several sizes\n\n")
	w("| work |")
	for _, n := range cols {
		w(" N=%s median | p99 |", withCommas(int64(n)))
	}
	ratioHdr := len(cols) >= 2
	if ratioHdr {
		w(" growth %s/%s |", shortN(cols[len(cols)-1]), shortN(cols[0]))
	}
	w(" target at 10k | MetaServer 1k / 10k | meets target |\n|---|")
	for range cols {
		w("---:|---:|")
	}
	if ratioHdr {
		w("---:|")
	}
	w("---|---|---|\n")
	var notes []footnote
	for _, rw := range r.rows {
		if len(rw.cells) == 0 {
			continue
		}
		w("| %s |", rw.label)
		for _, n := range cols {
			c := rw.cells[n]
			w(" %s |", c.cellText(rw.unit))
			notes = append(notes, c.footnote(fmt.Sprintf("%s, N=%s", rw.label, withCommas(int64(n))))...)
		}
		if ratioHdr {
			a, z := rw.cells[cols[0]], rw.cells[cols[len(cols)-1]]
			if a != nil && z != nil && a.na == "" && z.na == "" && a.value > 0 {
				w(" ×%.1f |", z.value/a.value)
			} else {
				w(" — |")
			}
		}
		w(" %s | %s | %s |\n", rw.target, rw.meta, rw.verdict(r))
	}
	w("\nGrowth is the ratio of the medians (or values) at the largest and smallest N; N grew ×%s.\n",
		func() string {
			if len(cols) >= 2 && cols[0] > 0 {
				return strconv.FormatFloat(float64(cols[len(cols)-1])/float64(cols[0]), 'f', -1, 64)
			}
			return "1"
		}())
	w("MetaServer figures were taken once on the same machine kind (2 cores) with the same data.\n")
	return notes
}

// cellText is a cell in the sizes table: "median | p99" or "value | ".
func (c *cell) cellText(unit string) string {
	switch {
	case c == nil:
		return "— | —"
	case c.na != "":
		return shortNA(c.na) + " |"
	case c.single:
		return fmtVal(c.value, unit) + " |"
	}
	return fmtVal(c.value, unit) + " | " + fmtVal(c.p99, unit)
}

// footnote is the cell's note (and full n/a reason) under key, if any.
func (c *cell) footnote(key string) []footnote {
	if c == nil {
		return nil
	}
	text := c.note
	if c.na != "" && c.na != shortNA(c.na) {
		text = joinNote(c.na, text)
	}
	if text == "" {
		return nil
	}
	return []footnote{{key, text}}
}

// writeNotes writes one line per distinct note, naming every figure it
// applies to.
func writeNotes(w func(string, ...any), notes []footnote) {
	if len(notes) == 0 {
		return
	}
	var order []string
	keys := map[string][]string{}
	for _, n := range notes {
		if keys[n.text] == nil {
			order = append(order, n.text)
		}
		keys[n.text] = append(keys[n.text], n.key)
	}
	w("\n## Notes per figure\n\n")
	for _, t := range order {
		ks := keys[t]
		if len(ks) > 3 {
			w("- %d figures (%s, …): %s\n", len(ks), strings.Join(ks[:2], "; "), t)
		} else {
			w("- %s: %s\n", strings.Join(ks, "; "), t)
		}
	}
}

const methodText = `- A fresh edgecore is started per size on a temp data dir and a free port (` + "`--data-dir`, `--lwserver-address`" + `);
  the bench waits for ` + "`/readyz`" + ` and the ingress socket.
- **Ingest**: all 2N messages (docs/architecture.md §3.1 NDJSON, operation ` + "`insert`" + `, pods first) are built before the clock
  starts and pipelined over one socket connection (a writer goroutine, a reply reader, up to ` + "`--window`" + ` in flight);
  the time runs from the first write to the last reply, and only ` + "`response`" + ` replies count as durable.
- **Reads**: one Go HTTP/1.1 client with keep-alive and compression disabled; a sample is request start → whole body read.
  Each operation's first answer is decoded once (outside the timing) to check kind and item count (protobuf answers
  with k8s.io/api's generated decoders, as client-go decodes them).
- **Watches**: W concurrent ` + "`GET /api/v1/pods?watch=true&resourceVersion=0`" + `; the figure is the time from starting them
  until the last watcher has its N initial ` + "`ADDED`" + ` events. The client frames events by newline (falling back to a
  brace scanner; protobuf streams by their 4-byte length) and reads only the event type, so its cost stays small
  against the server's.
- **Update latency**: with the W watchers open, full-pod updates are sent at a steady rate, each stamped with a sequence
  number in an annotation (edgecore: ` + "`update`" + ` messages with the whole pod on the socket; kube-apiserver: a merge patch of the annotation through
  the API, which its watchers receive as the whole pod);
  the figure is, per update, the time from sending it until the last of the W watchers has it (p50 and p99 over the
  updates); the notes add every single delivery. When W×N exceeds the watch budget, the watchers start at the current
  revision instead of resourceVersion=0 (no initial events).
- **TLS and HTTP/2** (edgecore at the largest size): the same list and get over HTTPS with the admin kubeconfig edgecore
  writes (` + "`<data-dir>/kubeconfig`" + `), over HTTP/1.1 and HTTP/2; W watchers from resourceVersion=0 multiplexed on one
  HTTP/2 connection (as client-go runs the informers of one client), then W watchers on one HTTP/2 connection each.
- **kube-apiserver** (v1.37.2 with etcd v3.7.0, ` + "`make kube-tools`" + `, started by the bench on temp dirs): seeded through its
  API with the same objects (pods created, then their status written, as a create drops it; configmaps; parallel
  requests), its watch cache checked to hold every pod and warmed by one watch from resourceVersion=0, then the same rows
  with the same client over HTTPS/1.1 and an admin (system:masters) client certificate. Its bodies are larger than
  edgecore's by the managedFields it adds to every object (the notes give the sizes). Its memory is VmRSS of
  kube-apiserver, with etcd's beside it.
- **Scale point**: a fresh edgecore seeded with the scale set (pods + configmaps) through the socket; list all configmaps;
  stopped, then started again on the same data dir: exec → ` + "`/readyz`" + ` and exec → first full pod list answered.
  kube-apiserver gets the same configmaps through its API after its other rows.
- **Memory**: VmRSS of the process sampled every 50 ms during each phase (peak reported), VmHWM at the end;
  the notes give RssAnon, the private part. VmRSS also counts the pages of SQLite's memory-mapped database file once per
  connection that maps them (page cache, shared and reclaimable), so it overstates what edgecore owns.
- **Cold start**: after the reads the process is stopped (SIGTERM) and started again on the same data dir; exec →
  ` + "`/readyz`" + `. The watch phases run on this fresh process (W ascending), so their memory is not the lists' heap.
- Client and servers share the machine's cores; figures include the client's share.
`

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// shortNA keeps table cells short; the full reason goes into the notes.
func shortNA(s string) string {
	switch {
	case strings.HasPrefix(s, "n/a"):
		return "n/a"
	case strings.HasPrefix(s, "skipped"):
		return "skipped"
	case strings.HasPrefix(s, "timeout"):
		return "timeout"
	case strings.HasPrefix(s, "failed"):
		return "failed"
	}
	return s
}

// svg plots the median latency of the read operations against N (log-log).
func (b *bench) svg() string {
	r := b.res
	cols := append([]int(nil), r.columns...)
	sort.Ints(cols)
	series := []struct{ key, label, color string }{
		{"list-all", "list all pods", "#1f77b4"},
		{"list-sel", "label selector 1 %", "#ff7f0e"},
		{"list-ns", "one namespace", "#2ca02c"},
		{"get", "get one pod", "#d62728"},
		{"table", "list as Table", "#9467bd"},
		{"list-4x", "4 concurrent lists", "#8c564b"},
	}
	const W, H, left, right, top, bottom = 720, 420, 70, 200, 30, 50
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, n := range cols {
			if c := r.byKey[s.key].cells[n]; c != nil && c.na == "" && c.value > 0 {
				minY, maxY = math.Min(minY, c.value), math.Max(maxY, c.value)
			}
		}
	}
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="%d" y="18" font-size="14">edgecore: median latency against N (log–log)</text>`+"\n", left)
	if math.IsInf(minY, 0) || len(cols) == 0 {
		w(`<text x="%d" y="%d">no data</text></svg>`+"\n", left, H/2)
		return sb.String()
	}
	ylo, yhi := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(maxY))
	if yhi <= ylo {
		yhi = ylo + 1
	}
	xlo, xhi := math.Log10(float64(cols[0])), math.Log10(float64(cols[len(cols)-1]))
	if xhi <= xlo {
		xlo, xhi = xlo-0.5, xhi+0.5
	}
	pw, ph := float64(W-left-right), float64(H-top-bottom)
	px := func(n int) float64 { return float64(left) + (math.Log10(float64(n))-xlo)/(xhi-xlo)*pw }
	py := func(v float64) float64 { return float64(top) + (yhi-math.Log10(v))/(yhi-ylo)*ph }
	w(`<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", left, top, pw, ph)
	for e := ylo; e <= yhi; e++ {
		y := py(math.Pow(10, e))
		w(`<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, float64(left)+pw, y)
		w(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, fmtVal(math.Pow(10, e), "ms"))
	}
	for _, n := range cols {
		x := px(n)
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, top, x, float64(top)+ph)
		w(`<text x="%.1f" y="%.1f" text-anchor="middle">N=%s</text>`+"\n", x, float64(top)+ph+18, withCommas(int64(n)))
	}
	w(`<text x="%.1f" y="%d" text-anchor="middle">pods (and as many configmaps) stored</text>`+"\n", float64(left)+pw/2, H-8)
	for i, s := range series {
		var pts []string
		for _, n := range cols {
			if c := r.byKey[s.key].cells[n]; c != nil && c.na == "" && c.value > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(n), py(c.value)))
			}
		}
		if len(pts) > 1 {
			w(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		}
		for _, p := range pts {
			xy := strings.Split(p, ",")
			w(`<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", xy[0], xy[1], s.color)
		}
		ly := top + 10 + i*20
		w(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", W-right+15, ly, W-right+35, ly, s.color)
		w(`<text x="%d" y="%d">%s</text>`+"\n", W-right+40, ly+4, s.label)
	}
	w("</svg>\n")
	return sb.String()
}
