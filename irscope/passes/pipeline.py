"""XLA's optimization pipeline pass by pass: compile with per-pass dumps, then read them in order.

    with capture_lowered(lowered) as dumps:          # compiles once, dumping into a temporary dir
        timeline = dumps.timeline(get_chip("h100"))  # one row per dump: counts, bytes, FLOPs, t@peak
        step = timeline.find("fusion")               # a pass by name (or by XLA's dump number)
        before, after = dumps.around(step)           # the modules either side of it, for the diff
    # the temporary directory is gone here

The mechanism: XLA's debug options, passed to the one compile call (`Lowered.compile(compiler_options=
{"xla_dump_to": DIR, "xla_dump_hlo_pass_re": ".*", "xla_dump_hlo_as_text": True})`), which works
in-process in jax 0.10.2 — no `XLA_FLAGS`, no subprocess. With the pattern `.*`, XLA's
`HloPassPipeline` writes the module at the start of every pipeline and after every pass that
*changed* it (a pass that changed nothing leaves no file), named

    module_0006.jit_f.0014.HLO_passes_after_layout_assignment.after_fusion.before_fusion-wrapper.txt
           id   module step pipeline                          pass it ran  the next pass

plus `module_….before_optimizations.txt` and `module_….<backend>_after_optimizations.txt`. Passes
that dump mid-pass (`copy-insertion.after_removing_unnecessary_copies`) use `pass.step` instead.
The dump number orders the files; `PassDumps` reads them one at a time (a 12-layer training step
writes hundreds of megabytes), parses each, keeps its counts and costs, and drops the text. A dump
whose text equals the previous one (a pipeline start, a nested pipeline's end) is marked unchanged.

The compile itself (frontend work) is `irscope.frontends.xla_dump.dump_passes`; this module reads
what it wrote. `read_dumps(DIR)` reads a directory a user dumped themselves (`XLA_FLAGS=--xla_dump_to=DIR
--xla_dump_hlo_pass_re=.*`), the same way.

Not handled yet: a persistent compilation cache hit (XLA then compiles nothing and dumps nothing:
`PipelineError` says so), modules that XLA splits or renames mid-pipeline, and the backend's own
post-HLO stages (LLVM IR, Triton, thunks), which XLA dumps in other formats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irscope.errors import PipelineError as PipelineError
from irscope.frontends.xla_dump import DUMP_OPTIONS as DUMP_OPTIONS
from irscope.frontends.xla_dump import DumpFile as DumpFile
from irscope.frontends.xla_dump import dump_files, dump_passes, lowered_compiler, module_of
from irscope.hw import Chip
from irscope.ir.hlo import Module
from irscope.ir.hlo_parser import parse_module
from irscope.passes.report import analyze
from irscope.util.display import show

if TYPE_CHECKING:
    from irscope.frontends.jax_lower import Lowered

SCHEMA = "irscope.pass-timeline/1"


@dataclass(frozen=True)
class PassStep:
    """One row of the timeline: the module as it stood after one pass."""

    index: int
    """Position in the timeline (0 is the module before optimization)."""
    step: int | None
    """XLA's dump number, as in the file name (None for the input and output rows)."""
    pipeline: str
    """The pipeline that ran the pass ('' for the input, the output and mid-pass dumps)."""
    pass_name: str
    """The pass; `pipeline-start` when the module changed between two pipelines."""
    next_pass: str
    during: str
    """For a dump from the middle of a pass, the step it names; else ''."""
    file: str
    instructions: int
    computations: int
    fusions: int
    """Kernels that are fusions."""
    kernels: int
    bytes_accessed: float
    """XLA's convention: what the module's kernels read and write (loop bodies once)."""
    flops: float
    transcendentals: float
    time_at_peak_s: float
    """Sum of the kernels' roofline bounds on the timeline's chip, loops × known trip counts."""
    changed: bool
    """Whether the module differs from the previous row's (text compared)."""

    @property
    def label(self) -> str:
        if self.step is None:
            return f"({self.pass_name})"
        if self.during:
            return f"{self.pass_name} [{self.during}]"
        if self.pass_name == "pipeline-start":
            return f"{self.pipeline} / (changed before this pipeline started)"
        return f"{self.pipeline} / {self.pass_name}"

    @property
    def number(self) -> str:
        """How `--pass` names it: XLA's dump number, or `input` / `output`."""
        return str(self.step) if self.step is not None else self.pass_name

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "step": self.step, "pipeline": self.pipeline, "pass": self.pass_name,
                "next_pass": self.next_pass, "during": self.during, "file": self.file, "instructions": self.instructions,
                "computations": self.computations, "fusions": self.fusions, "kernels": self.kernels,
                "bytes_accessed": self.bytes_accessed, "flops": self.flops,
                "transcendentals": self.transcendentals, "time_at_peak_s": self.time_at_peak_s,
                "changed": self.changed}


