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
