"""Load a user's `model.py` and find the functions to inspect, with the argument shapes to lower them at.

The convention (a file that follows it needs no flags: `python -m inspect.hlo model.py`):

    # model.py
    import jax, jax.numpy as jnp

    def mlp(x, w1, w2):
        return jnp.tanh(x @ w1) @ w2

    IRSCOPE_EXAMPLES = {
        # name: (function, positional arguments)
        "mlp": (mlp, ["f32[256,512]", "f32[512,1024]", "f32[1024,10]"]),
    }

`IRSCOPE_EXAMPLES` is a module-level dict mapping an example's name to `(fn, args)`. `fn` is anything
`jax.jit` accepts (use `functools.partial` to fix non-array parameters such as a learning rate); `args`
is a list or tuple with one entry per positional parameter, each a spec string (`"f32[256,512]"`, see
`irscope.frontends.spec`), a `jax.ShapeDtypeStruct`, an array, a typed PRNG key
(`jax.random.key(0)`, or the spec `"key<fry>[]"`), or a pytree of those (a dict of parameters, say:
`jax.eval_shape(init, key)` gives one without allocating anything). `args` may also be one spec string
for all the parameters. Pass parameters as arguments rather than closing over arrays: a closed-over
array is baked into the HLO as a (possibly huge) literal constant.

Any top-level function of any file can be inspected with explicit shapes instead:
`--fn NAME --args "f32[256,512] f32[512,1024]"`; `--list` shows the table's entries with their shapes
and the file's other top-level functions.

The file is executed as a module with a unique name (so `if __name__ == "__main__":` blocks do not run),
with its own directory first on `sys.path` while it loads, so that it can import its neighbours.
An error raised while it loads is the user's error: it becomes a `ModelFileError` with one line such as
`model.py:12: NameError: name 'x' is not defined`.

Not handled yet: keyword arguments and static (non-array) arguments in the table (use
`functools.partial`), methods of classes, and functions defined in other modules that the file imports
(they can be listed in the table).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import itertools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jax

from irscope.errors import ModelFileError as ModelFileError
from irscope.frontends.jax_lower import Lowered, abstractify, lower, user_error_line
from irscope.frontends.spec import SpecError, format_arg

TABLE_NAME = "IRSCOPE_EXAMPLES"
"""The module-level dict a model file defines to need no flags."""

_counter = itertools.count()


@dataclass(frozen=True)
class Entry:
    """One function to inspect, with the abstract arguments to lower it at."""

    name: str
    """The example's name in the table, or the function's name for `--fn`."""
    fn: Callable[..., Any]
    """The function (anything `jax.jit` accepts)."""
    args: tuple[Any, ...]
    """Positional arguments: pytrees whose leaves are `jax.ShapeDtypeStruct`s."""
    path: str
    """The model file it came from, as the user named it."""
    from_table: bool
    """Whether it came from the file's `IRSCOPE_EXAMPLES` table (rather than `--fn/--args`)."""

    @property
    def spec(self) -> str:
        """The arguments as a spec string (`f32[256,512] f32[512,1024]`); pytrees are summarised."""
        return format_args(self.args)

    @property
    def mesh_axes(self) -> list[str]:
        """Mesh axis names the arguments' `PartitionSpec`s use, in order of first use ([] if unsharded)."""
        return spec_axes(self.args)

    def lower(self, **kwargs: Any) -> Lowered:
        """`irscope.frontends.jax_lower.lower(self.fn, self.args, **kwargs)`, for the local backend.

        Raises `ModelFileError` when the arguments are sharded: the local backend has no mesh to lay them
        over (compile for a multi-chip target instead, `irscope.frontends.targets`), and when the function
        stops with a `SystemExit` or another `BaseException` that is not an error (one line naming it)."""
        axes = self.mesh_axes
        if axes:
            raise ModelFileError(
                f"{self.path}::{self.name}: its arguments are sharded over mesh axes "
                f"{', '.join(map(repr, axes))}, which need a multi-chip target and a mesh, e.g. "
                f"--target tpu-v5e:2x2 --mesh {','.join(f'{a}=2' for a in axes)}"
            )
        try:
            return lower(self.fn, self.args, **kwargs)
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as e:
            raise ModelFileError(stopped_line(e, files=[str(Path(self.path).resolve().parent)],
                                              when=f"while {self.name} was traced")) from e


def spec_axes(args: Any) -> list[str]:
    """Mesh axis names the `PartitionSpec`s of abstract arguments use, in order of first use."""
    from jax.sharding import PartitionSpec

    axes: list[str] = []
    for leaf in jax.tree.leaves(args):
        spec = getattr(leaf, "_sharding", None)  # the PartitionSpec a ShapeDtypeStruct was given (private)
        if not isinstance(spec, PartitionSpec):
            continue
        for entry in spec:
            for axis in (entry if isinstance(entry, tuple) else (entry,)):
                if axis is not None and str(axis) not in axes:
                    axes.append(str(axis))
    return axes


