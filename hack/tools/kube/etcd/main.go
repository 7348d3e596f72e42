// Command etcd is etcd v3.7.0 (the version kube-apiserver v1.37.2 is built
// against), for the kube-apiserver that edgecore's tests start.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
