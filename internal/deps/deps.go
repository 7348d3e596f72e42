//go:build deps

// Package deps pins the modules the tree needs while the code that imports
// them is being written; delete once every import is used for real.
package deps

import (
	_ "github.com/beego/beego/v2/client/orm"
	_ "github.com/kubeedge/beehive/pkg/core"
	_ "github.com/kubeedge/beehive/pkg/core/context"
	_ "github.com/kubeedge/beehive/pkg/core/model"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/apimachinery/pkg/util/strategicpatch"
	_ "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	_ "k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	_ "k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	_ "k8s.io/apiserver/pkg/endpoints/request"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/tools/cache"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/client-go/util/jsonpath"
	_ "k8s.io/klog/v2"
	_ "sigs.k8s.io/yaml"
	_ "gopkg.in/evanphx/json-patch.v4"
)
