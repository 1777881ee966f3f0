# Two commands from a fresh clone (see README):
#   make report   set up the environment and build the Ghent bridge-closure report
#   make test     set up the environment and run the test suite (what CI runs)
#   make lint     style, import contracts and types (after `make setup-test`)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out
# uv (from PyPI, into the venv) installs the dependencies in seconds where pip takes minutes;
# `make UV=0 ...` (or no uv to be had) installs with pip. pip is in the venv either way.
UV     ?= 1

.PHONY: report reports test tracked-before install install-test setup setup-test browser style lint bench clean

# `$(call install,REQUIREMENTS)`: uv when the venv has it, else pip.
install = if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --python $(BIN)/python $(1) pip; \
	  else $(BIN)/python -m pip install --quiet $(1); fi

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	@if [ "$(UV)" != 0 ] && $(PYTHON) -m pip --python $(BIN)/python install --quiet uv; then :; \
	  else $(BIN)/python -m ensurepip --upgrade --default-pip >/dev/null \
	  && $(BIN)/python -m pip install --quiet --upgrade pip \
	  && { [ "$(UV)" = 0 ] || $(BIN)/python -m pip install --quiet uv || echo "ldtkit: no uv; installing with pip"; }; fi

# The dependencies only (what `make report` needs); setup adds the compiled kernels.
install: $(BIN)/python
	@$(call install,-e '.[all]')

install-test: $(BIN)/python
	@$(call install,-e '.[test]')

# Setup ends by compiling the numba kernels into numba's cache (about a minute, once) and, in a
# second process at the same time, the ahead-of-time assignment kernels that `ldtkit assign`
# starts fast with (~17 s; skipped while the built module matches the kernels' source).
setup: install
	$(BIN)/python -m ldtkit.cli.warmup

setup-test: install-test
	$(BIN)/python -m ldtkit.cli.warmup

# Debian's chromium for the Playwright dashboard test (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' for the browser test"; fi; }

# The report compiles the numba kernels it calls (into numba's cache) while a second process
# compiles them ahead of it on the other core; `ldtkit assign`'s ahead-of-time kernels wait for `make setup`.
report: install
	@$(BIN)/python -m ldtkit.cli.warmup --jit --quiet & warm=$$!; \
	  $(BIN)/ldtkit report notebooks/bridge_closure.ipynb --out $(OUT)/reports; rc=$$?; wait $$warm; exit $$rc

# Both use-case reports, headless (CI regenerates them; they also warm the results cache
# that the dashboard browser test reuses).
reports:
	$(BIN)/ldtkit report notebooks/bridge_closure.ipynb --out $(OUT)/reports
	$(BIN)/ldtkit report notebooks/pedestrianisation.ipynb --out $(OUT)/reports
	$(BIN)/ldtkit report notebooks/air_validation.ipynb --out $(OUT)/reports

# Style, import contracts and types: fast, so they run before the reports and the tests.
style:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Everything `style` checks, plus mypy (strict for ldtkit/model, ldtkit/study and the base modules).
lint: style
	$(BIN)/mypy

# pytest also runs the doctests of every ldtkit module (testpaths and --doctest-modules in pyproject.toml).
test: tracked-before setup-test lint browser reports
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20
	@git rev-parse --git-dir >/dev/null 2>&1 || exit 0; \
	  git status --porcelain --untracked-files=no | diff -u $(OUT)/tracked-before.txt - \
	  || { echo "make test changed tracked files (above)"; exit 1; }

# What git says of the tracked files before the tests, so that `make test` can check it left them as they were.
tracked-before:
	@mkdir -p $(OUT); git status --porcelain --untracked-files=no > $(OUT)/tracked-before.txt 2>/dev/null || true

bench: $(BIN)/python
	@$(call install,-e '.[dev]')
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(OUT) .ldtkit-cache
