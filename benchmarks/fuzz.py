"""Fuzz campaign: mutated real inputs and CLI misuse through the real CLI, in child processes.

    python benchmarks/fuzz.py [--hlo 10000] [--tflite 5000] [--mlir 300] [--cli all] [--seed 0]
                              [--workers 2] [--timeout 60] [--keep DIR]

Each input goes through `irscope.cli.main.main(argv)` (what the `irscope` command runs) in a worker
process that handles many inputs one after another; the parent gives each input `--timeout` seconds
and kills the worker when it runs over (a hang) or dies (a signal: a crash). Categories:

  hlo     structure-aware mutants of tests/data/corpus/hlo/*.hlo (tests/mutants.py), as
          `irscope hlo M.hlo --hw h100 --json OUT` (every 20th with --svg, every 20th as a diff)
  tflite  mutants of the .tflite files the tests convert (tests/tflite_models.py, cached under
          benchmarks/.cache/fuzz/), as `irscope tflite M.tflite --hw h100 --json OUT`
  mlir    MLIR text and bytecode of tests/jax_programs.py, mutated, as `irscope hlo M.mlir --json OUT`
  cli     misuse: special files (FIFO, device, folder, long name, binary, empty), model files that
          call sys.exit or raise a BaseException, bad flag values, outputs that are an input or
          empty, and a closed stdout (that one in its own process)

It prints, per category, like a benchmark: inputs, reports (exit 0/1), user errors (exit 2 with one
`error:` line), crashes (a traceback, a signal, another exit status), hangs and inputs modified
(hashed before and after each run), then each crash class with its count, an example input
(kept under --keep) and the first line of its error. The seed fixes every mutant.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))  # the mutators and the test models live with the tests
CACHE = HERE / ".cache" / "fuzz"


# -- the worker (a child process) ----------------------------------------------------------------

def worker() -> None:
    """Read one JSON job per line on stdin, run it through the CLI, answer one JSON line."""
    import io

    protocol = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # C++ logging and stray prints must not reach the protocol stream
    os.dup2(devnull, 2)
    from irscope.cli.main import main

    for line in sys.stdin:
        job = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = out, err
        exc = None
        os.environ.update(job.get("env", {}))
        try:
            rc = main(job["argv"])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        except BaseException as e:  # noqa: BLE001 - anything escaping main is what we count
            rc = None
            frames = [f for f in traceback.extract_tb(e.__traceback__) if f"{os.sep}irscope{os.sep}" in f.filename]
            where = (f"{frames[-1].filename.split(os.sep + 'irscope' + os.sep)[-1]}:{frames[-1].lineno}"
                     if frames else "?")
            exc = {"type": type(e).__name__, "where": where, "message": str(e).splitlines()[0][:200] if str(e) else ""}
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            for key in job.get("env", {}):
                os.environ.pop(key, None)
        text = err.getvalue()
        errors = [line[:300] for line in text.splitlines() if ": error: " in line]
        protocol.write(json.dumps({"rc": rc, "stderr": text[-2000:], "errors": errors[-3:], "exc": exc}) + "\n")
        protocol.flush()


class Worker:
    """A worker process; `run(job, timeout)` -> result dict, or {"hang": True} / {"signal": n}."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=REPO,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env, start_new_session=True)

    def run(self, job: dict, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._died()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            return {"hang": True}
        line = self.proc.stdout.readline()
        if not line:
            return self._died()
        return json.loads(line)

    def _died(self) -> dict:
        assert self.proc is not None
        code = self.proc.wait()
        self.proc = None
        return {"signal": -code if code < 0 else None, "exit": code}

    def kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None


# -- inputs --------------------------------------------------------------------------------------

@dataclass
class Case:
    category: str
    argv: list[str]
    inputs: list[str]
    """Files whose bytes must not change."""
    label: str = ""
    env: dict[str, str] = field(default_factory=dict)
    closed_stdout: bool = False


def hlo_cases(n: int, rng: random.Random, work: Path) -> list[Case]:
    from mutants import RandomChoices, hlo_mutant

    corpus = sorted((REPO / "tests" / "data" / "corpus" / "hlo").glob("*.hlo"))
    texts = [p.read_text() for p in corpus]
    cases = []
    for k in range(n):
        base = rng.randrange(len(texts))
        path = work / f"hlo_{k}.hlo"
        path.write_text(hlo_mutant(texts[base], RandomChoices(rng)))
        out = str(work / "out.json")
        if k % 20 == 7:
            argv = ["diff", str(path), str(corpus[base]), "--hw", "h100", "--json", out]
        elif k % 20 == 13:
            argv = ["hlo", str(path), "--hw", "h100", "--svg", str(work / "out.svg")]
        else:
            argv = ["hlo", str(path), "--hw", "h100", "--json", out, "--sort", rng.choice(["bytes", "flops", "time"])]
        cases.append(Case("hlo", argv, [str(path)], corpus[base].name))
    return cases


def tflite_models() -> list[Path]:
    """The tests' converted models, converted once and cached (conversion takes a minute)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    names = ("cnn.fp32", "cnn.fp16", "cnn.dynamic", "cnn.int8", "cnn.int16x8", "seq.fp32", "seq.int8")
    paths = [CACHE / f"{name}.tflite" for name in names]
    if not all(p.exists() for p in paths):
        print("converting the test models to .tflite (once; cached in benchmarks/.cache/fuzz) ...", file=sys.stderr)
        from tflite_models import converted

        for name, path in zip(names, paths, strict=True):
            path.write_bytes(converted()[name].read_bytes())
    return paths


def tflite_cases(n: int, rng: random.Random, work: Path) -> list[Case]:
    from mutants import RandomChoices, tflite_mutant

    models = tflite_models()
    datas = [p.read_bytes() for p in models]
    cases = []
    for k in range(n):
        base = rng.randrange(len(datas))
        path = work / f"tfl_{k}.tflite"
        path.write_bytes(tflite_mutant(datas[base], RandomChoices(rng)))
        cases.append(Case("tflite", ["tflite", str(path), "--hw", "h100", "--json", str(work / "out.json")],
                          [str(path)], models[base].name))
    return cases


def mlir_sources() -> list[tuple[str, str, bytes]]:
    """(name, MLIR text, MLIR bytecode) of the tests' JAX programs, cached."""
    cache = CACHE / "mlir.json"
    if cache.exists():
        return [(n, t, bytes.fromhex(b)) for n, t, b in json.loads(cache.read_text())]
    import io

    import jax
    from jax_programs import PROGRAMS

    out = []
    for name, (fn, args) in sorted(PROGRAMS.items()):
        lowered = jax.jit(fn).lower(*args)
        module = lowered.compiler_ir("stablehlo")
        buffer = io.BytesIO()
        module.operation.write_bytecode(buffer)
        out.append((name, lowered.as_text(), buffer.getvalue()))
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([(n, t, b.hex()) for n, t, b in out]))
    return out


