"""The storage simulation end to end: every planted attack is found by the detection
``truth`` names, and the benign rhythms (nightly job, DR replica, newcomer) stay quiet."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.simulate.storage import generate_storage


@pytest.mark.slow
def test_generated_campaign_is_found_and_rhythms_stay_quiet(lake, tmp_path, monkeypatch):
    out = generate_storage(tmp_path / "sim", seed=5, days=10)
    monkeypatch.setenv("CROWNWATCH_CONFIG", out["config"])
    res = lake.ingest([tmp_path / "sim" / d for d in ("aws", "gcp", "azure")])
    assert {r.source for r in res} == {"cloudtrail", "s3_access", "gcs_audit", "azure_blob"}
    assert all(r.quarantined == 0 for r in res)
    # the run's configuration carries the registry (an empty one would mean auto-tagging)
    conf = tomllib.loads(Path(out["config"]).read_text())
    found = run_detections(Engine(lake), conf, only=["exfiltration"])
    assert json.loads((tmp_path / "sim" / "truth.json").read_text()) == out["truth"]
    for t in out["truth"]:
        hits = [
            f
            for f in found
            if f["detection"] in t["detections"]
            and (t.get("asset") is None or t["asset"] in f["entities"].get("asset", []))
        ]
        assert hits, t["attack"]
    principals = {p for f in found for p in f["entities"].get("principal", [])}
    assert not any("nightly-train" in p or "ines@" in p for p in principals), principals
    assert not any(f["evidence"].get("target_account") == "444455556666" for f in found)
