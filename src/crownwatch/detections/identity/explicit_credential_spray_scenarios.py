"""Scenarios of ``identity.explicit_credential_spray`` on Windows 4648 events, written
in ``wevtutil`` form by ``tests/fixtures/windows/make_fixtures.py``: a foothold's
session supplying 15 accounts' credentials to a domain controller; a real week of
explicit credentials (an admin's runas to her admin accounts, a service and a
deployment agent repeating one account, an RDS host logging its users on, a user's
own saved credentials) must stay quiet."""

from __future__ import annotations

from crownwatch.detections.contract import Scenario
from crownwatch.testing import fixture

SPRAY = "windows/explicit_credential_spray.xml"
BENIGN = "windows/explicit_credential_benign.xml"


def _foothold(found: list[dict]) -> None:
    [f] = found
    assert f["attack"] == ["T1110.003"] and f["severity"] == "high"
    assert f["entities"]["actor_user"] == ["jdoe"]
    assert f["entities"]["host"] == ["WS-0177.corp.northwind.example"]
    assert len(f["entities"]["user"]) == 15
    ev = f["evidence"]
    assert (ev["distinct_targets"], ev["attempts"], ev["distinct_target_servers"]) == (15, 15, 1)
    assert ev["target_servers"] == ["DC01.corp.northwind.example"]
    assert ev["processes"] == ["C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"]
    assert len(ev["raw_records"]) == 15 and all("#" in r for r in ev["raw_records"])
    assert (f["first_seen"], f["last_seen"]) == ("2026-03-03T02:20:00Z", "2026-03-03T02:20:42Z")
    assert f["title"] == (
        "jdoe on WS-0177.corp.northwind.example used explicit credentials for 15 accounts "
        "(15 attempts)"
    )


SCENARIOS = [
    Scenario(
        "foothold_supplies_fifteen_accounts",
        "attack",
        lambda: {SPRAY: fixture(SPRAY)},
        entities={"actor_user": ("jdoe",), "user": ("grace",)},
        expect=_foothold,
    ),
    Scenario("a_real_week_of_runas_and_services", "benign", lambda: {BENIGN: fixture(BENIGN)}),
]
