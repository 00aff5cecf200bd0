# The two commands of the README — `make demo` and `make test` — do all set-up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint bench fuzz clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crownwatch demo

# The report's browser test drives Debian's Chromium (never a downloaded one). Best
# effort here: installed when apt-get can (root, or sudo without a password); without
# it the browser test fails and says how to install it (CROWNWATCH_SKIP_BROWSER=1 skips).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium); \
	  elif sudo -n true 2>/dev/null; then sudo apt-get install -y -q chromium || (sudo apt-get update -q && sudo apt-get install -y -q chromium); \
	  else echo "chromium not found and cannot install it here: apt-get install chromium"; fi; } || true

# two workers on the 2 cores (a test file per worker, every Spark test on one, the
# spread files filling in: see tests/conftest.py) — 3½–5½ min on the shared 2-core
# machine, the two workers' test time within 1 % of each other (fresh-clone times in
# the README, "Two commands").
# Bytecode caches allowed even where the environment turns them off
# (PYTHONDONTWRITEBYTECODE): both workers and every crownwatch process a test starts
# would otherwise compile each module again — collecting took 6.3 s a worker without
# them, 3.5 s with (the caches are .gitignored __pycache__ folders).
test: $(STAMP) chromium
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n 2 --dist loadgroup

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
	rm -rf $(VENV) .crownwatch demo-out bench/out tests/artifacts
