package dao

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beego/beego/v2/client/orm"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
)

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("store is closed")

// schemaVersion is the version of the tables below; stored in meta. Open
// migrates older stores (migrate.go).
const schemaVersion = 2

// Defaults for Options.
const (
	DefaultWindowEvents = 100000
	DefaultWindowAge    = 24 * time.Hour
	// DefaultWindowBytes fits a small node: the event log of 4 KB pods
	// updated at a steady rate holds ~30,000 events within it.
	DefaultWindowBytes     = 256 << 20
	DefaultMaxBatch        = 1000
	DefaultCompactInterval = 5 * time.Second
	compactChunk           = 1000
	// DefaultReadCacheKiB is a read connection's page cache. Lists read
	// the objects table in key order; the pages they need again are the
	// b-tree's interior ones, a few hundred KiB at 10k pods (the rest comes
	// from the OS page cache, one pread per page).
	DefaultReadCacheKiB = 2048
	// writerCacheKiB is the writer connection's page cache (SQLite's
	// default is 2000 KiB): a group commit touches the objects, label and
	// event b-trees, whose pages are worth keeping between groups.
	writerCacheKiB = 8000
	// readConnIdle closes a read connection unused for this long, which
	// frees its page cache (a burst of concurrent lists opens several).
	readConnIdle = time.Minute
)

// Options configure a Store. The zero value gives the documented defaults.
type Options struct {
	// Subscriber receives the events of every commit (may be set later with
	// SetSubscriber, before the first write).
	Subscriber event.Subscriber
	// WindowEvents and WindowAge bound the retained event log: an event is
	// compacted only when it is beyond the last WindowEvents events AND older
	// than WindowAge ("whichever is more" is retained).
	// WindowEvents: 0 = DefaultWindowEvents, < 0 = no count condition.
	WindowEvents int
	// WindowAge: 0 = DefaultWindowAge, < 0 = no age condition.
	WindowAge time.Duration
	// WindowBytes caps the bytes the event log stores (its objects, their
	// previous versions, labels and fields) whatever WindowEvents and
	// WindowAge say: the oldest events are compacted until it fits
	// (0 = DefaultWindowBytes, < 0 = no byte cap).
	WindowBytes int64
	// MaxBatch caps the number of Update requests group-committed in one
	// SQLite transaction (0 = DefaultMaxBatch).
	MaxBatch int
	// CompactInterval is how often the writer looks for events to compact
	// (0 = DefaultCompactInterval, < 0 = never automatically; Compact still works).
	CompactInterval time.Duration
	// ReadConns is the size of the read connection pool (0 = 2*GOMAXPROCS, at least 4).
	ReadConns int
	// ReadCacheKiB bounds SQLite's page cache of each read connection
	// (PRAGMA cache_size; 0 = DefaultReadCacheKiB). The writer keeps
	// writerCacheKiB.
	ReadCacheKiB int
	// MmapBytes is SQLite's mmap_size for every connection (0 = none, the
	// default). Each connection maps edgecore.db on its own and the mapped
	// pages count in the process's resident memory once per connection
	// (at 10k pods, 6 maps of the file were ~480 MB of VmRSS); without it a
	// read copies pages from the OS page cache (pread), which costs a full
	// list of 10k pods a few ms.
	MmapBytes int64
	// PageSize is SQLite's page size for edgecore.db: a new store is
	// created with it and an existing store at another size is rebuilt to
	// it once at Open (0 = DefaultPageSize; a power of two, 512..65536).
	PageSize int
	// StartupCheck is the integrity check Open runs before the store is
	// used ("" = CheckQuick; see integrity.go for what each costs).
	StartupCheck CheckMode
}

type subHolder struct{ s event.Subscriber }

