package integration

import (
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssKB is a process's resident set (VmRSS) in KB.
func rssKB(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkIdleConnections (issue 11): 2,000 clients that made one HTTPS
// request each and went silent. With the default limits.maxIdleConnections
// (128) edgecore keeps 128 of them; with the bound lifted (4096) it keeps
// all, which shows what one idle TLS connection costs. Reports edgecore's
// resident-memory growth.
func BenchmarkIdleConnections(b *testing.B) {
	for _, maxIdle := range []int{128, 4096} {
		b.Run(fmt.Sprintf("maxIdleConnections=%d", maxIdle), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e := StartEdgecore(b, Options{WaitAPI: true,
					Config: fmt.Sprintf("modules:\n  lwServer:\n    limits:\n      maxIdleConnections: %d\n", maxIdle)})
				AdminClient.CloseIdleConnections()
				before := rssKB(b, e.Pid())
				const n = 2000
				conns := make([]*tls.Conn, 0, n)
				for j := 0; j < n; j++ {
					conns = append(conns, idleConn(b, e))
				}
				// The growth holds the kept connections and the heap the
				// 2,000 handshakes left (measured: it is not returned to the
				// OS within 10 s either).
				after := rssKB(b, e.Pid())
				b.ReportMetric(float64(after-before)/1024, "MB-rss-growth")
				b.ReportMetric(float64(after-before)/float64(min(n, maxIdle)), "KB/kept-conn")
				for _, c := range conns {
					c.Close()
				}
				e.Stop()
			}
		})
	}
}
