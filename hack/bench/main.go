// Command bench is edgecore's end-to-end benchmark (docs/benchmarks.md): it
// starts the real binary, seeds it through the ingress socket, and measures
// lists, gets, Tables, protobuf, watches, update latency and memory over HTTP
// (and HTTPS/HTTP/2 when edgecore serves TLS) at several sizes and at a
// 100k-object scale point; then the same rows against a real kube-apiserver
// + etcd seeded through its API with the same objects, side by side.
//
//	go run ./hack/bench                    # sizes 1000,10000 + kube-apiserver; writes docs/benchmarks.md
//	go run ./hack/bench --no-kube          # edgecore only
//	go run ./hack/bench --smoke            # N=200, W=10, a few seconds, writes nothing
//	go run ./hack/bench --endpoint http://127.0.0.1:10550 --no-seed
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	edgecore, endpoint, socket, dataDir string
	out, svg                            string
	noSeed, smoke, large, keep          bool
	sizes, watchers                     []int
	// tlsRows: measure edgecore over TLS and HTTP/2 too (at the largest size).
	tlsRows       bool
	protoWatchers int // protobuf watches from resourceVersion=0 (0: none)
	tlsWatchers   int // watchers of the HTTP/2 rows
	// scalePods/scaleCMs: the scale point's data set (0 pods: no scale point).
	scalePods, scaleCMs                 int
	kube                                kubeFlags
	samples, warmup, minSamples, window int
	opBudget, reqTimeout, initTimeout   time.Duration
	watchBudget                         int64
	updateRate                          int
	updateDur                           time.Duration
	args                                string
}

type bench struct {
	cfg                                 config
	kres                                *results // kube-apiserver's figures, same rows
	tres                                *results // edgecore over HTTPS/1.1 at the comparison size (like kube-apiserver)
	scale                               scaleResult
	load                                *loadSampler
	kubeVersion                         string
	seq                                 atomic.Int64 // update sequence numbers (annotation values)
	cloudRV                             atomic.Int64 // cloud resourceVersions we send; above anything sent before
	res                                 *results
	podSize                             int
	cmSize                              int
	loadStart, commitStart, binRevStart string
	failed                              []string // the server could not be run at all
	warnings                            []string
}

func newBench(cfg config) *bench {
	b := &bench{cfg: cfg, res: newResults(), kres: newResults(), tres: newResults()}
	b.res.ensureWatchRows(cfg.watchers)
	b.kres.ensureWatchRows(cfg.kube.watchers)
	b.tres.ensureWatchRows(cfg.kube.watchers)
	for _, r := range []*results{b.res, b.kres, b.tres} {
		r.byKey["proto-watch"].label = fmt.Sprintf("%d watches from resourceVersion=0, protobuf, all initial events delivered", cfg.protoWatchers)
		r.byKey["h2-watch"].label = fmt.Sprintf("%d watches from resourceVersion=0 multiplexed on one HTTP/2 connection (TLS), all initial events", cfg.tlsWatchers)
		r.byKey["h2-update-1conn"].label = fmt.Sprintf("update → the last of %d watchers on one HTTP/2 connection (TLS; p50 / p99)", cfg.tlsWatchers)
		r.byKey["h2-update-conns"].label = fmt.Sprintf("update → the last of %d watchers on %d HTTP/2 connections (TLS; p50 / p99)", cfg.tlsWatchers, cfg.tlsWatchers)
	}
	return b
}

// compareN is the size at which edgecore is compared with kube-apiserver
// and measured over TLS: the largest size run.
func (b *bench) compareN() int {
	n := 0
	for _, s := range b.cfg.sizes {
		n = max(n, s)
	}
	return n
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/edgecore/edgecore\n") {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ReplaceAll(f, "_", ""))
		if f == "" {
			continue
		}
		mult := 1
		if strings.HasSuffix(f, "k") {
			mult, f = 1000, strings.TrimSuffix(f, "k")
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v*mult)
	}
	return out, nil
}

