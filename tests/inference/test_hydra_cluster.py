"""``inference.hydra_cluster`` on the simulated scenario: the 24-account hydra (four
cards, a shared proxy pool, one client, opened together, synchronised shifts, 30 %
distillation mixed with chat) is one finding, most of its members clean alone; the
startup behind one NAT with one billing id — also a linked cluster — stays quiet."""

from __future__ import annotations

DET = "inference.hydra_cluster"


def _hydra_findings(scenario):
    return [f for f in scenario["findings"] if f["detection"] == DET]


def test_hydra_network_found_as_one_cluster(scenario):
    truth = scenario["truth"]["attacks"]["hydra"]
    found = _hydra_findings(scenario)
    assert len(found) == 1
    f = found[0]
    assert set(f["entities"]["account"]) == set(truth["accounts"])
    assert set(f["entities"]["billing"]) == set(truth["billing"])
    assert f["entities"]["src_ip"] and len(f["entities"]["api_key"]) == len(truth["accounts"])
    assert f["attack"] == ["AML.T0024.002", "AML.T0005"] and f["severity"] == "critical"
    ev = f["evidence"]
    assert {"billing", "src_ip", "created_together", "synchronised_timing", "user_agent"} <= set(ev["links"])
    assert "output_harvest" in ev["signals"] and ev["timing_sync"] >= 0.5
    assert ev["sample_prompts"]


def test_hydra_members_each_look_clean_to_the_account_detection(scenario):
    hydra = set(scenario["truth"]["attacks"]["hydra"]["accounts"])
    per_account = {a for f in scenario["findings"] if f["detection"] == "inference.distillation_account"
                   for a in f["entities"]["account"]}
    assert not hydra & per_account
    assert _hydra_findings(scenario)[0]["evidence"]["accounts_clean_alone"] >= 20


def test_startup_behind_one_nat_is_not_a_hydra(scenario):
    startup = set(scenario["truth"]["benign_lookalikes"]["startup_nat"])
    flagged = {a for f in _hydra_findings(scenario) for a in f["entities"]["account"]}
    assert not startup & flagged
    assert not set(scenario["truth"]["benign"]) & flagged


def test_excluding_the_billing_ids_breaks_the_network(scenario):
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine

    cards = scenario["truth"]["attacks"]["hydra"]["billing"]
    conf = {"detections": {DET: {"exclude_billing": cards}}}
    found = run_detections(Engine(scenario["lake"]), conf, only=[DET])
    # the proxy pool still links them: one finding, now without billing evidence
    assert len(found) == 1 and "billing" not in found[0]["evidence"]["links"]
