"""Scenarios of ``persistence.mfa_after_compromise``, each with its own staff, office
history and (where there is one) spray. Attacks: the spray guesses a password and the
attacker enrols an authenticator from the network they signed in from (critical); the
same in Entra, after the Okta guess (Okta federates Microsoft 365: one identity key);
an authenticator enrolled from the spraying address itself, no sign-in logged
(critical). Look-alikes: the helpdesk resets a user's factors (Okta) or registers a
phone for one (Entra) and the user enrols again, all from the office, nobody attacked;
a sprayed user (not compromised) enrols a new phone from the office the morning
after."""

from __future__ import annotations

from datetime import datetime

from crownwatch.detections.contract import Scenario
from crownwatch.detections.identity._common import SPRAY_CHAIN
from crownwatch.testing import entra
from crownwatch.testing.okta import (
    DAY,
    HOUR,
    KIT_UA,
    MIN,
    SPRAY_UA,
    T0,
    Net,
    factor_change,
    fail,
    history,
    jsonl,
    staff,
    success,
    system_log,
)

OFFICE = Net("198.51.100.91", 7018, "at&t services inc.", domain="att.net")
ATTACKER = Net("45.86.200.31", 9009, "m247 europe srl", "Romania", None, "Bucharest", KIT_UA, True)


def spray_net(n: int) -> Net:
    return Net(
        f"185.220.101.{n}", 24940, "hetzner online gmbh", "Germany", None, None, SPRAY_UA, True
    )


def sprayed_office(t0: datetime, prefix: str, src: Net, n: int = 30) -> list[dict]:
    """``n`` people who sign in from the office every morning, then a spray on all of
    them from ``src`` (one try each, ten seconds apart)."""
    users = staff(n, prefix)
    ev = history(users, t0, net=OFFICE)
    for i, u in enumerate(users):
        ev += fail(t0 + i * 10 * (MIN / 60), u, src)
    return ev


def guessed_then_enrolled() -> list[dict]:
    t0 = T0 + 12 * DAY
    ev = sprayed_office(t0, "pa", spray_net(31))
    ev += success(t0 + 3 * HOUR, "pa004", ATTACKER)
    ev += factor_change(t0 + 3 * HOUR + 10 * MIN, "pa004", ATTACKER)
    return ev


def enrolled_from_spray_address() -> list[dict]:
    t0 = T0 + 12 * DAY
    ev = sprayed_office(t0, "pb", spray_net(32))
    ev += factor_change(t0 + 2 * HOUR, "pb007", spray_net(32), factor="GOOGLE_OTP")
    return ev


def helpdesk_reset() -> list[dict]:
    t0 = T0 + 12 * DAY
    users = staff(10, "pc")
    ev = history(users, t0, net=OFFICE)
    ev += factor_change(
        t0 + HOUR, "pc003", OFFICE, "user.mfa.factor.reset_all", actor="helpdesk.ana"
    )
    ev += factor_change(t0 + HOUR + 20 * MIN, "pc003", OFFICE)
    return ev


def sprayed_user_new_phone() -> list[dict]:
    t0 = T0 + 12 * DAY
    ev = sprayed_office(t0, "pd", spray_net(33))
    ev += success(t0 + 20 * HOUR, "pd005", OFFICE)
    ev += factor_change(t0 + 20 * HOUR + 5 * MIN, "pd005", OFFICE)
    return ev


def security_info(when: datetime, who: str, actor: str, ip: str, activity: str, why: str) -> dict:
    """An Entra "… registered security info" audit for ``who`` (Okta federates M365: the
    same identity key in both)."""
    upn = f"{who}@northwind-ai.com"
    return entra.audit(
        when,
        activity,
        f"{actor}@northwind-ai.com",
        ip,
        [entra.target(upn.split("@")[0], "User", upn)],
        service="Authentication Methods",
        category="UserManagement",
        operation="Add",
        reason=why,
    )


def okta_guess_entra_authenticator() -> dict[str, str]:
    t0 = T0 + 12 * DAY
    ev = sprayed_office(t0, "pe", spray_net(34))
    ev += success(t0 + 3 * HOUR, "pe002", ATTACKER)
    audit = security_info(
        t0 + 3 * HOUR + 4 * MIN,
        "pe002",
        "pe002",
        ATTACKER.ip,
        "User registered security info",
        "User registered Authenticator App with Notification and Code",
    )
    return {
        "okta/mfa_entra_authenticator.jsonl": jsonl(ev),
        "entra/mfa_entra_authenticator.jsonl": entra.jsonl([audit]),
    }


def entra_helpdesk() -> dict[str, str]:
    t0 = T0 + 12 * DAY
    ev = history(["pf001", "helpdesk.lee"], t0, net=OFFICE)
    audit = security_info(
        t0 + 2 * HOUR,
        "pf001",
        "helpdesk.lee",
        OFFICE.ip,
        "Admin registered security info",
        "Admin registered phone method for user",
    )
    return {
        "okta/mfa_entra_helpdesk.jsonl": jsonl(ev),
        "entra/mfa_entra_helpdesk.jsonl": entra.jsonl([audit]),
    }


def _entra(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["operations"] == ["User registered security info"]
    assert ev["sources"] == ["entra"]
    assert "compromise:identity.success_after_spray" in ev["reasons"]
    assert ev["status_details"] == ["User registered Authenticator App with Notification and Code"]


def _guessed(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    # the guess worked, and from a country new to the person: both compromise findings
    assert ev["reasons"] == [
        "compromise:identity.new_geo_after_spray",
        "compromise:identity.success_after_spray",
        "hosting_or_proxy_network",
    ]
    assert ev["operations"] == ["user.mfa.factor.activate"]
    assert ev["as_orgs"] == ["m247 europe srl"]
    assert f["entities"]["src_ip"] == [ATTACKER.ip]
    assert ev["by_someone_else"] is False
    assert 0 < ev["hours_after_compromise"] < 4
    assert len(ev["raw_records"]) == 1


def _spray_address(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    assert f["evidence"]["reasons"] == ["hosting_or_proxy_network", "spray_address"]
    assert f["evidence"]["compromise_findings"] == []


SCENARIOS = [
    Scenario(
        "spray_guesses_password_then_attacker_enrols_authenticator",
        "attack",
        system_log("mfa_guessed_then_enrolled", guessed_then_enrolled),
        entities={"user": ("pa004",), "src_ip": (ATTACKER.ip,)},
        expect=_guessed,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "authenticator_enrolled_from_the_spraying_address",
        "attack",
        system_log("mfa_from_spray_address", enrolled_from_spray_address),
        entities={"user": ("pb007",)},
        expect=_spray_address,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "okta_password_guessed_then_entra_authenticator_registered",
        "attack",
        okta_guess_entra_authenticator,
        entities={"user": ("pe002",)},
        expect=_entra,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "entra_helpdesk_registers_a_phone_nobody_attacked",
        "benign",
        entra_helpdesk,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "helpdesk_resets_factors_nobody_attacked",
        "benign",
        system_log("mfa_helpdesk_reset", helpdesk_reset),
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "sprayed_user_enrols_new_phone_from_the_office",
        "benign",
        system_log("mfa_sprayed_new_phone", sprayed_user_new_phone),
        also=SPRAY_CHAIN,
    ),
]
