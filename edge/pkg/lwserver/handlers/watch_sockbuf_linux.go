package handlers

import (
	"net"
	"syscall"
	"unsafe"
)

// sendQueue reads c's send queue (SIOCOUTQ: bytes not yet sent or not yet
// acknowledged) and its send buffer limit (SO_SNDBUF).
func sendQueue(c *net.TCPConn) (queued, limit int64, ok bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	cerr := rc.Control(func(fd uintptr) {
		var n int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
			return
		}
		buf, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
		if err != nil {
			return
		}
		queued, limit, ok = int64(n), int64(buf), true
	})
	return queued, limit, ok && cerr == nil
}
