"""Scenarios of ``persistence.trust_opened``. Attacks: the spray guesses a person's
password and the attacker federates a domain to their own token service in Entra
(critical, one finding per change); an automation role opens a role to an outside AWS
account on a Saturday night (medium: nobody compromised, outside the change window).
An Okta administrator whose password the spray guessed grants an application admin
consent from the spraying address (critical). Look-alikes: an admin adds an identity provider in Okta inside the change window; a
role created at night trusting only the organisation's own accounts; a user consenting
to an app with nothing against them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.detections.identity._common import SPRAY_CHAIN
from crownwatch.testing import entra
from crownwatch.testing.okta import OFFICE, SPRAY_UA, Net, event, history, jsonl
from crownwatch.testing.storage import (
    T0,
    ct_event,
    okta_guessed,
    registry,
    role,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)  # a Tuesday
SPRAYED_AT = DAY9 - timedelta(hours=6)
SATURDAY_NIGHT = datetime(2026, 3, 7, 2, 14, tzinfo=T0.tzinfo)
ATTACKER_IP = "198.51.100.75"


def federated() -> dict[str, str]:
    okta = okta_guessed(SPRAYED_AT, "po", "omar", ATTACKER_IP)
    domain = "corp-labs.example"
    at = SPRAYED_AT + timedelta(hours=1, minutes=30)
    audits = [
        entra.audit(
            at,
            "Set domain authentication",
            "omar@northwind-ai.com",
            ATTACKER_IP,
            [
                entra.target(
                    domain,
                    "Other",
                    props=[
                        entra.prop("LiveType", "Managed", "Federated"),
                        entra.prop("Included Updated Properties", None, "LiveType"),
                    ],
                    object_id=False,
                )
            ],
            category="DirectoryManagement",
        ),
        entra.audit(
            at + timedelta(minutes=2),
            "Set federation settings on domain",
            "omar@northwind-ai.com",
            ATTACKER_IP,
            [
                entra.target(
                    domain,
                    "Other",
                    props=[
                        entra.prop("IssuerUri", None, "http://any.sts.example/7B2C9F14"),
                        entra.prop("PassiveLogOnUri", None, "https://any.sts.example/adfs/ls/"),
                    ],
                    object_id=False,
                )
            ],
            category="DirectoryManagement",
        ),
    ]
    return {
        "okta/trust_federated.jsonl": "".join(json.dumps(e) + "\n" for e in okta),
        "entra/trust_federated.jsonl": entra.jsonl(audits),
    }


def trust_policy(*accounts: str) -> str:
    """An assume-role policy as IAM receives it (CloudTrail logs it as a JSON string)."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return json.dumps(doc, indent=2)


def outside_role_trust() -> list[dict]:
    return [
        ct_event(
            SATURDAY_NIGHT,
            "UpdateAssumeRolePolicy",
            "iam.amazonaws.com",
            role("OrgAutomation", "trust-bot"),
            {
                "roleName": "nw-weights-reader",
                "policyDocument": trust_policy("111122223333", "999988887777"),
            },
            ip="10.20.4.30",
        )
    ]


def own_role_trust() -> list[dict]:
    return [
        ct_event(
            SATURDAY_NIGHT + timedelta(hours=1),
            "CreateRole",
            "iam.amazonaws.com",
            role("OrgAutomation", "stack-deploy"),
            {
                "roleName": "nw-eval-runner",
                "assumeRolePolicyDocument": trust_policy("111122223333", "444455556666"),
            },
            ip="10.20.4.31",
        )
    ]


def idp_in_window() -> dict[str, str]:
    t0 = DAY9 + timedelta(hours=10)  # Tuesday 10:00 UTC
    ev = history(["idp.admin"], t0, net=OFFICE)
    ev += [
        event(
            t0,
            "system.idp.lifecycle.create",
            "idp.admin",
            OFFICE,
            "SUCCESS",
            display="Create an Identity Provider",
            legacy="core.idp.lifecycle.create",
            target=[
                {
                    "id": "0oa1idpnorthwindpartner",
                    "type": "IdentityProvider",
                    "alternateId": "unknown",
                    "displayName": "Partner SAML IdP",
                    "detailEntry": None,
                }
            ],
            uri="/api/v1/idps",
        )
    ]
    return {"okta/trust_idp_in_window.jsonl": jsonl(ev)}


