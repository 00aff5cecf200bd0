"""Shared test helpers: a fresh lake per test and a one-call hunt on the real engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake

FIXTURES = Path(__file__).parent / "fixtures"


def _has_spark() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


HAS_SPARK = _has_spark()


@pytest.fixture
def small_pieces(monkeypatch) -> None:
    """Large plain files are read in pieces (crownwatch.sources.pieces); with this,
    any file of more than a few hundred bytes is, so small fixtures take that path."""
    from crownwatch.sources import pieces

    monkeypatch.setattr(pieces, "MIN_PIECE", 64)


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


def hunt(lake: Lake, *paths, only=None, config=None, engine: str = "duckdb") -> list[dict]:
    """Ingest ``paths`` into ``lake`` and run detections; returns finding dicts."""
    lake.ingest(paths)
    return run_detections(Engine(lake, engine), config or {}, only=only)


def by_detection(findings: list[dict], detection: str) -> list[dict]:
    return [f for f in findings if f["detection"] == detection]


DEMO_FINDINGS = FIXTURES / "demo" / "findings.json"
# the incidents the demo's findings chain into: one per planted intrusion (README)
DEMO_INCIDENTS = 17


def demo_findings() -> list[dict]:
    """Every finding `crownwatch demo` stores (tests/fixtures/demo/README.md)."""
    import json

    return json.loads(DEMO_FINDINGS.read_text())


@pytest.fixture
def demo_lake(tmp_path) -> Path:
    """A lake holding the demo's findings and the incidents derived from them — what
    every export of the demo reads — without the two-minute hunt."""
    from crownwatch.findings import FindingStore
    from crownwatch.incidents import run as run_incidents

    root = tmp_path / "demo-lake"
    FindingStore(root).upsert(demo_findings())
    run_incidents(root)
    return root


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test`` runs ``pytest -n 2 --dist loadgroup``: 6 min 29 s
    against 10 min 06 s serially on the 2-core machine) a test file runs on one worker,
    so its module fixtures (a hunted lake) are built once; every file with a Spark test
    goes to the same worker, so one JVM serves them all as in a serial run."""
    spark_files = {item.path for item in items if item.get_closest_marker("spark")}
    for item in items:
        group = "spark" if item.path in spark_files else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
