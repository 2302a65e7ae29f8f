# StarFive VisionFive 2 (JH7110, riscv64). Mainline Linux supports the JH7110;
# the board's SPI flash holds U-Boot, which boots extlinux from the SD card
# (see nixos-hardware starfive/visionfive/v2 for firmware and SD images).
{ lib, ... }:
{
  imports = [ ./common.nix ];

  nixpkgs.hostPlatform = "riscv64-linux";
  networking.hostName = lib.mkDefault "visionfive2";

  # Device tree shipped with mainline Linux (arch/riscv/boot/dts/starfive).
  hardware.deviceTree.name = lib.mkDefault "starfive/jh7110-starfive-visionfive-2-v1.3b.dtb";
}
