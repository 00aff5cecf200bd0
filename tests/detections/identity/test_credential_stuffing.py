"""identity.credential_stuffing on Okta System Log: a breach list replayed through a
proxy pool (random user agents, half the names unknown) fires; a directory spray and
people mistyping their login name do not."""

from __future__ import annotations

from ._okta import T0
from ._scenarios import DAY, stuffing
from .conftest import findings_for, hunt_events

DET = "identity.credential_stuffing"


def test_stuffing_fires(identity_world):
    _, found = identity_world
    [f] = findings_for(found, DET, "cs")
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


def test_directory_spray_and_typos_are_not_stuffing(identity_world):
    _, found = identity_world
    for prefix in ("ds", "sv", "ty", "nat", "ph"):
        assert findings_for(found, DET, prefix) == [], prefix


def test_unknown_share_boundary(tmp_path):
    hi = stuffing(T0, prefix="hi", unknown_share=0.35)
    lo = stuffing(T0 + 2 * DAY, prefix="lo", unknown_share=0.25)
    [f] = hunt_events(tmp_path, hi + lo, DET)
    assert f["evidence"]["unknown_user_share"] == 0.35
    assert all(u.startswith("hi") for u in f["entities"]["user"])
