// Command kube-apiserver is the real Kubernetes API server, pinned to v1.37.2,
// built from the Go module proxy for edgecore's tests and benchmarks (the
// uplink's cloud side and the side-by-side baseline of make bench). It is its
// own module so that none of its dependencies enter edgecore's go.mod.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