def mlir_cases(n: int, rng: random.Random, work: Path) -> list[Case]:
    from mutants import RandomChoices, mlir_mutant, tflite_mutant

    sources = mlir_sources()
    cases = []
    for k in range(n):
        name, text, code = rng.choice(sources)
        if k % 3 == 2:  # bytecode: cut and flipped bytes (tflite_mutant's byte edits work on any file)
            path = work / f"mlir_{k}.mlirbc"
            data = code
            while data == code:
                data = tflite_mutant(code, _ByteEdits(rng))
            path.write_bytes(data)
        else:
            path = work / f"mlir_{k}.mlir"
            path.write_text(mlir_mutant(text, RandomChoices(rng)))
        cases.append(Case("mlir", ["hlo", str(path), "--hw", "h100", "--json", str(work / "out.json")],
                          [str(path)], name))
    return cases


class _ByteEdits:
    """Choices that keep tflite_mutant to its byte-level edits (cut, flip, overwrite)."""

    def __init__(self, rng: random.Random):
        self.rng, self.first = rng, True

    def integer(self, low: int, high: int) -> int:
        if self.first:
            self.first = False
            return self.rng.randint(0, 2)
        return self.rng.randint(low, high)

    def element(self, items):
        return items[self.integer(0, len(items) - 1)]


