package dao

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// healthCheckInterval is how often the store's files are checked while
// nothing is written (every commit checks them too, before it is
// acknowledged).
const healthCheckInterval = time.Second

// health is the store's fitness: once it failed (damaged content met, or
// its files removed or replaced underneath) it stays failed until the
// process restarts: writes are refused and readiness fails
// (docs/reliability.md "Run time").
type health struct {
	path   string
	failed atomic.Pointer[failedError] // the first failure
	// armed: the store is open and in use. Before, errors pass through
	// unchanged (Open reports them as a Fault with the details).
	armed atomic.Bool

	guard *fileGuard // nil until armed (after the store's files exist)
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newHealth(path string) *health {
	return &health{path: path, stop: make(chan struct{}), done: make(chan struct{})}
}

// err is the failure every write gets once the store failed, nil before.
func (h *health) err() error {
	if fe := h.failed.Load(); fe != nil {
		return fe
	}
	return nil
}

// note passes an error met by a read or a write through: one that means
// the store is damaged fails the store and becomes a failedError.
func (h *health) note(err error) error {
	if err == nil || !h.armed.Load() {
		return err
	}
	k := sqliteFaultKind(err)
	if k == "" {
		return err
	}
	return h.fail(&Fault{Kind: k, Path: h.path, Detail: "met by a read or a write", Err: err})
}

// fail marks the store failed (the first failure is the one reported by
// Health) and logs it loudly; it returns the error for the caller.
func (h *health) fail(f *Fault) error {
	fe := &failedError{kind: f.Kind, cause: f}
	if h.failed.CompareAndSwap(nil, fe) {
		klog.Errorf("STORE FAILED: %v. edgecore no longer acknowledges writes and /readyz fails; "+
			"stop edgecore and follow docs/reliability.md (Recovery)", f)
	}
	return fe
}

// beforeAck runs after every COMMIT on the writer's connection, before the
// commit is acknowledged: the files it went to must still be the store.
func (h *health) beforeAck() error {
	if err := h.err(); err != nil {
		return err
	}
	if h.guard == nil {
		return nil
	}
	if f := h.guard.check(); f != nil {
		return h.fail(f)
	}
	return nil
}

// arm starts watching the store's files (those of paths that exist now).
func (h *health) arm(paths ...string) error {
	g, err := openFileGuard(paths)
	if err != nil {
		return err
	}
	h.guard = g
	h.armed.Store(true)
	go h.monitor()
	return nil
}

func (h *health) monitor() {
	defer close(h.done)
	t := time.NewTicker(healthCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if h.failed.Load() != nil {
				continue
			}
			if f := h.guard.check(); f != nil {
				h.fail(f)
			}
		case <-h.stop:
			return
		}
	}
}

// close stops the monitor and closes the guard's files. Call it after the
// database's connections are closed (closing a file SQLite also has open
// drops the process's POSIX locks on it).
func (h *health) close() {
	h.once.Do(func() {
		if h.guard == nil {
			return
		}
		close(h.stop)
		<-h.done
		h.guard.close()
	})
}

// fileGuard holds a file descriptor of each of the store's files, to tell
// when one is no longer linked (removed) or another file is at its path
// (replaced, or removed and recreated).
type fileGuard struct {
	files []guardedFile
}

type guardedFile struct {
	path     string
	f        *os.File
	fd       int
	dev, ino uint64
}

func openFileGuard(paths []string) (*fileGuard, error) {
	g := &fileGuard{}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			g.close()
			return nil, osFault(p, "opening to watch it", err)
		}
		var st syscall.Stat_t
		fd := int(f.Fd())
		if err := syscall.Fstat(fd, &st); err != nil {
			f.Close()
			g.close()
			return nil, osFault(p, "fstat", err)
		}
		g.files = append(g.files, guardedFile{path: p, f: f, fd: fd, dev: uint64(st.Dev), ino: uint64(st.Ino)})
	}
	return g, nil
}

// check returns a FaultReplaced for the first file that was removed or
// replaced, nil when all are in place.
func (g *fileGuard) check() *Fault {
	for i := range g.files {
		gf := &g.files[i]
		var st syscall.Stat_t
		if err := syscall.Fstat(gf.fd, &st); err != nil {
			return osFault(gf.path, "fstat of the open file", err)
		}
		var ps syscall.Stat_t
		perr := syscall.Stat(gf.path, &ps)
		if st.Nlink == 0 {
			if perr == nil {
				return &Fault{Kind: FaultReplaced, Path: gf.path, Detail: "the open file was deleted and another file put at its path"}
			}
			return &Fault{Kind: FaultReplaced, Path: gf.path, Detail: "the open file was deleted"}
		}
		if err := perr; err != nil {
			if errors.Is(err, syscall.ENOENT) {
				return &Fault{Kind: FaultReplaced, Path: gf.path, Detail: "no file at the path any more (moved away)"}
			}
			return osFault(gf.path, "stat", err)
		}
		if uint64(ps.Dev) != gf.dev || uint64(ps.Ino) != gf.ino {
			return &Fault{Kind: FaultReplaced, Path: gf.path,
				Detail: fmt.Sprintf("another file is at the path (inode %d, the open one is %d)", ps.Ino, gf.ino)}
		}
	}
	return nil
}

func (g *fileGuard) close() {
	for _, gf := range g.files {
		gf.f.Close()
	}
}

// Health is nil while the store may be served and acknowledged. Once it
// failed (damaged content met by a read or a write, or its files removed or
// replaced) it is the error every write gets: errors.Is(err,
// ErrStoreFailed), a message without internal error text (the Fault with
// the details was logged).
func (s *Store) Health() error { return s.health.err() }
