package dao

import (
	"context"
	"database/sql/driver"
	"io"
	"strings"
)

// The store's connections are wrapped so that the failure rules of
// docs/reliability.md hold on every path, whatever code runs the SQL:
//
//   - every error SQLite returns passes through health.note: one that
//     means the store is damaged (SQLITE_CORRUPT, SQLITE_NOTADB…) marks the
//     store failed, and what the caller gets is a failedError (a clean
//     message, the details in the log);
//   - on the writer's connection, a write transaction does not begin once
//     the store failed, and every COMMIT is followed by a check that the
//     store's files are still the ones open (health.beforeAck): an
//     acknowledgement is only sent for a commit that reached the files a
//     restart will open.
//
// The wrappers forward everything else to mattn/go-sqlite3 unchanged.

type guardConn struct {
	c      sqliteConn
	h      *health
	writer bool
}

// sqliteConn is the part of *sqlite3.SQLiteConn the wrapper forwards to.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

var (
	_ driver.Conn               = (*guardConn)(nil)
	_ driver.ConnPrepareContext = (*guardConn)(nil)
	_ driver.ConnBeginTx        = (*guardConn)(nil)
	_ driver.ExecerContext      = (*guardConn)(nil)
	_ driver.QueryerContext     = (*guardConn)(nil)
	_ driver.Pinger             = (*guardConn)(nil)
)

// stmtRole is what a statement means to the guard.
type stmtRole uint8

const (
	roleOther stmtRole = iota
	roleBegin
	roleCommit
)

func roleOf(query string) stmtRole {
	q := strings.ToUpper(strings.TrimSpace(query))
	switch {
	case strings.HasPrefix(q, "BEGIN"):
		return roleBegin
	case q == "COMMIT" || q == "END" || strings.HasPrefix(q, "COMMIT ") || strings.HasPrefix(q, "END "):
		return roleCommit
	}
	return roleOther
}

// before runs before a statement of role r on this connection.
func (g *guardConn) before(r stmtRole) error {
	if g.writer && r == roleBegin {
		return g.h.err()
	}
	return nil
}

// after runs after a statement of role r returned err.
func (g *guardConn) after(r stmtRole, err error) error {
	if err != nil {
		return g.h.note(err)
	}
	if g.writer && r == roleCommit {
		return g.h.beforeAck()
	}
	return nil
}

func (g *guardConn) Prepare(query string) (driver.Stmt, error) {
	return g.PrepareContext(context.Background(), query)
}

func (g *guardConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := g.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, g.h.note(err)
	}
	return &guardStmt{s: st, g: g, role: roleOf(query)}, nil
}

func (g *guardConn) Close() error { return g.c.Close() }

func (g *guardConn) Begin() (driver.Tx, error) {
	return g.BeginTx(context.Background(), driver.TxOptions{})
}

func (g *guardConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := g.before(roleBegin); err != nil {
		return nil, err
	}
	tx, err := g.c.BeginTx(ctx, opts)
	if err != nil {
		return nil, g.h.note(err)
	}
	return &guardTx{tx: tx, g: g}, nil
}

func (g *guardConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r := roleOf(query)
	if err := g.before(r); err != nil {
		return nil, err
	}
	res, err := g.c.ExecContext(ctx, query, args)
	if err = g.after(r, err); err != nil {
		return nil, err
	}
	return res, nil
}

func (g *guardConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := g.c.QueryContext(ctx, query, args)
	if err != nil {
		return nil, g.h.note(err)
	}
	return &guardRows{r: rows, h: g.h}, nil
}

func (g *guardConn) Ping(ctx context.Context) error { return g.c.Ping(ctx) }

type guardTx struct {
	tx driver.Tx
	g  *guardConn
}

func (t *guardTx) Commit() error   { return t.g.after(roleCommit, t.tx.Commit()) }
func (t *guardTx) Rollback() error { return t.g.h.note(t.tx.Rollback()) }

type guardStmt struct {
	s    driver.Stmt
	g    *guardConn
	role stmtRole
}

// The statements mattn/go-sqlite3 prepares implement the context variants.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func (s *guardStmt) Close() error  { return s.s.Close() }
func (s *guardStmt) NumInput() int { return s.s.NumInput() }

func (s *guardStmt) Exec(args []driver.Value) (driver.Result, error) {
	if err := s.g.before(s.role); err != nil {
		return nil, err
	}
	res, err := s.s.Exec(args) //nolint:staticcheck // forwarded as database/sql calls it
	if err = s.g.after(s.role, err); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *guardStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.s.Query(args) //nolint:staticcheck // forwarded as database/sql calls it
	if err != nil {
		return nil, s.g.h.note(err)
	}
	return &guardRows{r: rows, h: s.g.h}, nil
}

func (s *guardStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.g.before(s.role); err != nil {
		return nil, err
	}
	res, err := s.s.(sqliteStmt).ExecContext(ctx, args)
	if err = s.g.after(s.role, err); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *guardStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.s.(sqliteStmt).QueryContext(ctx, args)
	if err != nil {
		return nil, s.g.h.note(err)
	}
	return &guardRows{r: rows, h: s.g.h}, nil
}

type guardRows struct {
	r driver.Rows
	h *health
}

func (r *guardRows) Columns() []string { return r.r.Columns() }
func (r *guardRows) Close() error      { return r.h.note(r.r.Close()) }

func (r *guardRows) Next(dest []driver.Value) error {
	err := r.r.Next(dest)
	if err != nil && err != io.EOF {
		return r.h.note(err)
	}
	return err
}
