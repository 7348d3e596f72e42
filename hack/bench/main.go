// Command bench is edgecore's end-to-end benchmark (DESIGN §4, issue 5): it
// starts the real binary, seeds it through the ingress socket, and measures
// lists, gets, Tables, watches and update latency over HTTP at several sizes.
//
//	go run ./hack/bench                    # sizes 1000,10000; writes docs/benchmarks.md
//	go run ./hack/bench --smoke            # N=200, W=10, a few seconds, writes nothing
//	go run ./hack/bench --endpoint http://127.0.0.1:10550 --no-seed
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
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
	samples, warmup, minSamples, window int
	opBudget, reqTimeout, initTimeout   time.Duration
	watchBudget                         int64
	updateRate                          int
	updateDur                           time.Duration
	args                                string
}

type bench struct {
	cfg                                 config
	client                              *http.Client
	seq                                 atomic.Int64 // update sequence numbers (annotation values)
	cloudRV                             atomic.Int64 // cloud resourceVersions we send; above anything sent before
	res                                 *results
	podSize                             int
	cmSize                              int
	loadStart, commitStart, binRevStart string
	failed                              []string // the server could not be run at all
	warnings                            []string
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
	fs.BoolVar(&c.smoke, "smoke", false, "tiny run (N=200, W=10, few samples) that writes nothing unless --out is given")
	_ = fs.Parse(args)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.smoke {
		if !set["sizes"] {
			sizes = "200"
		}
		if !set["watchers"] {
			watchers = "10"
		}
		if !set["samples"] {
			c.samples = 5
		}
		if !set["warmup"] {
			c.warmup = 1
		}
		if !set["min-samples"] {
			c.minSamples = 3
		}
		if !set["op-budget"] {
			c.opBudget = 2 * time.Second
		}
		if !set["watch-timeout"] {
			c.initTimeout = 10 * time.Second
		}
		if !set["update-rate"] {
			c.updateRate = 20
		}
		if !set["update-duration"] {
			c.updateDur = time.Second
		}
		if !set["request-timeout"] {
			c.reqTimeout = 10 * time.Second
		}
		if !set["out"] {
			c.out = ""
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

func newBenchClient() *http.Client { return &http.Client{Transport: newTransport()} }

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
	b := &bench{cfg: cfg, client: newBenchClient(), res: newResults()}
	b.res.ensureWatchRows(cfg.watchers)
	b.cloudRV.Store(time.Now().UnixMicro())
	b.seq.Store(time.Now().Unix() * 1000)
	b.podSize = len(makePod(0, 1, 0))
	b.cmSize = len(makeConfigMap(0, 1))
	started := time.Now()
	start := machineFacts(cfg.edgecore) // commit and binary as they were when the run began
	b.loadStart, b.commitStart, b.binRevStart = start.load, start.commit, start.binRev
	if cfg.noSeed {
		b.runSize(0)
	} else {
		for _, n := range cfg.sizes {
			b.runSize(n)
		}
	}
	elapsed := time.Since(started)
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

func (d *dataSet) nextUpdate() int {
	i := d.cursor % d.n
	d.cursor++
	return i
}

// runSize runs every phase against one server holding n pods (n = 0: discover).
func (b *bench) runSize(n int) {
	cfg := b.cfg
	logf("=== size N=%d", n)
	base, sock, pid := strings.TrimRight(cfg.endpoint, "/"), cfg.socket, 0
	var srv *server
	dataDir := cfg.dataDir
	col := n
	if cfg.endpoint == "" {
		if dataDir == "" {
			d, err := os.MkdirTemp("", "edgecore-bench-")
			if err != nil {
				b.res.allNA(col, "failed: "+err.Error())
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
			b.res.allNA(col, "n/a (edgecore did not start)")
			return
		}
		defer func() { srv.stop() }()
		base, sock, pid = srv.base(), srv.sock(), srv.pid()
		logf("edgecore pid %d on %s, data dir %s", pid, srv.addr, dataDir)
		if srv.noHTTP {
			logf("edgecore does not serve HTTP on %s yet: read rows will be n/a", srv.addr)
			b.warnings = append(b.warnings, fmt.Sprintf("N=%d: edgecore did not answer HTTP (socket only)", n))
		}
	}

	// Seed.
	var ing ingestResult
	seeded := false
	if !cfg.noSeed {
		if sock == "" {
			ing.err = fmt.Errorf("no ingress socket (give --socket with --endpoint)")
		} else {
			msgs := make([][]byte, 0, 2*n)
			for i := 0; i < n; i++ {
				rv := b.cloudRV.Add(1)
				msgs = append(msgs, appendMessage(nil, "bench-seed-pod-"+strconv.Itoa(i), "insert", podNamespace(i)+"/pod/"+podName(i), rv, makePod(i, rv, -1)))
			}
			for i := 0; i < n; i++ {
				rv := b.cloudRV.Add(1)
				msgs = append(msgs, appendMessage(nil, "bench-seed-cm-"+strconv.Itoa(i), "insert", podNamespace(i)+"/configmap/"+cmName(i), rv, makeConfigMap(i, rv)))
			}
			logf("seeding %d messages through %s", len(msgs), sock)
			ing = ingest(sock, msgs, cfg.window, 60*time.Second+time.Duration(len(msgs))*2*time.Millisecond)
			seeded = ing.ok > 0
			logf("ingest: %d ok, %d failed in %s (err %v) %s", ing.ok, ing.failed, ing.elapsed, ing.err, ing.firstErr)
		}
	}

	// Discover what the server holds.
	ds := &dataSet{n: n, ours: seeded, expectSel: -1, expectNS: -1}
	listed, firstNS, firstName, lerr := b.discover(base)
	if cfg.noSeed {
		if lerr != nil {
			b.res.allNA(0, describeErr(lerr))
			return
		}
		ds.n, col = listed, listed
		ds.ours = strings.HasPrefix(firstName, "bench-pod-")
	}
	if ds.ours {
		mid := ds.n / 2
		ds.getPath = "/api/v1/namespaces/" + podNamespace(mid) + "/pods/" + podName(mid)
		ds.nsPath = "/api/v1/namespaces/" + podNamespace(3) + "/pods"
		ds.expectSel, ds.expectNS = (ds.n+99)/100, 0
		for i := 0; i < ds.n; i++ {
			if i%numNamespaces == 3 {
				ds.expectNS++
			}
		}
	} else if firstName != "" {
		ds.getPath = "/api/v1/namespaces/" + firstNS + "/pods/" + firstName
		ds.nsPath = "/api/v1/namespaces/" + firstNS + "/pods"
	} else {
		ds.getPath = "/api/v1/namespaces/" + podNamespace(0) + "/pods/" + podName(0)
		ds.nsPath = "/api/v1/namespaces/" + podNamespace(3) + "/pods"
	}
	b.res.columns = appendUnique(b.res.columns, col)

	if !cfg.noSeed {
		switch {
		case ing.err != nil && ing.ok == 0:
			b.res.set("ingest", col, cell{na: describeErr(ing.err)})
		case ing.ok == 0 && ing.failed > 0:
			b.res.set("ingest", col, cell{na: "failed: every message got an error reply: " + ing.firstErr})
		default:
			c := cell{value: float64(ing.ok+ing.failed) / ing.elapsed.Seconds(), single: true,
				note: fmt.Sprintf("%d messages in %s", ing.ok+ing.failed, ing.elapsed.Round(time.Millisecond))}
			if ing.failed > 0 {
				c.note = joinNote(c.note, fmt.Sprintf("%d error replies, first: %s", ing.failed, ing.firstErr))
			}
			if ing.err != nil {
				c.note = joinNote(c.note, "ended with: "+ing.err.Error())
			}
			b.res.set("ingest", col, c)
		}
	}
	if pid > 0 {
		if st, err := procStatus(pid); err == nil {
			b.memRow(pid, col, "mem-seeded", st["VmRSS"], st["RssAnon"])
		}
	}
	noHTTP := func() {
		for _, rw := range b.res.rows {
			if rw.cells[col] == nil && !strings.HasPrefix(rw.key, "mem-") && rw.key != "cold" && rw.key != "ingest" {
				b.res.set(rw.key, col, cell{na: "n/a (edgecore serves no HTTP yet)"})
			}
		}
	}
	if srv != nil && srv.noHTTP {
		noHTTP()
	} else {
		if lerr == nil && ds.ours && listed != ds.n {
			b.res.addNote("list-all", col, fmt.Sprintf("⚠ list returned %d pods, %d seeded", listed, ds.n))
		}
		b.measureReads(base, pid, col, ds)
	}
	if pid > 0 {
		_, hwm, _ := procMem(pid)
		b.memRow(pid, col, "mem-hwm", hwm, 0)
	}

	// Cold start on the same data dir; the watch phases then run on the
	// fresh process, so that their memory figures are not the lists' heap.
	if srv != nil && seeded {
		srv.stop()
		s2, d, err := startServer(cfg.edgecore, dataDir, 30*time.Second)
		if err != nil {
			b.res.set("cold", col, cell{na: "failed: " + truncate(err.Error(), 120)})
			logf("restart failed: %v", err)
			b.failed = append(b.failed, fmt.Sprintf("N=%d: restart failed: %v", n, err))
			b.res.allNA(col, "n/a (edgecore did not restart)")
			return
		}
		c := cell{value: ms2(d), single: true, note: fmt.Sprintf("%d objects stored", 2*ds.n)}
		if s2.noHTTP {
			c.note = joinNote(c.note, "until the socket appeared (no HTTP)")
		}
		if got, _, _, err := b.discover(s2.base()); err == nil {
			c.note = joinNote(c.note, fmt.Sprintf("first full pod list done %s after exec", fmtVal(ms2(time.Since(s2.startedAt)), "ms")))
			if got != ds.n {
				c.note = joinNote(c.note, fmt.Sprintf("⚠ %d pods after restart, %d before", got, ds.n))
			}
		}
		b.res.set("cold", col, c)
		logf("cold start %s", b.res.get("cold", col).brief("ms"))
		srv = s2
		base, sock, pid = srv.base(), srv.sock(), srv.pid()
	}
	if srv != nil && srv.noHTTP {
		noHTTP()
	} else {
		b.measureWatches(base, sock, pid, col, ds)
	}
	if pid > 0 {
		_, hwm, _ := procMem(pid)
		b.memRow(pid, col, "mem-hwm2", hwm, 0)
	}
}

// memRow records a resident-memory figure (bytes) of edgecore (pid) in
// column col, noting its private part (anon) and how much of it is the mapped
// edgecore.db. Nothing is recorded when the process is not ours (pid 0).
func (b *bench) memRow(pid, col int, key string, v, anon int64) {
	if pid <= 0 || v <= 0 {
		return
	}
	c := cell{value: float64(v) / (1 << 20), single: true}
	if anon > 0 {
		c.note = fmt.Sprintf("RssAnon %s", fmtVal(float64(anon)/(1<<20), "MB"))
		if k, r := fileMaps(pid, "/edgecore.db"); k > 0 {
			c.note += fmt.Sprintf("; edgecore.db mapped %d× = %s of VmRSS now", k, fmtVal(float64(r)/(1<<20), "MB"))
		}
	}
	b.res.set(key, col, c)
}

// measureReads runs the get/list phases of one size.
func (b *bench) measureReads(base string, pid, col int, ds *dataSet) {
	var ms *memSampler
	if pid > 0 {
		ms = startMemSampler(pid)
	}
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
	ops := []struct {
		key string
		op  opSpec
	}{
		{"list-all", opSpec{path: "/api/v1/pods", validate: expectItems(map[bool]int{true: ds.n, false: -1}[ds.ours])}},
		{"list-sel", opSpec{path: "/api/v1/pods?labelSelector=" + selectorQuery, validate: expectItems(ds.expectSel)}},
		{"list-ns", opSpec{path: ds.nsPath, validate: expectItems(ds.expectNS)}},
		{"get", opSpec{path: ds.getPath, validate: func(l listShape) (string, error) {
			if l.Kind != "Pod" {
				return "", fmt.Errorf("failed: kind %q, not a Pod", l.Kind)
			}
			return "", nil
		}}},
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
	}
	for _, o := range ops {
		r := b.measureOp(base, o.op)
		c := cell{na: r.na, note: r.note, samples: len(r.samples)}
		if r.na == "" {
			c.value, c.p99 = ms2(r.median()), ms2(r.p99())
			c.note = joinNote(c.note, fmt.Sprintf("%s body", humanBytes(r.bytes)))
		}
		b.res.set(o.key, col, c)
		logf("%-9s %s", o.key, c.brief("ms"))
	}
	if ms != nil {
		rss, anon := ms.stop()
		b.memRow(pid, col, "mem-lists", rss, anon)
	}

}

// measureWatches runs the watch phases of one size.
func (b *bench) measureWatches(base, sock string, pid, col int, ds *dataSet) {
	cfg := b.cfg
	for _, w := range cfg.watchers {
		fromRV0 := int64(w)*int64(ds.n) <= cfg.watchBudget
		logf("watch phase W=%d (from resourceVersion=0: %v)", w, fromRV0)
		wr := b.watchPhase(base, sock, ds.n, w, fromRV0, map[bool]*dataSet{true: ds, false: nil}[ds.ours], pid)
		key := "watch-" + strconv.Itoa(w)
		switch {
		case wr.skippedRV0 && wr.initialNA == "skipped":
			b.res.set(key, col, cell{na: fmt.Sprintf("skipped (W×N > %d)", cfg.watchBudget)})
		case wr.initialNA != "":
			b.res.set(key, col, cell{na: wr.initialNA})
		default:
			b.res.set(key, col, cell{value: ms2(wr.initial), single: true, note: wr.initNote})
		}
		lkey := "update-" + strconv.Itoa(w)
		if wr.latNA != "" {
			b.res.set(lkey, col, cell{na: wr.latNA})
		} else {
			c := cell{value: ms2(percentile(wr.lat, 0.5)), p99: ms2(percentile(wr.lat, 0.99)), samples: len(wr.lat), note: wr.latNote}
			if wr.skippedRV0 {
				c.note = joinNote(c.note, "watchers started at the current revision")
			}
			b.res.set(lkey, col, c)
			if len(wr.ack) > 0 && !b.res.has("ack", col) {
				b.res.set("ack", col, cell{value: ms2(percentile(wr.ack, 0.5)), p99: ms2(percentile(wr.ack, 0.99)), samples: len(wr.ack),
					note: fmt.Sprintf("measured with %d watchers open", w)})
			}
		}
		b.memRow(pid, col, "mem-w"+strconv.Itoa(w), wr.peakRSS, wr.peakAnon)
		logf("W=%d initial %s; update %s", w, b.res.get(key, col).brief("ms"), b.res.get(lkey, col).brief("ms"))
	}
}

// discover lists all pods once: count and the first pod's namespace/name.
func (b *bench) discover(base string) (int, string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.reqTimeout)
	defer cancel()
	_, body, err := fetch(ctx, b.client, base+"/api/v1/pods", "", true)
	if err != nil {
		return 0, "", "", err
	}
	var l struct {
		Items []struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
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
