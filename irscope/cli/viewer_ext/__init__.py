"""irscope as a Model Explorer adapter extension: open an HLO dump or a `model.py` from Model Explorer itself.

    model-explorer --extensions=irscope.cli.viewer_ext

Model Explorer imports `<module>.main` for each name given to `--extensions`; `main.py` holds the adapter.
"""
