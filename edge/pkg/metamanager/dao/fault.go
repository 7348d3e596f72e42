package dao

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// FaultKind names why edgecore.db cannot be used (docs/reliability.md).
type FaultKind string

// The kinds of Fault. Damaged and NotADatabase mean the store itself must be
// replaced; the others are the environment's (fix it and start again).
const (
	FaultDamaged      FaultKind = "damaged"
	FaultNotADatabase FaultKind = "not a database"
	// FaultReplaced: a file of the store was removed, or another file put at
	// its path, while edgecore had it open: what it writes no longer reaches
	// the store a restart would open.
	FaultReplaced   FaultKind = "removed or replaced while in use"
	FaultReadOnly   FaultKind = "read-only file system (EROFS)"
	FaultPermission FaultKind = "permission denied (EACCES)"
	FaultDiskFull   FaultKind = "disk full (ENOSPC)"
	FaultNotADir    FaultKind = "not a directory (ENOTDIR)"
	FaultMissing    FaultKind = "does not exist (ENOENT)"
	FaultOther      FaultKind = "cannot be used"
)

// Fault is an error that names the cause and the path: what Open returns
// when the store cannot be opened, checked or used, and what the store
// logs when it fails at run time.
type Fault struct {
	Kind FaultKind
	// Path is the file or directory concerned.
	Path string
	// Detail says what was being done ("opening the database", "quick_check: …").
	Detail string
	// Err is the underlying error (the OS's or SQLite's), if any.
	Err error
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("%s: %s", f.Path, f.Kind)
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

func (f *Fault) Unwrap() error { return f.Err }

// Damaged reports whether the store's content is at fault (it must be
// replaced; docs/reliability.md "Recovery") rather than its environment.
func (f *Fault) Damaged() bool { return f.Kind == FaultDamaged || f.Kind == FaultNotADatabase }

// ErrStoreFailed is matched (errors.Is) by every error the store returns
// once it has failed at run time: damaged content met by a read or a write,
// or its files removed or replaced underneath. From then on every write is
// refused; reads go on where they still can.
var ErrStoreFailed = errors.New("edgecore.db failed")

// failedError is what callers (and, through them, HTTP clients and ingress
// replies) get once the store failed: its text names the kind of failure
// but carries no internal error text; the details are in the log (the
// Fault). It unwraps to ErrStoreFailed and to the underlying error.
type failedError struct {
	kind  FaultKind
	cause error
}

func (e *failedError) Error() string {
	return "edgecore.db " + string(e.kind) + ": the store stopped accepting writes (see the edgecore log)"
}

func (e *failedError) Unwrap() []error { return []error{ErrStoreFailed, e.cause} }

// sqliteFaultKind classifies an SQLite error that means the store itself
// is unusable for good ("" for anything else: a constraint, a busy
// database, a full disk are not faults of the store; a full disk passes
// when space returns).
func sqliteFaultKind(err error) FaultKind {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch {
	case se.Code == sqlite3.ErrCorrupt:
		return FaultDamaged
	case se.Code == sqlite3.ErrNotADB:
		return FaultNotADatabase
	case se.ExtendedCode == sqlite3.ErrReadonlyDbMoved:
		// SQLite noticed the database file was unlinked or renamed.
		return FaultReplaced
	case se.ExtendedCode == sqlite3.ErrIoErr.Extend(32): // SQLITE_IOERR_DATA: a checksum failed
		return FaultDamaged
	}
	return ""
}

// errnoFault names the cause of an OS error met on path ("" when the
// errno is none of the named ones).
func errnoKind(err error) FaultKind {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		if errors.Is(err, fs.ErrNotExist) {
			return FaultMissing
		}
		return ""
	}
	switch errno {
	case syscall.EROFS:
		return FaultReadOnly
	case syscall.EACCES, syscall.EPERM:
		return FaultPermission
	case syscall.ENOSPC, syscall.EDQUOT:
		return FaultDiskFull
	case syscall.ENOTDIR:
		return FaultNotADir
	case syscall.ENOENT:
		return FaultMissing
	}
	return ""
}

// osFault wraps an OS error met on path while doing detail.
func osFault(path, detail string, err error) *Fault {
	k := errnoKind(err)
	if k == "" {
		k = FaultOther
	}
	return &Fault{Kind: k, Path: path, Detail: detail, Err: err}
}

// DataDirFault names the cause of an error met creating the data
// directory dir (a Fault, as Open's own).
func DataDirFault(dir string, err error) error {
	return osFault(dir, "creating the data directory", err)
}
