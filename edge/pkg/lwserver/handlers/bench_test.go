package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/internal/testfixture"
)

// discardWriter is a ResponseWriter that only counts bytes (the network
// write is not what these benchmarks measure).
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(c int)   { d.code = c }
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	d.n += len(b)
	return len(b), nil
}

// benchPod is testfixture.BenchPod(i): about 4 KB of JSON, namespaces
// ns-<i%10>, label bucket=b<i%100> (1 % each).
func benchPod(i int) map[string]interface{} { return testfixture.BenchPod(i).Object() }

func seedPods(b *testing.B, e *testEnv, n int) {
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		err := e.store.Update(context.Background(), func(tx dao.Tx) error {
			for i := lo; i < lo+batch && i < n; i++ {
				if err := e.putTx(tx, benchPod(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList: list all pods (JSON), a 1 % label selector, one namespace
// (10 %), get one pod, and the Table of all pods, at 1k and 10k pods of ~4 KB.
// The handler runs in-process on a real store; the response is discarded.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			e := newTestEnv(b, dao.Options{})
			seedPods(b, e, n)
			for _, bc := range []struct{ name, path, accept string }{
				{"all", "/api/v1/pods", ""},
				{"label-1pct", "/api/v1/pods?labelSelector=bucket%3Db7", ""},
				{"namespace-10pct", "/api/v1/namespaces/ns-3/pods", ""},
				{"get", "/api/v1/namespaces/ns-3/pods/pod-000003", ""},
				{"table", "/api/v1/pods", "application/json;as=Table;v=v1;g=meta.k8s.io"},
				{"protobuf", "/api/v1/pods", "application/vnd.kubernetes.protobuf"},
			} {
				b.Run(bc.name, func(b *testing.B) {
					r := httptest.NewRequest(http.MethodGet, bc.path, nil)
					if bc.accept != "" {
						r.Header.Set("Accept", bc.accept)
					}
					var bytes int
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						w := &discardWriter{h: http.Header{}}
						e.h.ServeHTTP(w, r)
						if w.code != 200 {
							b.Fatalf("code %d", w.code)
						}
						bytes = w.n
					}
					b.ReportMetric(float64(bytes), "resp-bytes")
				})
			}
		})
	}
}
