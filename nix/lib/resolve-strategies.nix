self:
# resolveStrategies :: path -> { <target> = { strategy; reason; fromFile; }; }
#
# The strategy `cup-<t>` follows, for every target of targets.json. An entry
# of strategy.json wins; a target missing from it gets `defaultStrategy`.
# Throws, naming the file and the target, when an entry names a target that
# does not exist, a strategy that does not exist, or a strategy the target
# does not have (e.g. emulated for windows).
#
# Eg: (resolveStrategies ./strategy.json).riscv64.strategy == "cross"
file:
let
  inherit (self) targets strategyNames defaultStrategy;
  name = toString file;
  data = self.readStrategyFile file;

  check =
    target: entry:
    let
      where = "${name}: targets.${target}";
      strategy = entry.strategy or null;
    in
    if !(targets ? ${target}) then
      throw "${where}: unknown target \"${target}\" (nix/targets.json has: ${builtins.concatStringsSep ", " (builtins.attrNames targets)})"
    else if !builtins.isString strategy then
      throw "${where}: missing \"strategy\" (one of ${builtins.concatStringsSep ", " strategyNames})"
    else if !builtins.elem strategy strategyNames then
      throw "${where}: unknown strategy \"${strategy}\" (expected one of ${builtins.concatStringsSep ", " strategyNames})"
    else if !builtins.elem strategy targets.${target}.strategies then
      throw "${where}: strategy \"${strategy}\" is not available for target \"${target}\" (nix/targets.json allows ${builtins.concatStringsSep ", " targets.${target}.strategies})"
    else
      {
        inherit strategy;
        reason = entry.reason or "";
        fromFile = true;
      };

  checked = builtins.mapAttrs check data.targets;
in
builtins.mapAttrs (
  target: t:
  checked.${target} or {
    strategy = defaultStrategy t;
    reason = "not in ${baseNameOf name}: default";
    fromFile = false;
  }
) targets
# Force every entry of the file, so that a bad entry for a target nobody
# asked about still fails loudly.
// builtins.seq (builtins.deepSeq checked null) { }
