{
  description = "cupcross: build cup for many targets (cross, emulated, pure Go) and plan which way is cheapest";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane";
    fenix = {
      url = "github:nix-community/fenix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    advisory-db = {
      url = "github:rustsec/advisory-db";
      flake = false;
    };
  };

  outputs =
    inputs:
    let
      # Build hosts. Targets live in nix/targets.json, not here.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      eachSystem = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
      # Everything per system shares one package set and one crane lib.
      ctx = eachSystem (system: import ./nix/context.nix { inherit inputs system; });
      perSystem = file: builtins.mapAttrs (_: c: import file c) ctx;
    in
    {
      # builtins only: evaluates without fetching any input (CI: `nix eval .#lib.targets`).
      lib = import ./nix/lib { };

      packages = builtins.mapAttrs (_: c: c.packages) ctx; # built by nix/packages.nix
      legacyPackages = perSystem ./nix/legacy-packages.nix;
      checks = perSystem ./nix/checks.nix;
      devShells = perSystem ./nix/devshells.nix;
      apps = perSystem ./nix/apps.nix;
      formatter = perSystem ./nix/formatter.nix;

      overlays = import ./overlays { inherit inputs; };
      nixosModules = import ./modules { inherit inputs; };
      nixosConfigurations = import ./nix/nixos-configurations.nix { inherit inputs; };
    };
}
