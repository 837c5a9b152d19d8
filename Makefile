# One command to run, one to test; both build the virtual environment and system packages they need.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed

.PHONY: run test lint system bench

$(STAMP): pyproject.toml scripts/install-python.sh
	VENV=$(VENV) scripts/install-python.sh
	touch $@

system:
	scripts/install-system.sh

run: system $(STAMP)
	$(VENV)/bin/maalem run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: system $(STAMP) lint
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) -m bench
