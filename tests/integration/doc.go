// Package integration holds black-box tests: they build the edgecore
// binary, start it with a temporary data directory, inject messages through
// its socket and drive real clients. The harness is in harness_test.go.
package integration
