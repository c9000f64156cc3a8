// Command kube is one binary that carries the Kubernetes components the DCM's
// integration tests need, so that they share one compile of k8s.io/kubernetes:
//
//	kube kube-apiserver [flags]
//	kube kube-controller-manager [flags]
//	kube kubectl [args]
//
// The sub-command may also be taken from the name the binary is invoked by
// (a symlink called kubectl runs kubectl).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	switch name {
	case "kube-apiserver", "kube-controller-manager", "kubectl":
	default:
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: kube {kube-apiserver|kube-controller-manager|kubectl} [args]")
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	// cobra reads os.Args[1:]; make the sub-command's own args look like the whole command line.
	os.Args = append([]string{name}, args...)
	switch name {
	case "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "kubectl":
		if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
			// kubectl has printed the error itself; only the exit code is left to set.
			util.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown component %q\n", name)
		os.Exit(2)
	}
}
