"""Scenarios of ``inference.distillation_account`` on the simulated inference API
(:mod:`crownwatch.testing.inference`): the planted distillers fire with the right
ATLAS ids and entities; in the same population, the four benign look-alikes (a batch
pipeline, a benchmark run, a startup behind one NAT, a coding assistant — each of
which trips some signals), the ordinary customers and the hydra's members (each clean
alone: that detection is ``inference.hydra_cluster``) must stay quiet.

The distillers and the look-alikes share one log because the detection scores an
account against the rest of the traffic; ``scope`` names whom the benign scenario
covers."""

from __future__ import annotations

from crownwatch.detections.contract import Scenario
from crownwatch.testing.inference import gateway_logs, truth


def _distillers(found: list[dict]) -> None:
    distillers = set(truth()["attacks"]["distiller"]["accounts"])
    assert {a for f in found for a in f["entities"]["account"]} == distillers
    for f in found:
        assert f["attack"] == ["AML.T0024.002", "AML.T0005"]
        assert f["entities"]["api_key"] and f["entities"]["src_ip"] and f["entities"]["billing"]
        sig = f["evidence"]["signals"]
        assert {"cot_elicitation", "max_tokens_at_cap", "release_chasing"} <= set(sig)
        assert all(0 < s["strength"] <= 1 and s["z"] > 0 for s in sig.values())
        assert f["evidence"]["sample_prompts"] and all(
            len(s) <= 200 for s in f["evidence"]["sample_prompts"]
        )
        assert f["evidence"]["raw_records"][0].split("#")[0].endswith(".jsonl")
        # the simulated distillers ask code, maths and agentic prompts, fairly evenly
        mix = f["evidence"]["topics"]
        assert mix["topics"] >= 2 and 0 < mix["top_share"] < 0.8 and mix["evenness"] > 0.5


def _quiet_accounts() -> list[str]:
    t = truth()
    return [
        *(a for accts in t["benign_lookalikes"].values() for a in accts),
        *t["benign"],
        *t["attacks"]["hydra"]["accounts"],
    ]


SCENARIOS = [
    Scenario(
        "planted_distillers",
        "attack",
        gateway_logs,
        entities=lambda: {"account": truth()["attacks"]["distiller"]["accounts"]},
        expect=_distillers,
    ),
    Scenario(
        "lookalikes_customers_and_hydra_members",
        "benign",
        gateway_logs,
        scope=lambda: {"account": _quiet_accounts()},
    ),
]
