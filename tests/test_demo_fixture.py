"""The committed demo findings (tests/fixtures/demo) are what the demo finds today."""

from __future__ import annotations

import pytest

from crownwatch.demo import run_demo
from crownwatch.findings import FindingStore
from tests.conftest import DEMO_INCIDENTS, demo_findings


def _comparable(findings: list[dict]) -> list[tuple]:
    return sorted((f["id"], f["detection"], f["severity"], f["title"]) for f in findings)


@pytest.mark.slow
def test_demo_still_finds_what_the_fixture_holds(tmp_path):
    lake = tmp_path / "lake"
    assert run_demo(tmp_path / "out", lake, 7, "json") == 0
    assert _comparable(FindingStore(lake).all()) == _comparable(demo_findings())


def test_demo_lake_holds_the_demo_findings_and_their_incidents(demo_lake):
    from crownwatch.incidents.store import IncidentStore

    stored = FindingStore(demo_lake).all()
    assert _comparable(stored) == _comparable(demo_findings())
    assert len(IncidentStore(demo_lake).all()) == DEMO_INCIDENTS
