self:
# variantNames :: { <target> = [ string ]; }
#
# The package names that exist for each target: `cup-<t>` plus one
# `cup-<t>-<strategy>` per entry of the target's `strategies`. A variant
# that cannot exist (emulated Windows, cross Darwin) is not listed, so the
# flake never exposes a broken package.
#
# Eg: variantNames.windows == [ "cup-windows" "cup-windows-cross" "cup-windows-purego" ]
builtins.mapAttrs (
  name: target: [ "cup-${name}" ] ++ map (s: "cup-${name}-${s}") target.strategies
) self.targets
