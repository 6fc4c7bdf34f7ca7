"""Every error a user can cause, under one base class, `IrscopeError`.

A user's mistake (a bad file, flag, function, shape; a missing optional install) raises a subclass of
`IrscopeError` whose `str()` says what is wrong and where (`file:line:col` when there is one). The
CLI catches `IrscopeError` once (`irscope.cli.main`) and prints it after `irscope CMD: error:` with
exit status 2; a library caller catches it (or the narrower class) the same way. Anything else that
escapes is a bug in irscope and keeps its traceback.

Each class also keeps the built-in base that callers caught before it joined this hierarchy
(`ValueError` for malformed input, `ImportError` for a missing install, `RuntimeError` for a
profiler that would not start), and stays importable from the module that raises it
(`irscope.ir.hlo_parser.HloParseError`, ...). Internal control flow (`_Fail` in the HLO parser,
`_Timeout` in the DOT writer) is not here: it never reaches a user.

This module imports nothing from irscope, so every layer may raise these.
"""

from __future__ import annotations


class IrscopeError(Exception):
    """A mistake the user can fix, or an install they can add; the message names the culprit."""


class UserError(IrscopeError):
    """A mistake found by the CLI itself (a bad flag value, a file it cannot write)."""


class WriteError(UserError, OSError):
    """An output file that cannot be written (a missing or read-only folder, a full disk); still an
    `OSError` for callers that treat a failed write as a warning."""


# --- the chip table --------------------------------------------------------------------------------

class UnknownChipError(IrscopeError, ValueError):
    """A chip name `irscope.hw` does not know; the message lists the known ones."""


# --- ir: readers ------------------------------------------------------------------------------------

class HloParseError(IrscopeError, ValueError):
    """Malformed HLO text: `file:line:col: message`, the source line and a caret under the column."""

    def __init__(self, message: str, source: str, line: int = 0, col: int = 0, text_line: str = ""):
        self.message, self.source, self.line, self.col, self.text_line = message, source, line, col, text_line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.col}" if self.line else self.source
        out = f"{where}: {self.message}"
        if self.text_line:
            line, col = self.text_line.rstrip("\n"), max(self.col - 1, 0)
            if len(line) > 100:  # show a window around the column, not a 2,000-character line
                start = max(0, col - 60)
                line = ("..." if start else "") + line[start: start + 100] + ("..." if start + 100 < len(line) else "")
                col = col - start + (3 if start else 0)
            out += "\n" + line + "\n" + " " * col + "^"
        return out

    @property
    def one_line(self) -> str:
        where = f"{self.source}:{self.line}:{self.col}" if self.line else self.source
        return f"{where}: {self.message}"


class HloVerifyError(IrscopeError, ValueError):
    """A module that parses but is not well formed (`irscope.ir.verify`): `file:line:col: what is wrong`."""

    def __init__(self, message: str, where: str = ""):
        self.message, self.where = message, where
        super().__init__(f"{where}: {message}" if where else message)


class InputFileError(IrscopeError, OSError):
    """An input path that cannot be read as a file (`irscope.ir.files`): `path: what is wrong`, one line.
    The missing, folder and permission cases are also the built-in `OSError` subclasses."""

    def __init__(self, path: str, reason: str, code: int = 22):  # EINVAL
        super().__init__(code, reason, path)
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class InputNotFoundError(InputFileError, FileNotFoundError):
    """An input path that does not exist."""


class InputIsADirectoryError(InputFileError, IsADirectoryError):
    """An input path that is a folder where a file was wanted."""


class InputPermissionError(InputFileError, PermissionError):
    """An input file irscope may not read."""


class TFLiteParseError(IrscopeError, ValueError):
    """A file that is not a readable TFLite flatbuffer; the message is one line naming the file."""


class TFLiteVerifyError(IrscopeError, ValueError):
    """A TFLite model that reads but is not well formed (`irscope.ir.tflite_verify`); one line."""


class TFLiteUnavailable(IrscopeError, ImportError):
    """Neither ai-edge-litert nor TensorFlow is installed, so the schema bindings are missing."""


# --- frontends --------------------------------------------------------------------------------------

class SpecError(IrscopeError, ValueError):
    """A malformed argument spec. `token` is the offending token, `column` its 1-based column."""

    def __init__(self, message: str, *, token: str = "", column: int = 0) -> None:
        super().__init__(message)
        self.token = token
        self.column = column


class LoweringError(IrscopeError):
    """A function could not be traced or lowered because of the user's code or arguments.

    The message is one line, `file:line: ExceptionType: message` where the line is known.
    """


class TargetFileError(IrscopeError, ValueError):
    """A command-line TARGET file that cannot be used as given: missing, a directory, not text, `::fn`
    after a file that is not a model.py."""


class TargetError(IrscopeError, ValueError):
    """A compile target (`--target NAME[:TOPOLOGY]`), topology or mesh the user gave is not valid; the
    message names the valid choices."""


class TargetUnavailable(TargetError):
    """The target's compiler is not installed (the message names the pip command) or did not start."""


class TargetCompileError(TargetError):
    """The target's compiler rejected the program; the message is XLA's first line."""


class XlaDumpError(IrscopeError, ValueError):
    """An XLA dump directory without the files asked for (buffer assignment, live ranges); one line."""


class ModelFileError(IrscopeError):
    """A model file that cannot be loaded or used; the message is one line naming the file (and line)."""


class IRFileError(IrscopeError, ValueError):
    """A malformed IR file; `str()` is one line, `path:line:col: message` (line/col when known)."""

    def __init__(self, message: str, *, path: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        where = path + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {message}")


class StableHLOError(IRFileError):
    """A StableHLO/MHLO module that does not parse, verify, convert to HLO or compile."""


class HloTextError(IRFileError):
    """HLO text that XLA's own parser rejects, or that cannot be compiled again."""


class ConversionError(IrscopeError):
    """A model that cannot be loaded or converted; the message is one line."""


# --- passes, measure, kernels -----------------------------------------------------------------------

class PipelineError(IrscopeError):
    """The pipeline could not be captured or read (no dumps, an unknown pass); one line."""


class TraceError(IrscopeError, RuntimeError):
    """The profiler could not be started or wrote nothing (another trace running, no profiler)."""


class RuntimeUnavailable(IrscopeError, ImportError):
    """Neither ai-edge-litert nor TensorFlow is installed."""


class ModelLoadError(IrscopeError, ValueError):
    """The interpreter refused the model (an op it does not have, a bad file); one line."""


class CalibrationError(IrscopeError, ValueError):
    """Sample data that does not fit the model (wrong shape, count or input name); one line."""


class ModelMismatchError(IrscopeError, ValueError):
    """Two models that should be conversions of one model but are not (different inputs or ops)."""


class KernelShapeError(IrscopeError, ValueError):
    """A shape or dtype a kernel does not handle, with the reason and the limit."""


class UnsupportedPallasCall(IrscopeError, ValueError):
    """A pallas_call whose traffic cannot be read off its BlockSpecs (see `irscope.kernels.static`)."""


class TooSlowToInterpret(IrscopeError, ValueError):
    """A size whose interpret-mode run would take far too long (see MAX_INTERPRET_COPY_BYTES)."""


# --- render -----------------------------------------------------------------------------------------

class RenderError(IrscopeError):
    """Drawing failed for a reason the user can act on (no Graphviz, too large, too slow)."""


class CyclicModuleError(IrscopeError, ValueError):
    """A module whose instructions use themselves, or whose computations call themselves (through a
    while body, a call, ...): HLO is acyclic, so the text is malformed (XLA's verifier rejects it)."""
