"""identity.distributed_spray on Okta System Log: a low-and-slow spray from 60
rotating addresses over 36 hours fires; phones retrying a stale password from
changing carrier addresses, username typos and the NAT rotation stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.identity.distributed_spray_scenarios import distributed_spray
from crownwatch.testing.okta import DAY, KIT_UA, T0

from .conftest import hunt_events

DET = "identity.distributed_spray"


def test_min_src_ips_boundary(tmp_path):
    five = distributed_spray(T0, n_ips=5, users_per_ip=2, prefix="five", unknown_every=0, hours=4)
    four = distributed_spray(
        T0 + 2 * DAY, n_ips=4, users_per_ip=3, prefix="four", unknown_every=0, hours=4
    )
    [f] = hunt_events(tmp_path, five + four, DET)
    assert f["evidence"]["distinct_src_ips"] == 5
    assert all(u.startswith("five") for u in f["entities"]["user"])


def test_breach_list_share_is_left_to_credential_stuffing(tmp_path):
    # One name in three unknown: a breach list, not a directory.
    ev = distributed_spray(n_ips=20, users_per_ip=3, unknown_every=3, hours=6)
    assert hunt_events(tmp_path, ev, DET) == []


def _first_day_of_logs(t0, n_users: int = 60) -> list[dict]:
    """The first day an organisation's logs cover: everyone's first event, so nobody
    has an address of their own yet. Each user mistypes once from home and signs in
    from there two hours later (past any recovery window) — on a big tenant's first
    day that is hundreds of accounts failing from addresses 'never seen before'."""
    from crownwatch.testing.okta import Net, fail, staff, success

    ev: list[dict] = []
    for i, u in enumerate(staff(n_users, "cold")):
        home = Net(f"73.{10 + i // 200}.{i % 200}.{7 + i % 3}", 7922)
        at = t0 + timedelta(minutes=7 * i)
        ev += fail(at, u, home) + success(at + timedelta(hours=2), u, home)
    return ev


def test_first_day_of_logs_is_not_a_spray(tmp_path):
    assert hunt_events(tmp_path, _first_day_of_logs(T0), DET) == []


def test_spray_on_the_first_day_of_logs_still_fires(tmp_path):
    # The warm-up only forgives addresses the user really signs in from: a spray in
    # the first hours, from addresses none of its victims ever uses, is still one.
    from crownwatch.testing.okta import fail, hosting, staff

    victims = staff(40, "early")
    spray = [
        e
        for k, u in enumerate(victims)
        for e in fail(T0 + timedelta(minutes=20 * k), u, hosting(300 + k // 2, KIT_UA))
    ]
    [f] = hunt_events(tmp_path, _first_day_of_logs(T0) + spray, DET)
    assert all(u.startswith("early") for u in f["entities"]["user"])  # no cold-start user
    assert f["evidence"]["distinct_users"] == len(victims)