// parseFlags reads the flags. Long because it is the flag list and the
// smoke run's defaults, one line each.
func parseFlags(args []string) config {
	root := repoRoot()
	var c config
	var sizes, watchers string
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.StringVar(&c.edgecore, "edgecore", filepath.Join(root, "bin", "edgecore"), "edgecore binary to start")
	fs.StringVar(&c.endpoint, "endpoint", "", "measure an already-running server at this URL instead of starting one")
	fs.StringVar(&c.socket, "socket", "", "with --endpoint: its ingress socket, for seeding and updates")
	fs.StringVar(&c.dataDir, "data-dir", "", "data dir for the started edgecore (default: a fresh temp dir per size)")
	fs.BoolVar(&c.noSeed, "no-seed", false, "do not seed; measure whatever the server holds")
	fs.StringVar(&sizes, "sizes", "1000,10000", "numbers of pods (and configmaps) to seed, comma-separated")
	fs.BoolVar(&c.large, "large", false, "add N=50000")
	fs.StringVar(&watchers, "watchers", "10,100,1000", "numbers of concurrent watchers, comma-separated")
	fs.IntVar(&c.samples, "samples", 30, "samples per operation")
	fs.IntVar(&c.warmup, "warmup", 3, "warm-up calls per operation")
	fs.IntVar(&c.minSamples, "min-samples", 10, "samples taken even when the per-operation time budget is spent")
	fs.DurationVar(&c.opBudget, "op-budget", 45*time.Second, "time budget per operation once min-samples are in")
	fs.DurationVar(&c.reqTimeout, "request-timeout", 60*time.Second, "timeout of one HTTP request")
	fs.DurationVar(&c.initTimeout, "watch-timeout", 120*time.Second, "timeout for all watchers to receive their initial events")
	fs.Int64Var(&c.watchBudget, "watch-budget", 1_000_000, "largest W×N for which W watches from resourceVersion=0 are timed; above it the watchers start at the current revision and only update latency is measured")
	fs.IntVar(&c.updateRate, "update-rate", 50, "updates per second in the update-latency phase")
	fs.DurationVar(&c.updateDur, "update-duration", 5*time.Second, "length of the update-latency phase")
	fs.IntVar(&c.window, "window", 2048, "ingest messages in flight on the socket")
	fs.StringVar(&c.out, "out", filepath.Join(root, "docs", "benchmarks.md"), "Markdown report to write (\"\" = stdout only)")
	fs.StringVar(&c.svg, "svg", "", "latency plot to write (default: bench-latency.svg beside --out)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temp data dirs")
	fs.BoolVar(&c.smoke, "smoke", false, "tiny run (N=200, W=10, few samples, no kube-apiserver) that writes nothing unless --out is given")
	fs.BoolVar(&c.tlsRows, "tls", true, "also measure edgecore over TLS and HTTP/2 at the largest size")
	fs.IntVar(&c.protoWatchers, "proto-watchers", 100, "protobuf watches from resourceVersion=0 (0: skip)")
	fs.IntVar(&c.tlsWatchers, "tls-watchers", 100, "watchers of the HTTP/2 rows")
	fs.IntVar(&c.scalePods, "scale-pods", 10000, "scale point: pods (0: skip the scale point)")
	fs.IntVar(&c.scaleCMs, "scale-configmaps", 90000, "scale point: configmaps")
	c.kube.register(fs, root)
	_ = fs.Parse(args)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.smoke {
		// What the smoke run changes, unless given on the command line.
		for name, v := range map[string]string{
			"sizes": "200", "watchers": "10", "samples": "5", "warmup": "1", "min-samples": "3",
			"op-budget": "2s", "watch-timeout": "10s", "update-rate": "20", "update-duration": "1s",
			"request-timeout": "10s", "out": "", "no-kube": "true", "scale-pods": "200",
			"scale-configmaps": "1800", "proto-watchers": "10", "tls-watchers": "10",
		} {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					panic(err) // a flag renamed without this list
				}
			}
		}
	}
	var err error
	if c.sizes, err = parseInts(sizes); err != nil {
		fmt.Fprintln(os.Stderr, "--sizes:", err)
		os.Exit(2)
	}
	if c.large {
		c.sizes = append(c.sizes, 50000)
	}
	if c.watchers, err = parseInts(watchers); err != nil {
		fmt.Fprintln(os.Stderr, "--watchers:", err)
		os.Exit(2)
	}
	if c.kube.watchers, err = parseInts(c.kube.watcherList); err != nil {
		fmt.Fprintln(os.Stderr, "--kube-watchers:", err)
		os.Exit(2)
	}
	if c.svg == "" && c.out != "" {
		c.svg = filepath.Join(filepath.Dir(c.out), "bench-latency.svg")
	}
	c.samples = max(c.samples, 1)
	c.minSamples = min(max(c.minSamples, 1), c.samples)
	c.updateRate = max(c.updateRate, 1)
	c.window = max(c.window, 1)
	c.args = strings.Join(args, " ")
	return c
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func main() {
	cfg := parseFlags(os.Args[1:])
	raiseFileLimit()
	b := newBench(cfg)
	b.cloudRV.Store(time.Now().UnixMicro())
	b.seq.Store(time.Now().Unix() * 1000)
	b.podSize = len(makePod(0, 1, 0))
	b.cmSize = len(makeConfigMap(0, 1))
	started := time.Now()
	b.load = startLoadSampler(10 * time.Second)
	start := machineFacts(cfg.edgecore) // commit and binary as they were when the run began
	b.loadStart, b.commitStart, b.binRevStart = start.load, start.commit, start.binRev
	if cfg.noSeed {
		b.runSize(0)
	} else {
		for _, n := range cfg.sizes {
			b.runSize(n)
		}
		if cfg.scalePods > 0 && cfg.endpoint == "" {
			b.runScale()
		}
	}
	if !cfg.kube.skip && !cfg.noSeed {
		b.runKube()
	}
	elapsed := time.Since(started)
	close(b.load.stop)
	md := b.markdown(elapsed)
	fmt.Print(md)
	if cfg.out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err == nil {
			err = os.WriteFile(cfg.out, []byte(md), 0o644)
			if err != nil {
				fmt.Fprintln(os.Stderr, "write report:", err)
				os.Exit(1)
			}
		}
		logf("wrote %s", cfg.out)
	}
	if cfg.svg != "" {
		if err := os.WriteFile(cfg.svg, []byte(b.svg()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write svg:", err)
			os.Exit(1)
		}
		logf("wrote %s", cfg.svg)
	}
	logf("done in %s", elapsed.Round(time.Second))
}

