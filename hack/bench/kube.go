package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"

	"github.com/edgecore/edgecore/hack/kubeapiserver"
)

// kubeFlags configure the kube-apiserver side: the same rows against a real
// kube-apiserver + etcd, seeded through its API with the same objects.
type kubeFlags struct {
	skip            bool
	apiserver, etcd string // binaries the bench starts
	endpoint        string // an already-running kube-apiserver instead
	ca, cert, key   string // with endpoint: its CA and an admin client certificate
	watcherList     string
	watchers        []int
	workers         int // parallel requests while seeding
	watchTimeout    time.Duration
	scaleBudget     time.Duration // for seeding the scale point's configmaps
	apiserverPID    int           // with endpoint: processes whose memory to report
	etcdPID         int
}

func (k *kubeFlags) register(fs *flag.FlagSet, root string) {
	fs.BoolVar(&k.skip, "no-kube", false, "skip the kube-apiserver side (only edgecore's figures)")
	fs.StringVar(&k.apiserver, "kube-apiserver", filepath.Join(root, "bin", "kube-apiserver"), "kube-apiserver binary (make kube-tools)")
	fs.StringVar(&k.etcd, "etcd", filepath.Join(root, "bin", "etcd"), "etcd binary (make kube-tools)")
	fs.StringVar(&k.endpoint, "kube-endpoint", "", "measure an already-running kube-apiserver at this https URL instead of starting one")
	fs.StringVar(&k.ca, "kube-ca", "", "with --kube-endpoint: CA file of its serving certificate")
	fs.StringVar(&k.cert, "kube-cert", "", "with --kube-endpoint: admin (system:masters) client certificate file")
	fs.StringVar(&k.key, "kube-key", "", "with --kube-endpoint: its key file")
	fs.IntVar(&k.apiserverPID, "kube-apiserver-pid", 0, "with --kube-endpoint: kube-apiserver's pid, for memory figures")
	fs.IntVar(&k.etcdPID, "etcd-pid", 0, "with --kube-endpoint: etcd's pid, for memory figures")
	fs.StringVar(&k.watcherList, "kube-watchers", "100", "numbers of concurrent watchers against kube-apiserver")
	fs.IntVar(&k.workers, "kube-seed-workers", 16, "parallel requests while seeding kube-apiserver")
	fs.DurationVar(&k.scaleBudget, "kube-scale-budget", 8*time.Minute, "time budget for seeding kube-apiserver with the scale point's configmaps (a loaded machine seeds ~100/s)")
	fs.DurationVar(&k.watchTimeout, "kube-watch-timeout", 5*time.Minute, "timeout for kube-apiserver's watchers to receive their initial events")
}

// clientTLS is the TLS config of an admin client: the server's CA, a client
// certificate.
func clientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// startKube starts kube-apiserver + etcd, or connects to --kube-endpoint,
// and returns the target and how to stop it.
func (b *bench) startKube() (*target, func(), error) {
	k := b.cfg.kube
	if k.endpoint == "" {
		return b.startKubeProcesses()
	}
	tc, err := clientTLS(k.ca, k.cert, k.key)
	if err != nil {
		return nil, nil, fmt.Errorf("--kube-endpoint credentials: %w", err)
	}
	var procs []proc
	if k.apiserverPID > 0 {
		procs = append(procs, proc{name: "kube-apiserver", pid: k.apiserverPID})
		if k.etcdPID > 0 {
			procs = append(procs, proc{name: "etcd", pid: k.etcdPID})
		}
	}
	return newTarget("kube-apiserver", strings.TrimRight(k.endpoint, "/"), tc, procs...), func() {}, nil
}

