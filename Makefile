# `make demo` and `make test` do all the set-up on a fresh machine: a virtual environment with
# irscope installed in it (editable), and Graphviz's `dot` through apt-get when it is missing.
# Set-up is idempotent: stamps record what was installed, so a second run only runs the job.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test setup setup-test graphviz chromium bench lint corpus-targets clean

demo: setup graphviz
	mkdir -p out  # irscope refuses an output folder that does not exist (it is most often a typo)
	$(PY) -m inspect.hlo examples/mlp.py --svg out/mlp.svg

test: setup-test graphviz chromium
	$(PY) -m pytest -q

bench: setup-test
	$(PY) benchmarks/parse_speed.py

# Rewrites tests/data/targets/ (H100 and TPU v5e modules compiled here, without either chip).
corpus-targets: setup-test
	$(PY) tools/target_corpus.py
	$(PY) tools/target_corpus.py --table

lint: setup-test
	$(VENV)/bin/ruff check irscope tests benchmarks examples inspect tools

setup: $(VENV)/.installed-base
setup-test: $(VENV)/.installed-test

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	touch $@

$(VENV)/.installed-base: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e .
	touch $@

# The test extra adds tensorflow-cpu (XLA's hlo_pb2 for the parser-parity oracle), pytest and ruff, and the
# gpu and tpu extras (XLA:GPU's and XLA:TPU's compilers, about 1.2 GB) so the deviceless compile tests of
# tests/test_targets.py run here and in CI rather than skip.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-base
	$(PY) -m pip install -q -e '.[test]'
	touch $@

graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing Graphviz (dot) with apt-get" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }

# Headless Chromium runs the HTML diff page's self-test (tests/test_diff_html.py); about 100 MB, once.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium (headless, for the HTML tests) with apt-get" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) out .pytest_cache
