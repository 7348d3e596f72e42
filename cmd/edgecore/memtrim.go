package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The memory trimmer gives the Go heap's free pages back to the OS once a
// burst of work is over. After a burst (an ingest of 20k messages, 100
// watches reading their initial state) the heap is mostly garbage; the GC
// frees it, but the runtime keeps the freed pages resident for reuse and
// its background scavenger returns them slowly: 10k pods ingested left
// ~37 MB of free heap resident for minutes, so the node's VmRSS stayed
// ~140 MB where the live data needs ~60. Returning pages while work goes
// on would only have them faulted back in (a page fault costs a system call
// here), so the trimmer waits for a quiet interval.
const (
	// trimEvery is how often the trimmer looks.
	trimEvery = time.Second
	// trimQuietBytes: an interval that allocated less than this is quiet.
	trimQuietBytes = 4 << 20
	// trimMinFree: less free heap than this is left for reuse.
	trimMinFree = 8 << 20
)

// trimMemory runs the trimmer until ctx ends: after a quiet interval that
// follows a busy one, if at least trimMinFree of the heap is free and not
// yet returned, it returns it (debug.FreeOSMemory: one GC, then every free
// page handed back).
func trimMemory(ctx context.Context) {
	samples := []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	var lastAllocs uint64
	busy := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(samples)
		allocs, free := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		var trim bool
		trim, busy = trimNow(busy, allocs-lastAllocs, free)
		lastAllocs = allocs
		if trim {
			debug.FreeOSMemory()
		}
	}
}

// trimNow decides one look: given whether the last interval was busy, what
// this one allocated and how much free heap is not yet returned, whether to
// trim now and whether this interval counts as busy.
func trimNow(wasBusy bool, allocated, free uint64) (trim, busy bool) {
	if allocated >= trimQuietBytes {
		return false, true
	}
	return wasBusy && free >= trimMinFree, false
}