// runKube runs the rows against kube-apiserver at the comparison size, then
// the scale point's configmap list. The timeouts are kube-apiserver's own
// (its 100 initial watches take about a minute).
func (b *bench) runKube() {
	n, res := b.compareN(), b.kres
	logf("=== kube-apiserver, size N=%d", n)
	t, stop, err := b.startKube()
	if err != nil {
		logf("kube-apiserver: %v", err)
		b.failed = append(b.failed, "kube-apiserver: "+err.Error())
		res.allNA(n, "n/a (kube-apiserver: "+truncate(err.Error(), 100)+")")
		return
	}
	defer stop()
	if v, err := b.kubeGitVersion(t); err == nil {
		b.kubeVersion = v + " with etcd v3.7.0 (etcd started with --unsafe-no-fsync: its writes are not durable, edgecore's are)"
	}
	seed := b.seedAPI(t, n, 0, n, time.Time{})
	res.set("ingest", n, seed.cell())
	logf("kube-apiserver seeded: %s", res.get("ingest", n).note)
	if seed.ok == 0 {
		res.allNA(n, "n/a (seeding kube-apiserver failed: "+truncate(seed.firstErr, 100)+")")
		return
	}
	ds := benchData(n)
	if err := b.warmKube(t, ds); err != nil {
		b.warnings = append(b.warnings, "kube-apiserver watch cache: "+err.Error())
	}
	b.snapshotMem(res, t, n, "mem-seeded")
	b.measureReads(t, res, n, ds)
	t.newSink = apiSinkFor(t)
	saved := b.cfg.initTimeout
	b.cfg.initTimeout = b.cfg.kube.watchTimeout
	b.measureWatches(t, res, n, ds, b.cfg.kube.watchers, true)
	b.cfg.initTimeout = saved
	if b.cfg.scalePods > 0 && b.cfg.scaleCMs > 0 {
		b.kubeScale(t, n)
	}
}

// kubeGitVersion reads /version.
func (b *bench) kubeGitVersion(t *target) (string, error) {
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	err := b.getJSON(t, "/version", &v)
	return v.GitVersion, err
}

// warmKube waits until kube-apiserver's watch cache holds every seeded pod
// (a list at resourceVersion=0 is served from it) and runs one watch from
// resourceVersion=0 through it.
func (b *bench) warmKube(t *target, ds *dataSet) error {
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := b.countItems(t, "/api/v1/pods?resourceVersion=0")
		if err == nil && got == ds.n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d pods in the watch cache after a minute (%v)", got, ds.n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	wr := b.watchPhase(t, ds.n, 1, watchMode{fromRV0: true, noUpdates: true}, ds)
	if wr.initialNA != "" {
		return errors.New("warm-up watch: " + wr.initialNA)
	}
	logf("kube-apiserver watch cache warm: one watch from resourceVersion=0 in %s", wr.initial.Round(time.Millisecond))
	return nil
}

// countItems lists path and counts the items.
func (b *bench) countItems(t *target, path string) (int, error) {
	var l listShape
	err := b.getJSON(t, path, &l)
	return len(l.Items), err
}

// apiSeed is the outcome of seeding through the API.
type apiSeed struct {
	requests, ok, failed int
	skipped              int // configmaps not created: the deadline passed
	firstErr             string
	elapsed              time.Duration
}

func (s apiSeed) cell() cell {
	if s.ok == 0 {
		return cell{na: "failed: " + s.firstErr}
	}
	c := cell{value: float64(s.requests) / s.elapsed.Seconds(), single: true,
		note: fmt.Sprintf("through the API: %d requests (pod create + status update, configmap create) in %s", s.requests, s.elapsed.Round(time.Millisecond))}
	if s.failed > 0 {
		c.note = joinNote(c.note, fmt.Sprintf("%d failed, first: %s", s.failed, s.firstErr))
	}
	if s.skipped > 0 {
		c.note = joinNote(c.note, fmt.Sprintf("⚠ %d configmaps not created: seeding stopped at its time budget (--kube-scale-budget)", s.skipped))
	}
	return c
}

