package main

import (
	"errors"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// Exit codes of edgecore (docs/reliability.md "Start-up"): a supervisor
// tells a store that must be replaced from an environment to fix.
const (
	exitOK = 0
	// exitError: any other failure (bad flags exit with 2).
	exitError = 1
	// exitStoreDamaged: edgecore.db is damaged or not a database; it must
	// be moved aside (docs/reliability.md "Recovery").
	exitStoreDamaged = 3
	// exitStoreUnusable: edgecore.db or its directory cannot be used
	// (read-only file system, permission denied, disk full, not a
	// directory…); the message names the cause and the path.
	exitStoreUnusable = 4
)

// exitCode maps serve's error to the process's exit status.
func exitCode(err error) int {
	var f *dao.Fault
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &f) && f.Damaged():
		return exitStoreDamaged
	case errors.As(err, &f):
		return exitStoreUnusable
	}
	return exitError
}
