# The two commands: `make demo` (install + run the main job) and `make test` (install + tests).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.quantdesk-installed
PYTEST_WORKERS ?= 2
SOURCES := platform api dags streamlit_app feature_repo tests bench

.PHONY: setup demo airflow test test-fast bench lint format lock clean

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
	$(BIN)/quantdesk pipeline run

# Airflow standalone on this machine: SQLite metadata under $QUANTDESK_HOME/airflow, our DAGs,
# loopback only, 2 parallel tasks. It prints the admin login when it is ready.
QD_HOME := $(abspath $(or $(QUANTDESK_HOME),var))
AIRFLOW_ENV := PATH=$(CURDIR)/$(BIN):$$PATH AIRFLOW_HOME=$(QD_HOME)/airflow QUANTDESK_HOME=$(QD_HOME) \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__PARALLELISM=2 AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=8080 \
	AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False \
	AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin \
	AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$(QD_HOME)/airflow/passwords.json

airflow: setup
	mkdir -p $(QD_HOME)/airflow
	@echo "Airflow UI: http://127.0.0.1:8080 (user admin; password in $(QD_HOME)/airflow/passwords.json)"
	$(AIRFLOW_ENV) $(BIN)/airflow standalone

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
