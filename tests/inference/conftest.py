"""One simulated inference scenario per test session, hunted once on DuckDB.

The scenario is ``crownwatch.simulate.inference.generate_inference`` (seed 11, the
seed the thresholds were tuned on); the evaluation test uses another seed."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.simulate.inference import generate_inference


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("inference")
    truth = generate_inference(root / "logs", seed=11, accounts=90, days=2)
    lake = Lake(root / "lake")
    results = lake.ingest([root / "logs" / "gateway.jsonl"])
    findings = run_detections(Engine(lake), {}, only=["inference"])
    return {"truth": truth, "lake": lake, "results": results, "findings": findings, "root": root}
