"""Evaluation on a seed the detections were not tuned on (seed 29, 300 accounts,
3 days): detection rate over planted attack accounts and false-positive rate over
every benign account (look-alikes included). The measured numbers are recorded in
bench/INFERENCE_RESULTS.md."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.simulate.inference import generate_inference


def evaluate(root, seed: int = 29, accounts: int = 300, days: int = 3) -> dict:
    truth = generate_inference(root / "logs", seed=seed, accounts=accounts, days=days)
    lake = Lake(root / "lake")
    lake.ingest([root / "logs"])
    findings = run_detections(Engine(lake), {}, only=["inference"])
    flagged = {a for f in findings for a in f["entities"].get("account", [])}
    attack = {a for v in truth["attacks"].values() for a in v["accounts"]}
    benign = set(truth["benign"]) | {a for v in truth["benign_lookalikes"].values() for a in v}
    return {
        "requests": truth["requests"],
        "attack_accounts": len(attack),
        "detected": len(attack & flagged),
        "detection_rate": len(attack & flagged) / len(attack),
        "benign_accounts": len(benign),
        "false_positives": len(benign & flagged),
        "false_positive_rate": len(benign & flagged) / len(benign),
        "findings": len(findings),
    }


@pytest.mark.slow
def test_unseen_seed_detection_and_false_positive_rates(tmp_path):
    r = evaluate(tmp_path)
    print(r)
    assert r["detection_rate"] >= 0.95
    assert r["false_positive_rate"] <= 0.01
