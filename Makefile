# Everything a fresh machine needs, behind two targets: `make refresh` and `make test`.
# Both create .venv on first use and install the pinned stack (constraints.txt).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: refresh test test-fast lint bench bench-scan bench-nightly system-deps bytecode

# Most tests wait on servers and subprocesses, so three workers finish sooner on two cores;
# the tests of a module that share a module fixture run on one of them (tests/conftest.py).
XDIST := -n 3 --dist loadgroup

# uv installs the same pinned set as pip in 28 s instead of 72 (a clean machine, no cache);
# --compile-bytecode as pip does, so no command compiles the packages again.
UV_VERSION := 0.13.10

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The project's own bytecode, written ahead: where PYTHONDONTWRITEBYTECODE is set, every
# command would otherwise compile its ~100 modules again (0.5 s of a 3-ticker night).
# pip writes the installed packages' bytecode itself. compileall does not follow the links in
# surgewatch/ (flows -> ../flows, ...), hence each of its folders by name. A no-op when nothing changed.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q surgewatch surgewatch/*/ benchmarks > /dev/null

# The nightly job, once, on the embedded DuckDB warehouse (./data by default).
refresh: bytecode
	$(BIN)/surgewatch refresh $(ARGS)

# System packages the tests use (PostgreSQL for the shared-catalog test; Chromium for the report test).
system-deps:
	bash .ci/install-system-deps.sh

# Lint and type-check the whole tree (settings in pyproject.toml); the layer contract
# runs inside the suite (tests/test_architecture.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite, what CI runs (<= 12 min on a quiet machine); the 15 slowest tests close it.
test: lint bytecode system-deps
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# The loop while you work (<= 3 min): all but real servers, workers, crash trials and browsers.
test-fast: bytecode
	$(BIN)/pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

bench: bytecode
	$(BIN)/python -m benchmarks.bench_study $(ARGS)

# `surgewatch scan` over the bench universe's published tables (issue 31: <= 1 s).
bench-scan: bytecode
	$(BIN)/python -m benchmarks.bench_scan $(ARGS)

# The nightly job at scale (SPEC §4b): first load + next nights through the real flow.
bench-nightly: bytecode
	$(BIN)/python -m benchmarks.bench_nightly $(ARGS)
