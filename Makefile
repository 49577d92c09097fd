# The two commands: `make demo` (install + run the main job) and `make test` (install + tests).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.quantdesk-installed
PYTEST_WORKERS ?= 2
SOURCES := platform api dags streamlit_app feature_repo tests bench

.PHONY: setup demo test test-fast bench lint format lock clean

setup: $(STAMP)

# Re-runs only when the lock or the project metadata change; otherwise `make setup` is instant.
$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

demo: setup
	$(BIN)/quantdesk info
	$(BIN)/quantdesk db upgrade
	$(BIN)/quantdesk ingest --source embedded
	$(BIN)/quantdesk ingest --source bundled --symbols EUR-USD --granularity 1h \
		--start 2017-01-01 --end 2018-01-01
	$(BIN)/quantdesk data coverage

test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15

test-fast: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow"

bench: setup
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

# Re-resolve every dependency from pyproject.toml into requirements/lock.txt (see README).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet torch==2.13.0
	.venv-lock/bin/pip install --quiet '.[dev]'
	.venv-lock/bin/pip check
	{ grep '^#' requirements/lock.txt; \
	  .venv-lock/bin/pip freeze --exclude-editable \
	    | grep -v '^quantdesk' | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; \
	} > requirements/lock.txt.new
	mv requirements/lock.txt.new requirements/lock.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
