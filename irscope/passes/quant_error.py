"""Where a quantized model's accuracy went: every tensor of the quantized model against the same tensor of
the float model, on the same inputs, layer by layer in execution order.

`layer_errors(float_capture, quant_capture)` takes two `irscope.measure.tflite_tensors.Capture`s (the two
models run on the same samples, every intermediate tensor kept) and

1. checks that the models correspond: the same number of inputs with the same shapes, and at least half of
   the quantized model's operator outputs matched (else `ModelMismatchError`, naming the difference);
2. matches each activation of the quantized model to one of the float model (`Match.via` says how):
   `name` (the same tensor name and shape); `fused-name` (the same set of ';'-joined TensorFlow op names,
   in another order or with a fused activation's name added or missing, and the same shape); `QUANTIZE` /
   `DEQUANTIZE` (a boundary op's output stands for the float tensor its input matched); `position` (the
   k-th compute op of both models, when both run the same sequence of opcodes); `input` (graph input k).
   A DEQUANTIZE of a constant (float16 or int8 weights expanded when the model is prepared) is not a
   layer: it is left out and counted (`weight_dequantize_ops`);
3. computes, over all samples, the dequantized tensor's error against the float one: max abs error, RMSE,
   SQNR = 10 log10(sum f^2 / sum (q - f)^2) in dB, and cosine similarity; and how the error grows: each
   layer's `lost_db`, its inputs' (worst) SQNR minus its output's SQNR -- what this layer adds to the error
   it inherits.

Tensors that cannot be matched are listed with the reason. SQNR is `inf` for a tensor equal to its float
counterpart (JSON: null); `lost_db` is `inf` where the error starts (exact inputs, inexact output:
JSON null with `error_starts_here`).

Not handled yet: subgraphs other than the main one, and ops whose float counterpart was split or merged
differently by the converter (they show up as unmatched, with the reason).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from irscope.errors import ModelMismatchError
from irscope.util.display import show

BOUNDARY = frozenset({"QUANTIZE", "DEQUANTIZE"})
"""Ops that only change a tensor's representation: their output stands for the same float values."""

SCHEMA = "irscope.tflite-layers/1"


@dataclass(frozen=True)
class Match:
    """A tensor of the quantized model and the float tensor it is compared with."""

    quant: int
    """Tensor index in the quantized model."""
    float: int | None
    """Tensor index in the float model; None when unmatched."""
    via: str
    """How: `input`, `name`, `fused-name`, `QUANTIZE`, `DEQUANTIZE`, `position`; `unmatched`."""
    reason: str = ""
    """Why it could not be matched (unmatched only)."""


