"""irscope.util.jsonio.dumps: the JSON text every `--json` writes (one valid document, one row per line)."""

from __future__ import annotations

import json
import math

import pytest

from irscope.util.jsonio import dumps

DOC = {
    "schema": "x/1",
    "kernels": [{"name": "a", "ops": ["add", "exp"], "bytes": 12.5}, {"name": "b", "nested": {"k": [1, 2]}}],
    "totals": {"flops": 3, "by": {"1": 2}},
    "empty": [],
    "none": None,
    "text": "quote \" and \\ and é",
}


def test_reads_back_to_the_same_object_and_rows_are_one_line_each():
    text = dumps(DOC)
    assert json.loads(text) == DOC
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    # each kernel (depth 2) is one line; the top-level keys one line each
    assert sum(1 for line in lines if line.lstrip().startswith('{"name"')) == 2
    assert ' "kernels": [' in lines
    assert all(line.startswith(" ") for line in lines[1:-1])


@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_every_depth_is_valid_json(depth):
    assert json.loads(dumps(DOC, depth=depth)) == DOC
    if depth == 0:
        assert "\n" not in dumps(DOC, depth=0)


def test_non_string_keys_convert_as_json_does():
    doc = {7: "a", 2.5: "b", False: "c", None: "d"}
    assert json.loads(dumps(doc)) == json.loads(json.dumps(doc))


def test_nan_and_default_follow_json_dumps():
    with pytest.raises(ValueError):
        dumps({"x": [math.nan]}, allow_nan=False)
    assert json.loads(dumps({"x": {1, 2} - {1}}, default=sorted)) == {"x": [2]}


def test_the_hlo_report_reads_back(tmp_path):
    from irscope.cli.main import main

    out = tmp_path / "r.json"
    assert main(["hlo", "tests/data/corpus/hlo/ssd_mobilenet_tf.hlo", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema"].startswith("irscope.hlo-report/")
    lines = out.read_text().splitlines()
    assert len(lines) > len(doc["kernels"])  # at least one line per kernel
