# The two commands of the README — `make demo` and `make test` — do all set-up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crownwatch demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# the property-based suites with hundreds of examples each (the default run tries a few)
fuzz: $(STAMP)
	CROWNWATCH_FUZZ_PROFILE=fuzz $(PY) -m pytest tests/test_fuzz_sources.py tests/scan -k fuzz

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

bench: $(STAMP)
	$(PY) -m bench all

clean:
	rm -rf $(VENV) .crownwatch demo-out bench/out
