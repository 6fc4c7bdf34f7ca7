"""`irscope hlo` end to end: inputs, outputs, the JSON contract, and bad input."""

from __future__ import annotations

import json
import random

import jax
import jax.numpy as jnp
import pytest
from conftest import CORPUS, REPO

from irscope.cli.main import main
from irscope.frontends.stablehlo import write_mlir

KERNEL_KEYS = {"name", "kind", "ops", "bytes_read", "bytes_written", "flops", "transcendentals"}
TOTAL_KEYS = {"bytes_accessed", "flops", "transcendentals", "unfused_bytes_accessed"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["hlo", *argv])
    except SystemExit as e:  # argparse exits on usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def mlp_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("mlp") / "mlp.json"
    assert main(["hlo", str(REPO / "examples" / "mlp.py"), "--hw", "h100", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_json_contract(mlp_json):
    doc = mlp_json
    assert doc["schema"] == "irscope.hlo-report/1"
    assert doc["module"] == "jit_mlp"
    assert doc["kernels"] and all(KERNEL_KEYS <= set(k) for k in doc["kernels"])
    assert TOTAL_KEYS <= set(doc["totals"])
    kinds = {k["kind"] for k in doc["kernels"]}
    assert "kLoop" in kinds
    # The totals follow XLA's conventions: they equal what XLA's cost analysis reports.
    xla = doc["xla_cost_analysis"]
    assert doc["totals"]["flops"] == pytest.approx(xla["flops"], rel=1e-6)
    assert doc["totals"]["bytes_accessed"] == pytest.approx(xla["bytes accessed"], rel=1e-6)
    assert doc["totals"]["transcendentals"] == pytest.approx(xla.get("transcendentals", 0.0), rel=1e-6)
    assert doc["totals"]["unfused_bytes_accessed"] >= doc["totals"]["bytes_accessed"]
    # No control flow here: the kernels add up to the totals.
    assert sum(k["flops"] for k in doc["kernels"]) == pytest.approx(doc["totals"]["flops"], rel=1e-6)
    for k in doc["kernels"]:
        assert k["bound"] in ("memory", "compute", "n/a")
        assert k["time_at_peak_s"] >= 0


def test_table_on_stdout(capsys):
    code, out, err = run(capsys, str(REPO / "examples" / "mlp.py"), "--hw", "h100")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("module jit_mlp (optimized")
    header = next(line for line in lines if line.startswith("#"))
    for column in ("kernel", "kind", "ops", "bytes", "FLOPs", "FLOP/B", "bound", "t@peak"):
        assert column in header
    assert any("fusion saved" in line for line in lines)
    assert "lowering mlp" in err  # progress goes to stderr


def test_json_to_stdout_is_only_json(capsys):
    code, out, _ = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), "--hw", "h100", "--json", "-")
    assert code == 0
    doc = json.loads(out)
    assert doc["module"] == "jit__logsm_from_logmhalo_jax_kern" and doc["stage"] == "optimized"


def test_svg(tmp_path, capsys):
    svg = tmp_path / "g.svg"
    code, _, err = run(capsys, str(CORPUS / "hlo_to_mhlo_fusion.hlo"), "--hw", "h100", "--svg", str(svg), "--expand")
    assert code == 0, err
    text = svg.read_text()
    assert "<svg" in text and "</svg>" in text


@pytest.mark.parametrize("stage, marker", [("stablehlo", "func.func"), ("hlo", "HloModule"), ("optimized", "fusion")])
def test_stages(capsys, stage, marker):
    code, out, _ = run(capsys, str(REPO / "examples" / "mlp.py"), "--stage", stage)
    assert code == 0 and marker in out


