"""The cohort detections when the gateway logs less than the full layout: every signal
degrades to the fields that are there (issue: gateway fields are optional)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from crownwatch.detect import run_detections
from crownwatch.detections.inference import coverage_swarm_scenarios as cs
from crownwatch.detections.inference import fingerprint_network_scenarios as fn
from crownwatch.detections.inference.fingerprint_network import _ua_family
from crownwatch.engine import Engine
from crownwatch.lake import Lake


def _hunt(tmp_path, files: dict[str, str], detection: str, edit=None) -> list[dict]:
    for name, text in files.items():
        lines = [json.loads(x) for x in text.splitlines() if x]
        if edit and "background" not in name:
            lines = [edit(rec) for rec in lines]
        path = tmp_path / "logs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    lake = Lake(tmp_path / "lake")
    lake.ingest([tmp_path / "logs"])
    return run_detections(Engine(lake), {}, only=[detection])


def _without(*keys):
    def edit(rec):
        for k in keys:
            rec.pop(k, None)
        return rec

    return edit


def test_network_without_tls_or_asn_is_still_found_but_not_called_a_liar(tmp_path):
    [f] = _hunt(
        tmp_path,
        fn.network(),
        "inference.fingerprint_network",
        _without("tls_fingerprint", "source_asn"),
    )
    assert sorted(f["entities"]["account"]) == fn.NETWORK
    assert f["evidence"]["link_kinds"] == ["prefix", "template", "user_agent"]
    assert f["severity"] == "high" and not (f["evidence"]["ua_tls_mismatch"] or {}).get("mismatch")
    # without the ASN a prefix is keyed on the /24 alone
    prefixes = [v["value"] for v in f["evidence"]["core_values"] if v["kind"] == "prefix"]
    assert sorted(prefixes) == ["198.18.77.0/24", "198.19.140.0/24"]


def test_swarm_without_account_created_counts_late_first_requests_as_new(tmp_path):
    """Without ``account_created_at`` an account is new when its first request comes
    after the log's first ``new_account_days``: the same swarm four days later is
    found, the swarm in the log's first days is not (it cannot be told from old
    customers)."""

    def later(rec):
        t = datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00")) + timedelta(days=4)
        rec["timestamp"] = t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rec.pop("account_created_at")
        return rec

    [f] = _hunt(tmp_path / "late", cs.swarm(), "inference.coverage_swarm", later)
    assert sorted(f["entities"]["account"]) == cs.SWARM
    early = _hunt(
        tmp_path / "early", cs.swarm(), "inference.coverage_swarm", _without("account_created_at")
    )
    assert early == []


def test_user_agent_family_drops_the_version():
    assert _ua_family("OpenAI/Python 1.12.0") == _ua_family("OpenAI/Python 1.54.3")
    assert _ua_family("anthropic-python/0.18.1") == "anthropic-python"
    assert _ua_family("Mozilla/5.0 (X11; Linux x86_64)") == "mozilla"
    assert _ua_family("python-httpx/0.27.0") != _ua_family("node-fetch/3.3.2")


def test_a_network_on_a_hostile_client_and_prompts_stays_inert_in_the_report(tmp_path):
    """The user agent and the prompts are the attacker's: they reach the finding's
    evidence (core values, samples) and must reach the HTML report as text."""
    from crownwatch.incidents import derive
    from crownwatch.outputs.report import render_report

    hostile_ua = "<img src=x onerror=alert(1)>/1.0"

    def hostile(rec):
        if rec["user_agent"] == fn.OLD_SDK:
            rec["user_agent"] = hostile_ua
        for m in rec["messages"]:
            m["content"] = m["content"].replace("study guide", "</script><script>alert(1)</script>")
        return rec

    [f] = _hunt(tmp_path, fn.network(), "inference.fingerprint_network", hostile)
    assert {"kind": "user_agent", "value": hostile_ua} in [
        {k: v[k] for k in ("kind", "value")} for v in f["evidence"]["core_values"]
    ]
    assert any("<script>" in s for s in f["evidence"]["sample_prompts"])
    html = render_report([f], derive([f]))
    assert "<script" not in html.lower() and "<img" not in html
    assert "&lt;img" in html  # shown (as the UA family in the mismatch), as text
