# NixOS VM test of nixosModules.cup: the service starts hardened, with a
# simulated device, and its UI answers on its port; a token from a
# credential file reaches it.
{ cup }:
{
  name = "cupcross-cup-service";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ cup ];
      services.cup = {
        enable = true;
        sim = true;
        address = "127.0.0.1:8080";
        tokenFile = "/etc/cup-token";
      };
      environment.etc."cup-token".text = "test-token-0123456789"; # cup serve refuses tokens under 16 characters
      environment.systemPackages = [ pkgs.curl ];
    };

  testScript = ''
    machine.wait_for_unit("cup.service")
    machine.wait_for_open_port(8080)

    with subtest("the UI answers"):
        machine.succeed("curl --fail --silent --show-error --max-time 10 http://127.0.0.1:8080/ >&2")

    with subtest("the service is hardened"):
        props = machine.succeed(
            "systemctl show cup.service -p DynamicUser -p NoNewPrivileges -p ProtectSystem -p PrivateDevices"
        )
        print(props)
        assert "DynamicUser=yes" in props, props
        assert "NoNewPrivileges=yes" in props, props
        assert "ProtectSystem=strict" in props, props
  '';
}
