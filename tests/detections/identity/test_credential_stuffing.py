"""identity.credential_stuffing on Okta System Log: a breach list replayed through a
proxy pool (random user agents, half the names unknown) fires; a directory spray and
people mistyping their login name do not."""

from __future__ import annotations

from crownwatch.detections.identity.credential_stuffing_scenarios import stuffing
from crownwatch.testing.okta import DAY, T0

from .conftest import hunt_events

DET = "identity.credential_stuffing"


def test_unknown_share_boundary(tmp_path):
    hi = stuffing(T0, prefix="hi", unknown_share=0.35)
    lo = stuffing(T0 + 2 * DAY, prefix="lo", unknown_share=0.25)
    [f] = hunt_events(tmp_path, hi + lo, DET)
    assert f["evidence"]["unknown_user_share"] == 0.35
    assert all(u.startswith("hi") for u in f["entities"]["user"])
