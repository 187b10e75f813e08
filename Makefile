# Every target installs what it needs first: a .venv built from uv.lock.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: load install run test lint bench clean screenshots

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(VENV)/bin/pip install --quiet "uv==0.13.8"
	$(UV) sync --frozen --all-extras --compile-bytecode --quiet
	touch $(STAMP)

run: install
	$(VENV)/bin/segway-gateway serve --demo

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install
	$(VENV)/bin/python -m bench

# the console's pictures in docs/console.md, taken by its browser test
screenshots: install
	CONSOLE_SCREENSHOTS=docs/images $(VENV)/bin/pytest -n 0 tests/test_console_browser.py

load: install
	$(VENV)/bin/pytest -n 0 -m load

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
