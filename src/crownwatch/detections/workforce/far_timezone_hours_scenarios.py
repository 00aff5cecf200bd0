"""Scenarios of ``workforce.far_timezone_hours``. Attack: a contractor who claims
Chicago works 09:00–18:00 Korea time every day (00:00–09:00 UTC: evenings and nights
in Chicago). Look-alike: a Chicago engineer who works office hours and stays up late
twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing import okta
from crownwatch.testing.hr import employee, roster_csv

DOMAIN = "northwind-ai.com"
DAY0 = datetime(2026, 3, 2, tzinfo=UTC)
AS_OF = datetime(2026, 3, 13, 18, 0, tzinfo=UTC)
NET = okta.Net("198.51.100.82", 7018, "at&t services inc.", "United States", "Illinois", "Chicago")


def _day(user: str, day: int, utc_hours: list[float]) -> list[dict]:
    return [
        e for h in utc_hours for e in okta.success(DAY0 + timedelta(days=day, hours=h), user, NET)
    ]


def seoul_hours_in_chicago() -> dict[str, str]:
    rows = [
        employee(
            "C-861",
            f"tz.remote@{DOMAIN}",
            date(2026, 2, 2),
            kind="Contractor",
            location="Chicago, IL",
            timezone="America/Chicago",
            remote=True,
        )
    ]
    events = [e for d in range(10) for e in _day("tz.remote", d, [0.2, 2.5, 4.1, 6.3, 8.4])]
    return {
        "hr/timezone_attack.csv": roster_csv(rows, as_of=AS_OF),
        "okta/timezone_attack.jsonl": okta.jsonl(events),
    }


def chicago_office_hours_and_two_late_nights() -> dict[str, str]:
    rows = [
        employee(
            "E-862",
            f"tz.local@{DOMAIN}",
            date(2023, 5, 1),
            location="Chicago, IL",
            timezone="America/Chicago",
        )
    ]
    # 09:00–17:00 Chicago is 15:00–23:00 UTC in March (CST, UTC−6; DST starts 8 March)
    events = [e for d in range(10) for e in _day("tz.local", d, [14.5, 16.2, 19.0, 21.7])]
    events += _day("tz.local", 3, [4.5]) + _day("tz.local", 7, [5.2])
    return {
        "hr/timezone_benign.csv": roster_csv(rows, as_of=AS_OF),
        "okta/timezone_benign.jsonl": okta.jsonl(events),
    }


def _attack(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert ev["timezone"] == "America/Chicago" and ev["claimed_utc_offset"] == -6
    assert ev["best_fit_utc_offset"] == 9 and ev["best_fit_range"] == [8, 11]
    assert ev["work_share_claimed"] == 0.2 and ev["work_share_best_fit"] == 1.0
    assert ev["shift_hours"] == 9 and f["severity"] == "high"
    hist = ev["local_hour_histogram"]  # 18:00–02:00 in Chicago
    assert hist == {"18": 10, "20": 10, "22": 10, "00": 10, "02": 10}
    assert ev["active_days"] == 10


SCENARIOS = [
    Scenario(
        "korea_working_day_claimed_in_chicago",
        "attack",
        seoul_hours_in_chicago,
        entities={"user": ("tz.remote",)},
        expect=_attack,
    ),
    Scenario(
        "office_hours_with_two_late_nights", "benign", chicago_office_hours_and_two_late_nights
    ),
]