// dataSet describes the pods a size run measures.
type dataSet struct {
	n         int // pods on the server
	ours      bool
	getPath   string
	nsPath    string
	expectSel int // -1: unknown
	expectNS  int
	cursor    int
}

// benchData is the data set the bench seeds: n of its pods.
func benchData(n int) *dataSet {
	mid := n / 2
	ds := &dataSet{n: n, ours: true,
		getPath:   "/api/v1/namespaces/" + podNamespace(mid) + "/pods/" + podName(mid),
		nsPath:    "/api/v1/namespaces/" + podNamespace(3) + "/pods",
		expectSel: (n + 99) / 100,
	}
	for i := 0; i < n; i++ {
		if i%numNamespaces == 3 {
			ds.expectNS++
		}
	}
	return ds
}

func (d *dataSet) nextUpdate() int {
	i := d.cursor % d.n
	d.cursor++
	return i
}

// seedMessages builds the ingress messages for pods [0,pods) and configmaps
// [cm0,cm1).
func (b *bench) seedMessages(pods, cm0, cm1 int) [][]byte {
	msgs := make([][]byte, 0, pods+cm1-cm0)
	for i := 0; i < pods; i++ {
		rv := b.cloudRV.Add(1)
		msgs = append(msgs, appendMessage(nil, "bench-seed-pod-"+strconv.Itoa(i), "insert", podNamespace(i)+"/pod/"+podName(i), rv, makePod(i, rv, -1)))
	}
	for i := cm0; i < cm1; i++ {
		rv := b.cloudRV.Add(1)
		msgs = append(msgs, appendMessage(nil, "bench-seed-cm-"+strconv.Itoa(i), "insert", podNamespace(i)+"/configmap/"+cmName(i), rv, makeConfigMap(i, rv)))
	}
	return msgs
}

