"""``inference.hydra_cluster`` on the simulated scenario: the 24-account hydra (four
cards, a shared proxy pool, one client, opened together, synchronised shifts, 30 %
distillation mixed with chat) is one finding, most of its members clean alone; the
startup behind one NAT with one billing id — also a linked cluster — stays quiet."""

from __future__ import annotations

import pytest

DET = "inference.hydra_cluster"


def _hydra_findings(scenario):
    return [f for f in scenario["findings"] if f["detection"] == DET]


def test_hydra_members_each_look_clean_to_the_account_detection(scenario):
    hydra = set(scenario["truth"]["attacks"]["hydra"]["accounts"])
    per_account = {
        a
        for f in scenario["findings"]
        if f["detection"] == "inference.distillation_account"
        for a in f["entities"]["account"]
    }
    assert not hydra & per_account
    assert _hydra_findings(scenario)[0]["evidence"]["accounts_clean_alone"] >= 20


def test_excluding_the_billing_ids_breaks_the_network(scenario):
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine

    cards = scenario["truth"]["attacks"]["hydra"]["billing"]
    conf = {"detections": {DET: {"exclude_billing": cards}}}
    found = run_detections(Engine(scenario["lake"]), conf, only=[DET])
    # the proxy pool still links them: one finding, now without billing evidence
    assert len(found) == 1 and "billing" not in found[0]["evidence"]["links"]


@pytest.mark.parametrize("same", ["nothing", "common prompt", "stock client"])
def test_customer_who_once_used_a_proxy_exit_is_not_swept_in(scenario, tmp_path, same):
    """Residential-proxy exits are real people's home connections too. A customer
    who shares one address with the network stays out of it — also when they send
    one common prompt three times (a "template" the network's cover traffic uses),
    or use the same stock HTTP client as the network."""
    import json

    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine
    from crownwatch.lake import Lake

    hydra = scenario["truth"]["attacks"]["hydra"]
    log = (scenario["root"] / "logs" / "gateway.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in log]
    exit_ip = next(r["source_ip"] for r in recs if r["account_id"] == hydra["accounts"][0])
    chats = [r for r in recs if r["account_id"] in scenario["truth"]["benign"]][:2]
    if same == "common prompt":
        chats = [chats[0]] * 3
    client = next(r["user_agent"] for r in recs if r["account_id"] == hydra["accounts"][0])
    home = [
        {
            **chat,
            "request_id": f"req_home_{i}",
            "account_id": "acct_home_user",
            "api_key_id": "key_home_user",
            "billing_id": "pm_home_user",
            "org_id": "org_home_user",
            "user_agent": client
            if same == "stock client"
            else "Mozilla/5.0 (Macintosh) home-app/1.0",
            "account_created_at": "2025-06-01T08:00:00Z",
            "source_ip": exit_ip if i == 0 else "198.51.100.250",
        }
        for i, chat in enumerate(chats)
    ]
    path = tmp_path / "gateway.jsonl"
    path.write_text("\n".join(log + [json.dumps(r) for r in home]) + "\n")
    lake = Lake(tmp_path / "lake")
    lake.ingest([path])
    found = run_detections(Engine(lake), {}, only=[DET])
    assert len(found) == 1
    assert set(found[0]["entities"]["account"]) == set(hydra["accounts"])
    assert exit_ip in found[0]["entities"]["src_ip"]


def test_leave_out_baselines_are_numpys_medians():
    """The hydra baseline without a network's members: the same medians and spreads as
    ``np.median`` over the accounts kept (odd and even counts, ties, missing values)."""
    import numpy as np

    from crownwatch.detections.inference._features import SIGNALS, SignalTable, signal_values

    rng = np.random.default_rng(5)
    rows = []
    for i in range(301):
        n = int(rng.integers(1, 900))
        rows.append(
            {
                "account_id": f"a{i}",
                "requests": n,
                "single_share": float(rng.choice([0.0, 0.5, 1.0, rng.random()])),
                "cot_share": float(rng.random()) if i % 7 else None,
                "out_mean": float(rng.integers(10, 3000)),
                "active_hours": int(rng.integers(1, 300)),
                "hours_of_day": int(rng.integers(1, 25)),
            }
        )
    table = SignalTable(rows)
    samples = [{f"a{i}" for i in rng.choice(301, int(rng.integers(1, 40)))} for _ in range(30)]
    for without in (set(), {"a0"}, {"a1", "a2"}, {f"a{i}" for i in range(0, 301, 3)}, *samples):
        got = table.population(without=without)
        kept = [r for r in rows if r["account_id"] not in without and r["requests"] >= 20]
        for s in SIGNALS:
            xs = np.array(
                [v for v in (signal_values(r)[s.name] for r in kept) if v is not None], float
            )
            if not len(xs):
                assert got[s.name] == (0.0, s.scale)
                continue
            med = float(np.median(xs))
            mad = float(np.median(np.abs(xs - med)))
            assert got[s.name] == (med, max(1.4826 * mad, s.scale)), s.name