def cli_cases(work: Path) -> list[Case]:
    gelu = REPO / "tests" / "data" / "gelu_exact.hlo"
    tanh = REPO / "tests" / "data" / "gelu_tanh.hlo"
    model = REPO / "examples" / "mlp.py"
    tfl = tflite_models()[3]
    own = work / "own.hlo"
    own.write_bytes(gelu.read_bytes())
    fifo = work / "pipe.hlo"
    os.mkfifo(fifo)
    fifo_py = work / "pipe.py"
    os.mkfifo(fifo_py)
    empty = work / "empty.hlo"
    empty.write_text("")
    binary = work / "binary.hlo"
    binary.write_bytes(bytes(range(256)) * 4)
    link = work / "link.json"
    link.symlink_to(own)
    hard = work / "hard.json"
    os.link(own, hard)
    models = {
        "exit_load": "import sys\nsys.exit(3)\n",
        "exit_str": "import sys\nsys.exit('bye')\n",
        "exit_fn": "import sys\ndef f(x):\n    sys.exit(4)\nIRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n",
        "base_fn": "class Stop(BaseException):\n    pass\ndef f(x):\n    raise Stop('x')\n"
                   "IRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n",
        "base_load": "class Stop(BaseException):\n    pass\nraise Stop()\n",
        "genexit": "raise GeneratorExit()\n",
        "table_bad": "IRSCOPE_EXAMPLES = {'f': (1, 2)}\n",
        "table_list": "IRSCOPE_EXAMPLES = [1]\n",
        "syntax": "def f(:\n",
        "import_err": "import no_such_module_here\n",
        "recursion": "def f(x):\n    return f(x)\nIRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n",
        "bad_spec": "def f(x):\n    return x\nIRSCOPE_EXAMPLES = {'f': (f, ['q32[4]'])}\n",
        "huge_spec": "def f(x):\n    return x\nIRSCOPE_EXAMPLES = {'f': (f, ['f32[99999999999,99999999999]'])}\n",
    }
    model_paths = {}
    for name, source in models.items():
        path = work / f"m_{name}.py"
        path.write_text(source)
        model_paths[name] = path
    targets = [str(gelu), str(fifo), str(fifo_py), "/dev/zero", "/dev/null", str(work), str(work / "nope.hlo"),
               str(work / ("x" * 300 + ".hlo")), str(empty), str(binary), str(gelu) + "/x", "", "-"]
    cases: list[Case] = []
    for t in targets:
        cases.append(Case("cli", ["hlo", t], [str(gelu)], f"target {t[:40]!r}"))
        cases.append(Case("cli", ["diff", t, str(tanh)], [str(gelu), str(tanh)], f"diff target {t[:40]!r}"))
        cases.append(Case("cli", ["tflite", t], [str(gelu)], f"tflite target {t[:40]!r}"))
    for name, path in model_paths.items():
        cases.append(Case("cli", ["hlo", str(path)], [str(path)], f"model {name}"))
        cases.append(Case("cli", ["hlo", str(path), "--list"], [str(path)], f"model {name} --list"))
        cases.append(Case("cli", ["diff", f"{path}::f", str(model)], [str(path)], f"diff model {name}"))
    flags = [
        ["--hw", "nope"], ["--hw", ""], ["--top", "-1"], ["--top", "x"], ["--module", "99"], ["--module", "-1"],
        ["--sort", "nope"], ["--backend", "nope"], ["--backend", ""], ["--stage", "nope"], ["--computation", "nope"],
        ["--computation", "nope", "--svg", str(work / "o.svg")], ["--repeats", "0"], ["--repeats", "1"],
        ["--measure"], ["--fn", "nope"], ["--args", "f32["], ["--args", "q8[2]"], ["--args", "f32[-1]"],
        ["--json", ""], ["--svg", ""], ["--json", str(own)], ["--svg", str(link)], ["--json", str(hard)],
        ["--json", str(work / "no" / "such" / "x.json")], ["--json", str(work)], ["--json", "/dev/full"],
        ["--pass", "nope"], ["--pass-html", str(own)], ["--color-by", "x"], ["--expand"],
    ]
    for extra in flags:
        cases.append(Case("cli", ["hlo", str(own), *extra], [str(own)], f"hlo {' '.join(extra)[:50]}"))
        cases.append(Case("cli", ["hlo", str(model), *extra], [str(model)], f"model {' '.join(extra)[:50]}"))
    diff_flags = [["--xla-flags", "nope"], ["--xla-flags", "--xla_nope=1"], ["--xla-flags", "'"], ["--module", "5"],
                  ["--html", str(own)], ["--json", str(own)], ["--html", ""], ["--max-rows", "-5"],
                  ["--stage", "nope"], ["--hw", "nope"], ["--fn", "nope"]]
    for extra in diff_flags:
        cases.append(Case("cli", ["diff", str(own), str(tanh), *extra], [str(own), str(tanh)],
                          f"diff {' '.join(extra)[:50]}"))
    tflite_flags = [["--subgraph", "99"], ["--subgraph", "-1"], ["--max-rows", "-1"], ["--hw", "nope"],
                    ["--threads", "0"], ["--repeats", "0"], ["--json", str(tfl)], ["--svg", str(tfl)],
                    ["--json", ""], ["--compare", str(gelu)], ["--compare", str(fifo)], ["--calibration", str(fifo)],
                    ["--convert"], ["--convert", "-o", str(tfl)], ["--mode", "nope"]]
    for extra in tflite_flags:
        cases.append(Case("cli", ["tflite", str(tfl), *extra], [str(tfl), str(gelu)], f"tflite {' '.join(extra)[:50]}"))
    cases.append(Case("cli", ["tflite", str(model), "--convert", "-o", str(model)], [str(model)],
                      "tflite --convert -o the input"))
    kernel_flags = [["--sizes", "x"], ["--sizes", "0x0"], ["--sizes", "99999999999x99999999999"], ["--repeats", "0"],
                    ["--kernel", "nope"], ["--dtype", "f64"], ["--hw", "nope"], ["--json", ""]]
    for extra in kernel_flags:
        cases.append(Case("cli", ["kernels", *extra], [], f"kernels {' '.join(extra)[:50]}"))
    # The same flags on a StableHLO module, model files asked for outputs, a model on the diff side,
    # an HLO file handed to tflite, and flags argparse itself must refuse in one line.
    mlir = work / "own.mlir"
    mlir.write_text(mlir_sources()[0][1])
    for extra in flags:
        cases.append(Case("cli", ["hlo", str(mlir), *extra], [str(mlir)], f"mlir {' '.join(extra)[:50]}"))
    for name, path in model_paths.items():
        cases.append(Case("cli", ["hlo", str(path), "--json", "-"], [str(path)], f"model {name} --json -"))
        cases.append(Case("cli", ["hlo", str(path), "--svg", str(work / "m.svg")], [str(path)], f"model {name} --svg"))
    for extra in diff_flags:
        cases.append(Case("cli", ["diff", f"{model}::mlp", str(model), *extra], [str(model)],
                          f"diff model {' '.join(extra)[:50]}"))
    for extra in tflite_flags:
        cases.append(Case("cli", ["tflite", str(own), *extra], [str(own), str(tfl)], f"tflite on hlo {' '.join(extra)[:50]}"))
    for command in ("hlo", "tflite", "diff", "kernels", "hw"):
        for extra in (["--nope"], ["--top"], ["--hw"], ["--json"], ["-x"], ["--top", "1e400"], ["--hw", "h100:0"],
                      ["--hw", "h100:-1"]):
            argv = [command, *([str(own)] if command in ("hlo", "tflite") else []),
                    *([str(own), str(tanh)] if command == "diff" else []), *extra]
            cases.append(Case("cli", argv, [str(own), str(tanh)], f"{command} {' '.join(extra)[:50]}"))
    for env_value in ("1", "lots", "0"):
        cases.append(Case("cli", ["hlo", str(own)], [str(own)], f"IRSCOPE_MAX_INPUT_BYTES={env_value}",
                          env={"IRSCOPE_MAX_INPUT_BYTES": env_value}))
    for argv in (["hlo", str(own)], ["hlo", str(own), "--json", "-"], ["diff", str(own), str(tanh), "--json", "-"],
                 ["tflite", str(tfl), "--json", "-"], ["hw", "--json", "-"]):
        cases.append(Case("cli", argv, [str(own)], f"closed stdout: {' '.join(argv[:1] + argv[2:])}",
                          closed_stdout=True))
    return cases


