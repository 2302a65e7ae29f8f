# nixosConfigurations: example boards (nix/boards/, lib.boards) running the
# cup service, each three ways.
#   <board>-cross     built on x86_64-linux with a cross toolchain
#                     (nixpkgs.buildPlatform ≠ nixpkgs.hostPlatform)
#   <board>-emulated  built natively for the board (binfmt/QEMU on the build
#                     host, or a remote builder of the board's system)
#   <board>-hybrid    <board>-emulated with cupcross.hybrid: the swaps of
#                     nix/hybrid.json's entry <board> (the kernel) are
#                     cross-built on x86_64-linux (modules/hybrid.nix)
#
#   nix build .#nixosConfigurations.visionfive2-cross.config.system.build.toplevel
#
# Checked against nixpkgs nixos/modules/misc/nixpkgs.nix (hostPlatform,
# buildPlatform) and flake.nix (lib.nixosSystem without `system`).
{ inputs }:
let
  inherit (inputs) nixpkgs self;
  inherit (import ./lib { }) boards;
  # The module each way adds to the board's configuration.
  ways = board: {
    cross.nixpkgs.buildPlatform = "x86_64-linux";
    emulated = { };
    hybrid.cupcross.hybrid = {
      enable = true;
      entry = board;
    };
  };
in
builtins.listToAttrs (
  builtins.concatMap (
    board:
    builtins.attrValues (
      builtins.mapAttrs (way: module: {
        name = "${board}-${way}";
        value = nixpkgs.lib.nixosSystem {
          modules = [
            self.nixosModules.default
            boards.${board}
            module
          ];
        };
      }) (ways board)
    )
  ) (builtins.attrNames boards)
)
