"""Check that a parsed HLO module is well formed before any pass reads it, as XLA's `HloVerifier` does.

The parser accepts anything that has HLO's *syntax*; the passes index into what they read (a
dynamic-update-slice's second operand, a while's body and condition, a fusion's parameters by number,
a window's dimensions). A module that parses but is not well formed (a hand-edited dump, a file cut
short, the text of another XLA version) would end inside a pass with an IndexError, a RecursionError
or a loop that never ends. `verify(module)` finds those first and raises one `HloVerifyError` naming
the instruction, `file:line:col` where the text is known.

What it checks (each from XLA's `hlo_verifier.cc` / `shape_inference.cc`, limited to what irscope reads):
- the entry exists, every root, operand and called computation resolves;
- operand counts per opcode (`OPERAND_COUNTS`), and the operand kinds the passes rely on (a tuple
  for get-tuple-element, arrays of the right rank for dot, convolution, transpose, triangular-solve);
- called computations: how many each opcode takes, their parameter counts (a fusion's parameters
  are numbered 0..n-1 for its n operands), no computation that calls itself, directly or not;
- no cycle among operands (an instruction that uses itself, or a later instruction that uses it);
- shapes: known element types, dimensions >= 0, layouts that are permutations of the dimensions,
  and the size bounds below;
- the attributes the passes decode: `dimensions=`, `window=`, `dim_labels=`, contracting dimensions,
  `index=`, `fft_length=`, group counts and a while's `known_trip_count`.

Bounds (documented limits, not XLA's grammar):
- `MAX_ARRAY_BYTES`: an array's element count and byte size stay below 2**63, XLA's own limit
  (`ShapeUtil::ValidateShape` refuses an array whose size overflows int64). Every figure a pass
  derives multiplies a few such sizes, so it stays far below float64's 2**1024: converting it to a
  float never raises. A trip count is an int64 too.
- `MAX_NESTING`: tuple shapes and calls (a fusion in a loop body in a conditional branch ...) nest at
  most 64 deep. XLA sets no limit, but real programs nest a handful of levels, and a depth bound keeps
  every recursive walk of a pass far from Python's recursion limit.

Every walk here is iterative, and the whole check is linear in the size of the module.
Not checked yet: full shape inference (that an add's result shape is its operands'), shardings,
replica groups (decoded by `irscope.passes.collectives`), and layouts' tiling text.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from itertools import chain
from operator import attrgetter
from typing import TypeVar

from irscope.errors import HloVerifyError as HloVerifyError
from irscope.ir.attrs import conv_dim_labels, int_list, window
from irscope.ir.hlo import DTYPE_BYTES, Computation, Instruction, Module, Shape

MAX_ARRAY_BYTES = 2**63 - 1
"""Largest element count and byte size of one array (int64, as XLA's ShapeUtil allows)."""
MAX_NESTING = 64
"""Deepest nesting of tuple shapes, and of computations calling computations."""

_ANY = (0, None)


def _exactly(n: int) -> tuple[int, int]:
    return (n, n)


def _at_least(n: int) -> tuple[int, None]:
    return (n, None)


_UNARY = (
    "abs", "cbrt", "ceil", "clz", "convert", "bitcast", "bitcast-convert", "copy", "copy-done", "copy-start",
    "cosine", "erf", "exponential", "exponential-minus-one", "floor", "imag", "is-finite", "log",
    "log-plus-one", "logistic", "negate", "not", "popcnt", "real", "reduce-precision", "reshape",
    "round-nearest-afz", "round-nearest-even", "rsqrt", "sign", "sine", "sqrt", "tan", "tanh", "broadcast",
    "transpose", "reverse", "slice", "get-tuple-element", "fft", "cholesky", "recv", "recv-done",
    "send-done", "get-dimension-size", "rng-bit-generator", "infeed", "optimization-barrier", "domain",
    "while",
)
_BINARY = (
    "add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power", "atan2", "and",
    "or", "xor", "shift-left", "shift-right-arithmetic", "shift-right-logical", "compare", "complex",
    "dot", "convolution", "pad", "gather", "triangular-solve", "set-dimension-size", "rng",
    "stochastic-convert", "send", "outfeed", "add-dependency",
)
_TERNARY = ("select", "clamp", "select-and-scatter", "ragged-dot")
_NULLARY = ("parameter", "constant", "iota", "partition-id", "replica-id", "rng-get-and-update-state")

OPERAND_COUNTS: dict[str, tuple[int, int | None]] = {
    **{op: _exactly(1) for op in _UNARY},
    **{op: _exactly(2) for op in _BINARY},
    **{op: _exactly(3) for op in _TERNARY},
    **{op: _exactly(0) for op in _NULLARY},
    "concatenate": _at_least(1),
    "sort": _at_least(1),
    "map": _at_least(1),
    "reduce": _at_least(2),
    "reduce-window": _at_least(2),
    "scatter": _at_least(3),
    "dynamic-slice": _at_least(2),
    "dynamic-update-slice": _at_least(3),
    "dynamic-reshape": _at_least(1),
    "conditional": _at_least(1),
    "all-reduce": _at_least(1),
    "all-reduce-start": _at_least(1),
    "scaled-dot": _at_least(2),
}
"""Operands per opcode as (fewest, most or None): XLA's shape inference for the opcodes it fixes.
An opcode not listed (tuple, fusion, call, custom-call, collectives, async ops) takes any number;
the ones that call computations are checked against their callees."""

# Opcode -> how many computations it calls, as (fewest, most or None).
CALLED_COUNTS: dict[str, tuple[int, int | None]] = {
    "fusion": _exactly(1), "call": _exactly(1), "map": _exactly(1), "reduce": _exactly(1),
    "reduce-window": _exactly(1), "scatter": _exactly(1), "sort": _exactly(1), "while": _exactly(2),
    "select-and-scatter": _exactly(2), "conditional": _at_least(1), "async-start": _at_least(1),
    "all-reduce": (0, 1), "all-reduce-start": (0, 1), "reduce-scatter": (0, 1),
}




class _Problem(Exception):
    """Internal: what is wrong, and the instruction (with its computation) it is about."""

    def __init__(self, message: str, computation: str = "", instruction: str = ""):
        super().__init__(message)
        self.message, self.computation, self.instruction = message, computation, instruction


def verify(module: Module, text: str | None = None) -> Module:
    """Raise `HloVerifyError` if `module` is not well formed; return it unchanged otherwise.

    Arguments:
        module: a parsed module (`irscope.ir.hlo_parser.parse_module`) or one built by hand.
        text: the text it was parsed from, to give the offending instruction's line and column
            (without it, and without line numbers from the parser, the message names the
            instruction and its computation).
    """
    try:
        _check_module(module)
    except _Problem as problem:
        raise HloVerifyError(_describe(problem), _where(module, problem, text)) from None
    return module


def verify_all(modules: list[Module], text: str | None = None) -> list[Module]:
    """`verify` each module of a file; returns the list unchanged."""
    for module in modules:
        verify(module, text)
    return modules


# -- the module ------------------------------------------------------------------------------------

_SHAPE, _CALLED = attrgetter("shape"), attrgetter("called")
_NO_MORE = sys.maxsize  # "no upper bound" in `_RULES`


class _Context:
    """What the checks of one module share: the module, each computation's parameter count (from
    the structure pass, so a fusion's check does not walk its callee), and the checks already passed
    for an attribute text on a given rank (a module repeats a few thousand of them 300,000 times)."""

    def __init__(self, module: Module):
        self.module = module
        self.params: dict[str, int] = {}
        self.passed: set[Hashable] = set()


def _check_module(module: Module) -> None:
    if module.entry_name not in module.computations:
        raise _Problem(f"the entry computation '{module.entry_name}' is not defined")
    # First what every later check may look at in any computation: indices, roots, parameters and
    # shapes (a message prints shapes, so none may be nested past the bound when it does).
    ctx = _Context(module)
    checked_shapes: set[int] = set()
    for comp in module.computations.values():
        ctx.params[comp.name] = _check_structure(comp, checked_shapes)
    for comp in module.computations.values():
        _check_computation(ctx, comp)
    _check_call_graph(module)


def _check_call_graph(module: Module) -> None:
    """No computation calls itself (directly or through others); calls nest at most MAX_NESTING deep."""
    comps = module.computations
    calls = {name: list(chain.from_iterable(map(_CALLED, comp.instructions))) for name, comp in comps.items()}
    order, cycle = post_order(comps, calls.__getitem__)
    if cycle is not None:
        caller = comps[cycle[-2]]
        inst = next(i for i in caller.instructions if cycle[-1] in i.called)
        raise _Problem(f"calls computation '{cycle[-1]}', which calls itself: {_chain(cycle)}",
                       caller.name, inst.name)
    depth: dict[str, int] = {}  # computation -> computations on the longest call chain from it
    for name in order:  # callees come first
        depth[name] = 1 + max((depth[c] for c in calls[name]), default=0)
        if depth[name] > MAX_NESTING:
            raise _Problem(f"starts a chain of calls more than {MAX_NESTING} computations deep "
                           f"(irscope's limit; real programs nest a few levels)", name)
def _chain(names: list[str], shown: int = 8) -> str:
    """`a -> b -> c`, with the middle of a long chain left out: the message stays one short line."""
    if len(names) <= shown:
        return " -> ".join(names)
    half = shown // 2
    return " -> ".join(names[:half]) + f" -> ... ({len(names) - shown} more) -> " + " -> ".join(names[-half:])


N = TypeVar("N", bound=Hashable)


def post_order(nodes: Iterable[N], successors: Callable[[N], Iterable[N]]) -> tuple[list[N], list[N] | None]:
    """Every node after all its successors (depth first, with an explicit stack: no recursion), and
    the first cycle met, as a path that starts and ends at the same node (None when there is none;
    the order is then partial)."""
    state: dict[N, int] = {}  # 1: on the current path, 2: done
    order: list[N] = []
    for start in nodes:
        if start in state:
            continue
        path = [start]
        stack: list[Iterator[N]] = [iter(successors(start))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
                continue
            seen = state.get(nxt)
            if seen == 1:
                return order, path[path.index(nxt):] + [nxt]
            if seen is None:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(successors(nxt)))
    return order, None


# -- one computation -------------------------------------------------------------------------------


def _check_structure(comp: Computation, checked_shapes: set[int] | None = None) -> int:
    """Names, shapes, the root and parameter numbers; returns the number of parameters.
    `checked_shapes` holds the ids of shapes already checked in this module: the parser interns
    shapes, so a 300,000-instruction module has a few thousand distinct ones, and each is checked
    once (the module keeps them alive, so ids stay unique). The common case is checked whole (tuple
    and dict comparisons, map and zip); only what that finds new or wrong is looked at one by one."""
    by_name = comp.by_name
    instructions = comp.instructions
    seen = checked_shapes if checked_shapes is not None else set()
    # The index holds exactly the instructions, in order, under their names (instructions compare
    # by identity); an index built any other way is looked at name by name.
    if (tuple(by_name.values()) != instructions or list(by_name) != [i.name for i in instructions]) \
            and not all(by_name.get(i.name) is i for i in instructions):
        inst = next(i for i in instructions if by_name.get(i.name) is not i)
        raise _Problem("is defined twice, or missing from its computation's index", comp.name, inst.name)
    shapes = list(map(_SHAPE, instructions))
    distinct = dict(zip(map(id, shapes), shapes, strict=True))  # in order of first use
    if not distinct.keys() <= seen:
        for key, shape in distinct.items():
            if key in seen:
                continue
            try:
                _check_shape(shape)
            except _Problem as problem:
                inst = next(i for i in instructions if i.shape is shape)
                raise _Problem(problem.message, comp.name, inst.name) from None
            seen.add(key)
    if comp.root_name not in by_name:
        raise _Problem(f"the root '{comp.root_name}' is not defined", comp.name)
    return _check_parameters(comp)


def _check_computation(ctx: _Context, comp: Computation) -> None:
    """Each instruction: its operands and callees resolve, their counts fit its opcode, and its
    opcode's own check (`_CHECKS`) passes; then, only if some operand is defined below its user,
    that the operands form no cycle."""
    by_name = comp.by_name
    computations = ctx.module.computations
    rules = _RULES
    defined: set[str] = set()
    issuperset, define = defined.issuperset, defined.add
    forward = False  # an operand defined below its user: only then can the operands form a cycle
    inst = None
    try:
        for inst in comp.instructions:
            operands = inst.operands
            if not issuperset(operands):  # defined below, or not at all (every name above is in by_name)
                for operand in operands:
                    if operand not in by_name:
                        raise _Problem(f"uses '{operand}', which is not defined in '{comp.name}'")
                forward = True
            define(inst.name)
            called = inst.called
            if called:
                for callee in called:
                    if callee not in computations:
                        raise _Problem(f"calls '{callee}', which is not a computation of the module")
            rule = rules.get(inst.opcode)
            if rule is None:  # any operands, any callees, no check of its own
                continue
            low, high, called_low, called_high, check = rule
            if not low <= len(operands) <= high:
                raise _Problem(f"{inst.opcode} takes {_count_text(low, high, 'operand')}, has {len(operands)}")
            if not called_low <= len(called) <= called_high:
                raise _Problem(f"{inst.opcode} calls {_count_text(called_low, called_high, 'computation')}, "
                               f"calls {len(called)}")
            if check is not None:
                check(ctx, comp, inst, [by_name[o].shape for o in operands])
    except _Problem as problem:
        if problem.instruction:
            raise
        raise _Problem(problem.message, comp.name, inst.name if inst is not None else "") from None
    except ValueError as e:  # an attribute decoder refused the text
        raise _Problem(str(e), comp.name, inst.name if inst is not None else "") from None
    if forward:
        _check_acyclic(comp)


def _check_parameters(comp: Computation) -> int:
    """Parameter numbers are 0..n-1, each once; returns n."""
    params = [i for i in comp.instructions if i.opcode == "parameter"]
    literals = [p.literal for p in params]
    if None not in literals and all(literals) and "".join(literals).isdigit() and "".join(literals).isascii() \
            and sorted(map(int, literals)) == list(range(len(literals))):
        return len(params)
    numbers: dict[int, str] = {}  # something is wrong: find the first culprit, in text order
    for inst in params:
        if inst.literal is None or not inst.literal.isdigit():
            raise _Problem(f"parameter number must be an integer, got {inst.literal!r}", comp.name, inst.name)
        number = int(inst.literal)
        if number in numbers:
            raise _Problem(f"parameter number {number} is also '{numbers[number]}'", comp.name, inst.name)
        numbers[number] = inst.name
    for k in range(len(numbers)):
        if k not in numbers:
            raise _Problem(f"has {len(numbers)} parameters but none numbered {k} (expected 0..{len(numbers) - 1})",
                           comp.name)
    return len(params)


def _check_acyclic(comp: Computation) -> None:
    """No instruction is its own operand, directly or through others."""
    by_name = comp.by_name
    _, cycle = post_order((i.name for i in comp.instructions), lambda name: by_name[name].operands)
    if cycle is not None:
        what = ("is its own operand" if len(cycle) == 2
                else "is its own operand, through the operand cycle " + _chain(cycle))
        raise _Problem(what, comp.name, cycle[0])


# -- one instruction -------------------------------------------------------------------------------


def _count_text(low: int, high: int | None, noun: str) -> str:
    if high == low:
        return f"{low} {noun}{'' if low == 1 else 's'}"
    if high is None or high == _NO_MORE:
        return f"at least {low} {noun}{'' if low == 1 else 's'}"
    return f"{low} to {high} {noun}s"


def _check_shape(shape: Shape) -> None:
    """Known element types, dimensions in range, layouts that fit; tuples walked with a stack."""
    stack = [(shape, 0)]
    while stack:
        sub, depth = stack.pop()
        if sub.is_tuple:
            if depth >= MAX_NESTING:
                raise _Problem(f"tuple shapes nest more than {MAX_NESTING} deep (irscope's limit)")
            stack.extend((s, depth + 1) for s in sub.tuple_shapes)
            continue
        if sub.dtype not in DTYPE_BYTES:
            raise _Problem(f"unknown element type '{sub.dtype}' in {_short(sub)}")
        if not sub.is_array:
            continue
        for i, d in enumerate(sub.dims):
            if d < 0 and not (d == -1 and sub.dynamic and sub.dynamic[i]):
                raise _Problem(f"dimension {i} of {_short(sub)} is negative")
            if d == -1:
                raise _Problem(f"dimension {i} of {_short(sub)} is unbounded ('?'): irscope needs a size or "
                               "a bound (<=N) to count bytes")
        if sub.elements > MAX_ARRAY_BYTES or sub.byte_size > MAX_ARRAY_BYTES:
            raise _Problem(f"{_short(sub)} holds more than 2**63 elements or bytes (XLA's limit)")
        if sub.layout is not None and (sub.layout or sub.rank) and sorted(sub.layout) != list(range(sub.rank)):
            raise _Problem(f"layout {{{','.join(map(str, sub.layout))}}} of {_short(sub)} is not a permutation "
                           f"of its {sub.rank} dimensions")
        if "E(" in sub.layout_extra and not 0 < sub.element_bits <= 64:
            raise _Problem(f"element size E({sub.element_bits}) of {_short(sub)} is out of range")


def _short(shape: Shape) -> str:
    text = shape.short()
    return text if len(text) <= 60 else text[:57] + "..."


def _array(shape: Shape, what: str) -> Shape:
    if not shape.is_array:
        raise _Problem(f"{what} must be an array, got {_short(shape)}")
    return shape


def _expect_params(ctx: _Context, inst: Instruction, callee: str, want: int, role: str) -> None:
    have = ctx.params[callee]
    if have != want:
        raise _Problem(f"its {role} '{callee}' takes {have} parameter{'s' if have != 1 else ''}, "
                       f"but {want} {'are' if want != 1 else 'is'} passed")


def _dims_in_range(dims: tuple[int, ...], rank: int, what: str) -> None:
    for d in dims:
        if not 0 <= d < rank:
            raise _Problem(f"{what} {d} is out of range for rank {rank}")


# -- per-opcode checks (module, computation, instruction, operand shapes) ------------------------


def _fusion(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    callee = ctx.module.computations[inst.called[0]]
    _expect_params(ctx, inst, callee.name, len(ops), "fused computation")
    root = callee.root
    if inst.shape.is_tuple != root.shape.is_tuple or (
            inst.shape.is_tuple and len(inst.shape.tuple_shapes) != len(root.shape.tuple_shapes)):
        raise _Problem(f"its shape {_short(inst.shape)} does not match its fused root's {_short(root.shape)}")
    if root.opcode == "tuple" and len(root.operands) != len(root.shape.tuple_shapes):
        raise _Problem(f"the fused root '{root.name}' has {len(root.operands)} operands for "
                       f"{len(root.shape.tuple_shapes)} tuple elements")


def _call(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    _expect_params(ctx, inst, inst.called[0], len(ops), "callee")


def _while(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    body, condition = inst.called[0], inst.called[1]
    for name, role in ((body, "body"), (condition, "condition")):
        _expect_params(ctx, inst, name, 1, role)
    config = inst.attrs.get("backend_config")
    if config and "known_trip_count" in config:
        from irscope.ir.attrs import backend_config

        decoded = backend_config(config)
        known = decoded.get("known_trip_count") if isinstance(decoded, dict) else None
        if known is not None:
            n = known.get("n") if isinstance(known, dict) else None
            if not isinstance(n, str | int) or isinstance(n, bool) or not re.fullmatch(r"\d{1,19}", str(n)) \
                    or int(n) > MAX_ARRAY_BYTES:
                raise _Problem(f"known_trip_count {json.dumps(known)[:60]} is not a count (an integer 0..2**63-1)")


def _conditional(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    if len(ops) != len(inst.called) + 1:
        raise _Problem(f"conditional with {len(inst.called)} branches takes {len(inst.called) + 1} operands, "
                       f"has {len(ops)}")
    for branch in inst.called:
        _expect_params(ctx, inst, branch, 1, "branch")


def _reduce_like(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    if len(ops) % 2:
        raise _Problem(f"{inst.opcode} takes as many init values as inputs (an even count), has {len(ops)}")
    _expect_params(ctx, inst, inst.called[0], len(ops), "reducer")
    if inst.opcode == "reduce-window":
        dims = window(inst.attrs.get("window", "{}"))
        first = _first_array(inst.shape)
        for shape in (ops[0], first):
            if dims and shape.is_array and len(dims) != shape.rank:
                raise _Problem(f"window has {len(dims)} dimensions, {_short(shape)} has {shape.rank}")
    else:
        int_list(inst.attrs.get("dimensions", "{}"))


def _map(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    _expect_params(ctx, inst, inst.called[0], len(ops), "mapped computation")


def _sort(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    _expect_params(ctx, inst, inst.called[0], 2 * len(ops), "comparator")


def _scatter(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    if len(ops) % 2 == 0:
        raise _Problem(f"scatter takes N operands, the indices and N updates (an odd count), has {len(ops)}")


def _select_and_scatter(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    _array(ops[0], "the operand")
    dims = window(inst.attrs.get("window", "{}"))
    if dims and len(dims) != ops[0].rank:
        raise _Problem(f"window has {len(dims)} dimensions, the operand {_short(ops[0])} has {ops[0].rank}")
    _expect_params(ctx, inst, inst.called[0], 2, "select")
    _expect_params(ctx, inst, inst.called[1], 2, "scatter")


def _get_tuple_element(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    if not ops[0].is_tuple:
        raise _Problem(f"get-tuple-element of a non-tuple {_short(ops[0])}")
    index = inst.attrs.get("index", "")
    if not index.isdigit() or int(index) >= len(ops[0].tuple_shapes):
        raise _Problem(f"index={index or '(missing)'} is out of range for a tuple of {len(ops[0].tuple_shapes)}")


def _tuple(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    if not inst.shape.is_tuple or len(inst.shape.tuple_shapes) != len(ops):
        raise _Problem(f"a tuple of {len(ops)} operands has shape {_short(inst.shape)}")


def _dot(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    lhs, rhs = _array(ops[0], "lhs"), _array(ops[1], "rhs")
    for side, shape in (("lhs", lhs), ("rhs", rhs)):
        for kind in ("contracting", "batch"):
            _dims_in_range(int_list(inst.attrs.get(f"{side}_{kind}_dims", "{}")), shape.rank, f"{side}_{kind}_dims")
    if inst.opcode == "ragged-dot":
        groups = int_list(inst.attrs.get("rhs_group_dims", "{}"))
        _dims_in_range(groups, rhs.rank, "rhs_group_dims")
        if 2 * len(groups) - 1 > inst.shape.rank:
            raise _Problem(f"{len(groups)} rhs_group_dims do not fit a result of rank {inst.shape.rank}")


def _convolution(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    lhs, rhs = _array(ops[0], "lhs"), _array(ops[1], "rhs")
    out = _array(inst.shape, "the result")
    if "dim_labels" not in inst.attrs:
        raise _Problem("convolution has no dim_labels=")
    dnums = conv_dim_labels(inst.attrs["dim_labels"])
    spatial = len(dnums.input_spatial)
    for shape, what, want in ((lhs, "lhs", spatial + 2), (rhs, "rhs", len(dnums.kernel_spatial) + 2),
                              (out, "result", len(dnums.output_spatial) + 2)):
        if shape.rank != want:
            raise _Problem(f"dim_labels={inst.attrs['dim_labels']} needs a rank-{want} {what}, got {_short(shape)}")
    if not spatial == len(dnums.kernel_spatial) == len(dnums.output_spatial):
        raise _Problem(f"dim_labels={inst.attrs['dim_labels']}: input, kernel and output spatial dimensions differ")
    dims = window(inst.attrs["window"]) if "window" in inst.attrs else ()
    if dims and len(dims) != spatial:
        raise _Problem(f"window has {len(dims)} dimensions, the convolution {spatial} spatial ones")
    for d in dims:
        if d.stride < 1 or d.base_dilation < 1 or d.window_dilation < 1 or d.size < 0:
            raise _Problem(f"window={inst.attrs['window']}: sizes must be >= 0, strides and dilations >= 1")
    for k, d in enumerate(dims):
        # XLA's ShapeInference::InferConvolveShape: the window is the kernel's spatial extent, and
        # each output spatial size follows from the input's, the padding, dilations and stride.
        kernel = rhs.dims[dnums.kernel_spatial[k]]
        if d.size != kernel:
            raise _Problem(f"window size {d.size} of spatial dimension {k} is not the kernel's {kernel}")
        size = lhs.dims[dnums.input_spatial[k]]
        padded = ((size - 1) * d.base_dilation + 1 if size else 0) + d.padding_low + d.padding_high
        window_extent = (d.size - 1) * d.window_dilation + 1 if d.size else 0
        want = (padded - window_extent) // d.stride + 1 if padded >= window_extent else 0
        have = out.dims[dnums.output_spatial[k]]
        if have != want:
            raise _Problem(f"output spatial dimension {k} is {have}, but input {size}, window {d.size} and "
                           f"window={inst.attrs['window']} give {want}")
    for key in ("feature_group_count", "batch_group_count"):
        value = inst.attrs.get(key, "1")
        if not value.isdigit() or int(value) < 1:
            raise _Problem(f"{key}={value} is not a positive integer")


def _transpose(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    operand = _array(ops[0], "the operand")
    dims = int_list(inst.attrs.get("dimensions", "{}"))
    if sorted(dims) != list(range(operand.rank)) or inst.shape.rank != operand.rank:
        raise _Problem(f"dimensions={{{','.join(map(str, dims))}}} is not a permutation of the operand's "
                       f"{operand.rank} dimensions (result {_short(inst.shape)})")


def _dimensions_in_operand(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    """reverse: `dimensions=` index the operand."""
    _dims_in_range(int_list(inst.attrs.get("dimensions", "{}")), _array(ops[0], "the operand").rank, "dimension")


def _broadcast(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    key = ("broadcast", inst.attrs.get("dimensions", "{}"), _array(inst.shape, "the result").rank)
    if key not in ctx.passed:  # the check depends on nothing else: once per text and rank
        _dims_in_range(int_list(key[1]), key[2], "dimension")
        ctx.passed.add(key)


def _fft(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    for length in int_list(inst.attrs.get("fft_length", "{}")):
        if length < 0:
            raise _Problem(f"fft_length {length} is negative")


def _matrix(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    """triangular-solve, cholesky: the passes read the last dimension of operand 0."""
    if _array(ops[0], "operand 0").rank < 2:
        raise _Problem(f"{inst.opcode} needs a matrix (rank >= 2), got {_short(ops[0])}")


def _dynamic_update_slice(ctx: _Context, comp: Computation, inst: Instruction, ops: list[Shape]) -> None:
    _array(ops[0], "the operand")
    _array(ops[1], "the update")


def _first_array(shape: Shape) -> Shape:
    stack = [shape]
    while stack:
        sub = stack.pop()
        if sub.is_array:
            return sub
        stack.extend(reversed(sub.tuple_shapes))
    return shape


_CHECKS = {
    "fusion": _fusion,
    "call": _call,
    "while": _while,
    "conditional": _conditional,
    "reduce": _reduce_like,
    "reduce-window": _reduce_like,
    "map": _map,
    "sort": _sort,
    "scatter": _scatter,
    "select-and-scatter": _select_and_scatter,
    "get-tuple-element": _get_tuple_element,
    "tuple": _tuple,
    "dot": _dot,
    "ragged-dot": _dot,
    "convolution": _convolution,
    "transpose": _transpose,
    "reverse": _dimensions_in_operand,
    "broadcast": _broadcast,
    "fft": _fft,
    "triangular-solve": _matrix,
    "cholesky": _matrix,
    "dynamic-update-slice": _dynamic_update_slice,
}


# opcode -> (fewest operands, most, fewest callees, most, check or None): the three tables above in
# one lookup per instruction (`_NO_MORE` for no upper bound). An opcode not here has no rule.
def _bounds(counts: tuple[int, int | None]) -> tuple[int, int]:
    low, high = counts
    return low, _NO_MORE if high is None else high


_RULES: dict[str, tuple[int, int, int, int, Callable[..., None] | None]] = {
    op: (*_bounds(OPERAND_COUNTS.get(op, _ANY)), *_bounds(CALLED_COUNTS.get(op, _ANY)), _CHECKS.get(op))
    for op in (*OPERAND_COUNTS, *CALLED_COUNTS, *_CHECKS)
}

# -- where ----------------------------------------------------------------------------------------


def _describe(problem: _Problem) -> str:
    if problem.instruction:
        return f"instruction '{problem.instruction}' in computation '{problem.computation}': {problem.message}"
    if problem.computation:
        return f"computation '{problem.computation}' {problem.message}"
    return problem.message


def _where(module: Module, problem: _Problem, text: str | None) -> str:
    """`file:line:col` of the instruction (or computation) the problem is about, as well as is known."""
    source = module.source or "<string>"
    comp = module.computations.get(problem.computation)
    inst = comp.by_name.get(problem.instruction) if comp is not None and problem.instruction else None
    if inst is not None and inst.line:
        return f"{source}:{inst.line}"
    if text is None or not problem.computation:
        return source
    header = re.compile(r"^[ \t]*(?:ENTRY[ \t]+)?%?" + re.escape(problem.computation) + r"[ \t]*[({]", re.M)
    m = header.search(text)
    if m is None:
        return source
    offset = m.start()
    if problem.instruction:
        definition = re.compile(r"^[ \t]*(?:ROOT[ \t]+)?%?(" + re.escape(problem.instruction) + r")[ \t]*=", re.M)
        found = definition.search(text, m.end())
        if found is not None:
            offset = found.start(1)
    else:
        offset += len(m.group(0)) - len(m.group(0).lstrip())
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{source}:{line}:{col}"
