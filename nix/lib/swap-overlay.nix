# swapOverlay :: { cross; swaps; } -> overlay
#
# A nixpkgs overlay (`final: prev: { … }`) that replaces each attribute path
# of `swaps` ("hello", "linuxPackages.kernel", "a.b.c") by the attribute at
# the same path of `cross`, a package set of another platform (typically
# `pkgsCross.<attr>` of the same nixpkgs). Being an overlay, it re-hashes
# everything in the set that depends on a swapped attribute, exactly as any
# other nixpkgs overlay does: those dependents become (native) builds.
#
# Nested paths: where a parent is a scope, the leaf is replaced through the
# scope's own override, so the scope's members that use it (kernel modules
# use `kernel`) are re-hashed too: `prev.<parent>.extend (self: super: {
# <leaf> = …; })` for lib.makeExtensible sets (linuxPackages),
# `overrideScope` (same arguments) for lib.makeScope scopes. A plain
# attribute set is updated with `//`. Several swaps under one parent share
# one `extend` (or `overrideScope`, or `//`). A parent's
# `recurseForDerivations` (what recurseIntoAttrs adds; the scope's override
# rebuilds the set without it) is kept.
#
# Bad input throws, the message starting with `swapOverlay:` and naming the
# path: a path that the cross set or the native set (prev) lacks (naming the
# first missing prefix and the side), a path that is not dotted attribute
# names, and two swaps of which one contains the other ("a" and "a.b").
# The shape of `swaps` is checked when the overlay is applied; whether a
# path exists, when the swapped attribute (or its parent) is used.
#
# Eg: (import nixpkgs { system = "riscv64-linux"; overlays = [
#       (swapOverlay { cross = pkgsCross.riscv64; swaps = [ "linuxPackages.kernel" ]; })
#     ]; }).linuxPackages.kernel == pkgsCross.riscv64.linuxPackages.kernel
{ cross, swaps }:
_final: prev:
let
  inherit (builtins)
    all
    concatStringsSep
    filter
    groupBy
    head
    isAttrs
    isFunction
    isList
    isString
    mapAttrs
    split
    tail
    ;
  dotted = concatStringsSep ".";
  quote = s: "\"${s}\"";

  checked =
    if !isList swaps then
      throw "swapOverlay: `swaps` must be a list of attribute paths such as \"linuxPackages.kernel\", got a ${builtins.typeOf swaps}"
    else
      map (
        path:
        if !isString path then
          throw "swapOverlay: every swap must be a string (an attribute path such as \"linuxPackages.kernel\"), got a ${builtins.typeOf path}"
        else
          let
            segments = filter isString (split "\\." path);
          in
          if all (s: s != "") segments then
            {
              inherit path;
              rest = segments;
            }
          else
            throw "swapOverlay: ${quote path} is not an attribute path (dot-separated, non-empty names such as \"linuxPackages.kernel\")"
      ) swaps;

  # The attribute at `segments` of the cross set, or a throw naming the
  # first prefix the cross set lacks.
  fromCross =
    path: segments:
    let
      go =
        value: done: rest:
        if rest == [ ] then
          value
        else
          let
            prefix = done ++ [ (head rest) ];
          in
          if isAttrs value && value ? ${head rest} then
            go value.${head rest} prefix (tail rest)
          else
            throw "swapOverlay: cannot swap ${quote path}: the cross set has no attribute ${quote (dotted prefix)}";
    in
    go cross [ ] segments;

  byHead = entries: groupBy (e: head e.rest) entries;
  below = map (e: e // { rest = tail e.rest; });

  # The new value of attribute `name` of `parent` (the native value at
  # `done`), given the swaps whose remaining path starts with `name`.
  swapIn =
    parent: done: name: entries:
    let
      here = done ++ [ name ];
      leaves = filter (e: tail e.rest == [ ]) entries;
      deeper = filter (e: tail e.rest != [ ]) entries;
      missing = throw "swapOverlay: cannot swap ${quote (head entries).path}: the native package set (prev) has no attribute ${quote (dotted here)}";
    in
    if leaves != [ ] && deeper != [ ] then
      throw "swapOverlay: ${quote (head leaves).path} and ${quote (head deeper).path} overlap: swap either the attribute set or attributes inside it, not both"
    else if !(parent ? ${name}) then
      missing
    else if leaves != [ ] then
      fromCross (head leaves).path here
    else
      update parent.${name} here (below deeper);

  # `value` with the swaps of `entries` (paths relative to `value`) applied.
  update =
    value: here: entries:
    let
      children = set: mapAttrs (swapIn set here) (byHead entries);
      keep =
        if value ? recurseForDerivations then
          { inherit (value) recurseForDerivations; }
        else
          { };
    in
    if !isAttrs value then
      throw "swapOverlay: cannot swap ${quote (head entries).path}: ${quote (dotted here)} of the native package set (prev) is not an attribute set"
    else if value ? extend && isFunction value.extend then
      value.extend (_self: children) // keep
    else if value ? overrideScope && isFunction value.overrideScope then
      value.overrideScope (_self: children) // keep
    else
      value // children value;
in
# The top level of a nixpkgs set is its own fixpoint: `final` re-hashes
# every dependent, so only the swapped names are returned.
mapAttrs (swapIn prev [ ]) (byHead checked)
