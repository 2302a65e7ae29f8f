# goEnv :: target -> { GOOS; GOARCH; GOARM?; }
#
# The Go environment of a target, from its `go` entry; GOARM only where it is
# set (ARM), so it never leaks an empty value into a non-ARM build.
#
# Eg: goEnv targets.armv6l == { GOOS = "linux"; GOARCH = "arm"; GOARM = "6"; }
target:
{
  inherit (target.go) GOOS GOARCH;
}
// (if (target.go.GOARM or "") != "" then { inherit (target.go) GOARM; } else { })
