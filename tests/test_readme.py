"""Every command the README and the `--help` epilogs show must work as written.

Each `python -m inspect.X ...`, `python -m irscope ...` or `irscope ...` command in the README (code
blocks and inline code) must parse with the CLI's own argparse; the ones that are cheap (an `hlo` or
`diff` of a file in examples/, without `--measure`) are run, with their output files sent to a
temporary folder. `--help`'s examples must parse too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from irscope.cli.main import build_parser, main

COMMAND = re.compile(r"(?:python -m (?:inspect\.\w+|irscope(?:\.cli\.main)?)|irscope)(?=\s|$)")
OUTPUT_FLAGS = {"--svg", "--json", "--html", "--pass-html", "-o", "--output", "--out", "--memory-plot",
                "--model-explorer-out"}
INPUT_SUFFIXES = (".py", ".hlo", ".txt", ".mlir", ".tflite", ".keras")
RUNNABLE = {"hlo", "diff"}


def _commands_in(markdown: str) -> list[str]:
    """The command lines of the README: each line of a fenced block (`$ ` prompts dropped, `;`-joined
    commands split, `#` comments cut), and each inline code span, that starts with a command."""
    found: list[str] = []
    blocks = re.findall(r"```[^\n]*\n(.*?)```", markdown, re.S)
    for block in blocks:
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            for part in line.split(";"):
                part = part.strip()
                if COMMAND.match(part):
                    found.append(part)
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    found += [span for span in re.findall(r"`([^`\n]+)`", prose) if COMMAND.match(span)]
    return list(dict.fromkeys(found))


def _argv(command: str) -> list[str] | None:
    """The command's argv for `irscope.cli.main.main`, or None for what is not a command line: an
    error message quoted from stderr (`irscope hlo: error: ...`), a synopsis (`[--kernel NAME ...]`)."""
    words = shlex.split(command, comments=True)
    if words[:2] == ["python", "-m"]:
        module, rest = words[2], words[3:]
        argv = [module.removeprefix("inspect."), *rest] if module.startswith("inspect.") else rest
    else:
        argv = words[1:]
    if not argv or argv[0].endswith(":") or any(w in ("...", "[") or w.startswith("[") for w in argv):
        return None
    if argv[0] in ("hlo", "diff", "tflite") and len(argv) == 1:
        return None  # `python -m inspect.hlo` named in prose
    return argv


README_COMMANDS = _commands_in((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_commands():
    assert len(README_COMMANDS) >= 15
    assert any("--pass" in c for c in README_COMMANDS) and any("--sort" in c for c in README_COMMANDS)


@pytest.mark.parametrize("command", README_COMMANDS)
def test_readme_command_parses(command):
    argv = _argv(command)
    if argv is None:
        pytest.skip("not a command line (an error message or a synopsis)")
    _parses(argv, repr(command))


def _inputs(argv: list[str]) -> list[str]:
    return [w.partition("::")[0] for w in argv[1:] if not w.startswith("-") and w.partition("::")[0].endswith(INPUT_SUFFIXES)]


def _cheap(argv: list[str] | None) -> bool:
    # --measure times for seconds; --model-explorer serves until Ctrl-C: parsed, not run.
    return (argv is not None and argv[0] in RUNNABLE and "--measure" not in argv and "--model-explorer" not in argv
            and all(p.startswith("examples/") and (REPO / p).is_file() for p in _inputs(argv)) and bool(_inputs(argv)))


@pytest.mark.parametrize("command", [c for c in README_COMMANDS if _cheap(_argv(c))])
def test_readme_command_runs(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    argv = _argv(command)
    assert argv is not None
    for k, word in enumerate(argv[:-1]):  # write nothing into the repository
        if word in OUTPUT_FLAGS and argv[k + 1] != "-":
            argv[k + 1] = str(tmp_path / Path(argv[k + 1]).name)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in ((0, 1) if argv[0] == "diff" else (0,)), f"{command!r}: exit {code}: {err[-2000:]}"
    assert out.strip(), command


@pytest.mark.parametrize("name", ["hlo", "diff", "tflite", "kernels", "hw", "figures"])
def test_help_teaches_with_examples_that_parse(name):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[name]  # argparse keeps subparsers here
    epilog = sub.epilog or ""
    assert "examples:" in epilog, f"irscope {name} --help shows no example"
    # An example line is the command, then (after two or more spaces) what it does.
    examples = [re.split(r"\s{2,}", line.strip())[0] for line in epilog.split("examples:", 1)[1].splitlines()
                if COMMAND.match(line.strip())]
    assert examples, epilog
    for example in examples:
        argv = _argv(example.split(" > ")[0])  # `... --stage hlo > before.hlo`: the shell's redirection
        assert argv is not None and argv[0] == name, example
        _parses(argv, f"irscope {name} --help example {example!r}")


def _parses(argv: list[str], what: str) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as e:  # --help and --version exit 0
        if e.code != 0:
            pytest.fail(f"{what} does not parse (exit {e.code})")


def test_make_demo_recipe_runs(tmp_path):
    """The README's first command is `make demo`: its recipe (after set-up, which is this venv) must run in a
    fresh clone, where folders such as out/ do not exist yet; so it runs in a bare copy of what it reads."""
    for folder in ("inspect", "examples"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^demo:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    assert recipe, "no demo target in the Makefile"
    lines = [line.strip().replace("$(PY)", sys.executable) for line in recipe.group(1).splitlines()]
    script = "set -e\n" + "\n".join(lines)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kernel" in done.stdout and (tmp_path / "out" / "mlp.svg").is_file()
