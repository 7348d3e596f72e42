//go:build !nolwserver

package main

import (
	"context"
	"errors"

	"github.com/kubeedge/beehive/pkg/core"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/watchhub"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/event"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// apiStack is lwserver plus its watch hub, shut down in that order.
type apiStack struct {
	srv *lwserver.Server
	hub *watchhub.Hub
}

func (a *apiStack) Shutdown(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	a.hub.Close()
	return err
}

// newAPIServer wires lwserver: its watch hub and its authorization subscribe
// to the store's committed events, and its handlers read through
// metaclient. It creates (or reuses) the pki under the data dir.
func newAPIServer(cfg Config, mapper *kube.Mapper, store *dao.Store) (apiServer, core.Module, error) {
	lc := cfg.Modules.LWServer
	if !lc.Enable {
		return nil, nil, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	hub := watchhub.New(metaclient.New(store), watchhub.Options{
		RingSize:  lc.WatchCacheEvents,
		RingBytes: lc.WatchCacheBytes,
		Eviction: watchhub.EvictionPolicy{
			MaxQueueEvents:  lc.WatcherQueueEvents,
			MaxQueueBytes:   lc.WatcherQueueBytes,
			SendBufferBytes: lc.WatchSendBufferBytes,
		},
		MaxWatchers:      lc.MaxWatchers,
		BookmarkInterval: lc.BookmarkInterval.Duration,
		Registerer:       reg,
		IsCompacted:      func(err error) bool { return errors.Is(err, dao.ErrCompacted) },
	})
	srv, err := lwserver.New(lc, lwserver.Deps{Mapper: mapper, Store: metaclient.New(store), Hub: hub, Registry: reg, DataDir: cfg.DataDir, Health: store})
	if err != nil {
		hub.Close()
		return nil, nil, err
	}
	// Watchers, the RBAC index and cached tokens follow every commit.
	store.SetSubscriber(event.Subscribers{hub, srv.Subscriber()})
	return &apiStack{srv: srv, hub: hub}, srv, nil
}
