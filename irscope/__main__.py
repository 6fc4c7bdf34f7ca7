"""`python -m irscope ...`: the `irscope` command, for an environment without its console script."""

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
