//go:build tools

// Package tools pins istio.io/istio for the DCM's tests: `go build istio.io/istio/pilot/cmd/pilot-discovery`
// in this module builds istiod's binary (see test/testenv/binaries.ts, ensureIstiodBinary). These are
// the imports of that command's main package, which cannot itself be imported.
package tools

import (
	_ "github.com/KimMachineGun/automemlimit"
	_ "istio.io/istio/pilot/cmd/pilot-discovery/app"
)
