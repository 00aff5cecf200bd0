"""identity.password_spray on Okta System Log: the single-source spray fires; the
office NAT after a password rotation stays quiet without blinding the rule to a
spray from that same NAT."""

from __future__ import annotations

from datetime import timedelta

from ._okta import OFFICE, T0, fail, history, hosting, staff
from ._scenarios import OFFICE_B, nat_rotation
from .conftest import findings_for, hunt_events

DET = "identity.password_spray"


def test_single_source_spray_fires(identity_world):
    _, found = identity_world
    [f] = findings_for(found, DET, "ss")
    assert f["entities"]["src_ip"] == [hosting(7).ip]
    assert len(f["entities"]["user"]) == 30
    assert f["attack"] == ["T1110.003"]
    assert f["severity"] == "high"
    ev = f["evidence"]
    assert ev["unrecovered_users"] == 30 and ev["attempts_per_user"] == 1.0
    assert ev["raw_records"] and all("#" in r for r in ev["raw_records"])
    assert f["first_seen"] == "2026-03-02T09:00:00Z"


def test_nat_after_password_rotation_is_quiet(identity_world):
    _, found = identity_world
    assert findings_for(found, DET, "nat") == []


def test_spray_from_the_rotating_nat_still_fires(tmp_path):
    # The rotation morning and a spray from behind the same NAT, in one run.
    victims = staff(12, "inside")
    ev = nat_rotation() + history(victims, T0, net=OFFICE)
    for i, u in enumerate(victims):
        ev += fail(T0 + timedelta(minutes=5, seconds=7 * i), u, OFFICE_B)
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["entities"]["src_ip"] == [OFFICE_B.ip]
    assert f["evidence"]["unrecovered_users"] == 12
    assert set(victims) <= {u.split("@")[0] for u in f["entities"]["user"]}


def _spray(n, day, ip):
    users = staff(n, f"b{n}-")
    start = T0 + timedelta(days=day)
    ev = history(users, start)
    for i, u in enumerate(users):
        ev += fail(start + timedelta(seconds=10 * i), u, hosting(ip))
    return ev


def test_min_users_boundary(tmp_path):
    found = hunt_events(tmp_path, _spray(10, 0, 3) + _spray(9, 2, 4), DET)
    assert [f["entities"]["src_ip"] for f in found] == [[hosting(3).ip]]
