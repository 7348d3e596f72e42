package metamanager

import (
	"context"
	"fmt"

	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/klog/v2"
)

// The message pipeline keeps arrival order without giving up parallel work
// (docs/architecture.md, "Order"):
//
//	Dispatch ─seq─► prep ─► Config.Workers × prepare ─► ready ─► sequencer ─► store writer
//	                                                                  │            (group commit)
//	                                                                  └─► commits ─► completer ─► reply
//
// Dispatch numbers messages in the order it is called. Workers prepare
// (validate, decode, encode) in parallel and finish in any order; the
// sequencer holds each prepared message until every earlier one was handed
// on (a reorder buffer), then submits its store function to the single
// writer, which runs functions in the order submitted. So revisions, watch
// events and the durable prefix that survives a crash follow arrival order.
// The completer waits for each message's commit in the same order, mirrors
// CRD changes into the mapper and sends the reply.

// job is one dispatched message on its way through the pipeline.
type job struct {
	msg   model.Message
	seq   uint64 // arrival order, from 1
	crd   bool   // a CustomResourceDefinition message
	reply func(model.Message)

	// set by the worker
	plan *plan
	err  error // the message is invalid: answered with this error

	// set by the sequencer for a write
	done <-chan error
	crds *[]crdChange
}

func (m *MetaManager) startPipeline() {
	m.started.Do(func() {
		m.prep = make(chan *job, m.cfg.QueueLength)
		m.ready = make(chan *job, m.cfg.Workers)
		m.commits = make(chan *job, m.cfg.QueueLength+m.cfg.Workers)
		m.finished = make(chan struct{})
		for i := 0; i < m.cfg.Workers; i++ {
			m.workers.Add(1)
			go m.worker()
		}
		go func() { m.workers.Wait(); close(m.ready) }()
		go m.sequence()
		go m.complete()
	})
}

// Dispatch queues msg for processing; reply is called exactly once with the
// reply, from the pipeline's completer goroutine. Messages commit (and are
// answered) in the order Dispatch is called. Dispatch blocks while the
// queue is full. After Stop it replies with an error at once.
func (m *MetaManager) Dispatch(msg model.Message, reply func(model.Message)) {
	m.startPipeline()
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		reply(NewReply(msg, OpError, "metamanager is shutting down"))
		return
	}
	m.seq++
	j := &job{msg: msg, seq: m.seq, reply: reply}
	if r, err := ParseResource(msg.GetResource()); err == nil && r.Restype == crdRestype {
		j.crd = true
		m.crdMu.Lock()
		m.crdFlight[j.seq] = struct{}{}
		m.crdMu.Unlock()
	}
	// Holding mu while blocked on a full queue keeps the numbering and the
	// queue in one order, and makes Stop wait for the hand-off.
	m.prep <- j
	m.mu.Unlock()
}

func (m *MetaManager) worker() {
	defer m.workers.Done()
	for j := range m.prep {
		if !j.crd {
			m.waitForCRDs(j)
		}
		j.plan, j.err = m.safePrepare(&j.msg)
		m.ready <- j
	}
}

func (m *MetaManager) safePrepare(msg *model.Message) (p *plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			klog.Errorf("metamanager: panic preparing %s %s: %v", msg.GetOperation(), msg.GetResource(), r)
			p, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	return m.prepare(msg)
}

// sequence is the reorder buffer: it hands prepared messages on in arrival
// order, submitting each write to the store as it goes.
func (m *MetaManager) sequence() {
	defer close(m.commits)
	next := uint64(1)
	held := map[uint64]*job{}
	for j := range m.ready {
		held[j.seq] = j
		for {
			j, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			next++
			if j.err == nil && isWrite(j.plan) {
				fn, crds := m.writeFn(j.plan)
				j.done, j.crds = m.store.Submit(context.Background(), fn), crds
			}
			m.commits <- j
		}
	}
}

// complete answers every message in arrival order once its commit is done.
func (m *MetaManager) complete() {
	defer close(m.finished)
	for j := range m.commits {
		j.reply(m.result(j))
		if j.crd {
			m.crdMu.Lock()
			delete(m.crdFlight, j.seq)
			m.crdCond.Broadcast()
			m.crdMu.Unlock()
		}
	}
}

// result waits for a job's outcome and builds its reply.
func (m *MetaManager) result(j *job) (reply model.Message) {
	defer func() {
		if r := recover(); r != nil {
			klog.Errorf("metamanager: panic processing %s %s: %v", j.msg.GetOperation(), j.msg.GetResource(), r)
			reply = NewReply(j.msg, OpError, fmt.Sprintf("internal error: %v", r))
		}
	}()
	if j.err != nil {
		return NewReply(j.msg, OpError, j.err.Error())
	}
	var content interface{} = ReplyOK
	var err error
	switch {
	case j.done != nil:
		if err = <-j.done; err == nil {
			m.mirrorCRDs(*j.crds)
		}
	case j.plan.op == OpQuery:
		// Every earlier message is committed by now: the query sees them.
		content, err = m.query(context.Background(), j.plan)
	}
	if err != nil {
		klog.V(2).Infof("metamanager: %s %s: %v", j.msg.GetOperation(), j.msg.GetResource(), err)
		return NewReply(j.msg, OpError, err.Error())
	}
	return NewReply(j.msg, OpResponse, content)
}

// waitForCRDs holds a message for a kind that is not built in until the CRD
// messages that arrived before it are applied (their kinds mapped). Those
// were queued earlier, so they never wait for this one.
func (m *MetaManager) waitForCRDs(j *job) {
	if r, err := ParseResource(j.msg.GetResource()); err == nil {
		if kr, ok := m.mapper.ByRestype(r.Restype); ok && kr.BuiltIn {
			return
		}
	}
	m.crdMu.Lock()
	defer m.crdMu.Unlock()
	for {
		earlier := false
		for s := range m.crdFlight {
			if s < j.seq {
				earlier = true
				break
			}
		}
		if !earlier {
			return
		}
		m.crdCond.Wait()
	}
}

// Stop stops taking messages, lets the queued ones finish (their replies are
// sent) and waits for the pipeline to drain. Safe to call more than once.
func (m *MetaManager) Stop() {
	m.startPipeline()
	m.mu.Lock()
	if !m.stopped {
		m.stopped = true
		close(m.prep)
	}
	m.mu.Unlock()
	<-m.finished
}
