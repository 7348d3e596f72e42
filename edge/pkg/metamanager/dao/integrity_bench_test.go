package dao

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpenCheck is what the start-up integrity check costs: Open (and
// Close) of a store of n ~4 KB pods (and their event log) with each
// CheckMode; the difference to "none" is the check. The database file is
// in the OS page cache, as on a restart; a cold boot reads it from disk
// once more. docs/reliability.md quotes these figures.
func BenchmarkOpenCheck(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		path := filepath.Join(b.TempDir(), "edgecore.db")
		s, err := Open(path, Options{CompactInterval: -1, StartupCheck: CheckNone})
		if err != nil {
			b.Fatal(err)
		}
		fillPods(b, s, n)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []CheckMode{CheckNone, CheckQuick, CheckFull} {
			b.Run(fmt.Sprintf("objects=%d/check=%s", n, mode), func(b *testing.B) {
				b.ReportMetric(float64(fi.Size())/(1<<20), "dbMiB")
				for i := 0; i < b.N; i++ {
					s, err := Open(path, Options{CompactInterval: -1, StartupCheck: mode})
					if err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
