# NixOS VM test of nixosModules.binfmt: a riscv64 cup, cross-built, runs on
# an x86_64/aarch64 VM through binfmt_misc with a static QEMU (F flag), and
# Nix is told it may build for riscv64-linux.
#
# Checked against nixpkgs nixos/modules/system/boot/binfmt.nix (the
# registration name is the system, /proc/sys/fs/binfmt_misc/<name>; flags
# P for QEMU, F with preferStaticEmulators) and nixos/lib/testing (runNixOSTest
# takes { name, nodes, testScript }).
{ binfmt, riscv64Cup }:
{
  name = "cupcross-binfmt";

  nodes.machine = {
    imports = [ binfmt ];
    cupcross.binfmt = {
      enable = true;
      targets = [ "riscv64" ];
    };
    virtualisation.memorySize = 1024;
  };

  testScript = ''
    machine.wait_for_unit("multi-user.target")
    machine.wait_for_unit("systemd-binfmt.service")

    with subtest("riscv64-linux is registered with the F flag"):
        reg = machine.succeed("cat /proc/sys/fs/binfmt_misc/riscv64-linux")
        print(reg)
        assert "enabled" in reg, reg
        flags = [l for l in reg.splitlines() if l.startswith("flags:")]
        assert flags and "F" in flags[0], reg

    with subtest("Nix may build for riscv64-linux"):
        machine.succeed("grep -E '^extra-platforms.*riscv64-linux' /etc/nix/nix.conf")

    with subtest("a riscv64 binary runs"):
        out = machine.succeed("${riscv64Cup}/bin/cup selftest")
        print(out)
  '';
}
