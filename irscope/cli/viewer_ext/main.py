"""The adapter Model Explorer loads from `model-explorer --extensions=irscope.cli.viewer_ext`.

It opens HLO text (`.hlo`, `.txt`: a dump, before or after XLA's passes) and `model.py` files (every
program in its `IRSCOPE_EXAMPLES` table, or each function it can lower, compiled with XLA for the local
backend) and answers with irscope's kernel graphs: a node per kernel, namespaces from `op_name`, the
figures of `irscope hlo` as attributes, on the local CPU's roofline. Overlays are node data, which an
adapter cannot return: write them with `irscope hlo ... --model-explorer-out DIR` and load them in the
viewer's node-data panel.

Not handled yet: `.mlir` (Model Explorer's own MLIR adapter claims the extension), and settings from the
web app (the chip is always the local CPU).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model_explorer import Adapter, AdapterMetadata, ModelExplorerGraphs, graph_builder

from irscope.errors import UserError

EXTENSIONS = ["hlo", "txt", "py"]


class IrscopeAdapter(Adapter):
    """HLO text or a model.py -> irscope's kernel graphs."""

    metadata = AdapterMetadata(
        id="irscope_kernel_graph",
        name="irscope kernel graph",
        description="XLA's kernels (fusions) of an HLO dump or a model.py, with bytes, FLOPs and roofline "
                    "figures per kernel (irscope)",
        source_repo="https://github.com/irscope/irscope",
        fileExts=EXTENSIONS,
    )

    def __init__(self) -> None:
        super().__init__()

    def convert(self, model_path: str, settings: dict[str, Any]) -> ModelExplorerGraphs:
        return convert(model_path)


def convert(model_path: str) -> ModelExplorerGraphs:
    """The graphs of one file: `{"graphs": [...]}` for HLO text, `{"graphCollections": [...]}` (one per
    program) for a model.py. A file irscope cannot read raises `UserError` (Model Explorer shows its text)."""
    from irscope.api import inspect_hlo, inspect_jax
    from irscope.render.model_explorer import hlo_model

    path = Path(model_path)
    if path.suffix == ".py":
        from irscope.frontends import model_file

        collections = []
        for entry in model_file.resolve(path):
            model = hlo_model(inspect_jax(entry.fn, entry.args), suffix=f" ({entry.name})")
            collections.append(graph_builder.GraphCollection(label=entry.name, graphs=list(model.graphs)))
        if not collections:
            raise UserError(f"{path}: no program to lower (add an IRSCOPE_EXAMPLES table)")
        return {"graphCollections": collections}
    try:
        report = inspect_hlo(path)
    except (OSError, ValueError) as e:  # unreadable file, malformed or ill-formed HLO: one line
        raise UserError(str(e).splitlines()[0]) from None
    return {"graphs": list(hlo_model(report).graphs)}
