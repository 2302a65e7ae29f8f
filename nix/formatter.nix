# formatter.<system>: `nix fmt` formats every .nix file with nixfmt (RFC 166).
ctx: ctx.pkgs.nixfmt-tree
