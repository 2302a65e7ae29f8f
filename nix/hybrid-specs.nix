# legacyPackages.<system>.hybridSpecs.<key>: what `crossplan hybrid KEY`
# evaluates. <system> is the build host (the machine that cross-builds the
# swaps); <key> is every key nix/hybrid.json accepts: the board
# configurations of nix/boards (visionfive2, raspberrypi4) and the targets
# with both a native system and a pkgsCross attr (the names of
# legacyPackages.<system>.hybrid). Names are built with builtins only (see
# nix/context.nix); every value is lazy.
#
# Each value is a "hybrid spec", an attribute set with exactly these fields
# (the interface crossplan relies on; its tests use a fake flake of the same
# shape, so change both together):
#
#   system      string: the native system of the base ("riscv64-linux").
#   base        derivation: the all-native (emulated) build.
#                 board:  nixosConfigurations.<b>-emulated.config.system.build.toplevel
#                 target: cup of the target's native set (= packages.<system>.cup-<t>-emulated)
#   allCross    derivation: the all-cross build, on <system>.
#                 board:  nixosConfigurations.<b>-cross's toplevel when that
#                         configuration is built on <system> (x86_64-linux),
#                         otherwise <b>-emulated with nixpkgs.buildPlatform = <system>
#                 target: cup of the cross set (= packages.<system>.cup-<t>-cross)
#   native      attribute set: crossplan resolves a candidate attribute path
#               ("linuxPackages.kernel") here to the native derivation that
#               is in base's closure.
#   cross       attribute set: the same path resolves here to the cross
#               derivation the hybrid with that swap contains.
#   hybrid      function: list of attribute paths -> the hybrid derivation
#               with exactly those swaps (lib.swapOverlay; for a board
#               through nixosModules.hybrid). `hybrid [ ]` is base. A path
#               that `native` or `cross` lacks throws, naming the spec, the
#               path and the first missing prefix (the overlay alone would
#               ignore a swap nothing uses).
#   swaps       list of strings: the swaps of nix/hybrid.json's entry for
#               <key>, [ ] when it has none.
#   candidates  list of strings: what crossplan weighs by default:
#               [ "linuxPackages.kernel" ] for a board, [ ] for a target.
#   built       derivation: `hybrid swaps`, what `crossplan build --hybrid
#               <key>` builds (for a board, <b>-hybrid's toplevel).
#
# For a target, `native` is its native package set and `cross` is this
# host's pkgsCross.<attr> (not its pkgsStatic: the set
# legacyPackages.<system>.hybrid swaps from).
#
# For a board, `native` and `cross` are the configuration's package sets,
# except `linuxPackages`, which is the configuration's boot.kernelPackages.
# nixos/modules/system/boot/kernel.nix (read at NixOS/nixpkgs 8a2b0a70)
# declares boot.kernelPackages with `default = pkgs.linuxPackages` and an
# `apply` that returns `kernelPackages.extend (self: super: { kernel =
# super.kernel.override (originalArgs: { … randstructSeed, kernelPatches,
# features … }); })`: the kernel in a configuration's closure is that
# override, which need not be `pkgs.linuxPackages.kernel`, and the scope's
# modules are built against it. So
#   native.linuxPackages = <b>-emulated's config.boot.kernelPackages
#   cross.linuxPackages  = config.boot.kernelPackages of the hybrid with the
#                          swap "linuxPackages.kernel": the native scope with
#                          the cross kernel (pkgsCross.<attr>.linuxPackages.kernel)
#                          to which NixOS applied the same override
# The boards do not set boot.kernelPackages (scripts/nix-test.sh checks);
# a board that sets it to another scope (pkgs.linuxPackages_latest) must
# swap and look up that scope's attribute path instead.
#
# The board's hybrid is <b>-emulated extended (eval-config.nix's
# extendModules, which nixosSystem's result has) with
# `cupcross.hybrid = { enable = true; swaps; buildPlatform = <system>; }`;
# its cross set is this host's pkgsCross.<attr> for the board's system, as
# in modules/hybrid.nix. On a build host of the board's own system
# (raspberrypi4 on aarch64-linux) nothing can be cross-built: `hybrid` and
# `cross.linuxPackages` fail with nixosModules.hybrid's message.
#
#   nix eval .#legacyPackages.x86_64-linux.hybridSpecs.visionfive2.swaps
#   nix eval --raw --apply 's: (s.hybrid [ "linuxPackages.kernel" ]).drvPath' \
#     .#legacyPackages.x86_64-linux.hybridSpecs.visionfive2
{
  inputs,
  system,
  pkgs,
  cupLib,
  targets,
  filterAttrs,
  emulatedSetOf,
  crossSetOf,
  # native: target: swaps: the hybrid package set (nix/legacy-packages.nix)
  hybridSetOf,
  ...
}:
let
  inherit (cupLib) boards hybridSwapsFor crossTargetFor;
  cupPackage = ../cup/package.nix;
  cupOf = set: set.callPackage cupPackage { };
  systemOf = p: if builtins.isString p then p else p.system;

  # `swaps`, once every path in it names an attribute of both sets; else a
  # throw naming the spec, the path and the first missing prefix. The
  # overlay alone would only fail when something uses the attribute, and a
  # misspelt swap would give the base back.
  checkSwaps =
    key: native: cross: swaps:
    let
      inherit (builtins)
        concatMap
        concatStringsSep
        filter
        head
        isAttrs
        isList
        isString
        split
        tail
        ;
      # The first prefix of `path` that `set` lacks, or null.
      missingIn =
        set: path:
        let
          go =
            value: done: rest:
            let
              prefix = done ++ [ (head rest) ];
            in
            if rest == [ ] then
              null
            else if isAttrs value && value ? ${head rest} then
              go value.${head rest} prefix (tail rest)
            else
              concatStringsSep "." prefix;
        in
        go set [ ] (filter isString (split "\\." path));
      problems = concatMap (
        path:
        let
          n = missingIn native path;
          c = missingIn cross path;
        in
        if !isString path then
          [ ]
        else if n != null then
          [ "\"${path}\": the native set has no attribute \"${n}\"" ]
        else if c != null then
          [ "\"${path}\": the cross set has no attribute \"${c}\"" ]
        else
          [ ]
      ) (if isList swaps then swaps else [ ]);
    in
    if problems == [ ] then
      swaps
    else
      throw "legacyPackages.${system}.hybridSpecs.${key}.hybrid: cannot swap ${concatStringsSep "; " problems} (see the spec's `native` and `cross`)";

  boardSpec =
    board:
    let
      configs = inputs.self.nixosConfigurations;
      emulated = configs."${board}-emulated";
      toplevel = c: c.config.system.build.toplevel;
      hostPlatform = emulated.config.nixpkgs.hostPlatform;
      target = crossTargetFor hostPlatform;
      crossSet =
        if target == null then
          throw "legacyPackages.${system}.hybridSpecs.${board}: no target of nix/targets.json has a pkgsCross set for the board's nixpkgs.hostPlatform (${hostPlatform.config or (systemOf hostPlatform)}); add one, or take ${board} out of nix/boards"
        else
          pkgs.pkgsCross.${targets.${target}.pkgsCross};
      hybridConfig =
        swaps:
        emulated.extendModules {
          modules = [
            {
              _file = "nix/hybrid-specs.nix (hybridSpecs.${board}.hybrid)";
              cupcross.hybrid = {
                enable = true;
                inherit swaps;
                buildPlatform = system;
              };
            }
          ];
        };
      crossConfig =
        let
          c = configs."${board}-cross";
        in
        if systemOf c.config.nixpkgs.buildPlatform == system then
          c
        else
          emulated.extendModules {
            modules = [
              {
                _file = "nix/hybrid-specs.nix (hybridSpecs.${board}.allCross)";
                nixpkgs.buildPlatform = system;
              }
            ];
          };
      spec = {
        system = systemOf hostPlatform;
        base = toplevel emulated;
        allCross = toplevel crossConfig;
        native = emulated.pkgs // {
          linuxPackages = emulated.config.boot.kernelPackages;
        };
        cross = crossSet // {
          linuxPackages = (hybridConfig [ "linuxPackages.kernel" ]).config.boot.kernelPackages;
        };
        hybrid = swaps: toplevel (hybridConfig (checkSwaps board spec.native spec.cross swaps));
        swaps = hybridSwapsFor board;
        candidates = [ "linuxPackages.kernel" ];
        built = spec.hybrid spec.swaps;
      };
    in
    spec;

  targetSpec =
    name: t:
    let
      spec = {
        inherit (t) system;
        base = cupOf spec.native;
        allCross = cupOf (crossSetOf pkgs t);
        native = emulatedSetOf t;
        cross = pkgs.pkgsCross.${t.pkgsCross};
        hybrid = swaps: cupOf (hybridSetOf spec.native t (checkSwaps name spec.native spec.cross swaps));
        swaps = hybridSwapsFor name;
        candidates = [ ];
        built = spec.hybrid spec.swaps;
      };
    in
    spec;
in
builtins.mapAttrs (board: _: boardSpec board) boards
// builtins.mapAttrs targetSpec (filterAttrs (_: t: t.system != null && t.pkgsCross != null) targets)
