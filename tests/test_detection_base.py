"""The finding record the framework builds from a detection's row."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from crownwatch.detections.base import Detection, Meta, params_for, row_to_finding

META = Meta(
    id="test.thing",
    title="A thing",
    severity="high",
    attack=("T1078",),
    tables=("authentication",),
    description="",
    params={"n": 3, "share": 0.5},
)


def det(title):
    return Detection(meta=META, query=None, title=title, module=None)


ROW = {
    "key": "k",
    "first_seen": datetime(2026, 3, 2, 9, tzinfo=UTC),
    "last_seen": datetime(2026, 3, 2, 10, tzinfo=UTC),
    "entity_user": ["b", None, "a", "a"],
    "entity_src_ip": None,
    "raw_refs": ["f#10", "f#9", "f#100"],
    "ips": None,
    "ratio": 1 / 3,
}


def test_row_becomes_design_md_finding():
    f = row_to_finding(det(lambda r, p: "t"), ROW, SimpleNamespace())
    assert f["id"].startswith("cw-") and f["detection"] == "test.thing"
    assert f["first_seen"] == "2026-03-02T09:00:00Z" and f["attack"] == ["T1078"]
    assert f["entities"] == {"user": ["a", "b"]}  # sorted, de-duplicated, nulls gone
    assert f["evidence"]["raw_records"] == ["f#9", "f#10", "f#100"]  # line order
    assert f["evidence"]["ratio"] == 0.3333


def test_a_broken_title_does_not_cost_the_finding():
    f = row_to_finding(det(lambda r, p: ", ".join(r["ips"])), ROW, SimpleNamespace())
    assert f["title"] == "A thing" and "TypeError" in f["evidence"]["title_error"]


def test_params_overrides_are_type_checked():
    assert params_for(META, {"n": 5, "share": 1}).share == 1
    with pytest.raises(ValueError, match="unknown parameter"):
        params_for(META, {"m": 1})
    with pytest.raises(ValueError, match="must be int"):
        params_for(META, {"n": "five"})
