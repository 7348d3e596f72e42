// Command uplinkfleet runs N edgecores, each syncing its own node from one
// real kube-apiserver through the uplink, and reports what docs/uplink.md
// extrapolates from: time until every node is synced, resident memory per
// edgecore, watches per node on the kube-apiserver, and the cloud's watch
// events per node while objects change.
//
//	go run ./hack/uplinkfleet [--nodes 20] [--pods 10] [--churn 20s]
//
// It needs bin/edgecore (make build) and bin/kube-apiserver + bin/etcd
// (make kube-tools). Not part of make test: it takes a few minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	nodes := flag.Int("nodes", 20, "edgecores (one node each)")
	pods := flag.Int("pods", 10, "pods per node (each: its own ConfigMap and Secret, a shared ConfigMap, the default ServiceAccount)")
	churn := flag.Duration("churn", 20*time.Second, "how long to change objects after the sync (events per node)")
	bin := flag.String("edgecore", "bin/edgecore", "the edgecore binary")
	flag.Parse()
	if err := run(*nodes, *pods, *churn, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "uplinkfleet:", err)
		os.Exit(1)
	}
}

func run(nodes, pods int, churn time.Duration, bin string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	f, err := startFleet(ctx, nodes, pods)
	if err != nil {
		return err
	}
	defer f.stop()
	baseWatches, err := f.cloudWatches(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := f.startEdges(bin); err != nil {
		return err
	}
	syncTimes, err := f.waitSynced(ctx, start, 5*time.Minute)
	if err != nil {
		return err
	}
	allSynced := time.Since(start)
	watches, err := f.cloudWatches(ctx)
	if err != nil {
		return err
	}
	rss := f.memory()
	msgs0 := f.messages()
	changes, err := f.churn(ctx, churn)
	if err != nil {
		return err
	}
	msgs := f.messages() - msgs0
	sort.Slice(syncTimes, func(i, j int) bool { return syncTimes[i] < syncTimes[j] })
	rssSorted := append([]int64(nil), rss...)
	sort.Slice(rssSorted, func(i, j int) bool { return rssSorted[i] < rssSorted[j] })
	var rssSum int64
	for _, r := range rss {
		rssSum += r
	}
	fmt.Printf("| figure | value |\n| --- | --- |\n")
	fmt.Printf("| edgecores (nodes) × pods per node | %d × %d |\n", nodes, pods)
	fmt.Printf("| time until every node is synced (from exec) | %s |\n", allSynced.Round(10*time.Millisecond))
	fmt.Printf("| per node: median / slowest | %s / %s |\n", syncTimes[len(syncTimes)/2].Round(10*time.Millisecond), syncTimes[len(syncTimes)-1].Round(10*time.Millisecond))
	fmt.Printf("| resident memory per edgecore: mean / max | %.1f / %.1f MB |\n", float64(rssSum)/float64(len(rss))/1e6, float64(rssSorted[len(rssSorted)-1])/1e6)
	fmt.Printf("| watches on kube-apiserver per node | %.1f (%d in all, %d before the edges) |\n", float64(watches-baseWatches)/float64(nodes), watches, baseWatches)
	fmt.Printf("| churn: cloud changes / s (all nodes' ConfigMaps) | %.1f |\n", float64(changes)/churn.Seconds())
	fmt.Printf("| churn: uplink messages / s per node | %.2f |\n", float64(msgs)/churn.Seconds()/float64(nodes))
	return nil
}
