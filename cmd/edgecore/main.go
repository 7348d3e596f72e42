// Command edgecore is the edge node agent: metaManager (edgecore.db), the
// message ingress (edgehub, a unix socket) and lwserver (a lite Kubernetes
// API server over the store), run as beehive modules.
//
//	edgecore [--data-dir DIR] [--config FILE] [--defaultconfig] [--lwserver-address HOST:PORT] [klog flags]
//	edgecore inject [-f FILE|-] [--socket PATH | --data-dir DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/kubeedge/beehive/pkg/common"
	"github.com/kubeedge/beehive/pkg/core"
	beehiveContext "github.com/kubeedge/beehive/pkg/core/context"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink"
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// shutdownTimeout bounds a clean shutdown (docs/architecture.md §3.7: exit within 5 s).
const shutdownTimeout = 4500 * time.Millisecond

func main() {
	if len(os.Args) > 1 && os.Args[1] == "inject" {
		os.Exit(runInject(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("edgecore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "directory for edgecore.db and edgecore.sock (default: /var/lib/edgecore as root, else $XDG_STATE_HOME/edgecore or ~/.local/state/edgecore)")
	configFile := fs.String("config", "", "config file (YAML or JSON) overlaying the embedded defaults")
	printDefault := fs.Bool("defaultconfig", false, "print the full default config and exit")
	lwAddr := fs.String("lwserver-address", "", "HOST:PORT to serve the Kubernetes API on (default from config: 127.0.0.1:10550)")
	klog.InitFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: edgecore [flags]\n       edgecore inject [-f FILE|-] [--socket PATH | --data-dir DIR]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "edgecore: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	defer klog.Flush()
	if *printDefault {
		b, err := yaml.Marshal(DefaultConfig())
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		stdout.Write(b)
		return 0
	}
	cfg, err := loadConfig(*configFile)
	if err != nil {
		fmt.Fprintf(stderr, "edgecore: %v\n", err)
		return 2
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir()
	}
	if *lwAddr != "" {
		cfg.Modules.LWServer.Address = *lwAddr
	}
	setMemoryLimit(cfg.MemoryLimitMiB)
	// EDGECORE_CPUPROFILE=FILE writes a CPU profile of the whole run (for
	// benchmarks; see tests/integration BenchmarkIngest).
	if p := os.Getenv("EDGECORE_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	startProfiling()
	if err := serve(cfg); err != nil {
		klog.Errorf("edgecore: %v", err)
		return exitCode(err)
	}
	return exitOK
}

// setMemoryLimit applies Config.MemoryLimitMiB unless GOMEMLIMIT is set
// (the runtime has applied that one already).
func setMemoryLimit(mib int64) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		klog.Infof("edgecore: memory limit from GOMEMLIMIT=%s", v)
		return
	}
	if mib <= 0 {
		return
	}
	debug.SetMemoryLimit(mib << 20)
	klog.Infof("edgecore: soft memory limit %d MiB (memoryLimitMiB)", mib)
}

// apiServer is what serve needs of the Kubernetes API side (lwserver and its
// watch hub); see api_lwserver.go.
type apiServer interface {
	// Shutdown ends every watch stream cleanly and stops serving.
	Shutdown(ctx context.Context) error
}

// serve runs edgecore until SIGINT or SIGTERM.
func serve(cfg Config) error {
	dir, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	cfg.DataDir = dir

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	store, err := openStore(dir, cfg.Modules.MetaManager)
	if err != nil {
		return err
	}
	closeStore := func() {
		if err := store.Close(); err != nil {
			klog.Errorf("edgecore: close store: %v", err)
		}
	}
	r, err := build(cfg, store)
	if err != nil {
		closeStore()
		return err
	}
	if err := r.start(); err != nil {
		closeStore()
		return err
	}
	klog.Infof("edgecore: ready (revision %d)", store.Revision())
	trimCtx, stopTrim := context.WithCancel(context.Background())
	defer stopTrim()
	go trimMemory(trimCtx)

	sig := <-sigs
	klog.Infof("edgecore: %v: shutting down", sig)
	go func() {
		<-sigs
		klog.Warning("edgecore: second signal: exiting now")
		klog.Flush()
		os.Exit(1)
	}()
	r.stop()
	// Last, close the database (commits anything still queued).
	closeStore()
	klog.Info("edgecore: stopped")
	return nil
}

// prepareDataDir makes the data directory absolute and creates it (0700).
func prepareDataDir(dataDir string) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", dao.DataDirFault(dir, err)
	}
	klog.Infof("edgecore: data dir %s", dir)
	return dir, nil
}

// openStore opens <dir>/edgecore.db with metaManager's store settings.
func openStore(dir string, mc metamanager.Config) (*dao.Store, error) {
	store, err := dao.Open(filepath.Join(dir, "edgecore.db"), dao.Options{
		WindowEvents: mc.EventLogWindowEvents,
		WindowAge:    mc.EventLogWindowAge.Duration,
		WindowBytes:  mc.EventLogWindowBytes,
		StartupCheck: dao.CheckMode(mc.StartupCheck),
		MaxBatch:     mc.MaxBatch,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot use the store: %w", err)
	}
	return store, nil
}

// running is edgecore's set of modules, built over one open store.
type running struct {
	mm        *metamanager.MetaManager
	hub       *edgehub.Hub
	up        *uplink.Uplink
	api       apiServer
	apiModule core.Module
}

// build makes every module over store. The API server is built (and its
// hub subscribed) before any message can be committed, so watchers miss
// nothing.
func build(cfg Config, store *dao.Store) (*running, error) {
	dir := cfg.DataDir
	mapper := kube.NewMapper()
	mm, err := metamanager.New(store, mapper, cfg.Modules.MetaManager)
	if err != nil {
		return nil, err
	}
	r := &running{mm: mm, hub: edgehub.New(cfg.Modules.EdgeHub, filepath.Join(dir, edgehub.SocketName))}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if r.up, err = newUplink(cfg, dir, mm, store, reg); err != nil {
		return nil, err
	}
	if r.api, r.apiModule, err = newAPIServer(cfg, mapper, store, reg, r.up); err != nil {
		return nil, err
	}
	return r, nil
}

// start registers and starts the modules. Our own start: every module's
// channel exists before any module runs, so no message is sent to a module
// that is not registered yet (beehive's core.Run would also install its own
// signal handling).
func (r *running) start() error {
	core.Register(r.mm)
	core.Register(r.hub)
	if r.apiModule != nil {
		core.Register(r.apiModule)
	}
	beehiveContext.InitContext([]string{common.MsgCtxTypeChannel})
	mods := core.GetModules()
	for name, mi := range mods {
		beehiveContext.AddModule(&common.ModuleInfo{ModuleName: name, ModuleType: common.MsgCtxTypeChannel})
		beehiveContext.AddModuleGroup(name, mi.GetModule().Group())
	}
	if r.hub.Enable() {
		if err := r.hub.Listen(); err != nil {
			return err
		}
	}
	for name, mi := range mods {
		klog.Infof("edgecore: starting module %s", name)
		go mi.GetModule().Start()
	}
	if r.up != nil {
		r.up.Start()
	}
	return nil
}

// stop shuts the modules down in the order that loses nothing, within
// shutdownTimeout.
func (r *running) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// 1. Stop taking messages; every message already read is committed and
	//    answered before the connections close.
	if err := r.hub.Shutdown(ctx); err != nil {
		klog.Errorf("edgecore: ingress shutdown: %v", err)
	}
	if r.up != nil {
		r.up.Stop() // what it handed to metaManager is still applied below
	}
	// 2. Nothing is in flight any more: stop the workers.
	r.mm.Stop()
	// 3. End watch streams cleanly and stop serving.
	if r.api != nil {
		if err := r.api.Shutdown(ctx); err != nil {
			klog.Errorf("edgecore: lwserver shutdown: %v", err)
		}
	}
}
