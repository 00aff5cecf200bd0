"""identity.new_geo_after_spray on Okta System Log: a sprayed account signing in from
Bulgaria through a hosting ASN fires; a traveller who was never sprayed, and sprayed
users signing in from home ground, stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.identity.success_after_spray_scenarios import VICTIM_NET
from crownwatch.testing.okta import CHROME, T0, fail, history, hosting, staff, success

from .conftest import hunt_events

DET = "identity.new_geo_after_spray"


def _spray_then(prefix: str, ip: int, hours_after: float, baseline: bool = True):
    users = staff(12, prefix)
    ev = history(users, T0, days=3) if baseline else []
    for i, u in enumerate(users):
        ev += fail(T0 + timedelta(seconds=10 * i), u, hosting(ip))
    ev += success(T0 + timedelta(hours=hours_after), f"{prefix}003", VICTIM_NET)
    return ev


def test_window_and_baseline_boundaries(tmp_path):
    ev = (
        _spray_then("in", 6, 167)
        + _spray_then("out", 7, 169)
        + _spray_then("nohist", 8, 5, baseline=False)
    )
    found = hunt_events(tmp_path, ev, DET)
    assert [f["entities"]["user"] for f in found] == [["in003"]]


def test_a_network_colleagues_already_use_is_not_new_ground(tmp_path):
    """A sprayed user's first sign-in from the home ISP three colleagues have used for
    days is ordinary; arriving from an ISP nobody uses, with a client the user never
    used, fires — with their own browser it is the user on the road, and stays quiet."""
    from crownwatch.testing.okta import MAC_SAFARI, Net

    home = Net("71.105.7.9", 701, "verizon business", "United States")
    fresh = Net("98.40.1.5", 64512, "unheard-of isp", "United States", ua=MAC_SAFARI)
    ev = []
    for prefix, net in (("kn", home), ("nw", fresh), ("tr", fresh.with_ua(CHROME))):
        users = staff(12, prefix)
        ev += history(users, T0, days=5)
        ev += history([f"{prefix}000", f"{prefix}001", f"{prefix}002"], T0, days=3, net=home)
        src = hosting({"kn": 40, "nw": 41, "tr": 42}[prefix])
        for i, u in enumerate(users):
            ev += fail(T0 + timedelta(seconds=10 * i), u, src)
        ev += success(T0 + timedelta(hours=5), f"{prefix}007", net)
    found = hunt_events(tmp_path, ev, DET)
    assert [f["entities"]["user"] for f in found] == [["nw007"]]


def test_our_own_egress_is_never_a_new_place(tmp_path):
    """A sprayed user arriving through the company VPN's exit in Germany — an ASN and
    country new to them, with a client they never used — is the organisation's own
    network when ``own_asns`` (or ``own_cidrs``) says so; unlisted, it fires."""
    from crownwatch.testing.okta import MAC_SAFARI, Net

    vpn = Net("185.220.40.7", 64777, "corp vpn gmbh", "Germany", ua=MAC_SAFARI)
    users = staff(12, "vp")
    ev = history(users, T0, days=4)
    for i, u in enumerate(users):
        ev += fail(T0 + timedelta(seconds=10 * i), u, hosting(43))
    ev += success(T0 + timedelta(hours=6), "vp005", vpn)
    assert [f["entities"]["user"] for f in hunt_events(tmp_path / "a", ev, DET)] == [["vp005"]]
    for org in ({"own_asns": [64777]}, {"own_cidrs": ["185.220.40.0/24"]}):
        config = {"organisation": org}
        assert hunt_events(tmp_path / str(len(org)) / next(iter(org)), ev, DET, config) == []
