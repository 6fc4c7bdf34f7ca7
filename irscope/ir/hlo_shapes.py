"""Result shapes of HLO instructions written without one, as XLA's parser infers them.

XLA's text format lets an instruction leave out its result shape (`ROOT out = add(p0, p1)`,
`gte = get-tuple-element(t), index=0`) for the opcodes `CanInferShape` lists in
`xla/hlo/parser/hlo_parser.cc`; the parser then runs `ShapeInference` on the operands. This module
does the same for those opcodes, from the operand shapes, the attribute text and the shapes of the
called computations' roots. Inferred shapes carry no layout (XLA fills in the default one).

`infer_shape` raises `ValueError` with a one-line reason when it cannot infer: an opcode XLA
requires a shape for (`reshape`, `convert`, `custom-call`, ...), an opcode XLA can infer but this
module does not yet (`gather`, `convolution`, `fft`, `ragged-dot`, `scaled-dot`, `scan`, and the
async and collective ops, which XLA's printer always writes a shape for), or operands that do not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from irscope.ir.attrs import int_list, window
from irscope.ir.hlo import Shape

# Opcodes whose result is the operand's shape (element-wise unary ops and friends).
_SAME_AS_OPERAND = frozenset({
    "abs", "acos", "acosh", "asin", "asinh", "atanh", "cbrt", "ceil", "cholesky", "clz", "copy", "cos",
    "cosh", "domain", "erf", "exp", "expm1", "floor", "log", "log1p", "logistic", "negate", "not",
    "optimization-barrier", "popcnt", "reverse", "round-nearest-afz", "round-nearest-even", "rsqrt",
    "sign", "sin", "sinh", "sqrt", "tan", "tanh",
})
# Element-wise binary ops: the operands' shape (XLA requires them equal up to layout).
_BINARY = frozenset({
    "add", "and", "atan2", "divide", "maximum", "minimum", "mulhi", "multiply", "or", "power",
    "remainder", "shift-left", "shift-right-arithmetic", "shift-right-logical", "subtract", "xor",
})
_COMPLEX_PART = {"c64": "f32", "c128": "f64"}
_COMPLEX_OF = {"f32": "c64", "f64": "c128"}

Called = Mapping[str, Shape]
"""Root shape of each computation the instruction calls, by attribute name (`to_apply`, `body`...)."""


def _array(dtype: str, dims: Sequence[int], like: Shape | None = None) -> Shape:
    dynamic = ()
    if like is not None and like.dynamic and len(like.dims) == len(dims):
        dynamic = like.dynamic
    return Shape(dtype, tuple(dims), dynamic)


def _one(opcode: str, operands: Sequence[Shape], count: int = 1) -> None:
    if len(operands) != count:
        raise ValueError(f"'{opcode}' takes {count} operand{'s' if count > 1 else ''}, got {len(operands)}")


def _attr_ints(attrs: Mapping[str, str], key: str, opcode: str, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    text = attrs.get(key)
    if text is None:
        if default is not None:
            return default
        raise ValueError(f"'{opcode}' without a result shape needs its '{key}' attribute")
    return int_list(text)


def _unary(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    shape = ops[0]
    if opcode == "abs" and shape.dtype in _COMPLEX_PART:
        return _array(_COMPLEX_PART[shape.dtype], shape.dims, shape)
    return shape


def _binary(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 2)
    lhs, rhs = ops
    if lhs.dims != rhs.dims and lhs.rank and rhs.rank:
        raise ValueError(f"'{opcode}' operands differ in shape: {lhs.short()} and {rhs.short()}")
    return lhs if lhs.rank >= rhs.rank else rhs


def _compare(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    shape = _binary(opcode, ops, attrs, called)
    return _array("pred", shape.dims, shape)


def _is_finite(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    return _array("pred", ops[0].dims, ops[0])


def _complex_part(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    return _array(_COMPLEX_PART.get(ops[0].dtype, ops[0].dtype), ops[0].dims, ops[0])


def _complex(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    shape = _binary(opcode, ops, attrs, called)
    if shape.dtype not in _COMPLEX_OF:
        raise ValueError(f"'complex' needs f32 or f64 operands, got {shape.short()}")
    return _array(_COMPLEX_OF[shape.dtype], shape.dims, shape)


def _select(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 3)
    return ops[1]  # select(pred, on_true, on_false); clamp(min, operand, max)


def _tuple(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    return Shape("tuple", tuple_shapes=tuple(ops))


def _get_tuple_element(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    index = attrs.get("index")
    if index is None or not index.isdigit():
        raise ValueError("'get-tuple-element' needs an integer 'index' attribute")
    if not ops[0].is_tuple or int(index) >= len(ops[0].tuple_shapes):
        raise ValueError(f"tuple index {index} out of range for {ops[0].short()}")
    return ops[0].tuple_shapes[int(index)]


def _first_operand(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops:
        raise ValueError(f"'{opcode}' needs an operand")
    return ops[0]


def _second_operand(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 2)
    return ops[1]


def _token(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    return Shape("token")


def _u32_scalar(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    return Shape("u32")


def _s32_scalar(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    return Shape("s32")


def _set_dimension_size(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 2)
    (dim,) = _attr_ints(attrs, "dimensions", opcode)
    shape = ops[0]
    dynamic = list(shape.dynamic or (False,) * shape.rank)
    dynamic[dim] = True
    return Shape(shape.dtype, shape.dims, tuple(dynamic))


def _broadcast(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    # As XLA's parser does: without a shape, `dimensions` are sizes put in front of the operand's.
    _one(opcode, ops)
    sizes = _attr_ints(attrs, "dimensions", opcode, () if ops[0].rank == 0 else None)
    return _array(ops[0].dtype, sizes + ops[0].dims)


def _transpose(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    perm = _attr_ints(attrs, "dimensions", opcode)
    if sorted(perm) != list(range(ops[0].rank)):
        raise ValueError(f"'transpose' dimensions {list(perm)} are not a permutation of {ops[0].short()}")
    return _array(ops[0].dtype, [ops[0].dims[p] for p in perm])


def _concatenate(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops:
        raise ValueError("'concatenate' needs operands")
    (dim,) = _attr_ints(attrs, "dimensions", opcode)
    dims = list(ops[0].dims)
    dims[dim] = sum(op.dims[dim] for op in ops)
    return _array(ops[0].dtype, dims)


def _pad(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 2)
    config = attrs.get("padding")
    if config is None:
        raise ValueError("'pad' without a result shape needs its 'padding' attribute")
    dims = []
    for size, item in zip(ops[0].dims, config.split("x"), strict=True):
        low, high, *interior = (int(v) for v in item.split("_"))
        inner = interior[0] if interior else 0
        dims.append(low + high + size + max(size - 1, 0) * inner)
    return _array(ops[0].dtype, dims)


def _reduce(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops or len(ops) % 2:
        raise ValueError(f"'reduce' takes inputs and as many init values, got {len(ops)} operands")
    half = len(ops) // 2
    removed = set(_attr_ints(attrs, "dimensions", opcode))
    results = [
        _array(init.dtype, [d for k, d in enumerate(inp.dims) if k not in removed])
        for inp, init in zip(ops[:half], ops[half:], strict=True)
    ]
    return results[0] if half == 1 else Shape("tuple", tuple_shapes=tuple(results))


def _reduce_window(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops or len(ops) % 2:
        raise ValueError(f"'reduce-window' takes inputs and as many init values, got {len(ops)} operands")
    half = len(ops) // 2
    dims = window(attrs.get("window", "{}"))
    results = []
    for inp, init in zip(ops[:half], ops[half:], strict=True):
        out = []
        for size, w in zip(inp.dims, dims, strict=True):
            padded = (size - 1) * w.base_dilation + 1 + w.padding_low + w.padding_high
            span = (w.size - 1) * w.window_dilation + 1
            out.append(0 if padded < span else (padded - span) // w.stride + 1)
        results.append(_array(init.dtype, out))
    return results[0] if half == 1 else Shape("tuple", tuple_shapes=tuple(results))


def _dot(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if len(ops) < 2:
        raise ValueError("'dot' takes two operands")
    lhs, rhs = ops[0], ops[1]
    lb = _attr_ints(attrs, "lhs_batch_dims", opcode, ())
    lc = _attr_ints(attrs, "lhs_contracting_dims", opcode, ())
    rb = _attr_ints(attrs, "rhs_batch_dims", opcode, ())
    rc = _attr_ints(attrs, "rhs_contracting_dims", opcode, ())
    dims = [lhs.dims[d] for d in lb]
    dims += [d for k, d in enumerate(lhs.dims) if k not in lb and k not in lc]
    dims += [d for k, d in enumerate(rhs.dims) if k not in rb and k not in rc]
    return _array(lhs.dtype, dims)


def _map(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops or "to_apply" not in called:
        raise ValueError("'map' needs operands and a to_apply computation")
    return _array(called["to_apply"].dtype, ops[0].dims)


def _called_root(key: str) -> Callable[[str, Sequence[Shape], Mapping[str, str], Called], Shape]:
    def infer(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
        if key not in called:
            raise ValueError(f"'{opcode}' without a result shape needs a known '{key}' computation")
        return called[key]
    return infer


def _conditional(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    for key in ("true_computation", "branch_computations"):
        if key in called:
            return called[key]
    raise ValueError("'conditional' without a result shape needs known branch computations")


def _sort(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if not ops:
        raise ValueError("'sort' needs operands")
    return ops[0] if len(ops) == 1 else Shape("tuple", tuple_shapes=tuple(ops))


def _scatter(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    if len(ops) < 3 or (len(ops) - 1) % 2:
        raise ValueError(f"'scatter' takes operands, indices and updates, got {len(ops)} operands")
    n = (len(ops) - 1) // 2
    return ops[0] if n == 1 else Shape("tuple", tuple_shapes=tuple(ops[:n]))


def _top_k(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops)
    k = attrs.get("k")
    if k is None or not k.isdigit() or not ops[0].rank:
        raise ValueError("'topk' needs an integer 'k' attribute and an operand of rank >= 1")
    dims = (*ops[0].dims[:-1], int(k))
    return Shape("tuple", tuple_shapes=(_array(ops[0].dtype, dims), _array("s32", dims)))


def _batch_norm_training(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 3)
    return Shape("tuple", tuple_shapes=(ops[0], ops[1], ops[1]))


def _batch_norm_grad(opcode: str, ops: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    _one(opcode, ops, 5)
    return Shape("tuple", tuple_shapes=(ops[0], ops[1], ops[1]))


_RULES: dict[str, Callable[[str, Sequence[Shape], Mapping[str, str], Called], Shape]] = {
    **{op: _unary for op in _SAME_AS_OPERAND},
    **{op: _binary for op in _BINARY},
    "compare": _compare, "is-finite": _is_finite, "real": _complex_part, "imag": _complex_part,
    "complex": _complex, "select": _select, "clamp": _select, "tuple": _tuple,
    "get-tuple-element": _get_tuple_element, "add-dependency": _first_operand, "after-all": _token,
    "partition-id": _u32_scalar, "replica-id": _u32_scalar, "get-dimension-size": _s32_scalar,
    "set-dimension-size": _set_dimension_size, "broadcast": _broadcast, "transpose": _transpose,
    "concatenate": _concatenate, "pad": _pad, "reduce": _reduce, "reduce-window": _reduce_window,
    "dot": _dot, "map": _map, "call": _called_root("to_apply"), "while": _first_operand,
    "conditional": _conditional, "sort": _sort, "scatter": _scatter, "select-and-scatter": _first_operand,
    "triangular-solve": _second_operand, "topk": _top_k, "batch-norm-training": _batch_norm_training,
    "batch-norm-inference": _first_operand, "batch-norm-grad": _batch_norm_grad,
}


def infer_shape(opcode: str, operands: Sequence[Shape], attrs: Mapping[str, str], called: Called) -> Shape:
    """The result shape XLA's parser infers for `opcode` written without one; ValueError if none."""
    rule = _RULES.get(opcode)
    if rule is None:
        raise ValueError(f"cannot infer the result shape of '{opcode}': write it before the opcode")
    try:
        return rule(opcode, operands, attrs, called)
    except (IndexError, KeyError, ValueError) as err:
        raise ValueError(f"cannot infer the result shape of '{opcode}': {err}") from None
