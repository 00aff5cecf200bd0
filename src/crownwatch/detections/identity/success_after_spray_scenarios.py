"""Scenarios of ``identity.success_after_spray``: after a distributed spray one account
signs in from an address the spray never used (critical), one reaches an MFA
challenge from a spray address and one is stopped by conditional access (high);
sprayed users signing in from their office as usual, after a typo or two there,
must stay quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.detections.identity.distributed_spray_scenarios import distributed_spray
from crownwatch.detections.identity.password_spray_scenarios import OFFICE_B
from crownwatch.testing.okta import (
    DAY,
    HOUR,
    KIT_UA,
    MIN,
    T0,
    Net,
    ca_deny,
    fail,
    history,
    hosting,
    mfa_challenge,
    staff,
    success,
    system_log,
)

VICTIM_NET = Net(
    "45.86.200.14", 9009, "m247 europe srl", "Romania", None, "Bucharest", KIT_UA, True, None
)


def spray_then_success(t0: datetime = T0 + 9 * DAY, prefix: str = "sv") -> list[dict]:
    """A distributed spray; one account then signs in from an address the spray never
    used (critical), another reaches an MFA challenge from a spray address (high),
    a third is blocked by conditional access (high)."""
    ev = distributed_spray(t0, n_ips=30, users_per_ip=2, prefix=prefix, hours=12)
    # ds users are sv000..sv059; sv003 = 2nd account of ip 1, etc.
    ev += success(t0 + 14 * HOUR, f"{prefix}003", VICTIM_NET)
    ev += mfa_challenge(t0 + 13 * HOUR, f"{prefix}010", hosting(100 + 5, KIT_UA))
    ev += ca_deny(
        t0 + 13 * HOUR + 5 * MIN,
        f"{prefix}020",
        Net("45.86.200.99", 9009, "m247 europe srl", "Romania", ua=KIT_UA),
    )
    return ev


def sprayed_users_sign_in_as_usual(t0: datetime = T0 + 11 * DAY, prefix: str = "su") -> list[dict]:
    """Benign for the after-spray detections: a single-source spray from outside on
    the same morning the office rotated passwords; every sprayed user then signs in
    from the office as always, several of them after a typo there."""
    users = staff(30, prefix)
    ev = history(users, t0, net=OFFICE_B)
    src = hosting(950)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 10 * timedelta(seconds=1), u, src)
    for i, u in enumerate(users):
        at = t0 + 2 * HOUR + i * MIN
        if i % 3 == 0:
            ev += fail(at, u, OFFICE_B)
        ev += success(at + MIN, u, OFFICE_B)
    return ev


def _victims(found: list[dict]) -> None:
    users = {f["entities"]["user"][0]: f for f in found}
    assert set(users) == {"sv003", "sv010", "sv020"}, sorted(users)
    f = users["sv003"]  # in from an address the spray never used
    assert f["severity"] == "critical"
    assert f["attack"] == ["T1078", "T1110.003"]
    ev = f["evidence"]
    assert ev["first_outcome_src_ips"] == [VICTIM_NET.ip]
    assert ev["outcomes_from_spray_ips"] == 0
    assert ev["spray_kinds"] == ["distributed_spray"]
    # sv003 was the 2nd account tried from address 1
    assert ev["spray_src_ips"] == [hosting(101).ip]
    assert VICTIM_NET.ip in f["entities"]["src_ip"] and hosting(101).ip in f["entities"]["src_ip"]
    assert ev["first_outcome_time"] == "2026-03-11T23:00:00Z"
    assert 0 < ev["gap_minutes"] < 14 * 60
    assert f["first_seen"] == ev["spray_first_seen"]
    # the password was right, a second factor or conditional access stopped it
    assert users["sv010"]["severity"] == "high"
    assert users["sv010"]["evidence"]["outcomes"] == ["mfa_required"]
    assert users["sv010"]["evidence"]["outcomes_from_spray_ips"] == 1
    assert users["sv020"]["severity"] == "high"
    assert users["sv020"]["evidence"]["outcomes"] == ["ca_blocked"]


SCENARIOS = [
    Scenario(
        "distributed_spray_then_three_outcomes",
        "attack",
        system_log("spray_then_success", spray_then_success),
        entities={"user": ("sv003", "sv010", "sv020")},
        expect=_victims,
        # the spray, and sv003 arriving from a country new to it
        also=("identity.distributed_spray", "identity.new_geo_after_spray"),
    ),
    Scenario(
        "sprayed_users_sign_in_as_usual",
        "benign",
        system_log("sprayed_users_sign_in_as_usual", sprayed_users_sign_in_as_usual),
        also=("identity.password_spray",),
    ),
]
