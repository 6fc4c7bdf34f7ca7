"""Case studies: each module regenerates its figures and tables with one command.

A study is a module `irscope.studies.<name>` that defines:

    TITLE: str                      # one line, shown by `irscope figures --list`
    def run(out_dir: pathlib.Path, *, quick: bool, progress: Callable[[str], None] | None) -> dict
        # measures, writes its figures (PNG) into out_dir, and returns a JSON-able summary whose
        # "table" entry (a list of rows, each a dict) is printed by `irscope figures NAME`.

`irscope figures NAME` runs it (`--quick` for a tiny sweep, as the tests use).
"""

STUDIES = ("fusion", "quantization", "layouts", "sparsity", "sharding", "targets", "remat")