def everyday_consent() -> dict[str, str]:
    audit = entra.audit(
        DAY9 + timedelta(hours=11),
        "Consent to application",
        "ravi@northwind-ai.com",
        "198.51.100.91",
        [
            entra.target(
                "Calendar Helper",
                "ServicePrincipal",
                props=[entra.prop("ConsentContext.IsAdminConsent", None, "False")],
            )
        ],
        operation="Assign",
    )
    return {"entra/trust_everyday_consent.jsonl": entra.jsonl([audit])}


def okta_admin_consent() -> dict[str, str]:
    ip = "198.51.100.86"
    okta = okta_guessed(SPRAYED_AT, "py", "yara", ip)
    spray_net = Net(ip, asn=None, as_org=None, country=None, state=None, city=None, ua=SPRAY_UA)
    grant = event(
        SPRAYED_AT + timedelta(hours=1, minutes=12),
        "app.oauth2.admin.consent.grant",
        "yara",
        spray_net,
        "SUCCESS",
        display="Grant admin consent for an application",
        target=[
            {
                "id": "0oa1drivesyncpro",
                "type": "AppInstance",
                "alternateId": "Drive Sync Pro",
                "displayName": "Drive Sync Pro",
                "detailEntry": None,
            }
        ],
        uri="/api/v1/apps/0oa1drivesyncpro/grants",
    )
    grant["debugContext"]["debugData"]["scopes"] = "okta.users.read okta.groups.read"
    return {"okta/trust_okta_admin_consent.jsonl": jsonl([*okta, grant])}


def _okta_consent(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    assert f["evidence"]["operation"] == "app.oauth2.admin.consent.grant"
    assert f["evidence"]["target"] == "Drive Sync Pro"
    assert "compromise:identity.success_after_spray" in f["evidence"]["reasons"]


def _federated(found: list[dict]) -> None:
    assert sorted(f["evidence"]["operation"] for f in found) == [
        "Set domain authentication",
        "Set federation settings on domain",
    ]
    for f in found:
        assert f["severity"] == "critical"
        assert sorted(f["attack"]) == ["T1098", "T1484.002"]
        ev = f["evidence"]
        assert "compromise:identity.success_after_spray" in ev["reasons"]
        assert ev["target"] == "corp-labs.example"
        assert ev["actor"] == "omar"
    [auth] = [f for f in found if f["evidence"]["operation"] == "Set domain authentication"]
    assert "Federated" in auth["evidence"]["modified_properties"]


def _outside(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "medium"
    assert f["attack"] == ["T1098"]
    ev = f["evidence"]
    assert ev["reasons"] == ["outside_change_window"]
    assert ev["outside_accounts"] == ["999988887777"]
    assert ev["in_change_window"] is False


SCENARIOS = [
    Scenario(
        "guessed_password_then_domain_federated_to_the_attacker",
        "attack",
        federated,
        entities={"user": ("omar",), "src_ip": (ATTACKER_IP,)},
        expect=_federated,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "role_opened_to_an_outside_account_on_saturday_night",
        "attack",
        storage_logs("trust_outside_role", cloudtrail=outside_role_trust),
        entities={"principal": (role("OrgAutomation", "trust-bot"),)},
        expect=_outside,
        config=registry(),
    ),
    Scenario(
        "guessed_admin_password_then_admin_consent_in_okta",
        "attack",
        okta_admin_consent,
        entities={"user": ("yara",), "src_ip": ("198.51.100.86",)},
        expect=_okta_consent,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "admin_adds_identity_provider_inside_the_change_window",
        "benign",
        idp_in_window,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "role_trusting_only_own_accounts_at_night",
        "benign",
        storage_logs("trust_own_role", cloudtrail=own_role_trust),
        config=registry(),
    ),
    Scenario(
        "user_consents_to_an_app_nothing_against_them",
        "benign",
        everyday_consent,
        also=SPRAY_CHAIN,
    ),
]
