"""A small lake of its own per boundary test. The attack and benign scenarios of each
identity detection are beside it (``*_scenarios.py``), run by
tests/test_detection_scenarios.py."""

from __future__ import annotations

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.testing.okta import write


def hunt_events(
    tmp_path, events: list[dict], detection: str, config: dict | None = None
) -> list[dict]:
    """Hunt a small scenario of its own for one detection (boundary tests)."""
    path = write(tmp_path / "okta.jsonl", events)
    lake = Lake(tmp_path / "lake")
    lake.ingest([path])
    found = run_detections(Engine(lake), config or {}, only=[detection])
    return [f for f in found if f["detection"] == detection]
