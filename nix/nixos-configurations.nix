# nixosConfigurations: example boards running the cup service, each two ways.
#   <board>-cross     built on x86_64-linux with a cross toolchain
#                     (nixpkgs.buildPlatform ≠ nixpkgs.hostPlatform)
#   <board>-emulated  built natively for the board (binfmt/QEMU on the build
#                     host, or a remote builder of the board's system)
#
#   nix build .#nixosConfigurations.visionfive2-cross.config.system.build.toplevel
#
# Checked against nixpkgs nixos/modules/misc/nixpkgs.nix (hostPlatform,
# buildPlatform) and flake.nix (lib.nixosSystem without `system`).
{ inputs }:
let
  inherit (inputs) nixpkgs self;
  boards = {
    visionfive2 = ./boards/visionfive2.nix;
    raspberrypi4 = ./boards/raspberrypi4.nix;
  };
  configure =
    board: cross:
    nixpkgs.lib.nixosSystem {
      modules = [
        self.nixosModules.default
        boards.${board}
        (if cross then { nixpkgs.buildPlatform = "x86_64-linux"; } else { })
      ];
    };
in
builtins.listToAttrs (
  builtins.concatMap (board: [
    {
      name = "${board}-cross";
      value = configure board true;
    }
    {
      name = "${board}-emulated";
      value = configure board false;
    }
  ]) (builtins.attrNames boards)
)
