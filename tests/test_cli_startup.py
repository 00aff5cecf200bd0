"""Start-up: ``crownwatch --help`` and ``crownwatch scan`` load only what they need.

The console script is ``crownwatch.__main__:main``: plain ``scan`` invocations run the
scanner without Typer (whose import is most of a small scan's time); everything else goes
to the Typer app in ``crownwatch.cli``.

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
DATA_STACK = ("duckdb", "pyarrow", "numpy", "ibis", "pandas", "pyspark", "stix2", "fsspec")
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
    assert "--install-completion" in proc.stdout  # shell completion costs no import
    assert _heavy(modules, also=("pydantic",)) == []


def test_version_loads_no_data_stack():
    modules, proc = _modules_after("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("crownwatch ")
    assert _heavy(modules, also=("pydantic", "rich")) == []


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "sarif"])
def test_scan_through_typer_loads_no_data_stack(tmp_path, fmt):
    # through Typer (pinned below 0.29, whose option validation imports pydantic)
    (tmp_path / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0], "step": 3}, protocol=4))
    modules, proc = _modules_after("scan", str(tmp_path), "--format", fmt)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "crownwatch.scan.scanner" in modules
    assert _heavy(modules, also=("pydantic",)) == []


# what the console script does (pyproject.toml: crownwatch = "crownwatch.__main__:main")
SCRIPT = """
import json, sys
sys.argv = ["crownwatch", *sys.argv[1:]]
from crownwatch.__main__ import main
try:
    code = main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def _script(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env, timeout=120
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")]
    assert line, proc.stderr
    return set(json.loads(line[-1].removeprefix("MODULES="))), proc


def _tree(tmp_path: Path) -> Path:
    d = tmp_path / "models"
    (d / "sub").mkdir(parents=True)
    (d / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0], "step": 3}, protocol=2))
    (d / "sub" / "evil.bin").write_bytes(b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.")
    return d


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "sarif"])
def test_console_script_scan_loads_neither_typer_nor_the_data_stack(tmp_path, fmt):
    d = _tree(tmp_path)
    modules, proc = _script("scan", str(d), "--format", fmt)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # evil.bin: malicious
    assert "evil.bin" in proc.stdout
    assert "crownwatch.scan.scanner" in modules
    assert _heavy(modules, also=("typer", "click", "pydantic", "rich")) == []


def test_console_script_scan_prints_what_the_typer_command_prints(tmp_path):
    from typer.testing import CliRunner

    from crownwatch.cli import app

    d = _tree(tmp_path)
    for args in (
        ["scan", str(d), "--format", "json"],
        ["scan", "-f", "sarif", str(d / "sub"), str(d / "weights.pkl")],
        ["scan", "--format=json", str(d), "--workers", "1"],
        ["scan", str(d), "-f", "jsonl"],
        ["scan", str(d / "missing.pt"), "--format", "json"],
    ):
        _, proc = _script(*args)
        typer_run = CliRunner().invoke(app, args)
        assert proc.returncode == typer_run.exit_code, args
        assert proc.stdout == typer_run.stdout, args


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["scan", "--help"],
        ["scan"],
        ["scan", "--bogus", "x"],
        ["scan", "x", "--format", "xml"],
        ["scan", "x", "--workers", "two"],
        ["scan", "x", "--format"],
        ["version"],
    ],
)
def test_everything_else_goes_to_typer(args):
    from typer.testing import CliRunner

    from crownwatch.cli import app

    modules, proc = _script(*args)
    expected = CliRunner().invoke(app, args)
    assert proc.returncode == expected.exit_code, proc.stdout + proc.stderr
    assert "typer" in modules


def test_parse_scan_reads_only_the_plain_forms():
    from crownwatch.__main__ import parse_scan

    assert parse_scan(["a", "b"]) == (["a", "b"], "table", None, None)
    assert parse_scan(["-f", "json", "a", "--workers", "3"]) == (["a"], "json", None, 3)
    assert parse_scan(["--format=sarif", "--lake=lk/", "a"]) == (["a"], "sarif", "lk", None)
    assert parse_scan(["a", "--format", "json", "--format", "table"]) == (
        ["a"],
        "table",
        None,
        None,
    )
    assert parse_scan(["-"]) == (["-"], "table", None, None)
    assert parse_scan(["a", "-f", "jsonl"]) == (["a"], "jsonl", None, None)
    for args in (
        [],
        ["--help"],
        ["-h"],
        ["a", "--"],
        ["a", "-fjson"],
        ["a", "-f=json"],
        ["a", "--format", "JSON"],
        ["a", "--workers", "1.5"],
        ["a", "--lake", ""],
        ["a", "--lake"],
        ["a", "--verbose"],
    ):
        assert parse_scan(args) is None, args


def test_ingest_of_a_small_file_loads_neither_pydantic_nor_fsspec(tmp_path):
    # pydantic came with Typer 0.29's parameter validation (pinned below it) and fsspec
    # with the piece filesystem a small file never uses: ~0.15 s of every ingest's start
    log = tmp_path / "okta.jsonl"
    log.write_text(
        '{"uuid": "1", "published": "2026-03-02T10:00:00.000Z", "eventType": "user.session.start",'
        ' "actor": {"id": "00u1", "type": "User", "alternateId": "alice@corp.example"},'
        ' "client": {"ipAddress": "203.0.113.7"}, "outcome": {"result": "SUCCESS"}}\n'
    )
    modules, proc = _modules_after("ingest", str(log), "--lake", str(tmp_path / "lake"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "crownwatch.sources.okta" in modules and "duckdb" in modules
    assert {m.split(".")[0] for m in modules} & {"pydantic", "fsspec"} == set()
