package integration

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// eventLog records what an informer's handlers see: "ADD p0", "UPDATE p0",
// "DELETE p0", with the revision of each.
type eventLog struct {
	mu     sync.Mutex
	events []string
	revs   []int64
}

func (l *eventLog) add(op string, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
		op += "(unknown)"
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	rv, _ := strconv.ParseInt(p.ResourceVersion, 10, 64)
	l.mu.Lock()
	l.events = append(l.events, op+" "+p.Name)
	l.revs = append(l.revs, rv)
	l.mu.Unlock()
}

func (l *eventLog) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { l.add("ADD", obj) },
		UpdateFunc: func(_, obj any) { l.add("UPDATE", obj) },
		DeleteFunc: func(obj any) { l.add("DELETE", obj) },
	}
}

func (l *eventLog) snapshot() ([]string, []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...), append([]int64(nil), l.revs...)
}

func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// expect waits until the events after index from are exactly want (in
// order, with increasing revisions), then checks nothing more arrives.
func (l *eventLog) expect(t *testing.T, name string, from int, want ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for l.len() < from+len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // duplicates would show up by now
	evs, revs := l.snapshot()
	got := evs[min(from, len(evs)):]
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s informer saw\n  %v\nwant\n  %v", name, got, want)
	}
	for i := from + 1; i < len(revs); i++ {
		if revs[i] <= revs[i-1] {
			t.Fatalf("%s informer: revisions not increasing at %d: %v", name, i, revs[from:])
		}
	}
}

// podInformer starts an informer on pods of all namespaces (with an
// optional label selector) over cs, recording its events.
func podInformer(t *testing.T, cs kubernetes.Interface, selector string) (cache.SharedIndexInformer, *eventLog) {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	}))
	inf := f.Core().V1().Pods().Informer()
	l := &eventLog{}
	if _, err := inf.AddEventHandler(l.handler()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); f.Shutdown() })
	f.Start(ctx.Done())
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	defer scancel()
	if !cache.WaitForCacheSync(sctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	return inf, l
}

func web() map[string]string { return map[string]string{"app": "web"} }
func db() map[string]string  { return map[string]string{"app": "db"} }

// injectEach injects messages one at a time (each acknowledged before the
// next is sent), so their commit order is the order given.
func injectEach(t *testing.T, e *Edgecore, msgs ...Message) {
	t.Helper()
	for _, m := range msgs {
		MustOK(t, e.Inject(m))
	}
}