// seedAPI creates, through kube-apiserver's API, the namespaces with their
// default ServiceAccount, pods [0,pods) with their status (a create drops
// it, as for any client) and configmaps [cm0,cm1), with parallel requests.
// A non-zero deadline stops it early (the rest is counted as skipped).
func (b *bench) seedAPI(t *target, pods, cm0, cm1 int, deadline time.Time) apiSeed {
	tr := newTransport(t.tls, false, nil)
	tr.MaxIdleConnsPerHost = b.cfg.kube.workers
	c := &http.Client{Transport: tr, Timeout: b.cfg.reqTimeout}
	defer tr.CloseIdleConnections()
	var s apiSeed
	var mu sync.Mutex
	var ok, failed atomic.Int64
	do := func(method, path string, body []byte) {
		if err := apiWrite(c, method, t.base+path, body); err != nil {
			failed.Add(1)
			mu.Lock()
			if s.firstErr == "" {
				s.firstErr = fmt.Sprintf("%s %s: %v", method, path, err)
			}
			mu.Unlock()
			return
		}
		ok.Add(1)
	}
	start := time.Now()
	for ns := 0; ns < numNamespaces; ns++ {
		name := podNamespace(ns)
		do(http.MethodPost, "/api/v1/namespaces", fmt.Appendf(nil, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, name))
		do(http.MethodPost, "/api/v1/namespaces/"+name+"/serviceaccounts", []byte(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}`))
	}
	jobs := make(chan func())
	var wg sync.WaitGroup
	for range max(b.cfg.kube.workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j()
			}
		}()
	}
	for i := 0; i < pods; i++ {
		jobs <- func() {
			p := makePod(i, 0, -1)
			base := "/api/v1/namespaces/" + podNamespace(i) + "/pods"
			do(http.MethodPost, base, p)
			do(http.MethodPut, base+"/"+podName(i)+"/status", p)
		}
	}
	for i := cm0; i < cm1; i++ {
		if !deadline.IsZero() && time.Now().After(deadline) {
			s.skipped = cm1 - i
			break
		}
		jobs <- func() {
			do(http.MethodPost, "/api/v1/namespaces/"+podNamespace(i)+"/configmaps", makeConfigMap(i, 0))
		}
	}
	close(jobs)
	wg.Wait()
	s.elapsed = time.Since(start)
	s.ok, s.failed = int(ok.Load()), int(failed.Load())
	s.requests = s.ok + s.failed
	return s
}

// apiWrite sends one write; "already exists" counts as done (a rerun on the
// same server), overload and server errors are retried a few times.
func apiWrite(c *http.Client, method, url string, body []byte) error {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		code, text, err := doJSON(context.Background(), c, method, url, "application/json", body)
		switch {
		case err != nil:
			last = err
			continue
		case code == http.StatusConflict && method == http.MethodPost && strings.Contains(text, "AlreadyExists"):
			return nil
		case code == http.StatusTooManyRequests || code >= 500:
			last = fmt.Errorf("HTTP %d %s", code, truncate(text, 120))
			continue
		case code >= 300:
			return fmt.Errorf("HTTP %d %s", code, truncate(text, 200))
		}
		return nil
	}
	return last
}

// kubeScale adds configmaps up to the scale point's count and times the
// list of all of them (the edgecore side is in runScale).
func (b *bench) kubeScale(t *target, n int) {
	total := b.cfg.scaleCMs
	if total > n {
		logf("kube-apiserver: seeding configmaps %d..%d for the scale point", n, total)
		seed := b.seedAPI(t, 0, n, total, time.Now().Add(b.cfg.kube.scaleBudget))
		b.scale.kubeSeed = seed.cell()
		total -= seed.skipped
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := b.countItems(t, "/api/v1/configmaps?resourceVersion=0")
		if err == nil && got >= total {
			break
		}
		if time.Now().After(deadline) {
			b.warnings = append(b.warnings, fmt.Sprintf("kube-apiserver: %d of %d configmaps in the watch cache (%v)", got, total, err))
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	samplers := startSamplers(t.procs)
	r := b.measureOp(t, opSpec{path: "/api/v1/configmaps", validate: func(l listShape) (string, error) {
		return fmt.Sprintf("%d items", len(l.Items)), nil
	}})
	b.scale.kubeListCM = opCell(r)
	b.scale.kubeMem, _ = memCell(t, stopSamplers(samplers))
	logf("kube-apiserver list %s configmaps: %s", strconv.Itoa(total), b.scale.kubeListCM.brief("ms"))
}

// opCell is a measured operation's cell.
func opCell(r opResult) cell {
	c := cell{na: r.na, note: r.note, samples: len(r.samples)}
	if r.na == "" {
		c.value, c.p99 = ms2(r.median()), ms2(r.p99())
		c.note = joinNote(c.note, fmt.Sprintf("%s body", humanBytes(r.bytes)))
	}
	return c
}

// startKubeProcesses starts etcd and kube-apiserver (hack/kubeapiserver:
// generated PKI, an admin client certificate in system:masters) on temp dirs.
func (b *bench) startKubeProcesses() (*target, func(), error) {
	k := b.cfg.kube
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := kubeapiserver.Start(ctx, kubeapiserver.Config{APIServerBin: k.apiserver, EtcdBin: k.etcd})
	if err != nil {
		return nil, nil, err
	}
	tc, err := rest.TLSConfigFor(s.Admin)
	if err != nil {
		_ = s.Stop()
		return nil, nil, fmt.Errorf("admin TLS config: %w", err)
	}
	api, etcd := s.PIDs()
	logf("kube-apiserver pid %d, etcd pid %d on %s, ready after %s", api, etcd, s.URL, time.Since(start).Round(time.Millisecond))
	t := newTarget("kube-apiserver", s.URL, tc, proc{name: "kube-apiserver", pid: api}, proc{name: "etcd", pid: etcd})
	return t, func() {
		if err := s.Stop(); err != nil {
			logf("stopping kube-apiserver: %v", err)
		}
	}, nil
}
