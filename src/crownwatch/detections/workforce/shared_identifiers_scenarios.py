"""Scenarios of ``workforce.shared_identifiers``. Attack: three contractors placed by
one "agency" — two give the same personal phone, all three the same payroll account.
Look-alikes: siblings at one home address on different teams (an address is not one
of the identifiers), and a re-hire whose old and new records are one person."""

from __future__ import annotations

from datetime import UTC, date, datetime

from crownwatch.detections.contract import Scenario
from crownwatch.testing.hr import employee, roster_csv

AS_OF = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
DOMAIN = "northwind-ai.com"


def _staff(prefix: str, n: int) -> list[dict]:
    return [
        employee(
            f"{prefix.upper()}{1000 + i}",
            f"{prefix}{i:03d}@{DOMAIN}",
            date(2023, 1, 9),
            phone=f"+1 415 {ord(prefix[-1])} {1000 + i:04d}",
            personal_email=f"{prefix}{i:03d}@example.com",
            payroll=f"US{prefix.upper()}{900000 + i}",
            address=f"{i} Market St, San Francisco, CA",
        )
        for i in range(n)
    ]


def fake_hires() -> dict[str, str]:
    rows = _staff("sa", 12)
    for i, (name, phone) in enumerate(
        (("si.dev1", "+1 (512) 555-0147"), ("si.dev2", "+1-512-555-0147"), ("si.dev3", None))
    ):
        rows.append(
            employee(
                f"C-{700 + i}",
                f"{name}@{DOMAIN}",
                date(2026, 2, 16),
                kind="Contractor",
                firm="Bluepeak Staffing",
                location=("Austin, TX", "Denver, CO", "Seattle, WA")[i],
                phone=phone or f"+1 206 555 {3000 + i:04d}",
                personal_email=f"{name}.works@example.net",
                payroll="US-ACCT 0001234567" if i < 2 else "us acct 000-1234-567",
                remote=True,
            )
        )
    return {"hr/shared_ids_attack.csv": roster_csv(rows, as_of=AS_OF)}


def siblings_and_rehire() -> dict[str, str]:
    rows = _staff("sb", 12)
    home = "1200 Elm Street, Apt 4, Oakland, CA 94607"
    rows.append(
        employee(
            "SB2001",
            f"sb.sister@{DOMAIN}",
            date(2024, 5, 1),
            department="Research",
            phone="+1 510 555 0101",
            payroll="US111",
            address=home,
        )
    )
    rows.append(
        employee(
            "SB2002",
            f"sb.brother@{DOMAIN}",
            date(2025, 8, 4),
            department="Finance",
            phone="+1 510 555 0102",
            payroll="US222",
            address=home.upper(),
        )
    )
    # a re-hire: two records, one person (the same work e-mail)
    rows.append(
        employee(
            "SB3001",
            f"sb.rehire@{DOMAIN}",
            date(2021, 3, 1),
            end=date(2023, 6, 30),
            phone="+1 650 555 0199",
            payroll="US333",
        )
    )
    rows.append(
        employee(
            "SB3502",
            f"sb.rehire@{DOMAIN}",
            date(2025, 1, 6),
            phone="+1 650 555 0199",
            payroll="US333",
        )
    )
    return {"hr/shared_ids_benign.csv": roster_csv(rows, as_of=AS_OF)}


def _attack(found: list[dict]) -> None:
    by = {f["evidence"]["identifier"]: f for f in found}
    assert set(by) == {"phone", "payroll"}
    assert by["payroll"]["severity"] == "critical" and by["phone"]["severity"] == "high"
    assert by["payroll"]["evidence"]["people_count"] == 3
    assert sorted(by["phone"]["entities"]["user"]) == ["si.dev1", "si.dev2"]
    ev = by["payroll"]["evidence"]
    assert ev["employment_types"] == ["contractor"] and len(ev["hash_prefix"]) == 12
    assert all("555" not in str(v) for v in ev.values())  # no raw identifier anywhere
    assert ev["raw_records"]


SCENARIOS = [
    Scenario(
        "three_hires_one_phone_one_payroll",
        "attack",
        fake_hires,
        entities={"user": ("si.dev1", "si.dev2", "si.dev3")},
        expect=_attack,
    ),
    Scenario("siblings_at_one_address_and_a_rehire", "benign", siblings_and_rehire),
]
