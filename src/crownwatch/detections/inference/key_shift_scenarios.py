"""Scenarios of ``inference.key_shift``, in the gateway's JSON-lines layout
(docs/interfaces.md). Attack: one of four keys of a tenant that used it for a support
chat sends 510 single-turn coding and maths prompts a day from day 8. Look-alikes: a
QA team's key that has run its regression suite every night from the first day, and a
tenant that moves all three of its keys to a batch job on the same day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from crownwatch.detections.contract import Scenario

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 13
SHIFT = 8
CHAT = [
    {"role": "system", "content": "You are the support assistant of a furniture shop."},
    {"role": "user", "content": "A customer asks where their sofa is; it shipped Monday."},
    {"role": "assistant", "content": "Here is a friendly reply you can send…"},
    {"role": "user", "content": "Make it shorter and mention the tracking link."},
]
EGRESS = {
    "org_ks_acme": "198.51.100.140",
    "org_ks_qa": "192.0.2.141",
    "org_ks_mig": "203.0.113.142",
}
AGENT = {
    "org_ks_acme": "openai-python/1.68.2",
    "org_ks_qa": "python-httpx/0.27.2",
    "org_ks_mig": "node-fetch/3.3.2",
}
BENCH = (
    "Write a Python function that returns the {i}th prime number, with tests.",
    "Prove that the sum of the first {i} odd numbers is a perfect square, step by step.",
)


def _line(t: datetime, key: str, tenant: str, i: int, bench: bool) -> str:
    messages = [{"role": "user", "content": BENCH[i % 2].format(i=i % 997 + 3)}] if bench else CHAT
    return json.dumps(
        {
            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
            "request_id": f"req_{key}_{t:%m%d}_{i}",
            "account_id": f"acct_{key}",
            "api_key_id": key,
            "org_id": tenant,
            "billing_id": f"pm_{tenant}",
            "source_ip": EGRESS[tenant],  # each tenant's own office egress
            "user_agent": AGENT[tenant],
            "model": "model-large-2026-02",
            "messages": messages,
            "max_tokens": 1024,
            "temperature": 0.7,
            "n": 1,
            "input_tokens": 120,
            "output_tokens": 300,
            "status": 200,
        },
        separators=(",", ":"),
    )


def _day(key: str, tenant: str, day: int, n: int, bench: bool) -> list[str]:
    start = DAY0 + timedelta(days=day, hours=8)
    step = 12 * 3600 / n
    return [_line(start + timedelta(seconds=k * step), key, tenant, k, bench) for k in range(n)]


def insider_key() -> dict[str, str]:
    lines = []
    for day in range(DAYS):
        for k in range(4):
            key = f"ks_acme_{k}"
            if k == 2 and day >= SHIFT:
                lines += _day(key, "org_ks_acme", day, 510, True)
            else:
                lines += _day(key, "org_ks_acme", day, 30, False)
    return {"gateway/key_shift_attack.jsonl": "\n".join(lines) + "\n"}


def qa_suite_and_migration() -> dict[str, str]:
    lines = []
    for day in range(DAYS):
        lines += _day("ks_qa_suite", "org_ks_qa", day, 510, True)
        lines += _day("ks_qa_chat", "org_ks_qa", day, 30, False)
        for k in range(3):
            moved = day >= SHIFT
            lines += _day(f"ks_mig_{k}", "org_ks_mig", day, 510 if moved else 30, moved)
    return {"gateway/key_shift_benign.jsonl": "\n".join(lines) + "\n"}


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert f["entities"]["api_key"] == ["ks_acme_2"] and ev["tenant"] == "org_ks_acme"
    # every harvest day from the change on, each against the baseline before it
    assert ev["change_day"] == "2026-03-10" and ev["shifted_days"] == DAYS - SHIFT
    assert ev["daily_mean_before"] == 30.0 and ev["single_turn_before"] == 0.0
    assert ev["single_turn_after"] == 1.0 and ev["capability_share_after"] == 1.0
    assert ev["tenant_keys"] == 4 and ev["raw_records"]


SCENARIOS = [
    Scenario(
        "insider_key_of_a_support_tenant",
        "attack",
        insider_key,
        entities={"api_key": ("ks_acme_2",)},
        expect=_attack,
    ),
    Scenario("nightly_qa_suite_and_a_whole_tenant_migration", "benign", qa_suite_and_migration),
]