// Store is edgecore.db. It implements Writer and Reader.
//
// Layout: SQLite in WAL mode with synchronous=FULL (a nil Update means the
// commit is on disk). One goroutine owns the write connection and
// group-commits queued Updates (one SAVEPOINT per Update, one COMMIT per
// group); the event log, objects, label index, tombstones and the revision
// row change in that one transaction. Reads use a pool of other connections,
// each read in one read transaction that first reads the revision row, so
// the revision a list reports matches its data. Compaction runs on the writer
// goroutine between groups, in chunks.
//
// Update functions run on the writer goroutine: they must not call Update
// themselves and should not block.
type Store struct {
	path string
	opts Options
	db   *sql.DB
	// wdb holds the writer's connection alone, opened without SQLite's
	// per-connection mutex (_mutex=no: serialized mode takes and releases
	// it around every API call); only the writer goroutine uses it.
	wdb *sql.DB
	// health: failed once damaged content was met or the files were
	// removed or replaced underneath (health.go); every connection reports
	// to it (guardconn.go).
	health *health
	orm    orm.Ormer
	alias  string

	wconn *sql.Conn
	ws    *writeStmts

	// incrementalVacuum: the database was created with
	// auto_vacuum=INCREMENTAL, so freed pages can be returned (compact.go).
	incrementalVacuum bool
	// pageSize is the file's page size in bytes (after migratePageSize).
	pageSize int64

	rev       atomic.Int64 // last committed revision
	compacted atomic.Int64
	sub       atomic.Pointer[subHolder]

	mu      sync.RWMutex // guards closed against concurrent sends on reqs
	closed  bool
	reqs    chan *request
	compact chan chan error
	quit    chan struct{}
	done    chan struct{}

	ckptKick chan struct{} // a commit added WAL frames (see checkpoint.go)
	ckptDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var (
	_ Writer = (*Store)(nil)
	_ Reader = (*Store)(nil)
)

// connector opens mattn/go-sqlite3 connections without registering a
// database/sql driver name (no global state of ours), each wrapped to
// report to the store's health (guardconn.go).
type connector struct {
	drv    *sqlite3.SQLiteDriver
	dsn    string
	h      *health
	writer bool
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &guardConn{c: conn.(*sqlite3.SQLiteConn), h: c.h, writer: c.writer}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

var schemaSQL = []string{
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS objects (
		gvr TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
		kind TEXT NOT NULL, revision INTEGER NOT NULL, cloud_rv TEXT NOT NULL,
		labels TEXT, fields TEXT, data BLOB NOT NULL,
		PRIMARY KEY (gvr, namespace, name)) WITHOUT ROWID`,
	// Narrow copy of the keys (and revisions) for COUNT (Remaining) without
	// walking the wide rows.
	`CREATE INDEX IF NOT EXISTS objects_keys ON objects (gvr, namespace, name, revision)`,
	objectLabelsSQL,
	`CREATE TABLE IF NOT EXISTS events (
		revision INTEGER PRIMARY KEY, type TEXT NOT NULL,
		gvr TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
		kind TEXT NOT NULL, cloud_rv TEXT NOT NULL,
		data BLOB, prev_data BLOB, labels TEXT, fields TEXT, prev_labels TEXT, prev_fields TEXT,
		prev_revision INTEGER NOT NULL DEFAULT 0, prev_cloud_rv TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS events_gvr_rev ON events (gvr, revision)`,
	`CREATE TABLE IF NOT EXISTS tombstones (
		gvr TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
		revision INTEGER NOT NULL, cloud_rv TEXT NOT NULL,
		PRIMARY KEY (gvr, namespace, name)) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS tombstones_rev ON tombstones (revision)`,
	`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ` + strconv.Itoa(schemaVersion) + `)`,
	`INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0)`,
	`INSERT OR IGNORE INTO meta (key, value) VALUES ('compacted', 0)`,
	// The event log's bytes, for its byte cap (compact.go): the writer adds
	// what a group inserts in the group's transaction (writeTx.evBytes), a
	// trigger subtracts what compaction deletes (a store that predates the
	// count gets it counted once: countEventBytes).
	`CREATE TRIGGER IF NOT EXISTS events_bytes_del AFTER DELETE ON events BEGIN
		UPDATE meta SET value = value - ` + eventBytesExpr("OLD.") + ` WHERE key = 'event_bytes'; END`,
}

// withDefaults fills in the documented defaults and checks what it cannot default.
func (opts Options) withDefaults() (Options, error) {
	if opts.WindowEvents == 0 {
		opts.WindowEvents = DefaultWindowEvents
	}
	if opts.WindowAge == 0 {
		opts.WindowAge = DefaultWindowAge
	}
	if opts.WindowBytes == 0 {
		opts.WindowBytes = DefaultWindowBytes
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.CompactInterval == 0 {
		opts.CompactInterval = DefaultCompactInterval
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 2 * runtime.GOMAXPROCS(0)
		if opts.ReadConns < 4 {
			opts.ReadConns = 4
		}
	}
	if opts.ReadCacheKiB <= 0 {
		opts.ReadCacheKiB = DefaultReadCacheKiB
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	if err := checkPageSize(opts.PageSize); err != nil {
		return opts, err
	}
	if opts.MmapBytes < 0 {
		opts.MmapBytes = 0
	}
	switch opts.StartupCheck {
	case "":
		opts.StartupCheck = CheckQuick
	case CheckQuick, CheckFull, CheckNone:
	default:
		return opts, fmt.Errorf("dao: unknown StartupCheck %q (want quick, full or none)", opts.StartupCheck)
	}
	return opts, nil
}

// Open opens (creating if needed) the store at path.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// Name the cause of what SQLite would call "unable to open database
	// file" (read-only, permission, disk full, not a database…).
	if err := preflight(path); err != nil {
		return nil, err
	}
	h := newHealth(path)

	// WAL + synchronous=FULL: a returned COMMIT is on disk.
	dsn := path + "?_synchronous=FULL&_busy_timeout=10000&_foreign_keys=0" +
		"&_txlock=deferred&_stmt_cache_size=64&_cache_size=-" + strconv.Itoa(opts.ReadCacheKiB)
	drv := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// page_size and auto_vacuum take effect only on a new, empty
		// database (before its first table), whichever connection creates
		// that; an existing store's page size is migratePageSize's.
		for _, p := range []string{"PRAGMA page_size=" + strconv.Itoa(opts.PageSize), "PRAGMA auto_vacuum=INCREMENTAL", "PRAGMA journal_mode=WAL", "PRAGMA mmap_size=" + strconv.FormatInt(opts.MmapBytes, 10)} {
			if _, err := c.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}}
	db := sql.OpenDB(&connector{drv: drv, dsn: dsn, h: h})
	wdb := sql.OpenDB(&connector{drv: drv, dsn: dsn + "&_mutex=no", h: h, writer: true})
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	// + the background checkpointer (the writer has its own, wdb)
	db.SetMaxOpenConns(opts.ReadConns + 1)
	db.SetMaxIdleConns(opts.ReadConns + 1)
	db.SetConnMaxLifetime(0)
	// The writer and the checkpointer hold their connections for good;
	// read connections idle for long are closed (their page caches freed).
	db.SetConnMaxIdleTime(readConnIdle)

	s := &Store{
		path:    path,
		opts:    opts,
		db:      db,
		wdb:     wdb,
		health:  h,
		reqs:    make(chan *request, 2*opts.MaxBatch),
		compact: make(chan chan error),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if opts.Subscriber != nil {
		s.sub.Store(&subHolder{opts.Subscriber})
	}
	if err := s.init(); err != nil {
		wdb.Close()
		db.Close()
		h.close()
		return nil, err
	}
	go s.writerLoop()
	return s, nil
}

func (s *Store) init() error {
	// beego ORM over the same *sql.DB. beego's alias registry is global and
	// cannot forget an alias, so every Open registers a fresh random alias
	// (several stores, or the same path reopened, can coexist).
	var rnd [8]byte
	if _, err := crand.Read(rnd[:]); err != nil {
		return err
	}
	s.alias = "edgecore-" + hex.EncodeToString(rnd[:])
	if err := orm.AddAliasWthDB(s.alias, "sqlite3", s.db); err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	o := orm.NewOrmUsingDB(s.alias)
	s.orm = o
	if err := s.integrityCheck(s.opts.StartupCheck); err != nil {
		return err
	}
	// No other connection may be open while the page size migrates.
	s.db.SetMaxIdleConns(0)
	err := s.migratePageSize(s.opts.PageSize)
	s.db.SetMaxIdleConns(s.opts.ReadConns + 1)
	if err != nil {
		return err
	}
	if err := s.migrate(); err != nil {
		return err
	}
	for _, q := range schemaSQL {
		if _, err := o.Raw(q).Exec(); err != nil {
			return openFault(s.path, "creating the schema", err)
		}
	}
	if err := s.countEventBytes(); err != nil {
		return openFault(s.path, "counting the event log's bytes", err)
	}
	var av int
	if err := s.db.QueryRow("PRAGMA auto_vacuum").Scan(&av); err != nil {
		return openFault(s.path, "reading auto_vacuum", err)
	}
	s.incrementalVacuum = av == 2
	if err := s.db.QueryRow("PRAGMA page_size").Scan(&s.pageSize); err != nil {
		return openFault(s.path, "reading the page size", err)
	}
	if err := s.loadMeta(); err != nil {
		return err
	}
	return s.openWriter()
}

// loadMeta reads the schema version and the revisions from the meta table.
func (s *Store) loadMeta() error {
	o := s.orm
	var rows []orm.Params
	if _, err := o.Raw(`SELECT key, value FROM meta`).Values(&rows); err != nil {
		return openFault(s.path, "reading the meta table", err)
	}
	for _, r := range rows {
		key := fmt.Sprint(r["key"])
		v, err := strconv.ParseInt(fmt.Sprint(r["value"]), 10, 64)
		if err != nil {
			return fmt.Errorf("meta %s: %w", key, err)
		}
		switch key {
		case "schema":
			if v != schemaVersion {
				return fmt.Errorf("edgecore.db schema version %d, want %d", v, schemaVersion)
			}
		case "revision":
			s.rev.Store(v)
		case "compacted":
			s.compacted.Store(v)
		}
	}
	// Revisions never go backwards: if the event log is ahead of the meta row
	// (cannot happen with one transaction, but be safe), trust the log.
	var maxEv sql.NullInt64
	if err := s.db.QueryRow(`SELECT max(revision) FROM events`).Scan(&maxEv); err != nil {
		return openFault(s.path, "reading the event log", err)
	}
	if maxEv.Valid && maxEv.Int64 > s.rev.Load() {
		s.rev.Store(maxEv.Int64)
	}
	return nil
}

// openWriter opens the writer's own connection, its prepared statements,
// the watch on the store's files and the checkpointer.
func (s *Store) openWriter() error {
	c, err := s.wdb.Conn(context.Background())
	if err != nil {
		return err
	}
	s.wconn = c
	// temp_store=MEMORY keeps the sub-journal of a savepoint (writer.go,
	// runBatch's second pass) in memory: in a temporary file every page
	// copy was a write(2), 8.5 GB of them for 20k messages when every
	// message took a savepoint. SQLite empties it when the savepoint ends.
	if _, err := c.ExecContext(context.Background(), "PRAGMA cache_size=-"+strconv.Itoa(writerCacheKiB)+"; PRAGMA temp_store=MEMORY"); err != nil {
		c.Close()
		return err
	}
	ws, err := prepareWriteStmts(c)
	if err != nil {
		c.Close()
		return err
	}
	s.ws = ws
	// The files exist now (the schema write created the WAL): watch them.
	if err := s.health.arm(s.path, s.path+"-wal", s.path+"-shm"); err != nil {
		ws.close()
		c.Close()
		return err
	}
	if err := s.startCheckpointer(); err != nil {
		ws.close()
		c.Close()
		return err
	}
	return nil
}

// Orm returns the beego ORM handle bound to this store's database (for
// administrative queries; the hot paths use database/sql directly).
func (s *Store) Orm() orm.Ormer { return s.orm }

// SetSubscriber sets the subscriber that receives committed events. Call it
// before the first write.
func (s *Store) SetSubscriber(sub event.Subscriber) {
	if sub == nil {
		s.sub.Store(nil)
		return
	}
	s.sub.Store(&subHolder{sub})
}

// Revision is the revision of the last commit.
func (s *Store) Revision() int64 { return s.rev.Load() }

// CompactedRevision is the revision just before the oldest retained event.
func (s *Store) CompactedRevision() int64 { return s.compacted.Load() }

// Close finishes the requests already queued (the group in flight), stops
// the writer and closes the database. Update after Close returns ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.quit)
		s.mu.Unlock()
		<-s.done
		<-s.ckptDone
		s.ws.close()
		err1 := s.wconn.Close()
		err2 := s.wdb.Close()
		err3 := s.db.Close()
		s.health.close()
		s.closeErr = errors.Join(err1, err2, err3)
	})
	return s.closeErr
}
