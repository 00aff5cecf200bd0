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


@pytest.fixture
def engine_rows(monkeypatch) -> list[dict]:
    """The rows the detections' queries return, as ``row_to_finding`` receives them (a
    test of what the engine cut, before Python keeps its samples), filled as detections
    run in the test."""
    import crownwatch.detect as detect

    rows: list[dict] = []
    keep = detect.row_to_finding
    monkeypatch.setattr(detect, "row_to_finding", lambda d, r, p: rows.append(r) or keep(d, r, p))
    return rows


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


# tryfirst: pytest-xdist's worker reads the xdist_group marks in its own
# pytest_collection_modifyitems, registered after this file and so called before it —
# without tryfirst the marks came too late, no group took effect, and both workers built
# the same module fixtures (a simulated organisation's hunt twice: ~35 s of CPU a run)
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test`` runs ``pytest -n 2 --dist loadgroup``) a test
    file runs on one worker, so its module fixtures (a hunted lake) are built once;
    every Spark test goes to the same worker, so one JVM serves them all as in a
    serial run. A file marked ``spread`` (its tests share no module fixture: the
    per-scenario tests, whose findings the session keeps on disk) is not held to one
    worker: it is a quarter of the suite's time, and as one unit it would leave the
    other worker idle at the end.

    The groups only take effect with pytest below 9.2 (pyproject.toml: pytest 9.2's
    node ids make xdist 3.8 drop them without a word, and both workers then built
    every module fixture and started a JVM each)."""

    def order(item) -> int:
        if item.get_closest_marker("spark"):
            return 0
        return 2 if item.get_closest_marker("spread") else 1

    for item in items:
        if order(item) == 0:
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif order(item) == 1:
            item.add_marker(pytest.mark.xdist_group(str(item.path)))
    # xdist hands the groups out in this order: the indivisible ones (the JVM's first)
    # before the spread tests, which then fill in whichever worker is free at the end
    items.sort(key=order)
