"""The XLA pass timeline: per-pass dumps through the compile call, read in order, diffed per pass,
and the temporary dump directory removed; and `--passes` / `--pass` on the hlo command."""

from __future__ import annotations

import argparse
import json
import tempfile

import pytest
from conftest import REPO

from irscope.cli import hlo as hlo_cli
from irscope.cli.common import OneLineParser, UserError
from irscope.cli.passes import add_arguments, run_target
from irscope.errors import IrscopeError
from irscope.frontends import model_file
from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_module
from irscope.passes.diff import diff_modules
from irscope.passes.pipeline import DUMP_OPTIONS, PipelineError, capture_lowered, read_dumps

MLP = REPO / "examples" / "mlp.py"


@pytest.fixture(scope="module")
def lowered():
    return model_file.resolve(MLP)[0].lower()


@pytest.fixture(scope="module")
def captured(lowered, tmp_path_factory):
    """The timeline, and the modules around the fusion pass, from one capture."""
    with capture_lowered(lowered) as dumps:
        timeline = dumps.timeline(get_chip("h100"))
        step = timeline.find("fusion")
        before, after = dumps.around(step)
        files = [f.name for f in dumps.files]
    return timeline, step, before, after, files


def test_timeline_in_pass_order(captured, lowered):
    timeline, _, _, _, files = captured
    steps = timeline.steps
    assert steps[0].pass_name == "input" and steps[0].file.endswith("before_optimizations.txt")
    assert steps[-1].pass_name == "output" and steps[-1].file.endswith("after_optimizations.txt")
    numbers = [s.step for s in steps[1:-1]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert [s.index for s in steps] == list(range(len(steps)))
    assert len(files) == len(steps)
    # What the last row says is what XLA returned.
    final = parse_module(lowered.optimized)
    assert steps[-1].instructions == final.instruction_count
    assert steps[-1].kernels == 6 and steps[-1].fusions == 6
    # The input is unfused; something in between changed the module.
    assert steps[0].fusions == 0
    assert sum(s.changed for s in steps) >= 3


def test_fusion_pass_and_its_diff(captured):
    timeline, step, before, after, _ = captured
    previous = timeline.steps[step.index - 1]
    assert step.pass_name == "fusion" and step.changed
    assert step.fusions > previous.fusions and step.kernels < previous.kernels
    assert step.bytes_accessed < previous.bytes_accessed  # fusion keeps intermediates out of memory
    result = diff_modules(before, after, "h100")
    assert not result.identical
    assert result.summary["removed"] > 0
    assert result.after.kernels == step.kernels and result.before.kernels == previous.kernels


def test_find(captured):
    timeline, step, _, _, _ = captured
    assert timeline.find(str(step.step)) is step
    assert timeline.find(step.step) is step
    assert timeline.find(f"{step.pipeline}/fusion") is step
    assert timeline.find("input").index == 0
    with pytest.raises(PipelineError, match="no pass named 'nosuch'.*fusion"):
        timeline.find("nosuch")
    with pytest.raises(PipelineError, match="changed the module 1 time"):
        timeline.find("fusion:2")
    with pytest.raises(PipelineError, match="no dump number 9999"):
        timeline.find("9999")
    doc = timeline.to_json()
    assert doc["schema"] == "irscope.pass-timeline/1" and len(doc["steps"]) == len(timeline.steps)
    text = timeline.to_text()
    assert "/ fusion" in text and "(input)" in text
    assert len(text.splitlines()) < len(timeline.steps) + 8  # unchanged dumps are left out


def test_dump_directory_is_removed(lowered, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with capture_lowered(lowered) as dumps:
        assert dumps.directory.parent == scratch and any(dumps.directory.iterdir())
        dumps.timeline(get_chip("h100"))
    assert list(scratch.iterdir()) == []
    with pytest.raises(RuntimeError), capture_lowered(lowered):  # removed on errors too
        raise RuntimeError("boom")
    assert list(scratch.iterdir()) == []


def test_read_dumps_of_a_directory(lowered, tmp_path, captured):
    lowered.jax_lowered.compile(compiler_options={**DUMP_OPTIONS, "xla_dump_to": str(tmp_path)})
    dumps = read_dumps(tmp_path, lowered.name)
    timeline = dumps.timeline(get_chip("h100"))
    assert [s.label for s in timeline.steps] == [s.label for s in captured[0].steps]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PipelineError, match="no per-pass HLO dumps"):
        read_dumps(empty)


# --- The hlo command's flags -------------------------------------------------------------------------

def _hlo_args(*argv: str) -> argparse.Namespace:
    """Parse `irscope hlo ARGV` with the pass flags (added here unless cli/hlo.py already adds them)."""
    top = OneLineParser(prog="irscope")
    sub = top.add_subparsers(dest="command", parser_class=OneLineParser)
    parser = hlo_cli.add_parser(sub)
    if "--passes" not in parser._option_string_actions:
        add_arguments(parser)
    return top.parse_args(["hlo", *argv])


def test_cli_passes(capsys, tmp_path):
    out_json = tmp_path / "t.json"
    assert run_target(_hlo_args(str(MLP), "--passes", "--hw", "h100", "--json", str(out_json))) == 0
    out, err = capsys.readouterr()
    assert out.startswith("XLA pass timeline of jit_mlp")
    assert "/ fusion" in out and "(input)" in out
    assert "dumping the module after every pass" in err
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "irscope.pass-timeline/1"


def test_cli_one_pass(capsys, tmp_path):
    page, out_json = tmp_path / "p.html", tmp_path / "p.json"
    args = _hlo_args(str(MLP), "--pass", "fusion", "--hw", "h100", "--pass-html", str(page), "--json", str(out_json))
    assert run_target(args) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("pass ") and ": HLO_passes_after_layout_assignment / fusion" in out.splitlines()[0]
    assert "kernels:" in out and "removed" in out
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "irscope.diff-report/1" and doc["pass"]["pass"] == "fusion"
    assert "data-peer" in page.read_text()


def test_cli_errors(tmp_path):
    with pytest.raises(IrscopeError, match="no pass named 'nosuch'"):
        run_target(_hlo_args(str(MLP), "--pass", "nosuch", "--hw", "h100"))
    with pytest.raises(UserError, match="already optimized"):
        run_target(_hlo_args(str(REPO / "tests" / "data" / "gelu_tanh.hlo"), "--passes", "--hw", "h100"))
    with pytest.raises(UserError, match="offers 2 programs"):
        run_target(_hlo_args(str(REPO / "examples" / "gelu.py"), "--passes", "--hw", "h100"))