// ingestCell turns an ingest result into the ingest row's cell.
func ingestCell(ing ingestResult) cell {
	switch {
	case ing.err != nil && ing.ok == 0:
		return cell{na: describeErr(ing.err)}
	case ing.ok == 0 && ing.failed > 0:
		return cell{na: "failed: every message got an error reply: " + ing.firstErr}
	}
	c := cell{value: float64(ing.ok+ing.failed) / ing.elapsed.Seconds(), single: true,
		note: fmt.Sprintf("%d messages in %s", ing.ok+ing.failed, ing.elapsed.Round(time.Millisecond))}
	if ing.failed > 0 {
		c.note = joinNote(c.note, fmt.Sprintf("%d error replies, first: %s", ing.failed, ing.firstErr))
	}
	if ing.err != nil {
		c.note = joinNote(c.note, "ended with: "+ing.err.Error())
	}
	return c
}

// runSize runs every edgecore phase against one server holding n pods (n = 0:
// measure what an already-running server holds). Long because it is the
// run's script, phase after phase, each a few lines.
func (b *bench) runSize(n int) {
	cfg := b.cfg
	logf("=== edgecore, size N=%d", n)
	res, col := b.res, n
	t := newTarget("edgecore", strings.TrimRight(cfg.endpoint, "/"), nil)
	sock := cfg.socket
	var srv *server
	dataDir := cfg.dataDir
	if cfg.endpoint == "" {
		if dataDir == "" {
			d, err := os.MkdirTemp("", "edgecore-bench-")
			if err != nil {
				res.allNA(col, "failed: "+err.Error())
				return
			}
			dataDir = d
			if !cfg.keep {
				defer os.RemoveAll(d)
			}
		}
		var err error
		srv, _, err = startServer(cfg.edgecore, dataDir, 30*time.Second)
		if err != nil {
			logf("edgecore did not start: %v", err)
			b.failed = append(b.failed, fmt.Sprintf("N=%d: edgecore did not start: %v", n, err))
			res.allNA(col, "n/a (edgecore did not start)")
			return
		}
		defer func() { srv.stop() }()
		t, sock = srv.target(), srv.sock()
		logf("edgecore pid %d on %s, data dir %s", t.pid(), srv.addr, dataDir)
	}
	if sock != "" {
		t.newSink = b.socketSink(sock)
	}

	// Seed.
	seeded := false
	if !cfg.noSeed {
		if sock == "" {
			res.set("ingest", col, cell{na: "n/a (no ingress socket: give --socket with --endpoint)"})
		} else {
			msgs := b.seedMessages(n, 0, n)
			logf("seeding %d messages through %s", len(msgs), sock)
			ing := ingest(sock, msgs, cfg.window, 60*time.Second+time.Duration(len(msgs))*2*time.Millisecond)
			seeded = ing.ok > 0
			logf("ingest: %d ok, %d failed in %s (err %v) %s", ing.ok, ing.failed, ing.elapsed, ing.err, ing.firstErr)
			res.set("ingest", col, ingestCell(ing))
		}
	}

	// Discover what the server holds.
	ds := &dataSet{n: n, ours: seeded, expectSel: -1, expectNS: -1}
	if seeded {
		ds = benchData(n)
	}
	listed, firstNS, firstName, lerr := b.discover(t)
	if cfg.noSeed {
		if lerr != nil {
			res.allNA(0, describeErr(lerr))
			return
		}
		ds.n, col = listed, listed
		ds.ours = strings.HasPrefix(firstName, "bench-pod-")
		if ds.ours {
			ds = benchData(listed)
		}
	}
	if !ds.ours {
		ds.getPath = "/api/v1/namespaces/" + firstNS + "/pods/" + firstName
		ds.nsPath = "/api/v1/namespaces/" + firstNS + "/pods"
	}
	res.columns = appendUnique(res.columns, col)
	b.snapshotMem(res, t, col, "mem-seeded")
	if lerr == nil && ds.ours && listed != ds.n {
		res.addNote("list-all", col, fmt.Sprintf("⚠ list returned %d pods, %d seeded", listed, ds.n))
	}
	b.measureReads(t, res, col, ds)
	b.snapshotHWM(res, t, col, "mem-hwm")
	// At the comparison size edgecore is measured over HTTPS/1.1 too, like
	// kube-apiserver (the side-by-side table).
	likeKube := srv != nil && seeded && n == b.compareN() && !cfg.kube.skip
	if likeKube {
		if tt, err := b.edgeTLSTarget(srv); err == nil {
			b.measureReads(tt, b.tres, col, ds)
		} else {
			b.warnings = append(b.warnings, "edgecore over TLS: "+err.Error())
		}
	}
	if srv != nil && seeded && cfg.tlsRows && n == b.compareN() {
		b.measureTLS(srv, col, ds)
	}

	// Cold start on the same data dir; the watch phases then run on the
	// fresh process, so that their memory figures are not the lists' heap.
	if srv != nil && seeded {
		srv.stop()
		s2, err := b.restart(dataDir, res, col, ds.n)
		if err != nil {
			return
		}
		srv = s2
		t = srv.target()
		t.newSink = b.socketSink(srv.sock())
	}
	b.measureWatches(t, res, col, ds, cfg.watchers, true)
	b.snapshotHWM(res, t, col, "mem-hwm2")
	if likeKube {
		if tt, err := b.edgeTLSTarget(srv); err == nil {
			b.measureWatches(tt, b.tres, col, ds, cfg.kube.watchers, true)
		}
	}
}

