package metamanager

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kubeedge/beehive/pkg/core/model"

	"github.com/edgecore/edgecore/internal/testfixture"
)

// BenchmarkDispatch is in-process ingest through the worker pool and the
// store's group commit, at most 100 messages outstanding (no socket).
func BenchmarkDispatch(b *testing.B) {
	e := newEnv(b)
	defer e.mm.Stop()
	msgs := benchMsgs(b.N)
	sem := make(chan struct{}, 100)
	reply := func(r model.Message) {
		if r.Router.Operation != OpResponse {
			panic(fmt.Sprint(r.Content))
		}
		<-sem
	}
	b.ResetTimer()
	for i := range msgs {
		sem <- struct{}{}
		e.mm.Dispatch(msgs[i], reply)
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

func benchMsgs(n int) []model.Message {
	msgs := make([]model.Message, n)
	for i := range msgs {
		name := fmt.Sprintf("p-%05d", i%5000)
		msgs[i] = model.Message{
			Header:  model.MessageHeader{ID: fmt.Sprint(i), ResourceVersion: fmt.Sprint(i + 1)},
			Router:  model.MessageRoute{Operation: OpUpdate, Resource: "bench/pod/" + name},
			Content: json.RawMessage(testfixture.Pod{Namespace: "bench", Name: name, ResourceVersion: fmt.Sprint(i + 1)}.JSON()),
		}
	}
	return msgs
}
