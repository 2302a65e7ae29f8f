# What both example boards share: boot from an SD card with U-Boot's extlinux
# support, and the cup service on the board's serial adapter.
{ lib, ... }:
{
  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = lib.mkDefault true;

  fileSystems."/" = lib.mkDefault {
    device = "/dev/disk/by-label/NIXOS_SD"; # FIXME: your root file system
    fsType = "ext4";
  };

  services.openssh.enable = lib.mkDefault true;

  services.cup = {
    enable = true;
    device = lib.mkDefault "/dev/ttyUSB0"; # FIXME: your cup's serial device
    address = lib.mkDefault "0.0.0.0:8080";
    openFirewall = lib.mkDefault true;
  };

  system.stateVersion = "26.05";
}
