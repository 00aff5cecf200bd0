"""identity.success_after_spray on Okta System Log: after a distributed spray, one
account signs in from an address the spray never used (critical), one reaches an
MFA challenge from a spray address and one is stopped by conditional access (high).
Sprayed users signing in from their office as usual, a traveller, and the NAT
rotation stay quiet."""

from __future__ import annotations

from datetime import timedelta

from crownwatch.detections.identity.success_after_spray_scenarios import VICTIM_NET
from crownwatch.testing.okta import (
    CHROME,
    MAC_SAFARI,
    OFFICE,
    T0,
    Net,
    fail,
    history,
    hosting,
    mfa_challenge,
    staff,
    success,
)

from .conftest import hunt_events

DET = "identity.success_after_spray"
_PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


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


# -- an organisation-wide spray, then a normal working week --------------------------------

HOME = Net("73.15.0.1", 7922, "comcast cable communications llc")
MOBILE = Net("172.56.10.1", 21928, "t-mobile usa, inc.", ua=_PHONE_UA)
NEW_CHROME = CHROME.replace("133", "134")
RESIDENTIAL_PROXY = Net("187.45.33.9", 28573, "claro nxt telecomunicacoes ltda", "Brazil")


def _org_wide_spray_then_week(prefix: str) -> list[dict]:
    """200 people, each with office history and a few on their phone or at home; a
    spray tries every one of them; the next days everyone works as usual."""
    users = staff(200, prefix)
    ev = history(users, T0, days=5)
    for i, u in enumerate(users[:40]):  # some people also work from home or their phone
        ev += success(T0 - timedelta(days=2, hours=-8, minutes=-i), u, HOME)
        ev += success(T0 - timedelta(days=1, hours=-9, minutes=-i), u, MOBILE)
    # the kit sends the browser string most of the workforce will have tomorrow
    for i, u in enumerate(users):
        ev += fail(T0 + timedelta(seconds=5 * i), u, hosting(777, ua=NEW_CHROME))
    day = T0 + timedelta(days=1)
    for i, u in enumerate(users):
        at = day + timedelta(minutes=i)
        match i % 5:
            case 0:  # the office, as always
                ev += success(at, u, OFFICE)
            case 1:  # home: a new address on the ISP colleagues use, their usual browser
                ev += success(
                    at, u, Net(f"73.15.{i}.{i % 250 + 1}", 7922, "comcast cable communications llc")
                )
            case 2:  # a new phone on the carrier colleagues use
                ev += success(at, u, MOBILE.with_ua(_PHONE_UA.replace("17_5", "18_1")))
            case 3:  # the browser updated itself overnight
                ev += success(at, u, OFFICE.with_ua(NEW_CHROME))
            case 4:  # an MFA prompt at the office, approved
                ev += mfa_challenge(at, u, OFFICE) + success(at + timedelta(seconds=40), u, OFFICE)
    return ev


def test_org_wide_spray_then_a_normal_week_raises_nothing(tmp_path):
    assert hunt_events(tmp_path, _org_wide_spray_then_week("wk"), DET) == []


def test_the_one_compromise_in_a_normal_week_is_named(tmp_path):
    ev = _org_wide_spray_then_week("wc")
    day2 = T0 + timedelta(days=2)
    # a residential proxy nobody here uses, a client wc007 never used: the attacker
    ev += success(day2, "wc007", RESIDENTIAL_PROXY.with_ua(MAC_SAFARI))
    # wc013's password is right but the push is never approved, from a new address
    ev += mfa_challenge(day2 + timedelta(hours=1), "wc013", RESIDENTIAL_PROXY)
    found = hunt_events(tmp_path, ev, DET)
    got = {f["entities"]["user"][0]: f["evidence"] for f in found}
    assert set(got) == {"wc007", "wc013"}
    assert got["wc007"]["from_new_ground"] and not got["wc007"]["from_infrastructure"]
    assert got["wc013"]["second_factor_failed"] and got["wc013"]["outcomes"] == ["mfa_required"]