def test_mlir_input(tmp_path, capsys):
    lowered = jax.jit(lambda x, y: jnp.tanh(x @ y)).lower(jnp.ones((8, 16)), jnp.ones((16, 4)))
    path = tmp_path / "m.mlir"
    write_mlir(path, lowered.as_text())
    code, out, err = run(capsys, str(path), "--hw", "h100", "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["totals"]["flops"] == pytest.approx(lowered.compile().cost_analysis()["flops"])


def test_fn_and_args(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text("import jax.numpy as jnp\n\ndef attention(q, k):\n    return jnp.einsum('qd,kd->qk', q, k)\n")
    code, out, err = run(capsys, str(model), "--fn", "attention", "--args", "f32[64,32] f32[64,32]", "--hw", "h100")
    assert code == 0, err
    assert "module jit_attention" in out
    code, out, _ = run(capsys, str(model), "--list")
    assert code == 0 and "attention" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["examples/mlp.py", "--bogus"], "unrecognized arguments: --bogus"),
        (["examples/mlp.py", "--fn", "nope"], "no function 'nope'"),
        (["examples/mlp.py", "--hw", "z80"], "unknown chip: 'z80'"),
        (["missing.hlo"], "missing.hlo: no such file"),
        (["examples/mlp.py", "--fn", "mlp", "--args", "f32[2,x]"], "bad argument spec"),
    ],
)
def test_user_errors_are_one_line(capsys, monkeypatch, argv, message):
    monkeypatch.chdir(REPO)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_malformed_hlo_points_at_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.hlo"
    bad.write_text(CORPUS.joinpath("gpu_hlo_ptx.hlo").read_text().replace("ROOT out = f16[] add(a, b)", "ROOT out = f16[] add(a, b"))
    out_json = tmp_path / "out.json"
    code, out, err = run(capsys, str(bad), "--json", str(out_json))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1  # one line on the terminal; the caret stays on the exception
    assert err.startswith(f"irscope hlo: error: {bad}:9:1: expected ',' or ')' after an operand")
    assert not out_json.exists()


def test_truncated_and_mutated_files_never_crash(tmp_path, capsys):
    """Fuzz with a fixed seed: every mutation is either read or refused with exit status 2."""
    text = CORPUS.joinpath("jax_logsm_gpu_after_optimizations.hlo").read_text()
    rng = random.Random(1234)
    outcomes = {0: 0, 2: 0}
    for trial in range(40):
        mutated = list(text)
        for _ in range(rng.randint(1, 5)):
            pos = rng.randrange(len(mutated))
            action = rng.choice(["delete", "insert", "truncate"])
            if action == "delete":
                del mutated[pos]
            elif action == "insert":
                mutated.insert(pos, rng.choice("{}()[],=%\"\n x0"))
            else:
                del mutated[pos:]
        path = tmp_path / f"m{trial}.hlo"
        path.write_text("".join(mutated))
        code, _, err = run(capsys, str(path), "--hw", "h100", "--json", str(tmp_path / "o.json"))
        assert code in (0, 2), err
        if code == 2:
            assert err.startswith("irscope hlo: error: ") and "Traceback" not in err
        outcomes[code] += 1
    assert outcomes[2] > 0


# --- a new user's first runs (issue 14, section 3) ------------------------------------------------


def test_unknown_computation_fails_before_anything_is_printed(tmp_path, capsys):
    svg = tmp_path / "x.svg"
    code, out, err = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"),
                         "--svg", str(svg), "--computation", "nosuch")
    assert code == 2 and out == "" and not svg.exists()
    assert len(err.splitlines()) == 1 and "--computation nosuch: no such computation" in err
    code, out, err = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), "--computation", "nosuch")
    assert code == 2 and out == "" and "give --svg PATH too" in err


