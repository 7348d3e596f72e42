package integration

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgecore/edgecore/internal/testfixture"
)

func benchLine(i int) []byte {
	name := fmt.Sprintf("bench-%05d", i%5000)
	rv := i + 1
	return []byte(fmt.Sprintf(`{"header":{"msg_id":"b-%d","resourceversion":"%d"},"route":{"source":"edgecontroller","group":"resource","operation":"update","resource":"bench/pod/%s"},"content":%s}`,
		i, rv, name, testfixture.Pod{Namespace: "bench", Name: name, ResourceVersion: strconv.Itoa(rv)}.JSON()))
}

// BenchmarkIngest measures messages/s through the real socket with durable
// acknowledgements, with at most `batch` messages outstanding.
func BenchmarkIngest(b *testing.B) {
	if n := len(benchLine(0)); n < 3500 || n > 5000 {
		b.Fatalf("bench pod message is %d bytes, want about 4 KB", n)
	}
	for _, depth := range []int{1, 100, 2048} {
		b.Run("batch="+strconv.Itoa(depth), func(b *testing.B) {
			e := StartEdgecore(b, Options{})
			c, err := e.Dial()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			lines := make([][]byte, b.N)
			for i := range lines {
				lines[i] = benchLine(i)
			}
			b.SetBytes(int64(len(lines[0])))
			sem := make(chan struct{}, depth)
			var wg sync.WaitGroup
			wg.Add(1)
			var recvErr error
			b.ResetTimer()
			start := time.Now()
			go func() {
				defer wg.Done()
				for i := 0; i < b.N; i++ {
					r, err := c.Recv()
					if err != nil {
						recvErr = err
						return
					}
					if !r.OK() {
						recvErr = fmt.Errorf("error reply: %s", r.Raw)
						return
					}
					<-sem
				}
			}()
			for i := 0; i < b.N; i++ {
				sem <- struct{}{}
				if len(sem) == depth || i == b.N-1 {
					err = c.Send(lines[i])
				} else {
					err = c.SendBuffered(lines[i])
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			if recvErr != nil {
				b.Fatal(recvErr)
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
			e.Stop()
		})
	}
}
