// Command kubectl is kubectl built from k8s.io/kubectl at the version pinned in
// this module, so the tests drive the same client on every machine.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// kubectl already printed the error.
		os.Exit(1)
	}
}
