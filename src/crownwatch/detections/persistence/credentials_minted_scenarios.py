"""Scenarios of ``persistence.credentials_minted``. Attacks: the spray guesses a
researcher's password and, from the spraying address, the researcher's SSO session
creates an access key for a deployment user (AWS, critical); the spray guesses another
person's password and the attacker adds a secret to a service principal in Entra
(critical: the Okta compromise and the Entra change meet on the identity key); a third
creates a key for a Google Cloud service account from the spraying address (critical).
Look-alikes: an engineer rotating their own access key from their desk, nobody
attacked; an Okta admin minting an API token from the office."""

from __future__ import annotations

import json
from datetime import timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.detections.identity._common import SPRAY_CHAIN
from crownwatch.testing import entra, gcp
from crownwatch.testing.okta import OFFICE, event, history, jsonl, success, user_id
from crownwatch.testing.storage import (
    T0,
    ct_event,
    okta_guessed,
    registry,
    researcher,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)
SPRAYED_AT = DAY9 - timedelta(hours=6)


def key_from_spray_address() -> list[dict]:
    return [
        ct_event(
            SPRAYED_AT + timedelta(hours=2),
            "CreateAccessKey",
            "iam.amazonaws.com",
            researcher("lena"),
            {"userName": "svc-deploy"},
            ip="198.51.100.72",
            ua="python-requests/2.31.0",
        )
    ]


def own_key_rotation() -> list[dict]:
    me = researcher("mika")
    return [
        ct_event(
            DAY9 + timedelta(hours=10, minutes=m),
            name,
            "iam.amazonaws.com",
            me,
            params,
            ip="10.30.0.21",
        )
        for m, name, params in (
            (0, "CreateAccessKey", {"userName": "mika-ci"}),
            (2, "DeleteAccessKey", {"userName": "mika-ci", "accessKeyId": "AKIAEXAMPLEOLDKEY001"}),
        )
    ]


APP_SECRET = entra.prop(
    "KeyDescription",
    [],
    ["[KeyIdentifier=0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5,KeyType=Password,KeyUsage=Verify]"],
)


def entra_secret() -> dict[str, str]:
    okta = okta_guessed(SPRAYED_AT, "pn", "noor", "198.51.100.73")
    audit = entra.audit(
        SPRAYED_AT + timedelta(hours=1, minutes=30),
        "Add service principal credentials",
        "noor@northwind-ai.com",
        "198.51.100.73",
        [entra.target("nw-train-orchestrator", "ServicePrincipal", props=[APP_SECRET])],
        user_agent="python-requests/2.31.0",
    )
    return {
        "okta/creds_entra_secret.jsonl": "".join(json.dumps(e) + "\n" for e in okta),
        "entra/creds_entra_secret.jsonl": entra.jsonl([audit]),
    }


def gcp_service_account_key() -> dict[str, str]:
    ip = "198.51.100.88"
    sa = "trainer@nw-train-prod.iam.gserviceaccount.com"
    entry = gcp.audit_entry(
        SPRAYED_AT + timedelta(hours=1, minutes=50),
        "iam.googleapis.com",
        "google.iam.admin.v1.CreateServiceAccountKey",
        "ingrid@northwind-ai.com",
        ip,
        "projects/-/serviceAccounts/104729385610293847561",
        "nw-train-prod",
        permission="iam.serviceAccountKeys.create",
        request={
            "@type": "type.googleapis.com/google.iam.admin.v1.CreateServiceAccountKeyRequest",
            "name": f"projects/-/serviceAccounts/{sa}",
            "private_key_type": 2,
        },
        resource={
            "type": "service_account",
            "labels": {
                "email_id": sa,
                "project_id": "nw-train-prod",
                "unique_id": "104729385610293847561",
            },
        },
        ua="google-api-python-client/2.118.0 gl-python/3.11.8",
    )
    return {
        "okta/creds_gcp_key.jsonl": jsonl(okta_guessed(SPRAYED_AT, "pt", "ingrid", ip)),
        "gcp/creds_gcp_key.jsonl": gcp.jsonl([entry]),
    }


def admin_api_token() -> dict[str, str]:
    t0 = DAY9
    ev = history(["it.admin"], t0, net=OFFICE)
    ev += success(t0 + timedelta(hours=1), "it.admin", OFFICE)
    ev += [
        event(
            t0 + timedelta(hours=1, minutes=5),
            "system.api_token.create",
            "it.admin",
            OFFICE,
            "SUCCESS",
            display="Create API token",
            legacy="api.token.create",
            target=[
                {
                    "id": "00T" + user_id("scim-sync")[3:],
                    "type": "Token",
                    "alternateId": "unknown",
                    "displayName": "scim-sync",
                    "detailEntry": None,
                }
            ],
            uri="/api/internal/tokens",
        )
    ]
    return {"okta/creds_admin_api_token.jsonl": jsonl(ev)}


def _aws(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert "compromise:identity.success_after_spray" in ev["reasons"]
    assert "spray_address" in ev["reasons"]
    assert ev["operations"] == ["CreateAccessKey"]
    assert ev["request_parameters"] == ['{"userName":"svc-deploy"}']
    assert f["entities"]["principal"] == [researcher("lena")]


def _entra(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["operations"] == ["Add service principal credentials"]
    assert ev["targets"] == ["nw-train-orchestrator"]
    assert "KeyIdentifier" in ev["modified_properties"][0]
    assert "compromise:identity.success_after_spray" in ev["reasons"]


def _gcp(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["operations"] == ["google.iam.admin.v1.CreateServiceAccountKey"]
    assert "trainer@nw-train-prod.iam.gserviceaccount.com" in ev["request_parameters"][0]
    assert "spray_address" in ev["reasons"]


SCENARIOS = [
    Scenario(
        "sprayed_researcher_creates_access_key_from_the_spraying_address",
        "attack",
        storage_logs(
            "creds_access_key",
            okta=lambda: okta_guessed(SPRAYED_AT, "pk", "lena", "198.51.100.72"),
            cloudtrail=key_from_spray_address,
        ),
        entities={"user": ("lena",), "src_ip": ("198.51.100.72",)},
        expect=_aws,
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "guessed_password_then_service_principal_secret_in_entra",
        "attack",
        entra_secret,
        entities={"user": ("noor",)},
        expect=_entra,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "guessed_password_then_service_account_key_in_gcp",
        "attack",
        gcp_service_account_key,
        entities={"user": ("ingrid",), "src_ip": ("198.51.100.88",)},
        expect=_gcp,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "engineer_rotates_own_key_from_the_desk",
        "benign",
        storage_logs("creds_rotation", cloudtrail=own_key_rotation),
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "admin_mints_api_token_from_the_office",
        "benign",
        admin_api_token,
        also=SPRAY_CHAIN,
    ),
]
