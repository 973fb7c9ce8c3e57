# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format venv clean serve migrate lock

$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

## demo: set up, migrate the embedded SQLite database, print a demo admin token, serve on :8000
demo: $(STAMP)
	$(BIN)/rapidresponse demo

## test: set up and run the whole suite (SQLite and PostgreSQL; CI=true makes PostgreSQL mandatory)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

migrate: $(STAMP)
	$(BIN)/rapidresponse db upgrade

serve: $(STAMP)
	$(BIN)/rapidresponse serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

## lock: re-resolve requirements/dev.lock from pyproject.toml's pins
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet setuptools==84.2.1 && .lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Full pinned set for development and CI (pip freeze of a fresh venv). Regenerate with: make lock"; \
	  echo "setuptools==84.2.1"; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^setuptools=='; } > requirements/dev.lock
	rm -rf .lock-venv
