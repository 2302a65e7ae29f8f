# cup-<t>-purego: the build host's own Go, CGO_ENABLED=0, GOOS/GOARCH/GOARM
# from nix/targets.json. buildGoModule cannot do this: it takes GOOS/GOARCH
# from its toolchain (nixpkgs pkgs/build-support/go/module.nix), so a foreign
# GOOS needs a cross Go. A pure-Go build needs no C toolchain for the target,
# which is what makes it cheap (and the only way to Darwin from Linux).
{
  lib,
  stdenvNoCC,
  go,
  cupLib,
  name,
  target,
}:
let
  cupSrc = ../cup;
  version = cupLib.cupVersion (builtins.readFile (cupSrc + "/internal/version/version.go"));
  exe = "cup${target.exeSuffix}";
in
stdenvNoCC.mkDerivation {
  pname = "cup-${name}-purego";
  inherit version;

  src = lib.fileset.toSource {
    root = cupSrc;
    fileset = lib.fileset.difference cupSrc (
      lib.fileset.unions [
        (lib.fileset.fileFilter (f: f.hasExt "nix" || f.hasExt "md") cupSrc)
        (lib.fileset.maybeMissing (cupSrc + "/cup"))
      ]
    );
  };

  nativeBuildInputs = [ go ];

  env = cupLib.goEnv target // {
    CGO_ENABLED = "0";
    GO111MODULE = "on";
    GOTOOLCHAIN = "local";
    GOPROXY = "off";
    GOSUMDB = "off";
    GOFLAGS = "-trimpath";
  };

  buildPhase = ''
    runHook preBuild
    export GOCACHE=$TMPDIR/go-cache GOPATH=$TMPDIR/go
    go build ${lib.escapeShellArgs target.pureGoFlags} \
      -ldflags='-s -w -buildid=' -o "$TMPDIR/${exe}" ./cmd/cup
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    install -Dm755 "$TMPDIR/${exe}" "$out/bin/${exe}"
    runHook postInstall
  '';

  # The binary is for another platform: the host's strip and patchelf must
  # not touch it.
  dontFixup = true;

  passthru = { inherit target; };

  meta = {
    description = "cup for ${name}, pure Go (no cgo)";
    mainProgram = "cup";
    # Runs on the build host; what it produces is for `target`.
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
