# `cup serve` as a hardened systemd service.
#
#   imports = [ cupcross.nixosModules.cup ];
#   services.cup = {
#     enable = true;
#     device = "/dev/ttyUSB0";          # FIXME: your cup's serial device
#     tokenFile = "/run/secrets/cup";   # FIXME: a file holding the API token
#   };
#
# Options follow `cup serve [--addr 127.0.0.1:8080] [--device PATH | --sim]
# [--token T]`.
{ ... }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkEnableOption
    mkIf
    mkOption
    optional
    optionals
    types
    ;
  cfg = config.services.cup;

  port = lib.toInt (lib.last (lib.splitString ":" cfg.address));

  # The token is handed over as a systemd credential and read by cup itself
  # (--token-file), so it is never in the unit file, the Nix store or argv.
  serve = pkgs.writeShellScript "cup-serve" ''
    set -eu
    args=(serve --addr ${lib.escapeShellArg cfg.address})
    ${
      if cfg.sim then
        "args+=(--sim)"
      else
        lib.optionalString (cfg.device != null) "args+=(--device ${lib.escapeShellArg cfg.device})"
    }
    if [ -n "''${CREDENTIALS_DIRECTORY:-}" ] && [ -r "$CREDENTIALS_DIRECTORY/token" ]; then
      args+=(--token-file "$CREDENTIALS_DIRECTORY/token")
    fi
    exec ${lib.getExe cfg.package} "''${args[@]}" ${lib.escapeShellArgs cfg.extraArgs}
  '';
in
{
  options.services.cup = {
    enable = mkEnableOption "cup, the web UI and API of a cup device (`cup serve`)";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ../cup/package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage \"\${cupcross}/cup/package.nix\" { }";
      description = ''
        The cup package. The default builds cup with this configuration's
        own package set, so a cross-compiled configuration
        (`nixpkgs.buildPlatform` ≠ `nixpkgs.hostPlatform`) gets a
        cross-compiled cup.
      '';
    };

    address = mkOption {
      type = types.strMatching ".*:[0-9]+";
      default = "127.0.0.1:8080";
      example = "0.0.0.0:8080";
      description = ''
        Address and port the UI listens on (`cup serve --addr`). The default
        is reachable from this machine only; put a reverse proxy in front,
        or listen on all addresses and set {option}`services.cup.openFirewall`.
      '';
    };

    device = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/dev/ttyUSB0";
      description = ''
        Device node of the cup hardware (`cup serve --device`). The service
        may open this node only (DevicePolicy=closed), through the group
        {option}`services.cup.deviceGroup`.
      '';
    };

    sim = mkOption {
      type = types.bool;
      default = false;
      description = "Serve a simulated device instead of real hardware (`cup serve --sim`).";
    };

    deviceGroup = mkOption {
      type = types.str;
      default = "dialout";
      description = ''
        Group that owns {option}`services.cup.device`; the service's dynamic
        user gets it as a supplementary group. udev gives serial ports
        (ttyUSB*, ttyACM*) to dialout.
      '';
    };

    tokenFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/cup-token";
      description = ''
        File holding the API token (`cup serve --token`). It is handed to the
        service with systemd's LoadCredential, so it may be readable by root
        only and never enters the Nix store. Use a path as a string
        (`"/run/secrets/…"`), not a Nix path literal, which would copy the
        secret into the store.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the port of {option}`services.cup.address` in the firewall.";
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--verbose" ];
      description = "More arguments for `cup serve`.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.sim || cfg.device != null;
        message = "services.cup: set services.cup.device (e.g. \"/dev/ttyUSB0\") or services.cup.sim = true.";
      }
      {
        assertion = !(cfg.sim && cfg.device != null);
        message = "services.cup: services.cup.device and services.cup.sim = true exclude each other; unset one.";
      }
    ];

    networking.firewall.allowedTCPPorts = optional cfg.openFirewall port;

    systemd.services.cup = {
      description = "cup web UI and API";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];

      serviceConfig = {
        ExecStart = serve;
        Restart = "on-failure";
        RestartSec = "2s";

        DynamicUser = true;
        SupplementaryGroups = optional (cfg.device != null) cfg.deviceGroup;
        StateDirectory = "cup";
        WorkingDirectory = "%S/cup";
        LoadCredential = optional (cfg.tokenFile != null) "token:${toString cfg.tokenFile}";

        # Only the cup device, nothing else under /dev.
        DevicePolicy = "closed";
        DeviceAllow = optional (cfg.device != null) "${cfg.device} rw";
        PrivateDevices = cfg.device == null;

        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        NoNewPrivileges = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        RestrictAddressFamilies = [
          "AF_INET"
          "AF_INET6"
          "AF_UNIX"
        ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RemoveIPC = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
          "~@resources"
        ];
        UMask = "0077";
      };
    };
  };
}
