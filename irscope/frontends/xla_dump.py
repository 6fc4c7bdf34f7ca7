"""Per-pass HLO dumps of one XLA compile: the debug options that ask for them, the compile that writes
them into a temporary directory, and the names of the files XLA writes.

Compiling is frontend work, so it lives here; `irscope.passes.pipeline` reads what the compile left
behind (see its docstring for the file-name scheme and what it does with each dump).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from irscope.frontends.jax_lower import Lowered

# XLA debug options that make the compile write the module after every pass that changes it, as text.
DUMP_OPTIONS: Mapping[str, Any] = {
    "xla_dump_hlo_pass_re": ".*",
    "xla_dump_hlo_as_text": True,
    "xla_dump_hlo_as_proto": False,
}

_STEP = re.compile(r"^module_(?P<id>\d+)\.(?P<module>.+?)\.(?P<step>\d{4,})\.(?P<rest>.+)\.txt$")
_EDGE = re.compile(r"^module_(?P<id>\d+)\.(?P<module>.+?)\.(?:(?P<backend>\w+)_)?(?P<which>before|after)"
                   r"_optimizations\.txt$")
_BETWEEN = re.compile(r"^(?P<pipeline>.+?)\.after_(?P<after>.+?)\.before_(?P<before>.+)$")


@dataclass(frozen=True)
class DumpFile:
    """One file of a per-pass dump directory."""

    name: str
    """The file name."""
    step: int | None
    """XLA's dump number (None for the before- and after-optimizations files)."""
    pipeline: str
    """The pipeline that wrote it (`HLO_passes_after_layout_assignment`; '' for the edge files)."""
    pass_name: str
    """The pass it ran last (`fusion`, `pipeline-start`), or `input` / `output` for the edge files."""
    next_pass: str
    """The pass that runs next (`pipeline-end` last); '' for a dump written in the middle of a pass."""
    during: str = ""
    """For a dump written in the middle of a pass, the step it names (`after_removing_unnecessary_copies`)."""


def module_of(name: str) -> str:
    """The module name in a dump file's name (the name itself when it is not a dump file)."""
    m = _STEP.match(name) or _EDGE.match(name)
    return m.group("module") if m else name


def dump_files(directory: Path, module_name: str | None) -> tuple[DumpFile, ...]:
    """The module's dumps in pass order: the input, every pass dump by number, the output.

    When several modules were dumped, `module_name` picks one (else the one with the most dumps), and
    among modules of that name the id with the most dumps.
    """
    steps: dict[tuple[str, str], list[DumpFile]] = {}
    edges: dict[tuple[str, str], dict[str, DumpFile]] = {}
    for path in directory.iterdir():
        name = path.name
        m = _STEP.match(name)
        if m:
            rest = m.group("rest")
            between = _BETWEEN.match(rest)
            if between:
                pipeline, after, before = between.group("pipeline", "after", "before")
                during = ""
            else:  # a dump in the middle of a pass: `copy-insertion.after_removing_unnecessary_copies`
                after, _, during = rest.partition(".")
                pipeline, before = "", ""
            key = (m.group("id"), m.group("module"))
            steps.setdefault(key, []).append(DumpFile(name, int(m.group("step")), pipeline, after, before, during))
            continue
        m = _EDGE.match(name)
        if m:
            which = "input" if m.group("which") == "before" else "output"
            edges.setdefault((m.group("id"), m.group("module")), {})[which] = DumpFile(name, None, "", which, "")
    keys = [k for k in steps if k[1] == module_name] or list(steps)  # XLA may sanitize the name
    if not keys:
        return ()
    key = max(keys, key=lambda k: len(steps[k]))
    ordered = sorted(steps[key], key=lambda f: f.step or 0)
    edge = edges.get(key, {})
    return tuple(([edge["input"]] if "input" in edge else []) + ordered + ([edge["output"]] if "output" in edge else []))


@contextmanager
def dump_passes(compile_with: Callable[[dict[str, Any]], object]) -> Iterator[Path]:
    """Run `compile_with(options)` with the dump options added, and yield the directory it dumped into.

    `compile_with` compiles the program with the given XLA debug options (for a JAX function,
    `lambda o: jax_lowered.compile(compiler_options=o)`). The temporary directory is removed when the
    `with` block ends, whatever happens inside it.
    """
    with tempfile.TemporaryDirectory(prefix="irscope-passes-") as tmp:
        compile_with({**DUMP_OPTIONS, "xla_dump_to": tmp})
        yield Path(tmp)


def lowered_compiler(lowered: Lowered) -> Callable[[dict[str, Any]], object]:
    """A `compile_with` for an `irscope.frontends.jax_lower.Lowered`: its own compiler options kept."""

    def compile_with(options: dict[str, Any]) -> object:
        return lowered.jax_lowered.compile(compiler_options={**lowered.compiler_options, **options})

    return compile_with
