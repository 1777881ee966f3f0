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

.PHONY: report reports test tracked-before install-core setup setup-test browser style lint bench clean

# With uv, ldtkit[EXTRA] is resolved once into $(VENV)/pins.txt and every step installs within
# those pins, so a later step only adds packages, never swaps one that a running process imports.
# Without uv, pip installs ldtkit[EXTRA] in one step.
EXTRA ?= all
pin = if [ -x $(BIN)/uv ]; then $(BIN)/uv pip compile --quiet --python $(BIN)/python pyproject.toml --extra $(EXTRA) -o $(VENV)/pins.txt; fi
install = if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --python $(BIN)/python -c $(VENV)/pins.txt $(1) pip; \
	  else $(BIN)/python -m pip install --quiet -e '.[$(EXTRA)]'; fi
# The last install step also writes the bytecode of every installed package and of ldtkit (uv writes
# none; pip only for what it installs): where PYTHONDONTWRITEBYTECODE is set, as on some CI machines,
# Python writes none itself and every process compiled every module it imported again (about 2 s
# per process). A file that does not compile only stays without bytecode, hence `|| true`.
site-packages = "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
full-install = $(call install,-e '.[$(EXTRA)]') && { $(BIN)/python -m compileall -q -j 0 $(site-packages) ldtkit >/dev/null || true; }

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	@if [ "$(UV)" != 0 ] && $(PYTHON) -m pip --python $(BIN)/python install --quiet uv; then :; \
	  else $(BIN)/python -m ensurepip --upgrade --default-pip >/dev/null \
	  && $(BIN)/python -m pip install --quiet --upgrade pip \
	  && { [ "$(UV)" = 0 ] || $(BIN)/python -m pip install --quiet uv || echo "ldtkit: no uv; installing with pip"; }; fi

# The models' dependencies first (numba among them): the kernels compile from then on, in
# processes of their own, while the notebook stack installs (`$(call beside,WARMUP,COMMANDS)` runs
# both and fails if either does).
install-core: $(BIN)/python
	@$(pin) && $(call install,-e .)

beside = $(1) & warm=$$!; { $(2); }; rc=$$?; wait $$warm || rc=1; exit $$rc

# Setup ends with the numba kernels compiled into numba's cache (about a minute of CPU, once, in two
# processes: traffic kernels, map kernels) and, in a third at the same time, the ahead-of-time assignment
# kernels that `ldtkit assign` starts fast with (~17 s; skipped while the built module matches the kernels' source).
setup: EXTRA = all
setup: install-core
	@$(call beside,$(BIN)/python -m ldtkit.cli.warmup,$(full-install))

setup-test: EXTRA = test
setup-test: install-core
	@$(call beside,$(BIN)/python -m ldtkit.cli.warmup,$(full-install))

# Debian's chromium for the Playwright dashboard test (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' for the browser test"; fi; }

# The report: the numba kernels compile in processes of their own from the moment numba is installed,
# ahead of the report that needs them (all write numba's cache; whichever compiles a kernel first
# spares the others). `ldtkit assign`'s ahead-of-time kernels are left to `make setup`.
report: EXTRA = all
report: install-core
	@$(call beside,$(BIN)/python -m ldtkit.cli.warmup --jit --quiet,$(full-install) && \
	  $(BIN)/ldtkit report notebooks/bridge_closure.ipynb --out $(OUT)/reports)

# Both use-case reports, headless (CI regenerates them; they also warm the results cache
# that the dashboard browser test reuses).
# They run at the same time (the results cache lets concurrent runs share what they compute); the
# target fails if any report does.
REPORTS := bridge_closure pedestrianisation air_validation
reports:
	@pids=""; for nb in $(REPORTS); do $(BIN)/ldtkit report notebooks/$$nb.ipynb --out $(OUT)/reports & pids="$$pids $$!"; done; \
	  rc=0; for p in $$pids; do wait $$p || rc=1; done; exit $$rc

# Style, import contracts and types: fast, so they run before the reports and the tests.
style:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Everything `style` checks, plus mypy (strict for ldtkit/model, ldtkit/study and the base modules).
lint: style
	$(BIN)/mypy

# pytest also runs the doctests of every ldtkit module (testpaths and --doctest-modules in pyproject.toml).
# Set-up as `setup-test`, with chromium's install and the lint beside the kernels' compilation (whose
# last minute keeps one core busy); then the reports, then pytest: the tests on both cores (pytest-xdist,
# one test file per worker, so a file's fixtures are built once), then the tests that assert a wall-clock
# time (marker `timed`) alone. Two workers on two cores each run numba's OpenMP threads: with OpenMP's
# default spin-wait, a worker's idle threads keep spinning while the other worker needs the core, and
# many short parallel kernels (100 SiouxFalls calibrations) took 54 s instead of 6 s; passive waiting
# sleeps at once (6 s).
test: EXTRA = test
test: tracked-before install-core
	@$(call beside,$(BIN)/python -m ldtkit.cli.warmup,$(full-install) && $(MAKE) --no-print-directory browser lint)
	@$(MAKE) --no-print-directory reports
	OMP_WAIT_POLICY=passive $(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 -m 'not timed' -n 2 --dist loadfile
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=10 -m timed
	@git rev-parse --git-dir >/dev/null 2>&1 || exit 0; \
	  git status --porcelain --untracked-files=no | diff -u $(OUT)/tracked-before.txt - \
	  || { echo "make test changed tracked files (above)"; exit 1; }

# What git says of the tracked files before the tests, so that `make test` can check it left them as they were.
tracked-before:
	@mkdir -p $(OUT); git status --porcelain --untracked-files=no > $(OUT)/tracked-before.txt 2>/dev/null || true

bench: EXTRA = dev
bench: install-core
	@$(full-install)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(OUT) .ldtkit-cache
