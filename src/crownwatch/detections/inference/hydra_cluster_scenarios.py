"""Scenarios of ``inference.hydra_cluster`` on the simulated inference API
(:mod:`crownwatch.testing.inference`): the 24-account hydra (four cards, a shared proxy
pool, one client, opened together, synchronised shifts, 30 % distillation mixed with
chat) is one finding; the startup behind one NAT with one billing id — also a linked
cluster — and the ordinary customers must stay out of it."""

from __future__ import annotations

from crownwatch.detections.contract import Scenario
from crownwatch.testing.inference import gateway_logs, truth


def _hydra(found: list[dict]) -> None:
    hydra = truth()["attacks"]["hydra"]
    [f] = found
    assert set(f["entities"]["account"]) == set(hydra["accounts"])
    assert set(f["entities"]["billing"]) == set(hydra["billing"])
    assert f["entities"]["src_ip"] and len(f["entities"]["api_key"]) == len(hydra["accounts"])
    assert f["attack"] == ["AML.T0024.002", "AML.T0005"] and f["severity"] == "critical"
    ev = f["evidence"]
    assert {"billing", "src_ip", "created_together", "synchronised_timing", "user_agent"} <= set(
        ev["links"]
    )
    assert "output_harvest" in ev["signals"] and ev["timing_sync"] >= 0.5
    assert ev["sample_prompts"] and ev["accounts_clean_alone"] >= 20


SCENARIOS = [
    Scenario(
        "hydra_network",
        "attack",
        gateway_logs,
        entities=lambda: {"account": truth()["attacks"]["hydra"]["accounts"]},
        expect=_hydra,
    ),
    Scenario(
        "startup_behind_one_nat_and_customers",
        "benign",
        gateway_logs,
        scope=lambda: {
            "account": [*truth()["benign_lookalikes"]["startup_nat"], *truth()["benign"]]
        },
    ),
]
