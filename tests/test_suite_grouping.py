"""``make test`` runs on two workers with every test file held to one of them (see
``pytest_collection_modifyitems`` in conftest.py), so a module fixture — a simulated
organisation hunted end to end — is built once. Checked in a pytest of its own, the
way ``make test`` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODULE = """
import os

import pytest


@pytest.fixture(scope="module")
def built():
    with open(os.environ["CW_GROUPING_LOG"], "a") as fh:
        fh.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")


@pytest.mark.parametrize("n", range(8))
def test_uses_the_module_fixture(built, n):
    pass
"""


def test_a_files_tests_share_one_worker_and_its_module_fixture(tmp_path):
    (tmp_path / "test_grouped.py").write_text(MODULE)
    log = tmp_path / "built.log"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "tests.conftest"]
        + ["-o", "addopts=", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
        + [str(tmp_path / "test_grouped.py")],
        cwd=ROOT,
        env={**os.environ, "CW_GROUPING_LOG": str(log), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(log.read_text().split()) == 1, log.read_text()
