# careline: `make run` starts it with a demo organisation; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CARELINE := $(BIN)/careline

.PHONY: run test lint format install install-dev system-deps check-system fresh-check bench clean

# ClamAV first, when this machine lets us install it (scripts/system-deps.sh says how if
# not); `careline serve` then runs its own clamd, or says why file sharing is paused.
run: install
	@bash scripts/system-deps.sh --if-possible clamav clamav-daemon
	$(CARELINE) demo
	$(CARELINE) serve

install: $(VENV)/.runtime-installed

install-dev: $(VENV)/.dev-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.runtime-installed

system-deps:
	bash scripts/system-deps.sh

# Every program, library and font the tests load is there; names what is missing.
check-system: install-dev
	bash scripts/check-system.sh $(VENV)

# A fresh Debian 12 (debootstrap) runs `make run` and passes `make test`; needs root.
fresh-check:
	bash scripts/fresh-check.sh

lint: install-dev
	$(BIN)/ruff check careline tests
	$(BIN)/ruff format --check careline tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format careline tests
	$(BIN)/ruff check --fix careline tests

test: install-dev system-deps check-system lint
	$(BIN)/pytest

bench: install
	$(CARELINE) bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