@dataclass(frozen=True)
class PassTimeline:
    """Every dump of one module's compilation, in pass order, with what each pass left behind."""

    module: str
    chip: str
    steps: tuple[PassStep, ...]

    @property
    def changed(self) -> tuple[PassStep, ...]:
        """The rows where the module changed (the input row included)."""
        return tuple(s for s in self.steps if s.changed or s.index == 0)

    def find(self, key: str | int) -> PassStep:
        """A pass by XLA's dump number (`14`), `input`/`output`, a pass name (`fusion`: its first run that
        changed the module; `fusion:2` the second) or `pipeline/pass`. `PipelineError` if none."""
        text = str(key).strip()
        if text.isdigit():
            for s in self.steps:
                if s.step == int(text):
                    return s
            raise PipelineError(f"no dump number {text} (numbers run 0..{self._last_step()}; see --passes)")
        for s in self.steps:
            if s.step is None and s.pass_name == text:
                return s
        name, _, nth = text.partition(":")
        occurrence = int(nth) if nth.isdigit() else 1
        pipeline, _, pass_name = name.rpartition("/")
        hits = [s for s in self.steps if s.changed and s.step is not None and s.pass_name == pass_name.strip()
                and (not pipeline or s.pipeline == pipeline.strip())]
        if len(hits) >= occurrence >= 1:
            return hits[occurrence - 1]
        names = sorted({s.pass_name for s in self.steps
                        if s.changed and s.step is not None and s.pass_name != "pipeline-start"})
        if hits:
            raise PipelineError(f"pass {name!r} changed the module {len(hits)} time(s), not {occurrence}")
        raise PipelineError(f"no pass named {name!r} changed the module (passes that did: {', '.join(names)})")

    def _last_step(self) -> int:
        return max((s.step for s in self.steps if s.step is not None), default=0)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "module": self.module, "chip": self.chip,
                "dumps": len(self.steps), "passes_that_changed": sum(1 for s in self.steps if s.changed),
                "steps": [s.to_json() for s in self.steps]}

    # Display: written by irscope.render, reached through the one hook irscope.util.display.
    def to_text(self, *, show_all: bool = False) -> str:
        return show(self, "text", show_all=show_all)

    def _repr_html_(self) -> str:
        return show(self, "html")


class PassDumps:
    """A directory of per-pass dumps of one module, read one file at a time."""

    def __init__(self, directory: str | Path, module_name: str | None = None) -> None:
        self.directory = Path(directory)
        self.files = dump_files(self.directory, module_name)
        if not self.files:
            raise PipelineError(
                f"{directory}: XLA wrote no per-pass HLO dumps" + (f" of {module_name}" if module_name else "")
                + " (a persistent compilation cache hit compiles nothing; turn it off for --passes)")
        self.module_name = module_name or module_of(self.files[0].name)

    def text(self, index: int) -> str:
        return (self.directory / self.files[index].name).read_text(encoding="utf-8")

    def module(self, index: int) -> Module:
        return parse_module(self.text(index), self.files[index].name)

    def timeline(self, chip: Chip, *, progress: Callable[[int, int], None] | None = None) -> PassTimeline:
        """Read every dump in order (one in memory at a time) and summarize each."""
        steps: list[PassStep] = []
        previous_digest = b""
        previous: PassStep | None = None
        for index, f in enumerate(self.files):
            text = self.text(index)
            digest = hashlib.sha1(text.encode()).digest()
            if previous is not None and digest == previous_digest:
                stats = previous
                changed = False
            else:
                stats = _summarize(parse_module(text, f.name), chip)
                changed = previous is not None
            del text
            steps.append(PassStep(
                index=index, step=f.step, pipeline=f.pipeline, pass_name=f.pass_name, next_pass=f.next_pass,
                during=f.during, file=f.name, instructions=stats.instructions, computations=stats.computations,
                fusions=stats.fusions, kernels=stats.kernels, bytes_accessed=stats.bytes_accessed,
                flops=stats.flops, transcendentals=stats.transcendentals, time_at_peak_s=stats.time_at_peak_s,
                changed=changed))
            previous, previous_digest = steps[-1], digest
            if progress is not None:
                progress(index + 1, len(self.files))
        return PassTimeline(self.module_name, chip.name, tuple(steps))

    def around(self, step: PassStep) -> tuple[Module, Module]:
        """The module before the pass (the previous dump) and after it."""
        if step.index == 0:
            raise PipelineError("the input is not a pass: pick a pass that changed the module (see --passes)")
        return self.module(step.index - 1), self.module(step.index)


@dataclass(frozen=True)
class _Stats:
    instructions: int
    computations: int
    fusions: int
    kernels: int
    bytes_accessed: float
    flops: float
    transcendentals: float
    time_at_peak_s: float


def _summarize(module: Module, chip: Chip) -> _Stats:
    report = analyze(module, chip)
    t = report.cost.totals
    return _Stats(
        instructions=module.instruction_count, computations=len(module.computations),
        fusions=sum(1 for r in report.rows if r.kernel.opcode == "fusion"), kernels=len(report.rows),
        bytes_accessed=t.bytes_accessed, flops=t.flops, transcendentals=t.transcendentals,
        time_at_peak_s=report.time_at_peak_s)


@contextmanager
def capture(compile_with: Callable[[dict[str, Any]], object], module_name: str | None = None
            ) -> Iterator[PassDumps]:
    """Compile with per-pass dumps (`irscope.frontends.xla_dump.dump_passes`: `compile_with(options)`
    runs the compile) and yield the dumps it wrote; they are deleted when the `with` block ends."""
    with dump_passes(compile_with) as directory:
        yield PassDumps(directory, module_name)


def capture_lowered(lowered: Lowered) -> AbstractContextManager[PassDumps]:
    """`capture` for an `irscope.frontends.jax_lower.Lowered`, with its own compiler options kept."""
    return capture(lowered_compiler(lowered), lowered.name)


def read_dumps(directory: str | Path, module_name: str | None = None) -> PassDumps:
    """A dump directory written earlier (`XLA_FLAGS=--xla_dump_to=DIR --xla_dump_hlo_pass_re=.*`)."""
    return PassDumps(directory, module_name)
