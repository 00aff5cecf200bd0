"""Scenarios of ``identity.distributed_spray``: a low-and-slow spray from 60 rotating
addresses over 36 hours, no address over the single-source rule; phones retrying a
stale password from changing carrier addresses for hours must stay quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.okta import (
    DAY,
    KIT_UA,
    MIN,
    OFFICE,
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


def distributed_spray(
    t0: datetime = T0 + 2 * DAY,
    n_ips: int = 60,
    users_per_ip: int = 2,
    prefix: str = "ds",
    unknown_every: int = 10,
    hours: int = 36,
) -> list[dict]:
    """Low and slow: each address tries two accounts once, spread over ``hours``."""
    n = n_ips * users_per_ip
    users = staff(n, prefix)
    ev = history(users, t0)
    step = hours * 3600 / n
    k = 0
    for ip in range(n_ips):
        src = hosting(100 + ip, KIT_UA)
        for _ in range(users_per_ip):
            at = t0 + timedelta(seconds=round(k * step))
            if unknown_every and k % unknown_every == unknown_every - 1:
                ev += unknown(at, f"{prefix}.former{k:03d}", src)
            else:
                ev += fail(at, users[k], src)
            k += 1
    return ev


def stale_phones(t0: datetime = T0 + 2 * DAY, n_users: int = 30, prefix: str = "ph") -> list[dict]:
    """Benign: after a rotation, phones keep retrying the old password from changing
    carrier addresses for hours while their owners work normally on laptops."""
    users = staff(n_users, prefix)
    ev = history(users, t0)
    outlook = "Outlook-iOS/2.0"
    for i, u in enumerate(users):
        ev += success(t0 + i * MIN, u, OFFICE)
        for r in range(12):
            carrier = Net(
                f"100.64.{i}.{r + 1}",
                21928,
                "t-mobile usa, inc.",
                domain="t-mobile.com",
                ua=outlook,
            )
            ev += fail(t0 + i * MIN + r * 20 * MIN, u, carrier)
    return ev


def _distributed_spray(found: list[dict]) -> None:
    [f] = found
    assert f["attack"] == ["T1110.003"]
    ev = f["evidence"]
    assert ev["distinct_src_ips"] == 60
    assert ev["distinct_users"] == 120 and ev["unrecovered_users"] == 120
    assert ev["unknown_user_share"] == 0.1
    assert ev["attempts_per_ip"] == 2.0
    assert ev["duration_hours"] > 30
    assert len(f["entities"]["src_ip"]) == 60 and len(f["entities"]["user"]) == 120
    assert f["severity"] == "critical"  # >= critical_users accounts


SCENARIOS = [
    Scenario(
        "sixty_addresses_over_36_hours",
        "attack",
        system_log("distributed_spray", distributed_spray),
        entities={"user": ("ds000",)},
        expect=_distributed_spray,
    ),
    Scenario("stale_phones", "benign", system_log("stale_phones", stale_phones)),
]
