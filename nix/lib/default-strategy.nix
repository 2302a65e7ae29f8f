# defaultStrategy :: target -> string
#
# The strategy of a target that strategy.json does not mention: cross, or
# purego where cross does not exist (design.md §4).
#
# Eg: defaultStrategy targets.darwin == "purego"
target: if builtins.elem "cross" target.strategies then "cross" else "purego"
