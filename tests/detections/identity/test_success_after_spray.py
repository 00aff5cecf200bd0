"""identity.success_after_spray on Okta System Log: after a distributed spray, one
account signs in from an address the spray never used (critical), one reaches an
MFA challenge from a spray address and one is stopped by conditional access (high).
Sprayed users signing in from their office as usual, a traveller, and the NAT
rotation stay quiet."""

from __future__ import annotations

from datetime import timedelta

from ._okta import T0, fail, history, hosting, staff, success
from ._scenarios import VICTIM_NET
from .conftest import findings_for, hunt_events

DET = "identity.success_after_spray"


def _by_user(found):
    return {f["entities"]["user"][0].split("@")[0]: f for f in findings_for(found, DET)}


def test_success_from_a_different_address_is_critical(identity_world):
    _, found = identity_world
    f = _by_user(found)["sv003"]
    assert f["severity"] == "critical"
    assert f["attack"] == ["T1078", "T1110.003"]
    ev = f["evidence"]
    assert ev["first_outcome_src_ips"] == [VICTIM_NET.ip]
    assert ev["outcomes_from_spray_ips"] == 0
    assert ev["spray_kinds"] == ["distributed_spray"]
    assert ev["spray_src_ips"] == [
        hosting(101).ip
    ]  # sv003 was the 2nd account tried from address 1
    assert VICTIM_NET.ip in f["entities"]["src_ip"] and hosting(101).ip in f["entities"]["src_ip"]
    assert ev["first_outcome_time"] == "2026-03-11T23:00:00Z"
    assert 0 < ev["gap_minutes"] < 14 * 60
    assert f["first_seen"] == ev["spray_first_seen"]


def test_mfa_and_conditional_access_are_high(identity_world):
    _, found = identity_world
    users = _by_user(found)
    assert users["sv010"]["severity"] == "high"
    assert users["sv010"]["evidence"]["outcomes"] == ["mfa_required"]
    assert users["sv010"]["evidence"]["outcomes_from_spray_ips"] == 1
    assert users["sv020"]["severity"] == "high"
    assert users["sv020"]["evidence"]["outcomes"] == ["ca_blocked"]


def test_only_the_victims_fire(identity_world):
    _, found = identity_world
    assert set(_by_user(found)) == {"sv003", "sv010", "sv020", "ng004"}


def test_owner_signing_in_as_usual_is_quiet(identity_world):
    _, found = identity_world
    users = _by_user(found)
    assert not [u for u in users if u.startswith(("su", "nat", "traveller", "ds", "ss"))]


def _spray_then(prefix: str, ip: int, hours_after: float):
    users = staff(12, prefix)
    ev = history(users, T0)
    for i, u in enumerate(users):
        ev += fail(T0 + timedelta(seconds=10 * i), u, hosting(ip))
    last = T0 + timedelta(seconds=10 * 11)
    ev += success(last + timedelta(hours=hours_after), f"{prefix}011", VICTIM_NET)
    return ev


def test_max_gap_boundary(tmp_path):
    found = hunt_events(tmp_path, _spray_then("in", 5, 71.5) + _spray_then("out", 6, 72.5), DET)
    assert [f["entities"]["user"] for f in found] == [["in011"]]
