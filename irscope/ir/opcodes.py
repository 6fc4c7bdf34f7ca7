"""Named groups of HLO opcodes, one name per concept, each with where XLA defines it.

Write `if inst.opcode in NO_LAUNCH`, not a list of strings in an `if`. The groups answer different
questions, so some overlap and some deliberately differ; where two used to disagree the comment says
which XLA behaviour decides:

- `NO_LAUNCH` (does XLA emit a kernel for it?) and `ZERO_COST` (does XLA's HloCostAnalysis charge it
  any bytes?) differ on purpose: a `tuple` and an `opt-barrier` launch nothing, but HloCostAnalysis
  charges a tuple its pointer table (HandleTuple) and an opt-barrier its operands and result (its
  handler keeps Preprocess's default). Cost needs `ZERO_COST`, kernel lists need `NO_LAUNCH`.
- `CONTROL_FLOW` once had two versions: with and without `async-update`/`async-done`. XLA prints
  the wrapped computation (`calls=`) on all three async ops, and HloCostAnalysis costs it once, at
  `async-start` (HandleAsyncStart; HandleAsyncUpdate/HandleAsyncDone add nothing). The full set is
  right: a walk that dedupes computations visits the callee once, and a walk over kernels skips the
  `-update`/`-done` halves before it asks.
- `PASS_THROUGH` once had two versions: the kernel graph looked through tuples, opt-barriers and
  domains, the diff only through bitcasts and get-tuple-elements. All five forward their operands'
  buffers unchanged (XLA's buffer assignment gives them no buffer of their own), so a tensor's real
  producer is behind any of them; the diff now looks through all five.

Sources: xla/hlo/ir/hlo_opcode.h (the opcode names) and xla/service/hlo_cost_analysis.cc (costs).
`NO_LAUNCH` once also held `iota-shape`, which is no HLO opcode; it is gone.
"""

from __future__ import annotations

# What launches no kernel: the instruction names a buffer, forwards one, or orders work (a constant is
# baked into the executable; a tuple or get-tuple-element is pointer bookkeeping; after-all and
# add-dependency order work at compile time). partition-id and replica-id copy a device constant
# (a small thunk on GPU, no kernel of their own) and are not counted as kernels either.
NO_LAUNCH = frozenset({
    "parameter", "constant", "get-tuple-element", "tuple", "bitcast", "after-all", "add-dependency",
    "opt-barrier", "domain", "partition-id", "replica-id", "get-dimension-size",
})

# What HloCostAnalysis charges nothing (0 bytes, 0 FLOPs): HandleParameter, HandleConstant,
# HandleGetTupleElement, HandleBitcast, HandleDomain, HandleAfterAll, HandleAddDependency.
ZERO_COST = frozenset({
    "parameter", "constant", "get-tuple-element", "bitcast", "domain", "after-all", "add-dependency",
})

# Instructions whose called computations run as part of the program: the callee's kernels are the
# work, not the instruction (HloCostAnalysis::HandleWhile/HandleConditional/HandleCall/HandleAsyncStart).
CONTROL_FLOW = frozenset({"while", "conditional", "call", "async-start", "async-update", "async-done"})

# Collectives (xla/service/collective_ops_utils.h: IsCollective), synchronous and the `-start` half
# of the async pairs XLA:GPU prints.
COLLECTIVES = frozenset({
    "all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute",
    "collective-broadcast", "ragged-all-to-all", "all-reduce-start", "all-gather-start",
    "collective-permute-start", "send", "recv",
})

# Instructions whose result is (part of) an operand's buffer, unchanged: to find the kernel that
# produced a tensor, look through these (a bitcast is an alias, a tuple and a get-tuple-element are
# pointer bookkeeping, opt-barrier and domain forward their operand).
PASS_THROUGH = frozenset({"get-tuple-element", "bitcast", "tuple", "opt-barrier", "domain"})

# One transcendental per output element (HloCostAnalysis::HandleElementwiseOp with a transcendental
# opcode: exp, log, the trigonometric and hyperbolic functions, power, roots, erf, logistic).
TRANSCENDENTAL = frozenset({
    "exponential", "exponential-minus-one", "log", "log-plus-one", "logistic", "power", "sqrt", "cbrt",
    "rsqrt", "erf", "sine", "cosine", "tan", "tanh", "atan2", "acos", "asin", "acosh", "asinh", "atanh",
    "cosh", "sinh",
})

# One FLOP per output element (HloCostAnalysis's element-wise handlers: HandleElementwiseUnary,
# HandleElementwiseBinary, HandleCompare, HandleClamp, HandleSelect, HandleConvert, ...).
ELEMENTWISE_FLOP = frozenset({
    "abs", "add", "and", "bitcast-convert", "ceil", "clamp", "compare", "complex", "convert",
    "count-leading-zeros", "divide", "floor", "imag", "is-finite", "maximum", "minimum", "mulhi",
    "multiply", "negate", "not", "or",
    "popcnt", "real", "reduce-precision", "remainder", "round-nearest-afz", "round-nearest-even",
    "select", "shift-left", "shift-right-arithmetic", "shift-right-logical", "sign", "stochastic-convert",
    "subtract", "xor",
})

# Matrix products: their input dtype decides which compute roof applies (a bf16 dot runs on bf16 units).
MATMUL = frozenset({"dot", "convolution", "ragged-dot"})

# Ops whose every output element is an operand element, moved or converted: a tensor filled with one
# value (Pallas's "uninitialized" NaN or integer minimum) stays filled through them.
FILL_PRESERVING = frozenset({"copy", "bitcast", "reshape", "broadcast", "transpose", "convert"})

# Ops that only reshape data or feed constants: a diff leaves them out of a kernel's ops delta when
# real ops changed too (a presentation choice, not an XLA category).
PLUMBING = frozenset({"constant", "broadcast", "bitcast", "parameter", "reshape", "get-tuple-element", "tuple"})
