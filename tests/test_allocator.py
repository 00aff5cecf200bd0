"""The commands that run detections set DuckDB's allocator to hand freed pages back soon
(``crownwatch.__main__.ALLOCATOR_CONF``; why, and what it was measured to save, is in
that module). jemalloc reads the variable once, as DuckDB loads, so the console
script's entry point sets it before anything imports DuckDB: each case runs ``main`` in
a fresh interpreter and reports what the variable was at the moment DuckDB was first
imported (during ``main``, or after it when the command never needed DuckDB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crownwatch.__main__ import ALLOCATOR_CONF, ALLOCATOR_ENV

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = """
import os, sys
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "duckdb" and not seen:
            seen.append(os.environ.get(%(env)r, "<unset>"))
        return None
sys.meta_path.insert(0, Watch())
sys.argv = ["crownwatch", *sys.argv[1:]]
from crownwatch.__main__ import main
try:
    main()
except SystemExit:
    pass
import duckdb  # noqa: the cases that never reach DuckDB import it here
print(seen[0])
"""


def _conf_duckdb_saw(args: list[str], env: dict[str, str] | None = None) -> str:
    run_env = {k: v for k, v in os.environ.items() if k != ALLOCATOR_ENV}
    run_env["PYTHONPATH"] = str(SRC)
    run_env.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", PROBE % {"env": ALLOCATOR_ENV}, *args],
        capture_output=True,
        text=True,
        env=run_env,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["detect", "hunt", "demo"])
def test_commands_that_detect_set_it_before_duckdb_is_imported(command: str):
    assert _conf_duckdb_saw([command, "--help"]) == ALLOCATOR_CONF


def test_a_value_the_user_chose_is_kept():
    mine = "dirty_decay_ms:1000,background_thread:false"
    assert _conf_duckdb_saw(["detect", "--help"], {ALLOCATOR_ENV: mine}) == mine


@pytest.mark.parametrize("command", ["ingest", "findings"])
def test_other_commands_leave_duckdb_as_it_ships(command: str):
    assert _conf_duckdb_saw([command, "--help"]) == "<unset>"
