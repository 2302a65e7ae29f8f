# localSystemFor :: target -> { system; } | { config; } | null
#
# The `localSystem` of the emulated (native) package set of a target:
# `{ system; }` for glibc targets, which is exactly what
# `nixpkgs.legacyPackages.<system>` uses (same derivations, same cache hits);
# `{ config; }` for musl, which a system double cannot express. null where
# there is no native build (windows).
#
# Eg: localSystemFor targets.aarch64-musl == { config = "aarch64-unknown-linux-musl"; }
target:
if target.system == null then
  null
else if builtins.match ".*-musl.*" target.config != null then
  { inherit (target) config; }
else
  { inherit (target) system; }
