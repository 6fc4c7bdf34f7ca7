"""One error model: every exception a user can cause is an `IrscopeError`, defined in irscope.errors,
still importable (the same class) from the module that raises it, and caught once by the CLI."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

from irscope import errors
from irscope.cli.main import main

PACKAGE = pathlib.Path(errors.__file__).parent
# Private exceptions that steer control flow inside one module and never reach a user.
INTERNAL = {"_Fail", "_Timeout", "_Problem"}


def exception_classes() -> list[tuple[str, str]]:
    """(module, class) for every class defined in irscope whose name says it is an error."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in INTERNAL)
                    for b in node.bases):
                out.append((module, node.name))
    return out


def test_every_user_error_is_defined_in_errors_and_shares_one_base() -> None:
    defined = exception_classes()
    outside = [f"{m}.{c}" for m, c in defined if m != "irscope.errors" and c not in INTERNAL]
    assert not outside, f"define these in irscope/errors.py (and re-export them): {outside}"
    for module, name in defined:
        if module == "irscope.errors":
            assert issubclass(getattr(errors, name), errors.IrscopeError), name


@pytest.mark.parametrize(("module", "name", "builtin"), [
    ("irscope.ir.hlo_parser", "HloParseError", ValueError),
    ("irscope.ir.tflite", "TFLiteParseError", ValueError),
    ("irscope.ir.tflite", "TFLiteUnavailable", ImportError),
    ("irscope.frontends.spec", "SpecError", ValueError),
    ("irscope.frontends.jax_lower", "LoweringError", Exception),
    ("irscope.frontends.model_file", "ModelFileError", Exception),
    ("irscope.frontends.stablehlo", "IRFileError", ValueError),
    ("irscope.frontends.stablehlo", "StableHLOError", ValueError),
    ("irscope.frontends.stablehlo", "HloTextError", ValueError),
    ("irscope.frontends.tflite_convert", "ConversionError", Exception),
    ("irscope.passes.pipeline", "PipelineError", Exception),
    ("irscope.measure.trace", "TraceError", RuntimeError),
    ("irscope.measure.tflite_latency", "RuntimeUnavailable", ImportError),
    ("irscope.measure.tflite_latency", "ModelLoadError", ValueError),
    ("irscope.kernels.common", "KernelShapeError", ValueError),
    ("irscope.kernels.static", "UnsupportedPallasCall", ValueError),
    ("irscope.kernels.harness", "TooSlowToInterpret", ValueError),
    ("irscope.render.dot", "RenderError", Exception),
    ("irscope.cli.common", "UserError", Exception),
    ("irscope.frontends.targets", "TargetError", ValueError),
    ("irscope.frontends.targets", "TargetUnavailable", ValueError),
    ("irscope.frontends.targets", "TargetCompileError", ValueError),
    ("irscope.frontends.target_file", "TargetFileError", ValueError),
])
def test_old_names_are_the_same_classes_with_their_old_bases(module: str, name: str, builtin: type) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert cls is getattr(errors, name)
    assert issubclass(cls, errors.IrscopeError) and issubclass(cls, builtin)


def test_unknown_chip_is_a_user_error() -> None:
    from irscope import hw

    with pytest.raises(errors.UnknownChipError, match="unknown chip: 'b300'"):
        hw.get_chip("b300")


@pytest.mark.parametrize("argv", [
    ["hlo", "tests/data/gelu_tanh.hlo", "--hw", "b300"],   # UnknownChipError from irscope.hw
    ["tflite", "tests/data/gelu_tanh.hlo"],                # not a .tflite file
    ["diff", "tests/data/gelu_tanh.hlo", "tests/data/no_such_file.hlo"],
])
def test_cli_prints_one_line_and_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACKAGE.parent)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"irscope {argv[0]}: error: ") and "\n" not in err, err
    assert "Traceback" not in err
