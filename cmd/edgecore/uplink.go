package main

import (
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/edgehub/uplink"
	"github.com/edgecore/edgecore/edge/pkg/metamanager"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// newUplink builds the uplink when modules.edgeHub.uplink names a
// kubeconfig and a node (nil when it is off). It feeds metaManager directly,
// in order, as the ingress does through beehive.
func newUplink(cfg Config, dir string, mm *metamanager.MetaManager, store *dao.Store, reg prometheus.Registerer) (*uplink.Uplink, error) {
	uc := cfg.Modules.EdgeHub.Uplink
	if !uc.Enabled() {
		if uc.Kubeconfig != "" || uc.NodeName != "" {
			klog.Warning("edgecore: uplink off: modules.edgeHub.uplink needs both kubeconfig and nodeName")
		}
		return nil, nil
	}
	if uc.Kubeconfig != "" && !filepath.IsAbs(uc.Kubeconfig) {
		uc.Kubeconfig = filepath.Join(dir, uc.Kubeconfig)
	}
	return uplink.New(uc, uplink.Deps{
		Dispatcher: mm, Store: metaclient.New(store), Registerer: reg, DataDir: dir,
	})
}
