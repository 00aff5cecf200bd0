"""Engine: a table the lake does not hold is an empty table of the right schema, so a
detection that reads another family's table (crown-jewel access after an identity
finding) runs on any lake."""

from __future__ import annotations

from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.tables import SCHEMAS


def test_missing_table_is_empty_with_its_schema(tmp_path):
    eng = Engine(Lake(tmp_path / "lake"))
    t = eng.table("authentication")
    assert list(t.columns) == [f.name for f in SCHEMAS["authentication"]]
    assert eng.execute(t.filter(t.status == "failure")) == []


def test_memory_limit_setting(monkeypatch):
    import pytest

    from crownwatch.lake import memory_limit

    monkeypatch.delenv("CROWNWATCH_MEMORY_LIMIT", raising=False)
    assert memory_limit() is None
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "512MiB")
    assert memory_limit() == "512MiB"
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "3GB'; DROP TABLE x; --")
    with pytest.raises(ValueError):
        memory_limit()


def test_ingest_under_a_memory_limit(tmp_path, monkeypatch):
    from tests.detections.identity._okta import OFFICE, T0, success, write

    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "256MB")
    path = write(tmp_path / "okta.jsonl", success(T0, "a.user", OFFICE))
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([path])
    assert res.read == res.routed_rows > 0 and res.quarantined == 0
