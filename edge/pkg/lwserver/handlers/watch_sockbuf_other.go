//go:build !linux

package handlers

import "net"

// sendQueue is only read on Linux (SIOCOUTQ); elsewhere the metrics stay 0.
func sendQueue(*net.TCPConn) (queued, limit int64, ok bool) { return 0, 0, false }
