"""Start-up: ``crownwatch --help`` and ``crownwatch scan`` load only what they need.

The lake, the engine and the detections bring DuckDB, PyArrow, NumPy and ibis (hundreds of
milliseconds and tens of MB before the first line is printed). They are imported inside the
commands that use them, so a fresh process that imports the CLI, prints its help or scans a
model must not have them in ``sys.modules``. A behaviour test, not a timing test: each case
runs in a fresh interpreter and lists the modules it ended with.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
DATA_STACK = ("duckdb", "pyarrow", "numpy", "ibis", "pandas", "pyspark", "stix2")
OURS = ("crownwatch.lake", "crownwatch.engine", "crownwatch.detect", "crownwatch.detections")

# runs the CLI as the console script does, then reports sys.modules on stderr (stdout is the
# command's own output); SystemExit from Typer is caught so the report always comes
PROBE = """
import json, sys
sys.argv = ["crownwatch", *sys.argv[1:]]
try:
    import crownwatch.cli
    if len(sys.argv) > 1:
        crownwatch.cli.app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def _modules_after(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")]
    assert line, proc.stderr
    return set(json.loads(line[-1].removeprefix("MODULES="))), proc


def _heavy(modules: set[str], also: tuple[str, ...] = ()) -> list[str]:
    tops = DATA_STACK + also
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in tops or any(m == o or m.startswith(o + ".") for o in OURS)
    )


def test_importing_the_cli_loads_no_data_stack():
    modules, proc = _modules_after()
    assert proc.returncode == 0, proc.stderr
    assert "crownwatch.cli" in modules
    assert _heavy(modules, also=("pydantic", "rich")) == []


def test_help_loads_no_data_stack():
    modules, proc = _modules_after("--help")
    assert proc.returncode == 0, proc.stderr
    assert "scan" in proc.stdout and "hunt" in proc.stdout
    assert _heavy(modules, also=("pydantic",)) == []


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
def test_scan_through_typer_loads_no_data_stack(tmp_path, fmt):
    # Typer itself validates parameters with pydantic; the data stack stays out
    (tmp_path / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0], "step": 3}, protocol=4))
    modules, proc = _modules_after("scan", str(tmp_path), "--format", fmt)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "crownwatch.scan.scanner" in modules
    assert _heavy(modules) == []
