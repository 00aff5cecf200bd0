"""One lake holding every identity scenario (attacks and benign look-alikes), hunted
once per test session; the per-detection tests read their findings from it. Each
scenario has its own users, addresses and days, so sharing a lake is also a test:
no scenario may leak into another's findings."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake

from ._okta import write
from ._scenarios import all_scenario_events


@pytest.fixture(scope="session")
def identity_world(tmp_path_factory):
    """(lake, findings) for all scenarios on DuckDB."""
    d = tmp_path_factory.mktemp("identity_world")
    path = write(d / "okta_system_log.jsonl", all_scenario_events())
    lake = Lake(d / "lake")
    lake.ingest([path])
    return lake, run_detections(Engine(lake), {}, only=["identity"])


def findings_for(
    findings: list[dict], detection: str, user_prefix: str | None = None
) -> list[dict]:
    out = [f for f in findings if f["detection"] == detection]
    if user_prefix is not None:
        out = [
            f for f in out if any(u.startswith(user_prefix) for u in f["entities"].get("user", []))
        ]
    return out


def hunt_events(
    tmp_path, events: list[dict], detection: str, config: dict | None = None
) -> list[dict]:
    """Hunt a small scenario of its own for one detection (boundary tests)."""
    path = write(tmp_path / "okta.jsonl", events)
    lake = Lake(tmp_path / "lake")
    lake.ingest([path])
    found = run_detections(Engine(lake), config or {}, only=[detection])
    return [f for f in found if f["detection"] == detection]