// restart starts edgecore again on dataDir and records the cold start
// (exec → /readyz, and → first full pod list) in the "cold" row.
func (b *bench) restart(dataDir string, res *results, col, pods int) (*server, error) {
	s2, d, err := startServer(b.cfg.edgecore, dataDir, 60*time.Second)
	if err != nil {
		res.set("cold", col, cell{na: "failed: " + truncate(err.Error(), 120)})
		logf("restart failed: %v", err)
		b.failed = append(b.failed, fmt.Sprintf("N=%d: restart failed: %v", col, err))
		res.allNA(col, "n/a (edgecore did not restart)")
		return nil, err
	}
	c := cell{value: ms2(d), single: true}
	if got, _, _, err := b.discover(s2.target()); err == nil {
		c.extra = fmtVal(ms2(time.Since(s2.startedAt)), "ms")
		c.note = joinNote(c.note, fmt.Sprintf("first full pod list done %s after exec", c.extra))
		if got != pods {
			c.note = joinNote(c.note, fmt.Sprintf("⚠ %d pods after restart, %d before", got, pods))
		}
	}
	res.set("cold", col, c)
	logf("cold start %s (%s)", res.get("cold", col).brief("ms"), c.note)
	return s2, nil
}

// snapshotMem records the current VmRSS of the target's processes.
func (b *bench) snapshotMem(res *results, t *target, col int, key string) {
	var peaks []memPeak
	for _, p := range t.procs {
		if st, err := procStatus(p.pid); err == nil && p.pid > 0 {
			peaks = append(peaks, memPeak{name: p.name, rss: st["VmRSS"], anon: st["RssAnon"]})
		}
	}
	b.memRow(res, t, col, key, peaks)
}

// snapshotHWM records the server's VmHWM (peak since exec).
func (b *bench) snapshotHWM(res *results, t *target, col int, key string) {
	if pid := t.pid(); pid > 0 {
		_, hwm, _ := procMem(pid)
		b.memRow(res, t, col, key, []memPeak{{name: t.name, rss: hwm}})
	}
}

