"""XLA's own memory figures, read from an `--xla_dump_to` directory.

With `XLA_FLAGS=--xla_dump_to=DIR`, XLA writes beside each optimized module
(`module_0008.jit_mlp.cpu_after_optimizations.txt`):

- `...-buffer-assignment.txt`: every allocation (`allocation 4: size 262144, preallocated-temp:`) with
  its kind (an entry `parameter N`, `output`/`maybe-live-out`, `constant`, `thread-local`, a temp)
  and the values packed into it. The temp allocations' sizes add up to `Compiled.memory_analysis()`'s
  temp bytes: the heap simulator's packing, alignment and fragmentation included.
- `...-live-range.txt`: `HloLiveRange`'s flattened schedule, each value's live range, and under
  "Live ranges at T (peak)" the values live at the peak moment T with their bytes.
- `...-memory-usage-report.txt`: the allocations by size (not read: the buffer assignment has it all).

XLA:CPU, XLA:GPU (`...sm_9.0a_gpu_after_optimizations-live-range.txt`) and XLA:TPU
(`...cl_NNN.after_optimizations-live-range.txt`) all write these three files.

`read_xla_memory(directory, module_name)` reads the first two for one module. This reads text XLA
wrote; it never compiles. XLA:TPU also assigns buffers in other memory spaces (`allocation 8: size
163840, color 1, preallocated-temp:`; color 1 is the TensorCore's VMEM): `temp_bytes` counts the
default space's temps only (HBM), and `other_space_temp_bytes` the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from irscope.errors import XlaDumpError

BUFFER_ASSIGNMENT = "-buffer-assignment.txt"
LIVE_RANGE = "-live-range.txt"

_ALLOCATION = re.compile(r"^allocation (\d+): size (\d+)(.*)$", re.M)
_COLOR = re.compile(r"\bcolor (\d+)")
_PEAK = re.compile(r"^  Live ranges at (\d+) \(peak\):\n((?:    .*\n?)*)", re.M)
_LIVE = re.compile(r"^    (\S+): (\d+) bytes")
# Allocation kinds that are not temporaries (xla/service/buffer_assignment.cc, BufferAllocation::ToString).
_NOT_TEMP = ("parameter", "constant", "thread-local", "maybe-live-out", "output shape")


@dataclass(frozen=True)
class Allocation:
    index: int
    size: int
    kind: str
    """The rest of XLA's header line: `parameter 0, shape |f32[8]| at ShapeIndex {}`, `preallocated-temp`."""

    @property
    def is_temp(self) -> bool:
        return not any(word in self.kind for word in _NOT_TEMP)

    @property
    def color(self) -> int:
        """XLA's memory space of the allocation: 0 the device's main memory, others (TPU: 1 VMEM) on chip."""
        m = _COLOR.search(self.kind)
        return int(m.group(1)) if m else 0


@dataclass(frozen=True)
class XlaMemory:
    """XLA's figures for one module of a dump."""

    module_file: Path
    """The optimized module's text (`*after_optimizations.txt`), when it is in the directory."""
    allocations: tuple[Allocation, ...]
    temp_bytes: int
    """Sum of the sizes of the temp allocations in the default memory space (color 0): on XLA:CPU and
    XLA:GPU, `Compiled.memory_analysis()`'s temp bytes."""
    peak_index: int | None
    """T of "Live ranges at T (peak)" (None when the live-range file is missing)."""
    peak_bytes: int | None
    """Sum of the bytes XLA lists as live at T."""
    live_at_peak: tuple[tuple[str, int], ...]
    """(value, bytes) as XLA lists them at T."""
    other_space_temp_bytes: int = 0
    """Temp allocations in other memory spaces (XLA:TPU's VMEM and the like), not in `temp_bytes`."""


def find_dump_files(directory: Path, module_name: str | None = None, file_stem: str | None = None) -> Path:
    """The `...-buffer-assignment.txt` of `module_name` (else of the largest module) in `directory`.

    `file_stem` is the name of the module's own file without its suffix: when no dump file names the
    module, the one that begins with it is taken (`train.hlo` beside `train-buffer-assignment.txt`)."""
    if not directory.is_dir():
        raise XlaDumpError(f"{directory}: not a directory (give the folder XLA_FLAGS=--xla_dump_to wrote)")
    found = sorted(directory.glob(f"*{BUFFER_ASSIGNMENT}"))
    if not found:
        raise XlaDumpError(f"{directory}: no *{BUFFER_ASSIGNMENT} here (compile with "
                           "XLA_FLAGS=--xla_dump_to=DIR to write them)")
    if module_name is not None:
        named = [p for p in found if f".{module_name}." in p.name or p.name.startswith(f"{module_name}-")
                 or p.name.startswith(f"{module_name}.")]
        if not named and file_stem:
            named = [p for p in found if p.name == f"{file_stem}{BUFFER_ASSIGNMENT}"]
        if not named:
            raise XlaDumpError(f"{directory}: no buffer assignment of module {module_name} "
                               f"({len(found)} other module(s) there)")
        found = named
    return max(found, key=lambda p: p.stat().st_size)


def read_xla_memory(directory: str | Path, module_name: str | None = None, file_stem: str | None = None) -> XlaMemory:
    """XLA's buffer assignment and live-range peak for one module of a dump directory."""
    assignment = find_dump_files(Path(directory), module_name, file_stem)
    prefix = assignment.name[: -len(BUFFER_ASSIGNMENT)]
    allocations = parse_buffer_assignment(assignment.read_text(encoding="utf-8", errors="replace"))
    if not allocations:
        raise XlaDumpError(f"{assignment}: no allocations in it (is it XLA's buffer assignment?)")
    live_file = assignment.with_name(prefix + LIVE_RANGE)
    peak_index = peak_bytes = None
    live: tuple[tuple[str, int], ...] = ()
    if live_file.is_file():
        peak_index, live = parse_live_range_peak(live_file.read_text(encoding="utf-8", errors="replace"))
        peak_bytes = sum(b for _, b in live) if peak_index is not None else None
    module_file = next((assignment.with_name(prefix + ext) for ext in (".txt", ".hlo")
                        if assignment.with_name(prefix + ext).is_file()), assignment.with_name(prefix + ".txt"))
    temps = [a for a in allocations if a.is_temp]
    return XlaMemory(module_file, allocations, sum(a.size for a in temps if a.color == 0), peak_index,
                     peak_bytes, live, sum(a.size for a in temps if a.color != 0))


def parse_buffer_assignment(text: str) -> tuple[Allocation, ...]:
    return tuple(Allocation(int(m.group(1)), int(m.group(2)), m.group(3).strip(" ,:"))
                 for m in _ALLOCATION.finditer(text))


def parse_live_range_peak(text: str) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    """(T, [(value, bytes)]) of the "Live ranges at T (peak)" section; (None, ()) when there is none."""
    m = _PEAK.search(text)
    if m is None:
        return None, ()
    live = []
    for line in m.group(2).splitlines():
        entry = _LIVE.match(line)
        if entry is None:
            break
        live.append((entry.group(1), int(entry.group(2))))
    return int(m.group(1)), tuple(live)