@dataclass(frozen=True)
class TensorError:
    """Error of one dequantized tensor against its float counterpart, over all samples."""

    elements: int
    """Elements compared (all samples together)."""
    max_abs_error: float
    """max |q - f|."""
    rmse: float
    """sqrt(mean((q - f)^2))."""
    sqnr_db: float
    """10 log10(sum f^2 / sum (q - f)^2); inf for identical tensors."""
    cosine: float
    """q.f / (|q| |f|) over the flattened tensors; 1.0 when both are zero."""

    @staticmethod
    def of(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> TensorError:
        """The error over (float, quant) pairs, one per sample."""
        n, err2, ref2, q2, dot, worst = 0, 0.0, 0.0, 0.0, 0.0, 0.0
        for f, q in pairs:
            f, q = np.ravel(f), np.ravel(q)
            d = q - f
            n += f.size
            err2 += float(d @ d)
            ref2 += float(f @ f)
            q2 += float(q @ q)
            dot += float(f @ q)
            worst = max(worst, float(np.max(np.abs(d)))) if d.size else worst
        sqnr = math.inf if err2 == 0 else (10 * math.log10(ref2 / err2) if ref2 > 0 else -math.inf)
        norm = math.sqrt(ref2 * q2)
        cosine = dot / norm if norm > 0 else (1.0 if ref2 == q2 == 0 else 0.0)
        return TensorError(n, worst, math.sqrt(err2 / n) if n else 0.0, sqnr, cosine)

    def to_json(self) -> dict[str, Any]:
        return {"elements": self.elements, "max_abs_error": self.max_abs_error, "rmse": self.rmse,
                "sqnr_db": _finite(self.sqnr_db), "cosine": self.cosine}


@dataclass(frozen=True)
class Layer:
    """One operator output of the quantized model, in execution order."""

    op: int
    """Operator index in the quantized model (execution order)."""
    opcode: str
    """`CONV_2D`, ..."""
    tensor: str
    """The output tensor's name in the quantized model."""
    dtype: str
    """Its dtype (`int8`, `float32` for an op left in float, ...)."""
    match: Match
    """Which float tensor it is compared with, and how it was found."""
    error: TensorError | None
    """None when unmatched."""
    input_sqnr_db: float | None
    """The worst SQNR among its matched activation inputs (what it inherits); None if none is matched."""

    @property
    def lost_db(self) -> float | None:
        """SQNR lost in this layer: inputs' SQNR minus output's. `inf` where the error starts here (exact
        inputs, inexact output), 0.0 where both are exact, None when either side is unknown."""
        if self.error is None or self.input_sqnr_db is None:
            return None
        if math.isinf(self.input_sqnr_db) and math.isinf(self.error.sqnr_db):
            return 0.0
        return self.input_sqnr_db - self.error.sqnr_db

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "opcode": self.opcode, "tensor": self.tensor, "dtype": self.dtype,
                "float_tensor": self.match.float, "via": self.match.via, "reason": self.match.reason or None,
                **(self.error.to_json() if self.error else {}),
                "input_sqnr_db": _finite(self.input_sqnr_db), "lost_db": _finite(self.lost_db),
                "error_starts_here": self.lost_db == math.inf}


