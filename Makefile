# careline: `make run` starts it with a demo organisation; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CARELINE := $(BIN)/careline

.PHONY: run test lint format install install-dev system-deps check-system fresh-check bench clean lighthouse lighthouse-install

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

# Two workers, each with its own careline, PostgreSQL, clamd and browser (tests/conftest.py
# starts them once per worker); a file's tests stay on one worker, so module fixtures
# are made once. The suite mostly waits on sockets and the browser, so two halve it.
test: install-dev system-deps check-system lint lighthouse-install
	$(BIN)/pytest -n 2 --dist loadfile

# npm's lighthouse, pinned, into the venv (ignored by git), for tests/e2e/test_lighthouse.py
# and `make lighthouse`; Node.js and npm are Debian's (scripts/system-packages.txt).
# Lighthouse 12 runs on Debian 12's Node 18 (13 needs Node 22).
LIGHTHOUSE_VERSION := 12.8.2
LIGHTHOUSE_STAMP := $(VENV)/lighthouse/.installed-$(LIGHTHOUSE_VERSION)

lighthouse-install: $(LIGHTHOUSE_STAMP)

$(LIGHTHOUSE_STAMP): | $(VENV)/bin/python
	mkdir -p $(VENV)/lighthouse
	cd $(VENV)/lighthouse && npm install --no-fund --no-audit --no-save --loglevel=error lighthouse@$(LIGHTHOUSE_VERSION)
	touch $@

# The mobile (and desktop) Lighthouse scores of the sign-in page and a signed-in inbox,
# against a fresh demo organisation; performance is a timing: docs/performance.md.
lighthouse: install-dev lighthouse-install
	$(BIN)/python -m tests.support.lighthouse

bench: install
	$(CARELINE) bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
