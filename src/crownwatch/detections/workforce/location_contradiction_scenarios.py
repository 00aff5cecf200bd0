"""Scenarios of ``workforce.location_contradiction``. Attack: a remote contractor who
claims Austin signs in from China on eight of ten days. Look-alike: an engineer who
claims Austin and spends three days of the ten at a conference in Tokyo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import okta
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Austin
AS_OF = datetime(2026, 3, 13, 18, 0, tzinfo=UTC)
AUSTIN = okta.Net("198.51.100.81", 7018, "at&t services inc.", "United States", "Texas", "Austin")
SHENYANG = okta.Net(
    "203.0.113.88",
    4837,
    "china unicom china169 backbone",
    "China",
    "Liaoning",
    "Shenyang",
    domain=None,
)
TOKYO = okta.Net("192.0.2.44", 2516, "kddi corporation", "Japan", "Tokyo", "Tokyo", domain=None)


def _signins(user: str, plan: list[okta.Net]) -> list[dict]:
    return [
        e for d, net in enumerate(plan) for e in okta.success(T0 + timedelta(days=d), user, net)
    ]


def far_from_the_claim() -> dict[str, str]:
    rows = [
        employee(
            "C-851",
            f"lc.remote@{DOMAIN}",
            date(2026, 2, 2),
            kind="Contractor",
            location="Austin, TX",
            remote=True,
        )
    ]
    plan = [SHENYANG] * 4 + [AUSTIN] + [SHENYANG] * 4 + [AUSTIN]
    return {
        "hr/location_attack.csv": roster_csv(rows, as_of=AS_OF),
        "okta/location_attack.jsonl": okta.jsonl(_signins("lc.remote", plan)),
    }


def a_conference_trip() -> dict[str, str]:
    rows = [employee("E-852", f"lc.traveller@{DOMAIN}", date(2023, 2, 6), location="Austin, TX")]
    plan = [AUSTIN] * 3 + [TOKYO] * 3 + [AUSTIN] * 4
    return {
        "hr/location_benign.csv": roster_csv(rows, as_of=AS_OF),
        "okta/location_benign.jsonl": okta.jsonl(_signins("lc.traveller", plan)),
    }


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["claimed_country"] == "US" and ev["countries"] == ["CN (8 days)"]
    assert (ev["days_away"], ev["days"], ev["share_away"]) == (8, 10, 0.8)
    assert f["severity"] == "high"


SCENARIOS = [
    Scenario(
        "claims_austin_signs_in_from_china",
        "attack",
        far_from_the_claim,
        entities={"user": ("lc.remote",), "src_ip": (SHENYANG.ip,)},
        expect=_attack,
    ),
    Scenario("three_days_at_a_conference", "benign", a_conference_trip),
]
