# The result shape every nix/tests file gives scripts/nix-test.sh:
# { tests; errors; failures; count; names; errorNames; }. A test is
# { expr; expected; }; one whose expr throws fails with a line saying how to
# evaluate it alone (`see`, a command with ATTR standing for its name).
{
  tests,
  errors ? { },
  see,
}:
let
  results = builtins.mapAttrs (
    name: t:
    let
      r = builtins.tryEval (builtins.deepSeq t.expr t.expr);
    in
    if !r.success then
      {
        inherit name;
        inherit (t) expected;
        result = "evaluation failed; see: ${builtins.replaceStrings [ "ATTR" ] [ name ] see}";
      }
    else if r.value == t.expected then
      null
    else
      {
        inherit name;
        inherit (t) expected;
        result = r.value;
      }
  ) tests;
in
{
  inherit tests errors;
  failures = builtins.filter (r: r != null) (builtins.attrValues results);
  count = builtins.length (builtins.attrNames tests);
  names = builtins.attrNames tests;
  errorNames = builtins.attrNames errors;
}
