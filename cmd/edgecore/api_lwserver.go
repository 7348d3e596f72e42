//go:build !nolwserver

package main

import (
	"context"
	"errors"

	"github.com/kubeedge/beehive/pkg/core"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink"
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/lwserver"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/handlers"
	"github.com/edgecore/edgecore/edge/pkg/lwserver/openapi"
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
func newAPIServer(cfg Config, mapper *kube.Mapper, store *dao.Store, reg *prometheus.Registry, up *uplink.Uplink) (apiServer, core.Module, error) {
	lc := cfg.Modules.LWServer
	if !lc.Enable {
		return nil, nil, nil
	}
	reg.MustRegister(newStoreCollector(store))
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
	deps := lwserver.Deps{Mapper: mapper, Store: metaclient.New(store), Hub: hub, Registry: reg, DataDir: cfg.DataDir, Health: store}
	if up != nil {
		deps.Writes = uplinkWrites{up}
		deps.OpenAPI = openapi.NewDir(up.DocsDir())
	}
	srv, err := lwserver.New(lc, deps)
	if err != nil {
		hub.Close()
		return nil, nil, err
	}
	// Watchers, the RBAC index and cached tokens follow every commit.
	store.SetSubscriber(event.Subscribers{hub, srv.Subscriber()})
	return &apiStack{srv: srv, hub: hub}, srv, nil
}

// uplinkWrites is the uplink as lwserver's write path sees it
// (handlers.Writes): lwserver declares the interface, this adapts.
type uplinkWrites struct{ u *uplink.Uplink }

func (w uplinkWrites) Online() bool { return w.u.Online() }

func (w uplinkWrites) Forward(ctx context.Context, req handlers.ForwardRequest) (handlers.ForwardResult, error) {
	out, err := w.u.Forward(ctx, uplink.WriteRequest{
		Method: req.Method, Path: req.Path, RawQuery: req.RawQuery,
		ContentType: req.ContentType, Body: req.Body, BearerToken: req.BearerToken,
		GVR: req.GVR, Namespace: req.Namespace, Name: req.Name, Subresource: req.Subresource,
	})
	return handlers.ForwardResult{Code: out.Code, Body: out.Body}, err
}