func storeNames(inf cache.SharedIndexInformer) string {
	var names []string
	for _, o := range inf.GetStore().List() {
		p := o.(*corev1.Pod)
		names = append(names, p.Name+"="+string(p.Status.Phase))
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// TestWatchInformer: client-go SharedInformers (LIST then WATCH) over the
// binary: initial sync; every later change seen exactly once and in order;
// a label-selector informer sees objects move in (ADD) and out (DELETE);
// across an edgecore restart both resume their watch from their last
// revision without a relist.
func TestWatchInformer(t *testing.T) {
	setWatchListClient(t, false)
	e := startAPI(t, Options{})
	for i := 0; i < 5; i++ {
		labels := db()
		if i < 2 {
			labels = web()
		}
		MustOK(t, e.Inject(podMsg("insert", "default", fmt.Sprintf("p%d", i), labels, "Running")))
	}
	cfg, reqs := loggedConfig(e)
	cs := kubernetes.NewForConfigOrDie(cfg)
	all, allLog := podInformer(t, cs, "")
	sel, selLog := podInformer(t, cs, "app=web")

	if n := allLog.len(); n != 5 || len(all.GetStore().List()) != 5 {
		t.Fatalf("initial sync: %d adds, %d objects", n, len(all.GetStore().List()))
	}
	if got := storeNames(sel); got != "p0=Running,p1=Running" {
		t.Fatalf("selector informer store %s", got)
	}

	injectEach(t, e,
		podMsg("insert", "default", "p5", web(), "Running"),
		podMsg("update", "default", "p2", web(), "Running"), // moves in
		podMsg("update", "default", "p0", db(), "Running"),  // moves out
		podMsg("update", "default", "p1", web(), "Failed"),
		Msg("delete", "default/pod/p3", nil),
		Msg("delete", "default/pod/p5", nil),
		podMsg("insert", "kube-system", "p6", db(), "Pending"),
	)
	allLog.expect(t, "all", 5, "ADD p5", "UPDATE p2", "UPDATE p0", "UPDATE p1", "DELETE p3", "DELETE p5", "ADD p6")
	selLog.expect(t, "selector", 2, "ADD p5", "ADD p2", "DELETE p0", "UPDATE p1", "DELETE p5")
	if got := storeNames(sel); got != "p1=Failed,p2=Running" {
		t.Fatalf("selector informer store %s", got)
	}
	if n := reqs.count("LIST"); n != 2 {
		t.Fatalf("%d lists before restart:\n%s", n, reqs)
	}
	watchesBefore := reqs.count("WATCH")
	lastRV := all.LastSyncResourceVersion()

	time.Sleep(1100 * time.Millisecond) // no "very short watch" on the restart
	e.Restart()
	injectEach(t, e,
		podMsg("update", "kube-system", "p6", db(), "Running"),
		podMsg("insert", "default", "p7", web(), "Running"),
		podMsg("update", "default", "p2", db(), "Running"), // moves out
	)
	allLog.expect(t, "all", 12, "UPDATE p6", "ADD p7", "UPDATE p2")
	selLog.expect(t, "selector", 7, "ADD p7", "DELETE p2")
	if n := reqs.count("LIST"); n != 2 {
		t.Fatalf("relisted after restart (%d lists):\n%s", n, reqs)
	}
	if reqs.count("WATCH") <= watchesBefore || !strings.Contains(reqs.String(), "resourceVersion="+lastRV) {
		t.Fatalf("no watch resumed from %s:\n%s", lastRV, reqs)
	}
	if got := storeNames(all); got != "p0=Running,p1=Failed,p2=Running,p4=Running,p6=Running,p7=Running" {
		t.Fatalf("store after restart: %s", got)
	}
}

// TestWatchInformerRelistAfterCompaction: an informer whose watch revision
// has left the event-log window (edgecore with a one-event window; the
// informer cannot reach edgecore while changes are made and compacted, and
// the hub's in-memory ring holds only the last two events) gets
// the 410 ERROR event and relists once, cleanly, to the current state.
func TestWatchInformerRelistAfterCompaction(t *testing.T) {
	setWatchListClient(t, false)
	e := startAPI(t, Options{Config: "modules:\n  metaManager:\n    eventLogWindowEvents: 1\n    eventLogWindowAge: 1ms\n  lwServer:\n    watchCacheEvents: 2\n"})
	injectEach(t, e,
		podMsg("insert", "default", "p0", nil, "Running"),
		podMsg("insert", "default", "p1", nil, "Running"),
		podMsg("insert", "default", "p2", nil, "Running"))
	cfg, reqs := loggedConfig(e)
	inf, l := podInformer(t, kubernetes.NewForConfigOrDie(cfg), "")
	injectEach(t, e, podMsg("update", "default", "p0", nil, "Failed"))
	l.expect(t, "all", 3, "UPDATE p0")
	lastRV, _ := strconv.ParseInt(inf.LastSyncResourceVersion(), 10, 64)

	// End the watch and keep the informer away while the log moves on.
	reqs.refuse.Store(true)
	time.Sleep(1100 * time.Millisecond)
	e.Restart()
	injectEach(t, e,
		podMsg("insert", "default", "p3", nil, "Running"),
		Msg("delete", "default/pod/p1", nil),
		podMsg("update", "default", "p2", nil, "Succeeded"),
		podMsg("insert", "default", "p4", nil, "Pending"))
	waitCompacted(t, e, lastRV, 30*time.Second)
	reqs.refuse.Store(false)

	waitFor(t, 40*time.Second, "the relist", func() bool { return reqs.count("LIST") >= 2 })
	want := "p0=Failed,p2=Succeeded,p3=Running,p4=Pending"
	waitFor(t, 10*time.Second, "the store after relist", func() bool { return storeNames(inf) == want })
	time.Sleep(300 * time.Millisecond)
	if n := reqs.count("LIST"); n != 2 {
		t.Fatalf("%d lists, want 2:\n%s", n, reqs)
	}
	// and it watches on from there
	injectEach(t, e, podMsg("insert", "default", "p5", nil, "Running"))
	waitFor(t, 10*time.Second, "p5", func() bool { return strings.Contains(storeNames(inf), "p5=Running") })
}

// TestWatchInformerWatchList: with client-go's WatchListClient feature the
// informer syncs from one watch with sendInitialEvents=true (no LIST),
// ended by the initial-events-end bookmark, then watches on, and resumes
// across a restart without a new initial stream.
func TestWatchInformerWatchList(t *testing.T) {
	setWatchListClient(t, true)
	e := startAPI(t, Options{})
	for i := 0; i < 300; i++ {
		MustOK(t, e.Inject(podMsg("insert", fmt.Sprintf("ns%d", i%3), fmt.Sprintf("p%d", i), web(), "Running")))
	}
	cfg, reqs := loggedConfig(e)
	inf, l := podInformer(t, kubernetes.NewForConfigOrDie(cfg), "")
	if n := len(inf.GetStore().List()); n != 300 {
		t.Fatalf("synced %d pods", n)
	}
	if reqs.count("LIST") != 0 || reqs.count("WATCHLIST") != 1 {
		t.Fatalf("requests:\n%s", reqs)
	}
	first := strings.SplitN(reqs.String(), "\n", 2)[0]
	if !strings.Contains(first, "sendInitialEvents=true") || !strings.Contains(first, "resourceVersionMatch=NotOlderThan") || !strings.Contains(first, "allowWatchBookmarks=true") {
		t.Fatalf("first request %s", first)
	}
	n0 := l.len()
	injectEach(t, e, podMsg("update", "ns1", "p1", db(), "Failed"), Msg("delete", "ns2/pod/p2", nil))
	l.expect(t, "watchlist", n0, "UPDATE p1", "DELETE p2")

	time.Sleep(1100 * time.Millisecond)
	e.Restart()
	injectEach(t, e, podMsg("insert", "ns0", "late", nil, "Running"))
	l.expect(t, "watchlist", n0+2, "ADD late")
	if reqs.count("LIST") != 0 || reqs.count("WATCHLIST") != 1 || reqs.count("WATCH") < 1 {
		t.Fatalf("requests after restart:\n%s", reqs)
	}
}
