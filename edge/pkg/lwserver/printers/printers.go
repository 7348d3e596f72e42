// Package printers turns stored objects into meta.k8s.io/v1 Tables with the
// columns kube-apiserver serves (pkg/printers/internalversion for built-in
// kinds, the apiextensions table convertor for custom resources, the default
// convertor — NAME, CREATED AT — for kinds kube-apiserver has no printer for).
//
// It works on the stored JSON bytes: a small pull scanner reads only the
// fields the columns need, rows are computed in parallel across cores, and the
// time-independent part of each row is cached by content hash so repeated
// lists of an unchanged store cost little more than hashing the bytes. Time
// cells (AGE, "3 (5m ago)", LAST SEEN, CRD date columns, …) are rendered at
// call time from parsed timestamps kept in the cache.
package printers

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimepkg "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// Item is one stored object.
type Item struct {
	// Data is the object's JSON as stored, with metadata.resourceVersion set.
	Data []byte
	// Revision is the edge revision of the object's last change.
	Revision int64
}

// Include-object policies (metav1.IncludeObjectPolicy values).
const (
	IncludeNone     = string(metav1.IncludeNone)
	IncludeMetadata = string(metav1.IncludeMetadata)
	IncludeObject   = string(metav1.IncludeObject)
)

// Options tune one Table call.
type Options struct {
	// IncludeObject is "None", "Metadata" (the default when empty) or
	// "Object", as metav1.IncludeObjectPolicy.
	IncludeObject string
	// Now is the clock for AGE and other relative-time cells; nil means
	// time.Now.
	Now func() time.Time
}

// Printer builds Tables. It is safe for concurrent use.
type Printer struct {
	seed maphash.Seed
	// builtins are the built-in kinds' printers (read-only once built).
	builtins printerSet

	// maxEntries bounds each per-resource cache generation (see cache).
	maxEntries int

	mu          sync.Mutex
	caches      map[string]*cache
	crdPrinters map[string]*kindPrinter
}

// DefaultCacheEntries is the default bound of one cache generation per
// resource: a resource's cache holds at most twice this many rows.
const DefaultCacheEntries = 32768

// New returns a Printer. A custom resource's columns come with the
// kube.Resource passed to Table (Resource.PrinterColumns, from its CRD).
func New() *Printer {
	return &Printer{
		seed:       maphash.MakeSeed(),
		builtins:   builtinPrinters(),
		maxEntries: DefaultCacheEntries,
		caches:     map[string]*cache{},
	}
}

// SetCacheEntries changes the per-resource cache bound (0 disables caching).
func (p *Printer) SetCacheEntries(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxEntries = n
	p.caches = map[string]*cache{}
}