# -- running -------------------------------------------------------------------------------------

def _digest(paths: list[str]) -> dict[str, str]:
    out = {}
    for p in paths:
        try:
            if os.path.isfile(p):
                out[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
        except OSError:
            pass
    return out


def _classify(case: Case, result: dict) -> tuple[str, str]:
    """(outcome, crash key): outcome is report, user-error, crash or hang."""
    if result.get("hang"):
        return "hang", "hang"
    if "signal" in result or "exit" in result:
        sig = result.get("signal")
        name = signal.Signals(sig).name if sig else f"exit {result.get('exit')}"
        return "crash", f"process died: {name}"
    if result.get("exc"):
        e = result["exc"]
        return "crash", f"{e['type']} at {e['where']}"
    rc = result["rc"]
    if rc in (0, 1):
        return "report", ""
    errors = result.get("errors") or [line for line in result["stderr"].splitlines() if ": error: " in line]
    if rc in (2, 130) and errors:
        return "user-error", ""
    return "crash", f"exit {rc} without an error line"


def _run_closed_stdout(case: Case, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        proc = subprocess.run([sys.executable, "-m", "irscope", *case.argv], cwd=REPO, env=env, timeout=timeout,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: os.close(1))
    except subprocess.TimeoutExpired:
        return {"hang": True}
    if proc.returncode < 0:
        return {"signal": -proc.returncode}
    exc = {"type": "Traceback", "where": "?", "message": proc.stderr.strip().splitlines()[-1][:200]} \
        if "Traceback" in proc.stderr else None
    errors = [line[:300] for line in proc.stderr.splitlines() if ": error: " in line]
    return {"rc": proc.returncode, "stderr": proc.stderr[-2000:], "errors": errors[-3:], "exc": exc}


@dataclass
class Tally:
    inputs: int = 0
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    modified: int = 0
    seconds: list[float] = field(default_factory=list)
    crashes: dict[str, list] = field(default_factory=dict)


def campaign(cases: list[Case], workers: int, timeout: float, keep: Path) -> dict[str, Tally]:
    tallies: dict[str, Tally] = collections.defaultdict(Tally)
    lock = threading.Lock()
    queue = list(reversed(cases))
    done = [0]
    start = time.perf_counter()

    def loop() -> None:
        w = Worker()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    case = queue.pop()
                before = _digest(case.inputs)
                t0 = time.perf_counter()
                if case.closed_stdout:
                    result = _run_closed_stdout(case, timeout)
                else:
                    result = w.run({"argv": case.argv, "env": case.env}, timeout)
                seconds = time.perf_counter() - t0
                outcome, key = _classify(case, result)
                modified = _digest(case.inputs) != before
                with lock:
                    tally = tallies[case.category]
                    tally.inputs += 1
                    tally.outcomes[outcome] += 1
                    tally.seconds.append(seconds)
                    if modified:
                        tally.modified += 1
                        tally.crashes.setdefault("input modified", []).append((case, result))
                    if key:
                        examples = tally.crashes.setdefault(key, [])
                        if len(examples) < 3:
                            _keep(case, keep, key, len(examples))
                        examples.append((case, result))
                    done[0] += 1
                    if done[0] % 250 == 0:
                        rate = done[0] / (time.perf_counter() - start)
                        print(f"  {done[0]}/{len(cases)} inputs, {rate:.1f}/s", file=sys.stderr, flush=True)
        finally:
            w.kill()

    threads = [threading.Thread(target=loop) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tallies


def _keep(case: Case, keep: Path, key: str, index: int) -> None:
    """Copy a crashing input under --keep, named by its crash class."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in key)[:60]
    for p in case.inputs[:1]:
        src = Path(p)
        if src.is_file() and case.category != "cli":
            dest = keep / case.category / f"{safe}.{index}{src.suffix}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())


def report(tallies: dict[str, Tally], seconds: float) -> None:
    header = f"{'category':<9} {'inputs':>7} {'reports':>8} {'user err':>8} {'crashes':>8} {'hangs':>6} " \
             f"{'modified':>9} {'median ms':>10}"
    print(header)
    print("-" * len(header))
    total = Tally()
    for name in ("hlo", "tflite", "mlir", "cli"):
        t = tallies.get(name)
        if t is None:
            continue
        print(f"{name:<9} {t.inputs:>7} {t.outcomes['report']:>8} {t.outcomes['user-error']:>8} "
              f"{t.outcomes['crash']:>8} {t.outcomes['hang']:>6} {t.modified:>9} "
              f"{statistics.median(t.seconds) * 1000:>10.0f}")
        total.inputs += t.inputs
        total.outcomes.update(t.outcomes)
        total.modified += t.modified
    print(f"{'total':<9} {total.inputs:>7} {total.outcomes['report']:>8} {total.outcomes['user-error']:>8} "
          f"{total.outcomes['crash']:>8} {total.outcomes['hang']:>6} {total.modified:>9}   ({seconds:.0f} s)")
    for name, t in tallies.items():
        for key, examples in sorted(t.crashes.items(), key=lambda kv: -len(kv[1])):
            case, result = examples[0]
            detail = (result.get("exc") or {}).get("message") or result.get("stderr", "").strip()[-160:]
            print(f"\n[{name}] {len(examples)} x {key}\n    e.g. {case.label}: irscope {' '.join(case.argv)[:150]}"
                  f"\n    {detail[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hlo", type=int, default=10000, help="HLO mutants (default 10000)")
    parser.add_argument("--tflite", type=int, default=5000, help="TFLite mutants (default 5000)")
    parser.add_argument("--mlir", type=int, default=300, help="MLIR mutants (default 300)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI misuse cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per input before it counts as a hang")
    parser.add_argument("--keep", type=Path, default=CACHE / "crashes", help="where crashing inputs are copied")
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="irscope-fuzz-") as tmp:
        work = Path(tmp)
        cases: list[Case] = []
        for name, n, make in (("hlo", args.hlo, hlo_cases), ("tflite", args.tflite, tflite_cases),
                              ("mlir", args.mlir, mlir_cases)):
            if n:
                folder = work / name
                folder.mkdir()
                cases += make(n, rng, folder)
        if not args.no_cli:
            folder = work / "cli"
            folder.mkdir()
            cases += cli_cases(folder)
        print(f"{len(cases)} inputs, seed {args.seed}, {args.workers} workers, {args.timeout:.0f} s per input",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        tallies = campaign(cases, args.workers, args.timeout, args.keep)
        report(tallies, time.perf_counter() - start)


if __name__ == "__main__":
    main()