// memRow records resident memory (bytes) of the target's processes in
// column col: the first is the server (the figure), the others (etcd beside
// kube-apiserver) go into extra. The note has the private part (RssAnon) and
// how much of it is the mapped edgecore.db.
func (b *bench) memRow(res *results, t *target, col int, key string, peaks []memPeak) {
	if c, ok := memCell(t, peaks); ok {
		res.set(key, col, c)
	}
}

// memCell is memRow's cell (ok false: nothing was measured).
func memCell(t *target, peaks []memPeak) (cell, bool) {
	if len(peaks) == 0 || peaks[0].rss <= 0 {
		return cell{na: "n/a (process not started by the bench)"}, false
	}
	c := cell{value: float64(peaks[0].rss) / (1 << 20), single: true}
	if a := peaks[0].anon; a > 0 {
		c.note = fmt.Sprintf("RssAnon %s", fmtVal(float64(a)/(1<<20), "MB"))
		if k, r := fileMaps(t.pid(), "/edgecore.db"); k > 0 {
			c.note += fmt.Sprintf("; edgecore.db mapped %d× = %s of VmRSS now", k, fmtVal(float64(r)/(1<<20), "MB"))
		}
	}
	for _, p := range peaks[1:] {
		c.extra = joinNote(c.extra, fmt.Sprintf("+ %s %s", p.name, fmtVal(float64(p.rss)/(1<<20), "MB")))
	}
	c.note = joinNote(c.note, c.extra)
	return c, true
}

// measureReads runs the get/list phases of one size.
func (b *bench) measureReads(t *target, res *results, col int, ds *dataSet) {
	samplers := startSamplers(t.procs)
	expectItems := func(want int) func(listShape) (string, error) {
		return func(l listShape) (string, error) {
			if !strings.HasSuffix(l.Kind, "List") {
				return "", fmt.Errorf("failed: kind %q, not a list", l.Kind)
			}
			if want >= 0 && len(l.Items) != want {
				return fmt.Sprintf("⚠ %d items, expected %d", len(l.Items), want), nil
			}
			return fmt.Sprintf("%d items", len(l.Items)), nil
		}
	}
	isPod := func(l listShape) (string, error) {
		if l.Kind != "Pod" {
			return "", fmt.Errorf("failed: kind %q, not a Pod", l.Kind)
		}
		return "", nil
	}
	all := map[bool]int{true: ds.n, false: -1}[ds.ours]
	ops := []struct {
		key string
		op  opSpec
	}{
		{"list-all", opSpec{path: "/api/v1/pods", validate: expectItems(all)}},
		{"list-sel", opSpec{path: "/api/v1/pods?labelSelector=" + selectorQuery, validate: expectItems(ds.expectSel)}},
		{"list-ns", opSpec{path: ds.nsPath, validate: expectItems(ds.expectNS)}},
		{"get", opSpec{path: ds.getPath, validate: isPod}},
		{"table", opSpec{path: "/api/v1/pods", accept: tableAccept, validate: func(l listShape) (string, error) {
			if l.Kind != "Table" {
				return "", fmt.Errorf("n/a (answered kind %q, not a Table)", l.Kind)
			}
			if ds.ours && len(l.Rows) != ds.n {
				return fmt.Sprintf("⚠ %d rows, expected %d", len(l.Rows), ds.n), nil
			}
			return fmt.Sprintf("%d rows", len(l.Rows)), nil
		}}},
		{"list-4x", opSpec{path: "/api/v1/pods", concurrent: 4}},
		{"proto-list", opSpec{path: "/api/v1/pods", accept: protoAccept, validate: expectItems(all)}},
		{"proto-get", opSpec{path: ds.getPath, accept: protoAccept, validate: isPod}},
	}
	for _, o := range ops {
		c := opCell(b.measureOp(t, o.op))
		res.set(o.key, col, c)
		logf("%s %-10s %s", t.name, o.key, c.brief("ms"))
	}
	b.memRow(res, t, col, "mem-lists", stopSamplers(samplers))
}

