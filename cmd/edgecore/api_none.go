//go:build !lwserver

package main

import (
	"github.com/kubeedge/beehive/pkg/core"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// newAPIServer: this build has no lwserver (build with -tags lwserver once
// edge/pkg/lwserver provides New; see api_lwserver.go).
func newAPIServer(cfg Config, mapper *kube.Mapper, store *dao.Store) (apiServer, core.Module, error) {
	klog.Warning("edgecore: built without lwserver: the Kubernetes API is not served")
	return nil, nil, nil
}
