# Raspberry Pi 4 (BCM2711, aarch64) booting the mainline kernel through U-Boot
# and extlinux, as the NixOS aarch64 SD image does.
{ lib, ... }:
{
  imports = [ ./common.nix ];

  nixpkgs.hostPlatform = "aarch64-linux";
  networking.hostName = lib.mkDefault "raspberrypi4";

  # Serial console on the GPIO header, HDMI as well.
  boot.kernelParams = [
    "console=ttyS1,115200n8"
    "console=tty0"
  ];
}
