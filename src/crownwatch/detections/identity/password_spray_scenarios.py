"""Scenarios of ``identity.password_spray``: one VPS address trying each account once;
the office NAT the morning after a forced password rotation (everyone fails once,
then signs in) must stay quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.okta import (
    MIN,
    T0,
    Net,
    fail,
    history,
    hosting,
    staff,
    success,
    system_log,
)

OFFICE_B = Net("198.51.100.77", 7018, "at&t services inc.", domain="att.net")


def single_spray(t0: datetime = T0, n_users: int = 30, prefix: str = "ss") -> list[dict]:
    """One VPS address, one attempt per account, nobody recovers."""
    users = staff(n_users, prefix)
    ev = history(users, t0)
    src = hosting(7)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 20 * timedelta(seconds=1), u, src)
    return ev


def nat_rotation(t0: datetime = T0, n_users: int = 40, prefix: str = "nat") -> list[dict]:
    """Benign: the morning after a forced rotation, everyone behind the office NAT
    types the old password once, then the new one."""
    users = staff(n_users, prefix)
    ev = history(users, t0, net=OFFICE_B)
    for i, u in enumerate(users):
        at = t0 + i * 45 * timedelta(seconds=1)
        ev += fail(at, u, OFFICE_B)
        ev += success(at + 2 * MIN, u, OFFICE_B)
    return ev


def _single_spray(found: list[dict]) -> None:
    [f] = found
    assert len(f["entities"]["user"]) == 30
    assert f["attack"] == ["T1110.003"] and f["severity"] == "high"
    ev = f["evidence"]
    assert ev["unrecovered_users"] == 30 and ev["attempts_per_user"] == 1.0
    assert ev["raw_records"] and all("#" in r for r in ev["raw_records"])
    assert f["first_seen"] == "2026-03-02T09:00:00Z"


SCENARIOS = [
    Scenario(
        "single_spray",
        "attack",
        system_log("single_spray", single_spray),
        entities={"src_ip": (hosting(7).ip,), "user": ("ss000", "ss029")},
        expect=_single_spray,
    ),
    Scenario("nat_rotation", "benign", system_log("nat_rotation", nat_rotation)),
]
