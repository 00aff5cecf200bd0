"""Gateway JSON lines for the cohort detections' scenarios (``inference.coverage_swarm``,
``inference.fingerprint_network``): a crowd is only unusual against a platform, so every
scenario writes its accounts over the same background of ordinary customers.

The layout is the LLM-gateway log of docs/interfaces.md with the ``account_created_at``,
``source_asn`` and ``tls_fingerprint`` extensions. Addresses are from the ranges
reserved for documentation and benchmarking."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import cache

from crownwatch.simulate.inference import JA4, _ts, asn_of, tls_of
from crownwatch.simulate.inference_adaptive import task

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)
COMMON_UAS = ("OpenAI/Python 1.54.3", "python-httpx/0.27.0", "node-fetch/3.3.2")
CHAT = (
    "Can you help me write a toast for my sister's wedding?",
    "Plan a 4 day trip to Lisbon on a mid budget",
    "Give me a recipe for banana bread",
    "Explain photosynthesis like I'm 15",
    "what's a good name for a golden retriever puppy",
    "How do I read a large file line by line in Python?",
)


def request(
    t: datetime,
    account: str,
    messages: list[dict],
    *,
    ip: str,
    ua: str,
    tls: str | None = None,
    billing: str | None = None,
    org: str | None = None,
    created: datetime | None = None,
) -> str:
    rec = {
        "timestamp": _ts(t),
        "request_id": f"req_{account}_{t:%d%H%M%S%f}",
        "account_id": account,
        "api_key_id": f"key_{account}",
        "billing_id": billing,
        "org_id": org,
        "source_ip": ip,
        "source_asn": asn_of(ip),
        "user_agent": ua,
        "tls_fingerprint": tls or tls_of(ua),
        "model": "model-large-2026-02",
        "messages": messages,
        "input_tokens": 60,
        "output_tokens": 280,
        "status": 200,
        "account_created_at": _ts(created or DAY0 - timedelta(days=200)),
    }
    return json.dumps({k: v for k, v in rec.items() if v is not None}, separators=(",", ":"))


def ask(t: datetime, account: str, prompt: str, **kw) -> str:
    return request(t, account, [{"role": "user", "content": prompt}], **kw)


def chat(t: datetime, account: str, rng: random.Random, **kw) -> list[str]:
    """A two-turn conversation: the follow-up carries the history."""
    first = {"role": "user", "content": rng.choice(CHAT)}
    reply = {"role": "assistant", "content": "Here you go…"}
    more = {"role": "user", "content": "Thanks! Can you make it shorter?"}
    return [
        request(t, account, [first], **kw),
        request(t + timedelta(minutes=3), account, [first, reply, more], **kw),
    ]


def residential(rng: random.Random) -> str:
    return f"{rng.choice(('198.18', '198.19'))}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def background(accounts: int = 800, days: int = 4) -> list[str]:
    """Ordinary customers: a few conversations each, common clients over their own
    TLS stacks, one home address each; a few of them ask a coding question."""
    rng = random.Random(20)
    lines = []
    for i in range(accounts):
        acct, ip, ua = f"acct_bg{i:04d}", residential(rng), rng.choice(COMMON_UAS)
        for _ in range(rng.randint(1, 3)):
            t = DAY0 + timedelta(days=rng.uniform(0, days - 0.2))
            lines += chat(t, acct, rng, ip=ip, ua=ua, billing=f"pm_bg{i:04d}")
    return lines


@cache
def background_file() -> str:
    """:func:`background` as the file every crowd scenario shares (one name, one content)."""
    return "\n".join(background()) + "\n"


def tasks(seed: int, n: int, offset: int = 0) -> list[str]:
    """``n`` distinct capability tasks of one generated list."""
    rng = random.Random(seed)
    return [task(rng, offset + i) for i in range(n)]


__all__ = [
    "DAY0",
    "JA4",
    "ask",
    "background",
    "background_file",
    "chat",
    "request",
    "residential",
    "tasks",
]
