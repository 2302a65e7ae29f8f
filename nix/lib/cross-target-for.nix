self:
# crossTargetFor :: (string | { system; config ? }) -> string | null
#
# The target of nix/targets.json whose `pkgsCross` set builds for a
# platform: a system double ("riscv64-linux") or an elaborated platform
# (NixOS' `nixpkgs.hostPlatform`, which has `system` and `config`). Targets
# built with pkgsStatic are never chosen. With a `config`, it must equal the
# target's; a bare system picks the glibc target (aarch64, not
# aarch64-musl). null when no target fits.
#
# Eg: crossTargetFor "riscv64-linux" == "riscv64"
#     crossTargetFor { system = "aarch64-linux"; config = "aarch64-unknown-linux-musl"; } == "aarch64-musl"
#     crossTargetFor "x86_64-linux" == null
platform:
let
  inherit (self) targets;
  system = if builtins.isString platform then platform else platform.system or null;
  fits =
    t:
    t.pkgsCross != null
    && t.system != null
    && !t.static
    && t.system == system
    && (
      if builtins.isAttrs platform && platform ? config then
        t.config == platform.config
      else
        self.localSystemFor t == { inherit system; }
    );
  names = builtins.filter (n: fits targets.${n}) (builtins.attrNames targets);
in
if names == [ ] then null else builtins.head names