@dataclass(frozen=True)
class LayerErrors:
    """Per-layer error of a quantized model against its float original (see the module docstring)."""

    float_source: str
    """The float model."""
    quant_source: str
    """The quantized model."""
    float_size: int
    """Bytes of the float model."""
    quant_size: int
    """Bytes of the quantized model."""
    samples: int
    """How many input samples the figures are over."""
    sample_source: str
    """`random (seed 0)` or the calibration file."""
    layers: tuple[Layer, ...]
    """One per operator output of the quantized model, in execution order."""
    float_names: Mapping[int, str]
    """Float tensor index -> name, for the matched ones."""
    unmatched_float_ops: tuple[str, ...]
    """Float ops (`OPCODE tensor`) no quantized tensor was matched to: the quantized model lacks them."""
    weight_dequantize_ops: int = 0
    """DEQUANTIZE ops of constants (float16/int8 weights expanded at prepare time), left out of `layers`."""

    @property
    def matched(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.error is not None]

    @property
    def unmatched(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.error is None]

    def worst(self, n: int = 5, *, by: str = "lost") -> list[Layer]:
        """The n layers that lose most SQNR themselves (`by="lost"`; only layers that lose some) or end lowest
        (`by="sqnr"`);
        QUANTIZE/DEQUANTIZE are left out (they only carry their input's error, plus rounding)."""
        compute = [x for x in self.matched if x.opcode not in BOUNDARY and x.opcode != "INPUT"]
        if by == "lost":
            ranked = sorted((x for x in compute if x.lost_db is not None and x.lost_db > 0), key=lambda x: -(x.lost_db or 0.0))
        elif by == "sqnr":
            ranked = sorted(compute, key=lambda x: x.error.sqnr_db if x.error else math.inf)
        else:
            raise ValueError(f"unknown ranking: {by!r}; expected 'lost' or 'sqnr'")
        return ranked[:n]

    def to_json(self) -> dict[str, Any]:
        outputs = [x for x in self.matched if x.match.via != "input"]
        return {
            "schema": SCHEMA, "float": self.float_source, "quant": self.quant_source,
            "float_size_bytes": self.float_size, "quant_size_bytes": self.quant_size,
            "samples": self.samples, "sample_source": self.sample_source,
            "metrics": {"sqnr_db": "10*log10(sum(f^2)/sum((q-f)^2)) over all samples",
                        "rmse": "sqrt(mean((q-f)^2))", "max_abs_error": "max|q-f|", "cosine": "q.f/(|q||f|)",
                        "lost_db": "worst input SQNR minus output SQNR"},
            "layers": [x.to_json() for x in self.layers],
            "unmatched": [{"op": x.op, "tensor": x.tensor, "reason": x.match.reason} for x in self.unmatched],
            "unmatched_float_ops": list(self.unmatched_float_ops),
            "weight_dequantize_ops": self.weight_dequantize_ops,
            "worst": [{"op": x.op, "tensor": x.tensor, "lost_db": _finite(x.lost_db)} for x in self.worst()],
            "final_sqnr_db": _finite(outputs[-1].error.sqnr_db) if outputs and outputs[-1].error else None,
        }

    # Display: written by irscope.render.quant_layers, reached through the one hook irscope.util.display.
    def to_text(self, **kwargs: Any) -> str:
        return show(self, "text", **kwargs)

    def _repr_html_(self) -> str:
        return show(self, "html")


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def layer_errors(float_capture: Any, quant_capture: Any, *, sample_source: str = "") -> LayerErrors:
    """Match the quantized model's tensors to the float model's and measure each one's error (see the
    module docstring). Both captures must hold the same samples, in the same order."""
    fc, qc = float_capture, quant_capture
    _check_inputs(fc, qc)
    if len(fc.values) != len(qc.values):
        raise ValueError(f"{len(fc.values)} float samples against {len(qc.values)} quantized ones")
    matches = match_tensors(fc, qc)
    compute = [t for op in qc.ops if op.opcode not in BOUNDARY for t in op.outputs if t >= 0]
    found = sum(1 for t in compute if matches[t].float is not None)
    if compute and found * 2 < len(compute):
        raise ModelMismatchError(
            f"{qc.source} is not a conversion of {fc.source}: only {found} of {len(compute)} operator outputs "
            f"match (ops: {_op_summary(fc)} against {_op_summary(qc)})")
    errors: dict[int, TensorError] = {}
    for t, m in matches.items():
        if m.float is not None and all(t in v for v in qc.values) and all(m.float in v for v in fc.values):
            errors[t] = TensorError.of([(f[m.float], q[t]) for f, q in zip(fc.values, qc.values, strict=True)])
    layers = [Layer(-1, "INPUT", qc.tensors[t].name, qc.tensors[t].dtype, matches[t], errors.get(t), None)
              for t in qc.inputs]
    skipped = 0
    for op in qc.ops:
        if weight_dequantize(op, qc):
            skipped += 1
            continue
        inherited = [errors[t].sqnr_db for t in op.inputs if t in errors]
        for t in op.outputs:
            if t < 0:
                continue
            m = matches.get(t) or Match(t, None, "unmatched", "not a tensor the interpreter writes")
            if t not in errors and m.float is not None:
                m = Match(t, None, "unmatched", "its value could not be read")
            layers.append(Layer(op.index, op.opcode, qc.tensors[t].name, qc.tensors[t].dtype, m, errors.get(t),
                                min(inherited) if inherited else None))
    used = {m.float for m in matches.values() if m.float is not None}
    missing = tuple(f"{op.opcode} {fc.tensors[op.outputs[0]].name}" for op in fc.ops
                    if op.outputs and op.outputs[0] >= 0 and op.outputs[0] not in used and op.opcode not in BOUNDARY)
    return LayerErrors(fc.source, qc.source, fc.size_bytes, qc.size_bytes, len(qc.values), sample_source,
                       tuple(layers), {f: fc.tensors[f].name for f in used}, missing, skipped)


def _check_inputs(fc: Any, qc: Any) -> None:
    fs = [list(fc.tensors[t].shape) for t in fc.inputs]
    qs = [list(qc.tensors[t].shape) for t in qc.inputs]
    if fs != qs:
        raise ModelMismatchError(f"{qc.source} is not a conversion of {fc.source}: its inputs have shapes {qs}, "
                                 f"the float model's {fs}")


