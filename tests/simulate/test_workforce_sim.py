"""The workforce simulator: a month of HR, device, sign-in and code-platform records in
the vendors' layouts, with a laptop farm and a vendor's sweep planted — each signal
raised by its detection, every look-alike quiet."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.evaluate import score
from crownwatch.lake import Lake
from crownwatch.simulate.workforce import generate_workforce


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    out = tmp_path_factory.mktemp("wf")
    result = generate_workforce(out / "workforce")
    lake = Lake(out / "lake")
    files = sorted(
        p
        for p in (out / "workforce").rglob("*")
        if p.is_file() and p.suffix != ".toml" and p.name != "truth.json"
    )
    results = lake.ingest(files)
    config = tomllib.loads((out / "workforce" / "crownwatch.toml").read_text())
    found = run_detections(Engine(lake), config, only=["identity", "workforce", "supply_chain"])
    return result, results, found


def test_every_file_is_read_by_its_vendors_source(month):
    _, results, _ = month
    by = {r.path.rsplit("/", 2)[-2]: r for r in results}
    assert {k: by[k].source for k in by} == {
        "hr": "hr_roster",
        "jamf": "jamf",
        "osquery": "osquery",
        "okta": "okta",
        "github": "github",
    }
    assert all(r.status == "ingested" and r.quarantined == 0 for r in results)
    assert by["hr"].rows["workforce"] == 45  # 40 staff, 2 siblings, 3 contractors
    assert by["jamf"].rows["devices"] == 45


def test_planted_signals_found_and_lookalikes_quiet(month):
    result, _, found = month
    verdicts = {s.item: (s.ok, s.malicious) for s in score(found, result["truth"])}
    assert verdicts and all(ok for ok, _ in verdicts.values()), verdicts
    assert (
        sum(m for _, m in verdicts.values()) == 8 and sum(not m for _, m in verdicts.values()) == 5
    )
    # nothing else: every finding is about the farm or the vendor's developer
    planted = {"jin.park", "leo.han", "max.lee", "acme-jdoe"}
    assert all(set(f["entities"].get("user", [])) <= planted for f in found)


def test_same_seed_same_files(tmp_path):
    a = generate_workforce(tmp_path / "a", seed=3)
    b = generate_workforce(tmp_path / "b", seed=3)
    assert a["truth"] == b["truth"]
    for x, y in zip(sorted(a["files"]), sorted(b["files"]), strict=True):
        assert Path(x).read_bytes() == Path(y).read_bytes()
