"""What a user feeds the CLI by mistake ends in one line on stderr and exit status 2, and never
hangs, exhausts memory or overwrites an input (issue 18)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

import irscope
from irscope.cli.main import main
from irscope.ir import files
from irscope.ir.files import InputFileError, check_input, read_text

GELU = REPO / "tests" / "data" / "gelu_exact.hlo"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse refuses a flag by exiting (one line, status 2)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys, *argv: str) -> str:
    code, _, err = _run(capsys, *argv)
    assert code == 2, err
    # Progress lines may come first; the error is the last line, and the only one.
    lines = err.strip().splitlines()
    assert [line for line in lines if "error" in line] == lines[-1:] and "Traceback" not in err, err
    assert lines[-1].startswith(f"irscope {argv[0]}: error: "), err
    return lines[-1]


@pytest.fixture
def gelu(tmp_path: Path) -> Path:
    path = tmp_path / "g.hlo"
    path.write_bytes(GELU.read_bytes())
    return path


def test_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "dump.hlo"
    os.mkfifo(fifo)
    for argv in (["hlo", str(fifo)], ["diff", str(fifo), str(GELU)], ["hlo", str(tmp_path / "m.py")]):
        if argv[1].endswith(".py"):
            os.mkfifo(argv[1])
        assert "named pipe (FIFO)" in _one_line_error(capsys, *argv)


def test_every_subcommand_refuses_a_fifo_before_opening_it(tmp_path, capsys):
    fifo = tmp_path / "m.tflite"
    os.mkfifo(fifo)
    assert "named pipe (FIFO)" in _one_line_error(capsys, "tflite", str(fifo))
    assert "named pipe (FIFO)" in _one_line_error(capsys, "tflite", str(GELU), "--compare", str(fifo))
    long_name = str(tmp_path / ("x" * 400 + ".tflite"))
    assert "file name too long" in _one_line_error(capsys, "tflite", long_name)


def test_devices_and_folders_are_named(tmp_path, capsys):
    assert "is a character device" in _one_line_error(capsys, "hlo", "/dev/zero")
    assert "is a directory" in _one_line_error(capsys, "hlo", str(tmp_path))
    assert "is a directory" in _one_line_error(capsys, "diff", str(GELU), str(tmp_path))


def test_a_name_too_long_and_a_missing_file(tmp_path, capsys):
    line = _one_line_error(capsys, "hlo", str(tmp_path / ("a" * 400 + ".hlo")))
    assert "file name too long" in line and len(line) < 200
    assert "no such file" in _one_line_error(capsys, "hlo", str(tmp_path / "none.hlo"))
    assert "not a folder" in _one_line_error(capsys, "hlo", str(GELU / "x.hlo"))


def test_an_unreadable_file_is_one_line(gelu, capsys, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(gelu) else real_access(p, mode))
    assert "permission denied" in _one_line_error(capsys, "hlo", str(gelu))
    if os.geteuid() != 0:  # root reads anything: the real refusal only shows for other users
        monkeypatch.undo()
        gelu.chmod(0)
        assert "permission denied" in _one_line_error(capsys, "hlo", str(gelu))


def test_size_limit_and_how_to_raise_it(gelu, capsys, monkeypatch):
    monkeypatch.setenv(files.LIMIT_VARIABLE, "1K")
    line = _one_line_error(capsys, "hlo", str(gelu))
    assert "above irscope's limit of 1.0 KiB" in line and "IRSCOPE_MAX_INPUT_BYTES" in line
    monkeypatch.setenv(files.LIMIT_VARIABLE, "1M")
    code, out, _ = _run(capsys, "hlo", str(gelu))
    assert code == 0 and "kernel" in out
    monkeypatch.setenv(files.LIMIT_VARIABLE, "lots")
    assert "is not a size" in _one_line_error(capsys, "hlo", str(gelu))


def test_binary_input_is_not_text(tmp_path, capsys):
    path = tmp_path / "x.hlo"
    path.write_bytes(b"HloModule m\n\xff\xfe\x00")
    assert "not a text file" in _one_line_error(capsys, "hlo", str(path))


def test_ill_formed_hlo_is_one_line_with_its_place(tmp_path, capsys):
    path = tmp_path / "bad.hlo"
    path.write_text("ENTRY e {\n  p = f32[4] parameter(0)\n  ROOT a = f32[4] add(p, a)\n}\n")
    line = _one_line_error(capsys, "hlo", str(path))
    assert f"{path}:3:8:" in line and "is its own operand" in line
    line = _one_line_error(capsys, "diff", str(path), str(GELU))
    assert "is its own operand" in line


def test_outputs_never_overwrite_an_input(gelu, tmp_path, capsys):
    before = gelu.read_bytes()
    link = tmp_path / "link.svg"
    link.symlink_to(gelu)
    hard = tmp_path / "hard.json"
    os.link(gelu, hard)
    for argv in (["hlo", str(gelu), "--json", str(gelu)], ["hlo", str(gelu), "--svg", str(link)],
                 ["hlo", str(gelu), "--json", str(hard)], ["diff", str(gelu), str(GELU), "--html", str(gelu)],
                 ["diff", str(GELU), str(gelu), "--json", str(hard)]):
        assert "is the input" in _one_line_error(capsys, *argv)
    assert gelu.read_bytes() == before


def test_empty_output_path_is_refused(gelu, capsys):
    for flag in ("--json", "--svg"):
        assert "empty path" in _one_line_error(capsys, "hlo", str(gelu), flag, "")


def test_closed_stdout_is_reported():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for extra in (["--json", "-"], []):
        proc = subprocess.run([sys.executable, "-m", "irscope", "hlo", str(GELU), *extra], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
                              preexec_fn=lambda: os.close(1))
        assert proc.returncode == 2, proc.stderr
        assert "stdout is closed" in proc.stderr and "Traceback" not in proc.stderr


MODEL_STOPS = {
    "exit_on_load": ("import sys\nsys.exit(4)\n", "SystemExit: 4 (the code called sys.exit(4) while loading)"),
    "exit_in_function": ("import sys\ndef f(x):\n    sys.exit(5)\nIRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n",
                         "m.py:3: SystemExit: 5 (the code called sys.exit(5) while f was traced)"),
    "exit_none": ("import sys\nsys.exit()\n", "the code called sys.exit()"),
    "base_exception": ("class Stop(BaseException):\n    pass\ndef f(x):\n    raise Stop('halt')\n"
                       "IRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n", "m.py:4: Stop: halt (a BaseException"),
    "base_exception_on_load": ("class Stop(BaseException):\n    pass\nraise Stop()\n", "m.py:3: Stop"),
    "generator_exit": ("raise GeneratorExit('g')\n", "GeneratorExit: g"),
}


@pytest.mark.parametrize("name", sorted(MODEL_STOPS))
def test_user_code_that_stops_is_one_line_naming_it(name, tmp_path, capsys):
    source, words = MODEL_STOPS[name]
    path = tmp_path / "m.py"
    path.write_text(source)
    assert words in _one_line_error(capsys, "hlo", str(path))


def test_stop_while_measuring_is_one_line(tmp_path, capsys):
    # Tracing sees an abstract value; the eager run under --measure sees a concrete one and stops.
    path = tmp_path / "m.py"
    path.write_text("import sys\nimport jax\ndef f(x):\n    if not isinstance(x, jax.core.Tracer):\n"
                    "        sys.exit(7)\n    return x * 2\nIRSCOPE_EXAMPLES = {'f': (f, ['f32[4]'])}\n")
    line = _one_line_error(capsys, "hlo", str(path), "--measure", "--repeats", "1")
    assert "SystemExit" in line or "sys.exit(7)" in line


def test_bad_flag_values_are_one_line(gelu, capsys):
    model = str(REPO / "examples" / "mlp.py")
    cases = [
        (["hlo", model, "--backend", "nope"], "--backend 'nope': not a backend"),
        (["hlo", str(gelu), "--backend", "cpu\n"], "not a backend"),
        (["hlo", str(gelu), "--hw", "nope"], "unknown chip"),
        (["hlo", str(gelu), "--top", "-3"], "--top"),
        (["hlo", str(gelu), "--module", "9"], "out of range"),
        (["diff", str(gelu), str(gelu), "--xla-flags", "nope"], "not an XLA flag"),
        (["diff", str(gelu), str(gelu), "--hw", ""], "unknown chip"),
        (["hlo", model, "--fn", "mlp", "--args", "f32[99999999999,99999999999] f32[2]"], "more than 2**63 bytes"),
    ]
    for argv, words in cases:
        assert words in _one_line_error(capsys, *argv)


def test_api_reads_through_the_same_checks(tmp_path):
    fifo = tmp_path / "p.hlo"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="named pipe"):
        irscope.inspect_hlo(fifo)
    with pytest.raises(FileNotFoundError, match="no such file"):
        irscope.inspect_hlo(tmp_path / "none.hlo")
    with pytest.raises(ValueError, match="is its own operand"):
        irscope.inspect_hlo("ENTRY e {\n  p = f32[4] parameter(0)\n  ROOT a = f32[4] add(a, p)\n}\n")
    with pytest.raises(InputFileError, match="character device"):
        check_input("/dev/zero")
    assert check_input(tmp_path, directories=True)


def test_read_text_stops_at_the_limit_even_if_the_file_grows(tmp_path, monkeypatch):
    path = tmp_path / "x.hlo"
    path.write_text("x" * 100)
    monkeypatch.setenv(files.LIMIT_VARIABLE, "64")
    with pytest.raises(InputFileError) as info:
        read_text(path)
    assert info.value.errno == errno.EFBIG
