"""Scenarios of ``identity.new_geo_after_spray``: a sprayed account signing in a day
later from Bulgaria through a hosting ASN; a traveller who was never sprayed landing
in Japan the same day must stay quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.okta import (
    CHROME,
    DAY,
    HOUR,
    MAC_SAFARI,
    MIN,
    T0,
    Net,
    fail,
    history,
    hosting,
    staff,
    success,
    system_log,
)

NG_NET = Net("91.92.109.50", 394711, "limenet", "Bulgaria", None, "Sofia", CHROME, True, None)


def spray_then_new_country(t0: datetime = T0 + 13 * DAY, prefix: str = "ng") -> list[dict]:
    """Single-source spray; one sprayed account then signs in from Bulgaria through a
    hosting ASN a day later."""
    users = staff(20, prefix)
    ev = history(users, t0, days=10)
    src = hosting(980)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 15 * timedelta(seconds=1), u, src)
    ev += success(t0 + 26 * HOUR, f"{prefix}004", NG_NET)
    return ev


def traveller(t0: datetime = T0 + 13 * DAY, user: str = "traveller.tanaka") -> list[dict]:
    """Benign: never sprayed, lands in Tokyo and signs in after one typo."""
    ev = history([user], t0, days=10)
    tokyo = Net(
        "203.141.130.5",
        2516,
        "kddi corporation",
        "Japan",
        "Tokyo",
        "Tokyo",
        MAC_SAFARI,
        domain="kddi.com",
    )
    ev += fail(t0 + 26 * HOUR, user, tokyo)
    ev += success(t0 + 26 * HOUR + MIN, user, tokyo)
    return ev


def _bulgaria(found: list[dict]) -> None:
    [f] = found
    assert f["attack"] == ["T1078", "T1110.003"]
    assert f["entities"]["user"] == ["ng004"]
    ev = f["evidence"]
    # Okta logs "Bulgaria"; the enrichment view gives every source ISO codes
    assert ev["new_countries"] == ["BG"] and ev["new_asns"] == [394711]
    assert ev["baseline_countries"] == ["US"]
    assert ev["spray_kinds"] == ["password_spray"]
    assert ev["hours_after_spray"] == 26.0
    assert NG_NET.ip in f["entities"]["src_ip"] and hosting(980).ip in f["entities"]["src_ip"]


SCENARIOS = [
    Scenario(
        "spray_then_bulgaria_via_hosting",
        "attack",
        system_log("spray_then_new_country", spray_then_new_country),
        entities={"user": ("ng004",)},
        expect=_bulgaria,
        # the spray itself, and the sign-in after it from an address it never used
        also=("identity.password_spray", "identity.success_after_spray"),
    ),
    Scenario("traveller", "benign", system_log("traveller", traveller)),
]
