"""Scenarios of ``workforce.vpn_signin``. Attack: a contractor hired two weeks ago signs
in through Astrill VPN on most days. Look-alikes: colleagues signing in from home and
the office, one of them once from a hotel network."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import okta
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 13, 18, 0, tzinfo=UTC)
ASTRILL = okta.Net("203.0.113.171", 400328, "Astrill VPN", "United States", "Texas", "Dallas")
HOME = okta.Net("198.51.100.80", 7018, "at&t services inc.", "United States", "Texas", "Austin")
HOTEL = okta.Net("192.0.2.90", 3356, "level 3 parent llc", "United States", "New York", "New York")


def _days(user: str, net: okta.Net, days: range, minute: int = 0) -> list[dict]:
    return [
        e for d in days for e in okta.success(T0 + timedelta(days=d, minutes=minute), user, net)
    ]


def astrill_from_day_one() -> dict[str, str]:
    rows = [
        employee(
            "C-831",
            f"vp.newhire@{DOMAIN}",
            date(2026, 2, 23),
            kind="Contractor",
            location="Austin, TX",
            remote=True,
        )
    ]
    events = _days("vp.newhire", ASTRILL, range(0, 9)) + _days("vp.newhire", HOME, range(9, 10))
    return {
        "hr/vpn_attack.csv": roster_csv(rows, as_of=AS_OF),
        "okta/vpn_attack.jsonl": okta.jsonl(events),
    }


def home_office_and_a_hotel() -> dict[str, str]:
    rows = [
        employee(f"E-84{i}", f"vp.staff{i}@{DOMAIN}", date(2024, 1, 8), location="Austin, TX")
        for i in range(3)
    ]
    events = []
    for i in range(3):
        home = okta.Net(
            f"198.51.100.{83 + i}", 7018, "at&t services inc.", "United States", "Texas", "Austin"
        )
        events += _days(f"vp.staff{i}", home, range(0, 10), minute=5 * i)
    events += _days("vp.staff2", HOTEL, range(4, 5), minute=300)
    return {
        "hr/vpn_benign.csv": roster_csv(rows, as_of=AS_OF),
        "okta/vpn_benign.jsonl": okta.jsonl(events),
    }


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    # Okta logs two events per sign-in (session start, SSO into the app)
    assert ev["vpn_signins"] == 18 and ev["signins"] == 20 and ev["share"] == 0.9
    assert ev["providers"] == ["Astrill VPN"] and f["severity"] == "high"
    assert ev["days_after_start"] == 7


SCENARIOS = [
    Scenario(
        "new_contractor_through_astrill",
        "attack",
        astrill_from_day_one,
        entities={"user": ("vp.newhire",), "src_ip": (ASTRILL.ip,)},
        expect=_attack,
    ),
    Scenario("home_office_and_one_hotel_night", "benign", home_office_and_a_hotel),
]