def _op_summary(capture: Any, top: int = 4) -> str:
    counts = Counter(op.opcode for op in capture.ops if op.opcode not in BOUNDARY)
    return ", ".join(f"{n}x {c}" for c, n in counts.most_common(top)) or "no ops"


def _parts(name: str) -> frozenset[str]:
    return frozenset(p for p in name.split(";") if p)


def match_tensors(fc: Any, qc: Any) -> dict[int, Match]:
    """Quantized tensor index -> Match, for the graph inputs and every operator output (see the module
    docstring for the rules, tried in that order)."""
    f_acts = fc.activations()
    by_name = {fc.tensors[t].name: t for t in f_acts}
    by_parts: dict[frozenset[str], list[int]] = {}
    for t in f_acts:
        by_parts.setdefault(_parts(fc.tensors[t].name), []).append(t)
    out: dict[int, Match] = {}
    for k, t in enumerate(qc.inputs):
        out[t] = Match(t, fc.inputs[k], "input")
    for op in qc.ops:
        if weight_dequantize(op, qc):
            continue
        for t in op.outputs:
            if t < 0 or t in out:
                continue
            shape = qc.tensors[t].shape
            name = qc.tensors[t].name
            f = by_name.get(name)
            if f is not None and fc.tensors[f].shape == shape:
                out[t] = Match(t, f, "name")
                continue
            fused = _fused_match(_parts(name), shape, by_parts, fc)
            if fused is not None:
                out[t] = Match(t, fused, "fused-name")
                continue
            if op.opcode in BOUNDARY and op.inputs and op.inputs[0] in out:
                src = out[op.inputs[0]]
                if src.float is not None and fc.tensors[src.float].shape == shape:
                    out[t] = Match(t, src.float, op.opcode)
                    continue
            if f is not None:
                out[t] = Match(t, None, "unmatched", f"the float tensor of that name has shape "
                                                     f"{list(fc.tensors[f].shape)}, this one {list(shape)}")
            else:
                out[t] = Match(t, None, "unmatched", "no float tensor has this name")
    _match_by_position(fc, qc, out)
    return out


def weight_dequantize(op: Any, capture: Any) -> bool:
    """A DEQUANTIZE of a constant: float16/int8 weights expanded when the model is prepared, not a layer."""
    produced = {t for o in capture.ops for t in o.outputs}
    return (op.opcode == "DEQUANTIZE" and bool(op.inputs) and op.inputs[0] not in produced
            and op.inputs[0] not in capture.inputs)


def _fused_match(parts: frozenset[str], shape: tuple[int, ...], by_parts: Mapping[frozenset[str], list[int]],
                 fc: Any) -> int | None:
    """The one float tensor of this shape whose ';'-parts equal these, or contain them or are contained in
    them (a fused activation named on one side only)."""
    exact = [f for f in by_parts.get(parts, []) if fc.tensors[f].shape == shape]
    if len(exact) == 1:
        return exact[0]
    near = [f for p, fs in by_parts.items() if p and parts and (p < parts or parts < p) for f in fs
            if fc.tensors[f].shape == shape]
    return near[0] if len(near) == 1 else None


def _match_by_position(fc: Any, qc: Any, out: dict[int, Match]) -> None:
    """When both models run the same opcodes in the same order, pair the still-unmatched outputs of the
    k-th compute op with the float model's k-th (same shape required)."""
    f_ops = [op for op in fc.ops if op.opcode not in BOUNDARY]
    q_ops = [op for op in qc.ops if op.opcode not in BOUNDARY]
    if [op.opcode for op in f_ops] != [op.opcode for op in q_ops]:
        return
    for f_op, q_op in zip(f_ops, q_ops, strict=True):
        for f, t in zip(f_op.outputs, q_op.outputs, strict=False):
            if t >= 0 and f >= 0 and out[t].float is None and fc.tensors[f].shape == qc.tensors[t].shape:
                out[t] = Match(t, f, "position")
