"""Scenarios of ``identity.credential_stuffing``: a breach list replayed through a
proxy pool (random user agents, half the names never worked here, a few real
accounts already locked); people at home mistyping their login name must stay quiet."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.okta import (
    CHROME,
    DAY,
    KIT_UA,
    MAC_SAFARI,
    MIN,
    T0,
    Net,
    fail,
    history,
    hosting,
    staff,
    success,
    system_log,
    unknown,
)


def stuffing(
    t0: datetime = T0 + 5 * DAY, n_ips: int = 40, prefix: str = "cs", unknown_share: float = 0.5
) -> list[dict]:
    """A breach list replayed through a proxy pool: half the names never worked here,
    a few real accounts are already locked, every request has a random user agent."""
    rng = random.Random(5)
    real = staff(60, prefix)
    ev = history(real, t0)
    uas = [
        CHROME,
        MAC_SAFARI,
        KIT_UA,
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    ]
    n_pairs = n_ips * 2
    n_unknown = round(n_pairs * unknown_share)
    k = 0
    for ip in range(n_ips):
        for _ in range(2):
            src = hosting(400 + ip, rng.choice(uas), country="Brazil")
            at = t0 + timedelta(seconds=k * 37)
            if k < n_unknown:
                ev += unknown(at, f"{prefix}.breach{k:03d}@gmail.com", src)
            elif k % 7 == 0:
                ev += fail(at, real[k % len(real)], src, "LOCKED_OUT")
            else:
                ev += fail(at, real[k % len(real)], src)
            k += 1
    return ev


def username_typos(
    t0: datetime = T0 + 5 * DAY, n_users: int = 30, prefix: str = "ty"
) -> list[dict]:
    """Benign: people at home mistyping their login name, then getting it right."""
    users = staff(n_users, prefix)
    ev: list[dict] = []
    for i, u in enumerate(users):
        home = Net(f"192.0.2.{i + 1}", 7922, "comcast cable communications llc")
        ev += success(t0 - 2 * DAY + i * MIN, u, home)
        at = t0 + i * 13 * MIN
        ev += unknown(at, u + "x", home)
        ev += success(at + MIN, u, home)
    return ev


def _stuffing(found: list[dict]) -> None:
    [f] = found
    assert f["attack"] == ["T1110.004"]
    ev = f["evidence"]
    assert ev["distinct_src_ips"] == 40 and ev["distinct_users"] == 80
    assert ev["unknown_user_share"] == 0.5
    assert ev["distinct_reasons"] == 3 and ev["locked_attempts"] > 0
    assert len(ev["user_agents"]) == 5
    # users are identity keys; the breach list's foreign domains stay in the evidence
    assert "gmail.com" in ev["user_domains"] and "northwind-ai.com" in ev["user_domains"]
    assert not any("@" in u for u in f["entities"]["user"])
    assert len(f["entities"]["src_ip"]) == 40


SCENARIOS = [
    Scenario(
        "breach_list_through_proxy_pool",
        "attack",
        system_log("stuffing", stuffing),
        entities={"user": ("cs.breach000",)},
        expect=_stuffing,
    ),
    Scenario("username_typos", "benign", system_log("username_typos", username_typos)),
]
