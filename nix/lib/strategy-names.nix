# strategyNames :: [ string ]
#
# Every strategy the flake knows, in the order variants are listed.
[
  "cross"
  "emulated"
  "purego"
]
