package dao

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
	"k8s.io/klog/v2"
)

// Start-up checks (docs/reliability.md "Start-up"). SQLite reports most
// environment problems as "unable to open database file" with whatever
// errno it met last, so the store looks at its directory and files itself,
// before SQLite does, to name the real cause and the path.

// CheckMode selects the integrity check Open runs before serving.
type CheckMode string

const (
	// CheckQuick runs PRAGMA quick_check: every page of every b-tree is
	// read and its structure checked (O(size of the database)), without
	// cross-checking indexes against their tables. The default.
	CheckQuick CheckMode = "quick"
	// CheckFull runs PRAGMA integrity_check (indexes against tables too;
	// several times slower).
	CheckFull CheckMode = "full"
	// CheckNone skips the check (tests, or an operator who runs it offline).
	CheckNone CheckMode = "none"
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// maxCheckErrors bounds the problems integrity_check reports (it stops
// after that many); the first few name the damage well enough.
const maxCheckErrors = 10

// preflight checks that path's directory takes new files (SQLite creates
// edgecore.db-wal and -shm beside the database) and that the files already
// there can be opened for writing, and are SQLite databases.
func preflight(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return osFault(dir, "data directory", err)
	}
	if !fi.IsDir() {
		return &Fault{Kind: FaultNotADir, Path: dir, Detail: "data directory is a " + fi.Mode().Type().String() + " file"}
	}
	if err := probeDir(dir); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return osFault(p, "opening for writing", err)
		}
		if p == path {
			err = checkHeader(f)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// probeDir creates, writes, syncs and removes a small file in dir: the
// errno of the first step that fails names the cause (EROFS, EACCES,
// ENOSPC…).
func probeDir(dir string) error {
	f, err := os.CreateTemp(dir, ".edgecore-probe-")
	if err != nil {
		return osFault(dir, "creating a file in the data directory", err)
	}
	name := f.Name()
	defer os.Remove(name)
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return osFault(dir, "writing a file in the data directory", err)
	}
	return nil
}

// checkHeader: a non-empty database file must start with SQLite's magic
// string (an empty one is a new database).
func checkHeader(f *os.File) error {
	var hdr [16]byte
	n, err := io.ReadFull(f, hdr[:])
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return osFault(f.Name(), "reading the header", err)
	case !bytes.Equal(hdr[:n], sqliteMagic):
		return &Fault{Kind: FaultNotADatabase, Path: f.Name(), Detail: fmt.Sprintf("the file does not start with SQLite's header (%q)", hdr[:n])}
	}
	return nil
}

// openFault names the cause of an error SQLite returned while the store was
// opened: its own classification when it has one, else the errno it met,
// else what looking at the files says now.
func openFault(path, detail string, err error) error {
	if k := sqliteFaultKind(err); k != "" {
		return &Fault{Kind: k, Path: path, Detail: detail, Err: err}
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return &Fault{Kind: FaultDiskFull, Path: path, Detail: detail, Err: err}
		case sqlite3.ErrReadonly:
			if perr := preflight(path); perr != nil {
				return perr
			}
			return &Fault{Kind: FaultReadOnly, Path: path, Detail: detail, Err: err}
		}
		if se.SystemErrno != 0 {
			if k := errnoKind(se.SystemErrno); k != "" && k != FaultMissing {
				return &Fault{Kind: k, Path: path, Detail: detail, Err: err}
			}
		}
	}
	if perr := preflight(path); perr != nil {
		return perr
	}
	return &Fault{Kind: FaultOther, Path: path, Detail: detail, Err: err}
}

// integrityCheck runs the configured check on a read connection and
// returns a Fault (FaultDamaged) naming the first problems found.
func (s *Store) integrityCheck(mode CheckMode) error {
	pragma := ""
	switch mode {
	case CheckNone:
		return nil
	case CheckFull:
		pragma = "PRAGMA integrity_check(" + strconv.Itoa(maxCheckErrors) + ")"
	default:
		pragma = "PRAGMA quick_check(" + strconv.Itoa(maxCheckErrors) + ")"
	}
	start := time.Now()
	rows, err := s.db.QueryContext(context.Background(), pragma)
	if err != nil {
		return openFault(s.path, pragma, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return openFault(s.path, pragma, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return openFault(s.path, pragma, err)
	}
	if len(problems) > 0 {
		return &Fault{Kind: FaultDamaged, Path: s.path, Detail: pragma + " found: " + strings.Join(problems, "; ")}
	}
	klog.Infof("dao: %s of %s: ok in %v", pragma, s.path, time.Since(start).Round(time.Millisecond))
	return nil
}
