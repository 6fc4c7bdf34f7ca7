"""Case studies: each module regenerates its figures and tables with one command.

A study is a module `irscope.studies.<name>` that defines:

    TITLE: str                      # one line, shown by `irscope figures --list`
    def run(out_dir: pathlib.Path, *, quick: bool, progress: Callable[[str], None] | None) -> dict
        # measures, writes its figures (PNG) into out_dir, and returns a JSON-able summary whose
        # "table" entry (a list of rows, each a dict) is printed by `irscope figures NAME`.

`irscope figures NAME` runs it (`--quick` for a tiny sweep, as the tests use), and writes the summary's
"table" as `<out>/<NAME>.csv` and the whole summary as `<out>/<NAME>.json` beside the figures
(`irscope.studies.common.write_tables`): a study needs no code of its own for that.
"""

STUDIES = ("fusion", "quantization", "layouts", "sparsity", "sharding", "targets", "remat")
