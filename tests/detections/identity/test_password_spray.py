"""identity.password_spray on Okta System Log: the single-source spray fires; the
office NAT after a password rotation stays quiet without blinding the rule to a
spray from that same NAT."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.identity.password_spray_scenarios import OFFICE_B, nat_rotation
from crownwatch.testing.okta import OFFICE, T0, fail, history, hosting, staff

from .conftest import hunt_events

DET = "identity.password_spray"


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


def test_an_org_wide_spray_keeps_what_a_finding_holds(tmp_path):
    """Every account of a 600-person organisation, two passwords each: the finding names
    the first 500 accounts in order and cites the first records by line with the count of
    all 1,200 — cut in the engine, not brought back whole (an org-wide spray is as long as
    the organisation is large)."""
    from crownwatch.detections.base import MAX_ENTITIES, MAX_SAMPLES

    users = staff(600, "all")
    ev = []
    for rnd in range(2):
        for i, u in enumerate(users):
            ev += fail(T0 + timedelta(hours=rnd, seconds=5 * i), u, hosting(9))
    [f] = hunt_events(tmp_path, ev, DET)
    assert f["evidence"]["unrecovered_users"] == 600
    assert f["entities"]["user"] == sorted(users)[:MAX_ENTITIES]
    lines = [int(r.rsplit("#", 1)[1]) for r in f["evidence"]["raw_records"]]
    assert len(lines) == MAX_SAMPLES and lines == sorted(lines)
    assert f["evidence"]["raw_records_total"] == 1200
    assert f["evidence"]["sources"] == ["okta"]