@dataclass(frozen=True)
class FunctionInfo:
    """A line of `--list`: a table entry or a top-level function."""

    name: str
    """The table key, or the function's name."""
    spec: str | None
    """The table entry's argument spec; None for a function that needs `--args`."""
    signature: str
    """The function's parameters without annotations, `(x, w1, w2)`."""
    line: int | None
    """Line of the function's definition in the model file, when it is defined there."""
    summary: str
    """The first line of the function's docstring, or ''."""
    in_table: bool
    """Whether this is an `IRSCOPE_EXAMPLES` entry."""


@dataclass(frozen=True, eq=False)
class ModelFile:
    """A loaded model file: its module, its table of examples and its top-level functions."""

    path: str
    """The file, as the user named it."""
    module: ModuleType
    """The executed module."""

    @property
    def has_table(self) -> bool:
        return hasattr(self.module, TABLE_NAME)

    def examples(self) -> list[Entry]:
        """The `IRSCOPE_EXAMPLES` entries, in table order (empty if the file has no table)."""
        table = getattr(self.module, TABLE_NAME, None)
        if table is None:
            return []
        where = self._where(_assignment_line(self.path, TABLE_NAME))
        if not isinstance(table, Mapping):
            raise ModelFileError(
                f"{where}{TABLE_NAME} must be a dict mapping a name to (fn, args), "
                f"got {type(table).__name__}"
            )
        entries = []
        for name, value in table.items():
            label = f"{where}{TABLE_NAME}[{name!r}]"
            if not (isinstance(value, tuple | list) and len(value) == 2 and callable(value[0])):
                raise ModelFileError(f"{label} must be a (fn, args) pair, got {_short_repr(value)}")
            fn, args = value
            if not isinstance(args, str | tuple | list):
                raise ModelFileError(
                    f"{label}: args must be a list of specs, ShapeDtypeStructs or arrays, "
                    f"got {type(args).__name__}"
                )
            try:
                abstract = abstractify(args)
            except SpecError as e:
                raise ModelFileError(f"{label}: {e}") from None
            entries.append(Entry(str(name), fn, abstract, self.path, from_table=True))
        return entries

    def functions(self) -> dict[str, Callable[..., Any]]:
        """Public top-level functions defined in the file (plain or `jax.jit`-wrapped), by name."""
        found = {}
        for name, obj in vars(self.module).items():
            if name.startswith("_") or not callable(obj) or isinstance(obj, type):
                continue
            target = _unwrap(obj)
            if inspect.isfunction(target) and target.__module__ == self.module.__name__:
                found[name] = obj
        return found

    def list(self) -> list[FunctionInfo]:
        """The table's entries with their specs, then the other top-level functions (for `--list`)."""
        examples = self.examples()
        infos = [_info(e.name, e.fn, e.spec, self.module, in_table=True) for e in examples]
        in_table = {id(_unwrap(e.fn)) for e in examples}
        infos += [
            _info(name, fn, None, self.module, in_table=False)
            for name, fn in self.functions().items()
            if id(_unwrap(fn)) not in in_table
        ]
        return infos

    def resolve(self, fn: str | None = None, args: str | Sequence[Any] | None = None) -> list[Entry]:
        """The entries to inspect for `--fn NAME` / `--args SPEC` (either may be None).

        - neither: every table entry (a `ModelFileError` if the file has no table);
        - `fn` only: the table entry of that name;
        - `fn` and `args`: that table entry's function, or that top-level function, at `args`;
        - `args` only: the file's only top-level function at `args`.
        """
        examples = {e.name: e for e in self.examples()}
        functions = self.functions()
        if fn is None and args is None:
            if not examples:
                raise ModelFileError(
                    f"{self.path}: defines no {TABLE_NAME} table; pass --fn NAME --args SPEC "
                    f"({self._available(examples, functions)})"
                )
            return list(examples.values())
        if fn is None:
            if len(functions) != 1:
                raise ModelFileError(
                    f"{self.path}: --args needs --fn NAME ({self._available(examples, functions)})"
                )
            fn = next(iter(functions))
        if args is None:
            if fn in examples:
                return [examples[fn]]
            if fn in functions:
                raise ModelFileError(
                    f"{self.path}: {fn!r} is not in {TABLE_NAME}; give its arguments with "
                    f"--args SPEC, e.g. --args \"f32[256,512] f32[512,1024]\""
                )
            raise ModelFileError(f"{self.path}: no function {fn!r} ({self._available(examples, functions)})")
        callable_ = examples[fn].fn if fn in examples else functions.get(fn)
        if callable_ is None:
            raise ModelFileError(f"{self.path}: no function {fn!r} ({self._available(examples, functions)})")
        try:
            abstract = abstractify(args)
        except SpecError as e:
            raise ModelFileError(f"--args: {e}") from None
        return [Entry(fn, callable_, abstract, self.path, from_table=False)]

    def _where(self, line: int | None) -> str:
        return f"{self.path}:{line}: " if line else f"{self.path}: "

    @staticmethod
    def _available(examples: Mapping[str, Entry], functions: Mapping[str, Any]) -> str:
        parts = []
        if examples:
            parts.append(f"examples: {', '.join(examples)}")
        parts.append(f"functions: {', '.join(functions) or 'none'}")
        return "; ".join(parts)