@pytest.mark.parametrize("flag", ["--svg", "--json"])
def test_output_into_a_missing_folder_is_refused(tmp_path, capsys, flag):
    target = tmp_path / "no" / "such" / "dir" / "x.out"
    code, out, err = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), flag, str(target))
    assert code == 2 and out == ""
    assert err == f"irscope hlo: error: {flag} {target}: no such folder {str(target.parent)!r} (create it first)\n"
    assert not (tmp_path / "no").exists()  # nothing created
    code, _, err = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), flag, str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_diff_html_into_a_missing_folder_is_refused(tmp_path, capsys):
    hlo = str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo")
    code = main(["diff", hlo, hlo, "--html", str(tmp_path / "nope" / "d.html")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "--html" in err and "no such folder" in err


def _table_rows(out: str) -> list[list[str]]:
    """The rows of the kernel table, split on runs of two or more spaces."""
    import re

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line and set(line) <= {"-", " "}) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip() or line.startswith("..."):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_sort_and_top_show_the_costliest_with_a_footer(tmp_path, capsys):
    hlo = CORPUS / "ssd_mobilenet_tf.hlo"
    doc_path = tmp_path / "r.json"
    code, out, err = run(capsys, str(hlo), "--sort", "bytes", "--top", "5", "--json", str(doc_path))
    assert code == 0, err
    kernels = json.loads(doc_path.read_text())["kernels"]  # the JSON keeps every kernel, in order
    weight = [(k["bytes_read"] + k["bytes_written"]) * (k["trip_count"] or 1) for k in kernels]
    rows = _table_rows(out)
    assert len(rows) == 5
    shown = [int(r[0]) for r in rows]  # `#` is still the execution index
    assert [weight[i] for i in shown] == sorted(weight, reverse=True)[:5]
    assert [kernels[i]["name"] for i in shown] == [r[1] for r in rows]
    footer = next(line for line in out.splitlines() if line.startswith("..."))
    hidden = sum(weight) - sum(weight[i] for i in shown)
    assert footer.startswith(f"... {len(kernels) - 5} more kernels (sorted by bytes): "
                             f"{100 * hidden / sum(weight):.1f}% of bytes, ")
    code, out, _ = run(capsys, str(hlo), "--sort", "intensity", "--top", "0")
    intensities = [float(r[6]) for r in _table_rows(out) if r[6] != "-"]
    assert len(_table_rows(out)) == len(kernels) and intensities == sorted(intensities)
    code, _, err = run(capsys, str(hlo), "--top", "-1")
    assert code == 2 and "--top" in err and "0 (all rows) or more" in err


def test_source_column_and_json_source(mlp_json, capsys, monkeypatch):
    # jax writes stack-frame tables (StackFrames/FileLocations) into the module; each kernel's line is
    # the user's line in examples/mlp.py that made it (the three `h @ w + b` lines), in table and JSON.
    mlp_lines = (REPO / "examples" / "mlp.py").read_text().splitlines()
    layer_lines = {n for n, text in enumerate(mlp_lines, 1) if " @ w" in text and "+ b" in text}
    assert len(layer_lines) == 3
    sources = [k["source"] for k in mlp_json["kernels"]]
    assert all(s and s.rsplit(":", 1)[0] == str(REPO / "examples" / "mlp.py") for s in sources), sources
    assert {int(s.rsplit(":", 1)[1]) for s in sources} == layer_lines
    monkeypatch.chdir(REPO)
    code, out, _ = run(capsys, "examples/mlp.py", "--top", "2")
    assert out.splitlines()[2].split()[-1] == "source"
    assert [r[-1] for r in _table_rows(out)] == ["examples/mlp.py:" + s.rsplit(":", 1)[1] for s in sources[:2]]
    # Older metadata: source_file/source_line on the instruction itself.
    code, out, _ = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), "--json", "-")
    kernels = json.loads(out)["kernels"]
    assert any((k["source"] or "").startswith("/home/jacekczaja/JAX/gordon/gordon/sigmoid_smhm.py:") for k in kernels)
    # A module without metadata has no source column.
    code, out, _ = run(capsys, str(CORPUS / "gpu_hlo_ptx.hlo"))
    assert code == 0 and "source" not in out.splitlines()[2]


def test_version(capsys):
    import irscope

    for argv in (["--version"], ["hlo", "--version"], ["diff", "--version"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        assert capsys.readouterr().out == f"irscope {irscope.__version__}\n"


def test_a_model_file_with_a_typed_prng_key(tmp_path, capsys):
    model = tmp_path / "keys.py"
    model.write_text("import jax\n\n"
                     "def d(key, x):\n    return jax.random.bernoulli(key, 0.5, x.shape) * x\n\n"
                     'IRSCOPE_EXAMPLES = {"d": (d, [jax.random.key(0), "f32[512,512]"])}\n')
    code, out, err = run(capsys, str(model), "--list")
    assert code == 0, err
    assert out.split()[:4] == ["example", "d(key,", "x)", "key<fry>[]"]
    code, out, err = run(capsys, str(model), "--hw", "h100")
    assert code == 0, err
    assert out.startswith("module jit_d (optimized")


def test_random_inputs_for_typed_keys():
    from irscope.measure.timing import needs_x64, random_inputs

    args = (jax.ShapeDtypeStruct((), jax.random.key(0).dtype), jax.random.split(jax.random.key(0, impl="rbg"), 3))
    key, keys = random_inputs(args, seed=1)
    assert key.dtype == args[0].dtype and key.shape == ()
    assert keys.dtype == args[1].dtype and keys.shape == (3,)
    assert jax.random.normal(key, (2,)).shape == (2,)
    assert not needs_x64(args)
