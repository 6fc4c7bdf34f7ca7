"""`irscope tflite` / `python -m inspect.tflite`: the table, JSON, SVG, --measure, --compare, --convert, the
one-line errors (with a fixed-seed mutation fuzz), and the quantization study's --quick run."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tflite_models import REPO, converted, one_error_line, run_tflite

from irscope.cli.main import main


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    return converted()


def test_table(capsys, models: dict[str, Path]) -> None:
    rc, out, err = run_tflite(capsys, str(models["seq.int8"]))
    assert rc == 0, err
    assert out.splitlines()[0].startswith(f"{models['seq.int8']}: int8 (int8 in, int8 out), 15 ops")
    assert "size " in out and "weights" in out and "graph" in out
    for column in ("precision", "weights", "quantization", "MACs", "note"):
        assert column in out
    assert "CUMSUM" in out and "float fallback" in out
    assert "fallbacks  1 op computes in float: CUMSUM" in out
    assert "boundaries DEQUANTIZE int8→float32, QUANTIZE float32→int8" in out


def test_table_with_roofline_and_rows(capsys, models: dict[str, Path]) -> None:
    rc, out, _ = run_tflite(capsys, str(models["cnn.fp16"]), "--hw", "h100", "--max-rows", "3")
    assert rc == 0
    assert "bound" in out and "t@peak" in out and "more ops (--max-rows 0 for all)" in out


def test_json_stdout_and_files(capsys, models: dict[str, Path], tmp_path: Path) -> None:
    rc, out, _ = run_tflite(capsys, str(models["cnn.int8"]), "--json", "-")
    assert rc == 0
    report = json.loads(out)  # nothing but the JSON on stdout
    assert report["schema"] == "irscope.tflite-report/1" and report["mode"] == "int8"
    op = report["subgraphs"][0]["operators"][0]
    assert {"index", "opcode", "inputs", "outputs", "precision", "macs", "flops", "bytes_read"} <= set(op)
    tensor = report["subgraphs"][0]["tensors"][0]
    assert {"index", "name", "shape", "dtype", "quantization", "buffer_bytes"} <= set(tensor)
    assert report["size"]["total"] == report["size_bytes"]

    path = tmp_path / "out" / "r.json"
    path.parent.mkdir()  # irscope refuses an output folder that does not exist
    args = [str(models["cnn.int8"]), "--json", str(path)]
    if shutil.which("dot"):
        args += ["--svg", str(tmp_path / "g.svg")]
    rc, out, err = run_tflite(capsys, *args)
    assert rc == 0 and json.loads(path.read_text())["mode"] == "int8"
    if shutil.which("dot"):
        svg = (tmp_path / "g.svg").read_text()
        assert "</svg>" in svg and "precision" in svg and "int8" in svg


def test_measure(capsys, models: dict[str, Path]) -> None:
    rc, out, err = run_tflite(capsys, str(models["cnn.int8"]), "--measure", "--threads", "2", "--repeats", "3",
                        "--warmup", "1", "--json", "-")
    assert rc == 0, err
    latency = json.loads(out)["latency"]
    assert latency["threads"] == 2 and latency["repeats"] == 3 and latency["delegate"] == "XNNPACK"
    assert latency["median_s"] > 0 and latency["runtime"]
    rc, out, _ = run_tflite(capsys, str(models["cnn.fp32"]), "--measure", "--repeats", "2", "--no-xnnpack")
    assert rc == 0 and "latency " in out and "delegate none" in out


def test_compare(capsys, models: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    rc, out, err = run_tflite(capsys, str(models["cnn.int8"]), "--compare", str(models["cnn.fp32"]), "--repeats", "3",
                        "--warmup", "1", "--json", str(path))
    assert rc == 0, err
    assert "B/A" in out and "latency (1 thread, median)" in out and "precision by op type" in out
    assert "cosine similarity" in out and "per op (aligned by opcode sequence)" in out
    compare = json.loads(path.read_text())["compare"]
    assert compare["a"]["mode"] == "fp32" and compare["b"]["mode"] == "int8"
    assert 0.3 < compare["size_ratio"] < 0.6  # a tiny model: the graph's own bytes weigh more than at scale
    assert compare["latency_ratio"] > 0
    (drift,) = compare["drift"]
    assert drift["cosine_similarity"] > 0.99 and drift["max_abs_error"] < 0.05
    # Different inputs: no drift, said so, still a comparison.
    rc, out, _ = run_tflite(capsys, str(models["seq.fp32"]), "--compare", str(models["cnn.fp32"]), "--repeats", "1",
                      "--warmup", "0")
    assert rc == 0 and "drift      not computed: inputs differ" in out


def test_convert(capsys, tmp_path: Path) -> None:
    out_path = tmp_path / "cnn.dynamic.tflite"
    rc, out, err = run_tflite(capsys, "--convert", str(REPO / "examples" / "keras_cnn.py"), "--mode", "dynamic",
                        "-o", str(out_path))
    assert rc == 0, err
    assert out_path.exists() and ": dynamic (float32 in, float32 out)" in out and "hybrid" in out
    assert "Saved artifact" not in out  # TensorFlow's chatter stays off stdout


def test_help_documents_the_model_file_convention(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["tflite", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "IRSCOPE_KERAS" in out and "--convert" in out and "--compare" in out and "int16x8" in out


@pytest.mark.parametrize("argv, message", [
    (["nope.tflite"], "nope.tflite: no such file"),
    (["{repo}/examples/keras_cnn.py"], "not a .tflite file; add --convert"),
    (["{cnn}", "--threads", "0"], "--threads must be >= 1"),
    (["{cnn}", "--subgraph", "3"], "--subgraph 3 is out of range"),
    (["--convert", "{repo}/examples/keras_cnn.py"], "--convert needs -o PATH"),
    (["{cnn}", "-o", "x.tflite"], "go with --convert"),
    (["{cnn}", "--hw", "z80"], "z80"),
    (["--convert", "{repo}/README.md", "-o", "{tmp}/x.tflite"], "expected a model.py"),
    (["{repo}/README.md"], "no 'TFL3' file identifier"),
    (["{cnn}", "--compare", "{repo}/README.md"], "README.md: not a TFLite model"),
])
def test_user_errors_are_one_line(capsys, models: dict[str, Path], tmp_path: Path, argv: list[str],
                                  message: str) -> None:
    fill = {"repo": str(REPO), "cnn": str(models["cnn.int8"]), "tmp": str(tmp_path)}
    rc, out, err = run_tflite(capsys, *(a.format(**fill) for a in argv))
    assert rc == 2 and out == ""
    assert message in one_error_line(err)


def test_cli_fuzz_truncated_and_corrupted(capsys, models: dict[str, Path], tmp_path: Path) -> None:
    data = models["cnn.int8"].read_bytes()
    rng = random.Random(7)
    path = tmp_path / "mutated.tflite"
    outcomes = {0: 0, 2: 0}
    for k in range(60):
        b = bytearray(data[: rng.randrange(8, len(data))] if k % 3 == 0 else data)
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        path.write_bytes(bytes(b))
        rc, out, err = run_tflite(capsys, str(path), "--json", str(tmp_path / "m.json"))
        assert rc in outcomes, (k, rc, err)
        outcomes[rc] += 1
        if rc == 2:
            assert str(path) in one_error_line(err)
    assert outcomes[2] > 10, outcomes


def test_launcher_subprocess(models: dict[str, Path], tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "inspect.tflite", str(models["cnn.fp16"]), "--json", "-"],
                        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["mode"] == "fp16"
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(models["cnn.fp16"].read_bytes()[:200])
    bad = subprocess.run([sys.executable, "-m", "inspect.tflite", str(broken)], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "malformed TFLite flatbuffer" in bad.stderr


def test_quantization_study_quick(tmp_path: Path) -> None:
    from irscope.studies import quantization

    summary = quantization.run(tmp_path, quick=True)
    assert (tmp_path / "quantization.png").stat().st_size > 10_000
    assert [(r["model"], r["mode"]) for r in summary["table"]] == [("TinyCNN", "fp32"), ("TinyCNN", "int8")]
    assert summary["table"][0]["size/fp32"] == "1.000" and float(summary["table"][1]["size/fp32"]) < 1
    assert any("int8/fp32 size" in n for n in summary["notes"])
    json.dumps(summary)
