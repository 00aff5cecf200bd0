"""identity.distributed_spray on Okta System Log: a low-and-slow spray from 60
rotating addresses over 36 hours fires; phones retrying a stale password from
changing carrier addresses, username typos and the NAT rotation stay quiet."""

from __future__ import annotations

from ._okta import T0
from ._scenarios import DAY, distributed_spray
from .conftest import findings_for, hunt_events

DET = "identity.distributed_spray"


def test_distributed_spray_fires(identity_world):
    _, found = identity_world
    [f] = findings_for(found, DET, "ds")
    assert f["attack"] == ["T1110.003"]
    ev = f["evidence"]
    assert ev["distinct_src_ips"] == 60
    assert ev["distinct_users"] == 120 and ev["unrecovered_users"] == 120
    assert ev["unknown_user_share"] == 0.1
    assert ev["attempts_per_ip"] == 2.0
    assert ev["duration_hours"] > 30
    assert len(f["entities"]["src_ip"]) == 60 and len(f["entities"]["user"]) == 120
    assert f["severity"] == "critical"  # >= critical_users accounts


def test_no_single_address_is_a_spray(identity_world):
    # The premise: every address stays under the single-source rule.
    _, found = identity_world
    assert findings_for(found, "identity.password_spray", "ds") == []


def test_benign_look_alikes_are_quiet(identity_world):
    _, found = identity_world
    for prefix in ("ph", "ty", "nat", "su"):
        assert findings_for(found, DET, prefix) == [], prefix


def test_min_src_ips_boundary(tmp_path):
    five = distributed_spray(T0, n_ips=5, users_per_ip=2, prefix="five", unknown_every=0, hours=4)
    four = distributed_spray(T0 + 2 * DAY, n_ips=4, users_per_ip=3, prefix="four", unknown_every=0, hours=4)
    [f] = hunt_events(tmp_path, five + four, DET)
    assert f["evidence"]["distinct_src_ips"] == 5
    assert all(u.startswith("five") for u in f["entities"]["user"])


def test_breach_list_share_is_left_to_credential_stuffing(tmp_path):
    # One name in three unknown: a breach list, not a directory.
    ev = distributed_spray(n_ips=20, users_per_ip=3, unknown_every=3, hours=6)
    assert hunt_events(tmp_path, ev, DET) == []