def load(path: str | Path) -> ModelFile:
    """Execute the Python file at `path` as a fresh module; `ModelFileError` for anything it raises."""
    from irscope.ir.files import InputFileError, check_input

    shown = str(path)
    file = Path(path)
    try:
        check_input(shown)  # a FIFO, a device, a folder, an unreadable or huge file: one line, no hang
    except InputFileError as e:
        raise ModelFileError(str(e)) from None
    stem = re.sub(r"\W", "_", file.stem)
    name = f"irscope_model_{next(_counter)}_{stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelFileError(f"{shown}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    directory = str(file.resolve().parent)
    sys.path.insert(0, directory)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name while it runs
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:  # a real Ctrl-C: the CLI exits 130
        del sys.modules[name]
        raise
    except BaseException as e:  # anything else the file raises (sys.exit too) is the user's to fix
        del sys.modules[name]
        raise ModelFileError(stopped_line(e, files=[directory], when="while loading")) from e
    finally:
        sys.path.remove(directory)
    return ModelFile(shown, module)


def stopped_line(e: BaseException, *, files: Sequence[str] | None = None, when: str = "") -> str:
    """One line for what the user's code raised: `model.py:3: SystemExit: sys.exit(4) while loading`.

    `sys.exit(n)` and other `BaseException`s that are not errors are named as what they are, since
    their own message (`4`) says little.
    """
    line = user_error_line(e, files=files)
    if isinstance(e, SystemExit):
        detail = f"sys.exit({e.code!r})" if e.code is not None else "sys.exit()"
        return f"{line} (the code called {detail}{' ' + when if when else ''})"
    if not isinstance(e, Exception):
        kind = type(e).__name__
        return f"{line} (a BaseException, {kind}, raised by the code{' ' + when if when else ''})"
    return line


def list_functions(path: str | Path) -> list[FunctionInfo]:
    """Load `path` and list its table entries (with their specs) and other top-level functions."""
    return load(path).list()


def resolve(path: str | Path, fn: str | None = None, args: str | Sequence[Any] | None = None) -> list[Entry]:
    """Load `path` and return the entries `--fn`/`--args` select (see `ModelFile.resolve`)."""
    return load(path).resolve(fn, args)


def format_args(args: Sequence[Any]) -> str:
    """Abstract arguments -> `f32[256,512] key<fry>[] {f32[2,3] f32[3]}`: one word per argument.

    An array-like (a `ShapeDtypeStruct`, an array, a typed PRNG key) is its spec; a pytree of up to
    `_PYTREE_LEAVES_SHOWN` of them lists them in braces, a bigger one is `{N arrays}`; anything else
    (a Python scalar) is its repr.
    """
    return " ".join(_format_one(arg) for arg in args)


_PYTREE_LEAVES_SHOWN = 4


def _format_one(arg: Any) -> str:
    if _is_array_like(arg):
        return format_arg(arg)
    leaves = jax.tree.leaves(arg)
    if not leaves or not all(_is_array_like(x) for x in leaves):
        return _short_repr(arg, limit=40)
    if len(leaves) <= _PYTREE_LEAVES_SHOWN:
        return "{" + " ".join(format_arg(x) for x in leaves) + "}"
    return f"{{{len(leaves)} arrays}}"


def _is_array_like(x: Any) -> bool:
    return isinstance(x, jax.ShapeDtypeStruct) or (hasattr(x, "shape") and hasattr(x, "dtype"))


def _info(name: str, fn: Any, spec: str | None, module: ModuleType, *, in_table: bool) -> FunctionInfo:
    target = _unwrap(fn)
    try:
        sig = inspect.signature(fn)
        params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
        signature = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    except (TypeError, ValueError):
        signature = "(...)"
    code = getattr(target, "__code__", None)
    defined_here = getattr(target, "__module__", None) == module.__name__
    line = code.co_firstlineno if code is not None and defined_here else None
    doc = inspect.getdoc(target) or ""
    return FunctionInfo(name, spec, signature, line, doc.splitlines()[0] if doc else "", in_table)


def _unwrap(fn: Any) -> Any:
    """The plain function under `jax.jit`/`functools.wraps` wrappers and `functools.partial`."""
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            return fn


def _assignment_line(path: str, name: str) -> int | None:
    """Line of the module-level assignment to `name`, for messages about the table."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.lineno
    return None


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
