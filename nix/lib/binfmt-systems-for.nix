self:
# binfmtSystemsFor :: string -> [ string ] -> [ string ]
#
# The systems to register with binfmt_misc on a Linux host `hostSystem`, for
# the targets named in `names`: their Linux `system`s, without duplicates,
# leaving out the host's own system (nixos/modules/system/boot/binfmt.nix
# asserts on it) and i686-linux on x86_64 hosts (the CPU runs it natively, and
# a qemu-i386 registration would take over i686 binaries; qemu-i386 also
# crashes Go binaries).
#
# Eg: binfmtSystemsFor "x86_64-linux" [ "i686" "riscv64" ] == [ "riscv64-linux" ]
hostSystem: names:
let
  systems = map (n: self.targets.${n}.system) names;
  linux = builtins.filter (s: s != null && builtins.match ".*-linux" s != null) systems;
  unique = builtins.foldl' (acc: s: if builtins.elem s acc then acc else acc ++ [ s ]) [ ] linux;
  native = [ hostSystem ] ++ (if hostSystem == "x86_64-linux" then [ "i686-linux" ] else [ ]);
in
builtins.filter (s: !builtins.elem s native) unique
