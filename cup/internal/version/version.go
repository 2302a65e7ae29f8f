// Package version holds cup's version. The Nix package reads Version from this
// file with a regular expression: keep it a single `const Version = "x.y.z"` line.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"cupcross.dev/cup/internal/hotpath"
)

// Version is cup's release version.
const Version = "0.1.0"

// GOARM returns the GOARM value the binary was built with ("" when not arm or unknown).
func GOARM() string {
	if runtime.GOARCH != "arm" {
		return ""
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				return s.Value
			}
		}
	}
	return ""
}

// String is the one-line description printed by `cup version`.
func String() string {
	cgo := "off"
	if hotpath.CgoEnabled {
		cgo = "on"
	}
	arch := runtime.GOARCH
	if v := GOARM(); v != "" {
		arch += "/v" + v
	}
	return fmt.Sprintf("cup %s (%s/%s, cgo %s, %s)", Version, runtime.GOOS, arch, cgo, runtime.Version())
}
