//go:build nolwserver

package main

import (
	"github.com/kubeedge/beehive/pkg/core"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink"
	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// newAPIServer: built with -tags nolwserver, edgecore serves no Kubernetes
// API (the ingress and the store only).
func newAPIServer(cfg Config, mapper *kube.Mapper, store *dao.Store, reg *prometheus.Registry, up *uplink.Uplink) (apiServer, core.Module, error) {
	klog.Warning("edgecore: built without lwserver: the Kubernetes API is not served")
	return nil, nil, nil
}
