// Package metamanager is edgecore's metaManager: the beehive module that
// applies cloud messages (insert / update / delete / patch / query /
// response) to edgecore.db and answers each with exactly one reply.
//
// Messages are validated, decoded and encoded by Config.Workers goroutines in
// parallel, before the store is touched; each message's writes then run as
// one function on the store's single writer, so a message commits or rolls
// back as a unit while many messages share one group commit. Commits follow
// arrival order (pipeline.go): revisions, watch events and what survives a
// crash (a prefix) are in the order messages were dispatched.
package metamanager

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kubeedge/beehive/pkg/core/model"
	"k8s.io/klog/v2"

	beehiveContext "github.com/kubeedge/beehive/pkg/core/context"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// ModuleName is metaManager's beehive module name; GroupName its group.
const (
	ModuleName = "metamanager"
	GroupName  = "meta"
)

// Store is what metaManager needs of edgecore.db (dao.Store implements it).
type Store interface {
	dao.Writer
	dao.Reader
	// Submit queues fn like Update without waiting; functions submitted from
	// one goroutine commit in the order submitted (see dao.Store.Submit).
	Submit(ctx context.Context, fn func(tx dao.Tx) error) <-chan error
}

// MetaManager processes messages. Build it with New.
type MetaManager struct {
	store  Store
	mapper *kube.Mapper
	cfg    Config

	mu      sync.Mutex // guards stopped, seq and the hand-off to prep
	stopped bool
	seq     uint64
	started sync.Once
	// The pipeline (pipeline.go): Dispatch → prep → workers → ready →
	// sequencer → the store's writer and commits → completer.
	prep     chan *job
	ready    chan *job
	commits  chan *job
	workers  sync.WaitGroup
	finished chan struct{} // closed when the completer has answered everything

	// CRD messages in flight, by arrival sequence: a message for a kind that
	// is not built in waits for the CRD messages that arrived before it.
	crdMu     sync.Mutex
	crdCond   *sync.Cond
	crdFlight map[uint64]struct{}
}

// New builds a metaManager over store, resolving kinds with mapper. It loads
// every CustomResourceDefinition the store holds into the mapper, so kinds
// stored before a restart stay mappable.
func New(store Store, mapper *kube.Mapper, cfg Config) (*MetaManager, error) {
	m := &MetaManager{store: store, mapper: mapper, cfg: cfg.withDefaults(), crdFlight: map[uint64]struct{}{}}
	m.crdCond = sync.NewCond(&m.crdMu)
	if err := m.loadCRDs(context.Background()); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *MetaManager) loadCRDs(ctx context.Context) error {
	opts := dao.ListOptions{Limit: 500}
	for {
		lr, err := m.store.List(ctx, kube.CRDResource, opts)
		if err != nil {
			return fmt.Errorf("load stored CustomResourceDefinitions: %w", err)
		}
		for _, st := range lr.Items {
			var obj map[string]interface{}
			if err := json.Unmarshal(st.Data, &obj); err != nil {
				klog.Errorf("stored CustomResourceDefinition %s: %v", st.Name, err)
				continue
			}
			if err := m.mapper.AddCRD(obj); err != nil {
				klog.Errorf("stored CustomResourceDefinition %s: %v", st.Name, err)
			}
		}
		if lr.Continue == "" {
			return nil
		}
		opts.After = lr.Continue
		opts.Revision = lr.Revision
	}
}

// Name implements core.Module.
func (m *MetaManager) Name() string { return ModuleName }

// Group implements core.Module.
func (m *MetaManager) Group() string { return GroupName }

// Enable implements core.Module.
func (m *MetaManager) Enable() bool { return m.cfg.Enable }

// Start implements core.Module: it receives messages from beehive until the
// module's channel goes away (or Stop), and sends each reply to
// Config.ContextSendModule.
func (m *MetaManager) Start() {
	klog.Infof("metamanager: %d workers", m.cfg.Workers)
	send := func(r model.Message) { beehiveContext.Send(m.cfg.ContextSendModule, r) }
	for {
		select {
		case <-beehiveContext.Done():
			return
		default:
		}
		msg, err := beehiveContext.Receive(ModuleName)
		if err != nil {
			klog.V(2).Infof("metamanager: receive: %v", err)
			return
		}
		if msg.IsEmpty() {
			continue // the channel was closed under us
		}
		m.Dispatch(msg, send)
	}
}

// Process validates and applies one message synchronously and returns its
// reply: operation "response" (content "OK", or the object / list for a
// query) or "error" with a one-line reason. Bad messages never touch the store.
func (m *MetaManager) Process(ctx context.Context, msg model.Message) (reply model.Message) {
	defer func() {
		if r := recover(); r != nil {
			klog.Errorf("metamanager: panic processing %s %s: %v", msg.GetOperation(), msg.GetResource(), r)
			reply = NewReply(msg, OpError, fmt.Sprintf("internal error: %v", r))
		}
	}()
	p, err := m.prepare(&msg)
	if err != nil {
		return NewReply(msg, OpError, err.Error())
	}
	content, err := m.apply(ctx, p)
	if err != nil {
		klog.V(2).Infof("metamanager: %s %s: %v", msg.GetOperation(), msg.GetResource(), err)
		return NewReply(msg, OpError, err.Error())
	}
	return NewReply(msg, OpResponse, content)
}

// NewReply builds the reply to req: its own msg_id, parent_msg_id = req's
// msg_id, route.resource echoed. An error content is made one line.
func NewReply(req model.Message, op string, content interface{}) model.Message {
	if s, ok := content.(string); ok && op == OpError {
		content = oneLine(s)
	}
	return model.Message{
		Header: model.MessageHeader{
			ID:        NewMsgID(),
			ParentID:  req.Header.ID,
			Timestamp: time.Now().UnixMilli(),
		},
		Router: model.MessageRoute{
			Source:    ModuleName,
			Group:     req.Router.Group,
			Operation: op,
			Resource:  req.Router.Resource,
		},
		Content: content,
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 1024 {
		s = s[:1024] + "…"
	}
	return s
}

// NewMsgID returns a random (version 4) UUID for a message id.
func NewMsgID() string { return uuid.NewString() }
