"""Imports run one way: ir <- frontends <- passes/measure/kernels <- render <- studies/api <- cli.

Every module's imports are read with `ast` (module level, inside functions, under `TYPE_CHECKING`,
and `importlib.import_module("irscope....")` with a literal name), and a module that imports one in a
higher layer fails the test with the file, line and import named. The one allowed exception is the
display hook, `irscope.util.display`, which looks up `render`'s writers by name (see its docstring).
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "irscope"

# The layer of each top-level part of the package; a module may import its own layer and lower ones.
LAYERS: dict[str, int] = {
    # data and leaves: the IR, the chip and interconnect tables, errors, shared helpers
    "errors": 0, "util": 0, "ir": 0, "hw": 0, "interconnect": 0, "_version": 0,
    "frontends": 1,  # programs -> IR
    "passes": 2, "measure": 2, "kernels": 2,  # analyses, runtime, Pallas kernels
    "render": 3,  # text, HTML, DOT/SVG, figures
    "studies": 4, "api": 4,  # case studies, the notebook surface
    "cli": 5,  # argparse commands
    "__init__": 6, "__main__": 6,  # the public API, `python -m irscope`
}
# Modules allowed to name a higher layer, and why.
HOOKS = {"irscope.util.display": "the one display hook: results reach render's writers by name"}


def module_name(path: pathlib.Path, root: pathlib.Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str, root: pathlib.Path = PACKAGE) -> bool:
    rel = pathlib.Path(*name.split("."))
    return (root.parent / rel).with_suffix(".py").exists() or (root.parent / rel / "__init__.py").exists()


def layer(name: str) -> int | None:
    """The layer of an irscope module (None for a module outside irscope)."""
    parts = name.split(".")
    if parts[0] != "irscope":
        return None
    if len(parts) == 1:
        return LAYERS["__init__"]
    return LAYERS[parts[1]]


def imports(path: pathlib.Path, root: pathlib.Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, irscope module) for every import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from irscope import hw` imports the module irscope.hw, not the package's __init__.
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if is_module(full, root) else base))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if name.split(".")[0] == "irscope"]


def violations(root: pathlib.Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        if me in HOOKS:
            continue
        mine = layer(me)
        assert mine is not None
        for line, name in imports(path, root):
            theirs = layer(name)
            if theirs is not None and theirs > mine:
                rel = path.relative_to(root.parent)
                out.append(f"{rel}:{line}: imports {name} (layer {theirs}) from layer {mine}")
    return out


def test_every_part_of_the_package_has_a_layer() -> None:
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert tops <= set(LAYERS), f"give these a layer in LAYERS: {sorted(tops - set(LAYERS))}"


def test_no_layer_imports_a_higher_one() -> None:
    found = violations()
    assert not found, "imports that run upward:\n" + "\n".join(found)


def test_the_check_names_file_line_and_import(tmp_path: pathlib.Path) -> None:
    # A fake package with an ir module that imports passes, inside a function, as kernel_graph once did.
    fake = tmp_path / "irscope"
    (fake / "ir").mkdir(parents=True)
    (fake / "passes").mkdir()
    for init in (fake / "__init__.py", fake / "ir" / "__init__.py", fake / "passes" / "__init__.py"):
        init.write_text("")
    (fake / "passes" / "fusion.py").write_text("CONTROL = frozenset()\n")
    (fake / "ir" / "graph.py").write_text("def f():\n    from irscope.passes import fusion\n    return fusion\n")
    (fake / "passes" / "cost.py").write_text("from ..ir import graph\nfrom irscope import ir\n")
    assert violations(fake) == ["irscope/ir/graph.py:2: imports irscope.passes.fusion (layer 2) from layer 0"]


def test_display_hook_targets_exist_and_live_in_render() -> None:
    from irscope.util import display

    for (kind, fmt), target in display.WRITERS.items():
        module, _, name = target.partition(":")
        assert layer(module) == LAYERS["render"], target
        assert callable(getattr(__import__(module, fromlist=[name]), name)), (kind, fmt, target)


def test_opcode_groups_have_one_home_and_old_names_still_work() -> None:
    from irscope.ir import opcodes
    from irscope.passes import cost, fusion

    assert fusion.NO_LAUNCH is opcodes.NO_LAUNCH and fusion.CONTROL is opcodes.CONTROL_FLOW
    assert cost.FREE is opcodes.ZERO_COST and cost.CONTROL_FLOW is opcodes.CONTROL_FLOW
    # What costs nothing launches nothing; a tuple and an opt-barrier launch nothing but are charged.
    assert opcodes.ZERO_COST < opcodes.NO_LAUNCH
    assert opcodes.NO_LAUNCH - opcodes.ZERO_COST >= {"tuple", "opt-barrier"}
    # No other module defines a set of opcodes.
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "opcodes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "frozenset" and node.args:
                literal = node.args[0]
                values = [e.value for e in getattr(literal, "elts", []) if isinstance(e, ast.Constant)]
                assert not set(values) & {"get-tuple-element", "while", "exponential", "convolution", "broadcast"}, (
                    f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: an opcode group outside irscope/ir/opcodes.py")
