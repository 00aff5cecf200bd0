"""Evaluation on a seed the detections were not tuned on (seed 29, 300 accounts,
3 days): detection rate over planted attack accounts and false-positive rate over
every benign account (look-alikes included). More seeds and larger populations:
``python -m bench inference --evaluate`` (results in bench/INFERENCE_RESULTS.md)."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.evaluate import account_rates
from crownwatch.lake import Lake
from crownwatch.simulate.inference import generate_inference


@pytest.mark.slow
def test_unseen_seed_detection_and_false_positive_rates(tmp_path):
    truth = generate_inference(tmp_path / "logs", seed=29, accounts=300, days=3)
    lake = Lake(tmp_path / "lake")
    lake.ingest([tmp_path / "logs"])
    r = account_rates(run_detections(Engine(lake), {}, only=["inference"]), truth)
    print(r)
    assert r["attack"]["rate"] >= 0.95
    assert r["benign"]["rate"] <= 0.01
    # the four look-alikes stay quiet
    assert all(v["flagged"] == 0 for k, v in r["benign_kinds"].items() if k != "ordinary")
