package dao

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/fields"

	"github.com/edgecore/edgecore/internal/testfixture"
)

var benchSizes = []int{1000, 10000}

// benchPod is testfixture.BenchPod(i) as a PutRequest: about 4 KB, 10
// namespaces, label app=app-<i%100> (1 % each), node n<i%5>.
func benchPod(i int) PutRequest {
	p := testfixture.BenchPod(i)
	return PutRequest{
		Key: podKey(p.Namespace, p.Name), Kind: "Pod", CloudRV: p.ResourceVersion,
		Object: p.Object(), Labels: p.Labels, Fields: podFields(p.Namespace, p.Name, p.Node),
	}
}

func seed(b *testing.B, n int) *Store {
	b.Helper()
	s, _ := openTest(b, Options{})
	for i := 0; i < n; i += 1000 {
		err := s.Update(context.Background(), func(tx Tx) error {
			for j := i; j < i+1000 && j < n; j++ {
				if _, err := tx.Put(benchPod(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		s := seed(b, n)
		for w := 0; w < 5; w++ { // warm the caches, as a running server is
			if _, err := s.List(ctx, podsGVR, ListOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		st, _ := s.Get(ctx, podKey("ns-0", "pod-000000"))
		b.Logf("n=%d object size %d bytes", n, len(st.Data))
		cases := []struct {
			name string
			opts ListOptions
			want int
		}{
			{"all", ListOptions{}, n},
			{"allDataOnly", ListOptions{DataOnly: true}, n},
			{"label1pct", ListOptions{Labels: mustSelector("app=app-7")}, n / 100},
			{"labelIn1pct", ListOptions{Labels: mustSelector("app in (app-7),tier")}, n / 100},
			{"namespace10pct", ListOptions{Namespace: "ns-3"}, n / 10},
			{"field20pct", ListOptions{Fields: fields.ParseSelectorOrDie("spec.nodeName=n1")}, n / 5},
			{"limit500", ListOptions{Limit: 500}, 500},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					res, err := s.List(ctx, podsGVR, c.opts)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Items) != c.want {
						b.Fatalf("%d items, want %d", len(res.Items), c.want)
					}
				}
			})
		}
		// A list at an older revision after 100 changes (continue pages).
		old := s.Revision()
		for i := 0; i < 100; i++ {
			mustPut(b, s, benchPod(i*7%n))
		}
		b.Run(fmt.Sprintf("n=%d/allAtOldRevision", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := s.List(ctx, podsGVR, ListOptions{Revision: old})
				if err != nil || len(res.Items) != n {
					b.Fatal(err, len(res.Items))
				}
			}
		})
		s.Close()
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		s := seed(b, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				j := i * 7919 % n
				if _, err := s.Get(ctx, podKey(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("pod-%06d", j))); err != nil {
					b.Fatal(err)
				}
			}
		})
		s.Close()
	}
}

// BenchmarkPutBatch measures Update throughput (one ~4 KB put per Update,
// durable) with 1 and 100 concurrent writers over n existing objects.
func BenchmarkPutBatch(b *testing.B) {
	for _, n := range benchSizes {
		s := seed(b, n)
		for _, writers := range []int{1, 100} {
			b.Run(fmt.Sprintf("n=%d/writers=%d", n, writers), func(b *testing.B) {
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				b.ResetTimer()
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1) - 1
							if i >= int64(b.N) {
								return
							}
							req := benchPod(int(i) % n)
							err := s.Update(context.Background(), func(tx Tx) error {
								_, err := tx.Put(req)
								return err
							})
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
			})
		}
		s.Close()
	}
}

// BenchmarkOpen100k is the cold start: open a store holding 100,000 objects
// (small ones, to keep seeding quick: Open does not scan objects).
func BenchmarkOpen100k(b *testing.B) {
	s, _ := openTest(b, Options{})
	for i := 0; i < 100000; i += 10000 {
		err := s.Update(context.Background(), func(tx Tx) error {
			for j := i; j < i+10000; j++ {
				if _, err := tx.Put(podPut(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("pod-%06d", j), map[string]string{"app": "a"}, "n1", "1", 0)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	path := s.path
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(path, Options{CompactInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		if s.Revision() != 100000 {
			b.Fatalf("revision %d", s.Revision())
		}
		s.Close()
	}
}
