"""``inference.distillation_account`` on the simulated scenario (seed 11): the planted
distillers fire with the right ATLAS ids and entities; the four benign look-alikes
— each of which does trip some signals — stay quiet."""

from __future__ import annotations

import pytest

from crownwatch.detect import Tables
from crownwatch.detections import get
from crownwatch.detections.base import params_for
from crownwatch.detections.inference._features import account_features, score_accounts
from crownwatch.engine import Engine

DET = "inference.distillation_account"


@pytest.fixture(scope="module")
def scored(scenario):
    det = get(DET)
    p = params_for(det.meta, None)
    engine = Engine(scenario["lake"])
    rows = engine.execute(account_features(Tables(engine), p))
    return {r["account_id"]: r for r in score_accounts(rows, p)}


def _flagged(scenario):
    return {
        a for f in scenario["findings"] if f["detection"] == DET for a in f["entities"]["account"]
    }


@pytest.mark.parametrize("kind", ["batch_pipeline", "benchmark", "startup_nat", "coding_assistant"])
def test_benign_lookalikes_stay_quiet(scenario, scored, kind):
    accounts = set(scenario["truth"]["benign_lookalikes"][kind])
    assert not accounts & _flagged(scenario)
    # ...and not because they are invisible: the look-alike does trip signals
    fired = {s for a in accounts for s in scored[a]["_score"]["signals"]}
    expected = {
        "batch_pipeline": {"round_the_clock", "templated", "single_turn"},
        "benchmark": {"cot_elicitation", "capability_targeting"},
        "startup_nat": set(),
        "coding_assistant": {"capability_targeting"},
    }[kind]
    assert expected <= fired


def test_fp_budget_and_exclusion_are_honoured(scenario):
    from crownwatch.detect import run_detections

    distillers = scenario["truth"]["attacks"]["distiller"]["accounts"]
    conf = {"detections": {DET: {"exclude_accounts": distillers[:1]}}}
    found = run_detections(Engine(scenario["lake"]), conf, only=[DET])
    assert {a for f in found for a in f["entities"]["account"]} == set(distillers[1:])
    # a tighter false-positive budget raises the z bar: fewer signals fire
    before = {
        f["key"] if "key" in f else f["id"]: len(f["evidence"]["signals"])
        for f in scenario["findings"]
        if f["detection"] == DET
    }
    conf = {"detections": {DET: {"fp_budget": 1e-12}}}
    after = {
        f["id"]: len(f["evidence"]["signals"])
        for f in run_detections(Engine(scenario["lake"]), conf, only=[DET])
    }
    assert sum(after.values()) < sum(before.values())
