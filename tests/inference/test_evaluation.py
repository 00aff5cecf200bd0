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


@pytest.mark.slow
def test_adaptive_campaigns_on_an_unseen_seed(tmp_path):
    """The three campaigns without a single-account signal, each in a style drawn from
    the seed, among their look-alikes (12 days so that the insider key has a past)."""
    truth = generate_inference(
        tmp_path / "logs", seed=31, accounts=400, days=12, adaptive=True, vary_attacks=True
    )
    lake = Lake(tmp_path / "lake")
    lake.ingest([tmp_path / "logs"])
    r = account_rates(run_detections(Engine(lake), {}, only=["inference"]), truth)
    print(r)
    for kind in ("coverage_swarm", "camouflaged_hydra", "insider_key"):
        assert r["attack_kinds"][kind]["rate"] >= 0.9, kind
    assert r["benign"]["rate"] <= 0.005
    for kind in ("university_class", "qa_suite", "eval_trial", "newcomers", "old_sdk"):
        assert r["benign_kinds"][kind]["flagged"] == 0, kind


@pytest.mark.slow
def test_customers_near_a_hydra_are_not_members_of_its_fingerprint_network(tmp_path):
    """Seed 29's drawn hydra picks among three stock clients and chats like customers:
    four customers who share its client, a common prompt and once a proxy exit were
    members of its fingerprint network until core values had to be the network's own
    (held by more members than other accounts)."""
    truth = generate_inference(tmp_path / "logs", seed=29, accounts=1000, days=3, vary_attacks=True)
    lake = Lake(tmp_path / "lake")
    lake.ingest([tmp_path / "logs"])
    r = account_rates(run_detections(Engine(lake), {}, only=["inference"]), truth)
    assert r["attack"]["rate"] == 1.0 and r["false_positive_accounts"] == []