// Table converts objects of resource res into a meta.k8s.io/v1 Table:
// ColumnDefinitions (Priority 0 for default columns, 1 for -o wide ones, as
// kube-apiserver marks them) and one row per item, in order. Each row's
// Object is, per opts.IncludeObject: for Metadata a PartialObjectMetadata JSON
// (apiVersion meta.k8s.io/v1) built from the stored metadata; for Object the
// stored JSON itself (aliasing item.Data); for None nothing. The caller sets
// the Table's TypeMeta and ListMeta.
func (p *Printer) Table(res kube.Resource, items []Item, opts Options) (*metav1.Table, error) {
	include := opts.IncludeObject
	switch include {
	case "":
		include = IncludeMetadata
	case IncludeNone, IncludeMetadata, IncludeObject:
	default:
		return nil, fmt.Errorf("invalid includeObject %q: must be one of None, Metadata, Object", opts.IncludeObject)
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}

	kp, key := p.printerFor(res)
	c := p.cacheFor(key)

	table := &metav1.Table{
		ColumnDefinitions: kp.columns,
		Rows:              make([]metav1.TableRow, len(items)),
	}
	if len(items) == 0 {
		return table, nil
	}

	workers := runtime.GOMAXPROCS(0)
	const minChunk = 128
	if maxW := (len(items) + minChunk - 1) / minChunk; workers > maxW {
		workers = maxW
	}
	chunk := (len(items) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo := w * chunk
		hi := min(lo+chunk, len(items))
		if lo >= hi {
			break
		}
		run := func(w, lo, hi int) {
			errs[w] = p.rows(kp, c, items[lo:hi], table.Rows[lo:hi], lo, include, now)
		}
		if w == workers-1 || hi == len(items) {
			run(w, lo, hi) // the calling goroutine takes the last chunk
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			run(w, lo, hi)
		}(w, lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return table, nil
}

// rows fills out[i] for items[i] of one chunk.
func (p *Printer) rows(kp *kindPrinter, c *cache, items []Item, out []metav1.TableRow, base int, include string, now time.Time) error {
	entries := make([]*entry, len(items))
	hashes := make([]uint64, len(items))
	for i := range items {
		hashes[i] = p.key(&items[i])
	}
	c.lookup(items, hashes, entries)

	var fresh []*entry
	var sc scratch
	for i := range items {
		if entries[i] != nil {
			continue
		}
		e, err := kp.build(items[i].Data, &sc)
		if err != nil {
			return fmt.Errorf("item %d: %w", base+i, err)
		}
		e.hash, e.size = hashes[i], len(items[i].Data)
		entries[i] = e
		fresh = append(fresh, e)
	}
	c.store(fresh)

	// One slab for all cells and one for all partial-metadata documents.
	ncells := 0
	nmeta := 0
	for _, e := range entries {
		ncells += len(e.cells)
		if include == IncludeMetadata {
			nmeta += len(partialPrefix) + metaLen(e) + len(partialSuffix)
		}
	}
	cells := make([]interface{}, ncells)
	var metaSlab []byte
	if nmeta > 0 {
		metaSlab = make([]byte, 0, nmeta)
	}
	var ages ageMemo
	for i, e := range entries {
		n := len(e.cells)
		rc := cells[:n:n]
		cells = cells[n:]
		copy(rc, e.cells)
		if e.dynamic {
			for j, v := range rc {
				rc[j] = render(v, now, &ages)
			}
		}
		out[i].Cells = rc
		out[i].Conditions = e.conditions
		switch include {
		case IncludeObject:
			out[i].Object = runtimepkg.RawExtension{Raw: items[i].Data}
		case IncludeMetadata:
			start := len(metaSlab)
			metaSlab = append(metaSlab, partialPrefix...)
			if e.metaEnd > e.metaStart {
				metaSlab = append(metaSlab, items[i].Data[e.metaStart:e.metaEnd]...)
			} else {
				metaSlab = append(metaSlab, "{}"...)
			}
			metaSlab = append(metaSlab, partialSuffix...)
			out[i].Object = runtimepkg.RawExtension{Raw: metaSlab[start:len(metaSlab):len(metaSlab)]}
		}
	}
	return nil
}

// key identifies an object version for the row cache. An edge revision is
// unique per change, so with one the key is the revision mixed with a hash of
// the object's head and tail (a cheap guard against a caller reusing a
// revision for different bytes); without one it is a hash of all the bytes.
func (p *Printer) key(it *Item) uint64 {
	d := it.Data
	if it.Revision <= 0 || len(d) <= sampleHead+sampleTail {
		return maphash.Bytes(p.seed, d)
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	var rev [8]byte
	for i := range rev {
		rev[i] = byte(uint64(it.Revision) >> (8 * i))
	}
	_, _ = h.Write(rev[:])
	_, _ = h.Write(d[:sampleHead])
	_, _ = h.Write(d[len(d)-sampleTail:])
	return h.Sum64() ^ 1 // never equal to a full-content hash by construction of the inputs
}

const (
	sampleHead = 512
	sampleTail = 128
)

const (
	partialPrefix = `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":`
	partialSuffix = `}`
)

func metaLen(e *entry) int {
	if e.metaEnd > e.metaStart {
		return int(e.metaEnd - e.metaStart)
	}
	return 2
}

// entry is the cached, time-independent form of one row.
type entry struct {
	hash uint64
	size int
	// cells may hold time placeholders (sinceCell, restartsCell, …) when
	// dynamic is set; render turns them into strings.
	cells      []interface{}
	dynamic    bool
	conditions []metav1.TableRowCondition
	// metaStart/metaEnd span the object's metadata value in its bytes.
	metaStart, metaEnd int32
}

// kindPrinter knows one resource's columns and how to compute a row.
type kindPrinter struct {
	columns []metav1.TableColumnDefinition
	// row computes the cells of one object; m is its parsed metadata.
	row func(data []byte, m *objMeta, sc *scratch) (cells []interface{}, conds []metav1.TableRowCondition, err error)
	// walk, when set, replaces the metadata-only scan: it scans the whole
	// object itself (filling m) and returns the cells.
	walk func(data []byte, m *objMeta, sc *scratch) (cells []interface{}, conds []metav1.TableRowCondition, err error)
}

func (kp *kindPrinter) build(data []byte, sc *scratch) (*entry, error) {
	var m objMeta
	var cells []interface{}
	var conds []metav1.TableRowCondition
	var err error
	if kp.walk != nil {
		cells, conds, err = kp.walk(data, &m, sc)
	} else {
		if err = scanMeta(data, &m); err == nil {
			cells, conds, err = kp.row(data, &m, sc)
		}
	}
	if err != nil {
		return nil, err
	}
	e := &entry{cells: cells, conditions: conds, metaStart: int32(m.start), metaEnd: int32(m.end)}
	for _, c := range cells {
		if isDynamic(c) {
			e.dynamic = true
			break
		}
	}
	return e, nil
}

// cache keeps entries of one resource (and, for custom resources, one set of
// printer columns) by content hash, in two generations: when the current one
// is full it becomes the old one and the previous old one is dropped, so the
// cache never holds more than 2×max entries and rows of objects that are
// still listed survive by being promoted on lookup.
type cache struct {
	max int
	mu  sync.RWMutex
	cur map[uint64]*entry
	old map[uint64]*entry
}

func (p *Printer) cacheFor(key string) *cache {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.maxEntries <= 0 {
		return nil
	}
	c := p.caches[key]
	if c == nil {
		c = &cache{max: p.maxEntries, cur: map[uint64]*entry{}}
		p.caches[key] = c
	}
	return c
}

func (c *cache) lookup(items []Item, hashes []uint64, out []*entry) {
	if c == nil {
		return
	}
	var promote []*entry
	c.mu.RLock()
	for i, h := range hashes {
		e := c.cur[h]
		if e == nil && c.old != nil {
			if e = c.old[h]; e != nil {
				promote = append(promote, e)
			}
		}
		if e != nil && e.size == len(items[i].Data) {
			out[i] = e
		}
	}
	c.mu.RUnlock()
	c.store(promote)
}

func (c *cache) store(es []*entry) {
	if c == nil || len(es) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range es {
		if len(c.cur) >= c.max {
			c.old, c.cur = c.cur, make(map[uint64]*entry, len(c.cur))
		}
		c.cur[e.hash] = e
	}
}

// scratch is per-goroutine reusable memory for row computation.
type scratch struct {
	pod      podScratch
	crdFor   *crdColumns
	crdPaths []*jsonpath.JSONPath
}