// measureWatches runs the watch phases of one size: for each W, W JSON
// watches from resourceVersion=0 (or, above the watch budget, from the
// current revision) and the update latency with them open; then 100
// protobuf watches from resourceVersion=0 when proto is set.
func (b *bench) measureWatches(t *target, res *results, col int, ds *dataSet, watchers []int, proto bool) {
	cfg := b.cfg
	for _, w := range watchers {
		fromRV0 := int64(w)*int64(ds.n) <= cfg.watchBudget
		logf("%s watch phase W=%d (from resourceVersion=0: %v)", t.name, w, fromRV0)
		wr := b.watchPhase(t, ds.n, w, watchMode{fromRV0: fromRV0}, map[bool]*dataSet{true: ds, false: nil}[ds.ours])
		key, lkey := "watch-"+strconv.Itoa(w), "update-"+strconv.Itoa(w)
		b.setWatchCells(res, key, lkey, col, wr)
		if len(wr.ack) > 0 && !res.has("ack", col) {
			res.set("ack", col, cell{value: ms2(percentile(wr.ack, 0.5)), p99: ms2(percentile(wr.ack, 0.99)), samples: len(wr.ack),
				note: fmt.Sprintf("measured with %d watchers open", w)})
		}
		b.memRow(res, t, col, "mem-w"+strconv.Itoa(w), wr.peak)
		logf("%s W=%d initial %s; update %s", t.name, w, res.get(key, col).brief("ms"), res.get(lkey, col).brief("ms"))
	}
	if proto && int64(cfg.protoWatchers)*int64(ds.n) <= cfg.watchBudget && cfg.protoWatchers > 0 {
		wr := b.watchPhase(t, ds.n, cfg.protoWatchers, watchMode{fromRV0: true, proto: true, noUpdates: true}, ds)
		b.setWatchCells(res, "proto-watch", "", col, wr)
		logf("%s protobuf W=%d initial %s", t.name, cfg.protoWatchers, res.get("proto-watch", col).brief("ms"))
	}
}

// setWatchCells records a watch phase: the initial events in key, the
// update latency (until the last watcher has the update) in lkey.
func (b *bench) setWatchCells(res *results, key, lkey string, col int, wr watchPhaseResult) {
	switch {
	case key == "":
	case wr.skippedRV0 && wr.initialNA == "skipped":
		res.set(key, col, cell{na: fmt.Sprintf("skipped (W×N > %d)", b.cfg.watchBudget)})
	case wr.initialNA != "":
		res.set(key, col, cell{na: wr.initialNA})
	default:
		res.set(key, col, cell{value: ms2(wr.initial), single: true, note: wr.initNote})
	}
	if lkey == "" {
		return
	}
	if wr.latNA == "" && len(wr.lastLat) == 0 {
		wr.latNA = "failed: no update reached every watcher; " + wr.latNote
	}
	if wr.latNA != "" {
		res.set(lkey, col, cell{na: wr.latNA})
		return
	}
	c := cell{value: ms2(percentile(wr.lastLat, 0.5)), p99: ms2(percentile(wr.lastLat, 0.99)), samples: len(wr.lastLat), note: wr.latNote}
	if wr.skippedRV0 {
		c.note = joinNote(c.note, "watchers started at the current revision")
	}
	res.set(lkey, col, c)
}

// discover lists all pods once: count and the first pod's namespace/name.
func (b *bench) discover(t *target) (int, string, string, error) {
	var l struct {
		Items []struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := b.getJSON(t, "/api/v1/pods", &l); err != nil {
		return 0, "", "", err
	}
	if len(l.Items) == 0 {
		return 0, "", "", nil
	}
	return len(l.Items), l.Items[0].Metadata.Namespace, l.Items[0].Metadata.Name, nil
}

func ms2(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func appendUnique(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
