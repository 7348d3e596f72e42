package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"k8s.io/klog/v2"
)

// startProfiling serves Go's profiles (net/http/pprof) when
// EDGECORE_PPROF=HOST:PORT is set, for measuring one phase of a running
// node (docs/benchmarks.md). Only a loopback address is accepted: the
// profiles show memory contents and there is no authentication on them.
func startProfiling() {
	addr := os.Getenv("EDGECORE_PPROF")
	if addr == "" {
		return
	}
	if !loopbackAddr(addr) {
		klog.Errorf("edgecore: EDGECORE_PPROF=%q is not a loopback HOST:PORT; profiles not served", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		klog.Errorf("edgecore: EDGECORE_PPROF: %v", err)
		return
	}
	klog.Infof("edgecore: Go profiles on http://%s/debug/pprof/", l.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
}

// loopbackAddr: addr is HOST:PORT with HOST a loopback IP address.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}
