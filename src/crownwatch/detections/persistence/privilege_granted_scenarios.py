"""Scenarios of ``persistence.privilege_granted``. Attacks: the spray guesses an
engineer's password and, from the spraying address, the engineer's SSO session creates
an IAM user and attaches ``AdministratorAccess`` to it (AWS, critical); the spray
guesses another person's password and the attacker makes that person Global
Administrator in Entra (critical: the Okta compromise and the Entra change meet on the
identity key); another makes an outside Gmail account owner of the training project in
Google Cloud. Look-alikes: an administrator nobody attacked attaching a policy to a
role from their desk; an Okta administrator granting a role from the office."""

from __future__ import annotations

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
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def admin_user_from_spray_address() -> list[dict]:
    me, ip, ua = researcher("tomas"), "198.51.100.84", "python-requests/2.31.0"
    at = SPRAYED_AT + timedelta(hours=2)
    return [
        ct_event(
            at, "CreateUser", "iam.amazonaws.com", me, {"userName": "backup-ops"}, ip=ip, ua=ua
        ),
        ct_event(
            at + timedelta(seconds=40),
            "AttachUserPolicy",
            "iam.amazonaws.com",
            me,
            {"userName": "backup-ops", "policyArn": ADMIN_POLICY},
            ip=ip,
            ua=ua,
        ),
    ]


def policy_from_the_desk() -> list[dict]:
    return [
        ct_event(
            DAY9 + timedelta(hours=11),
            "AttachRolePolicy",
            "iam.amazonaws.com",
            researcher("mika"),
            {
                "roleName": "eval-harness-runner",
                "policyArn": "arn:aws:iam::111122223333:policy/eval-results-write",
            },
            ip="10.30.0.21",
        )
    ]


GLOBAL_ADMIN = [
    entra.prop("Role.ObjectID", None, "c3a1b2d4-5e6f-4708-9a1b-2c3d4e5f6a7b"),
    entra.prop("Role.DisplayName", None, "Global Administrator"),
    entra.prop("Role.TemplateId", None, "62e90394-69f5-4237-9190-012177145e10"),
    entra.prop("Role.WellKnownObjectName", None, "TenantAdmins"),
]


def entra_global_admin() -> dict[str, str]:
    okta = okta_guessed(SPRAYED_AT, "pr", "sana", "198.51.100.85")
    audit = entra.audit(
        SPRAYED_AT + timedelta(hours=1, minutes=20),
        "Add member to role",
        "sana@northwind-ai.com",
        "198.51.100.85",
        [entra.target("Sana", "User", "sana@northwind-ai.com", props=GLOBAL_ADMIN)],
        category="RoleManagement",
        operation="Assign",
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    )
    return {
        "okta/priv_entra_role.jsonl": jsonl(okta),
        "entra/priv_entra_role.jsonl": entra.jsonl([audit]),
    }


def gcp_owner_for_an_outsider() -> dict[str, str]:
    ip = "198.51.100.87"
    outsider = "user:nw.backup.ops@gmail.com"
    entry = gcp.audit_entry(
        SPRAYED_AT + timedelta(hours=1, minutes=45),
        "cloudresourcemanager.googleapis.com",
        "SetIamPolicy",
        "nadia@northwind-ai.com",
        ip,
        "projects/nw-train-prod",
        "nw-train-prod",
        permission="resourcemanager.projects.setIamPolicy",
        request={
            "@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
            "resource": "nw-train-prod",
            "policy": {
                "bindings": [
                    {"role": "roles/owner", "members": ["user:nadia@northwind-ai.com", outsider]}
                ],
                "etag": "BwYj2Zx3c9k=",
            },
            "updateMask": "bindings,etag",
        },
        service_data={
            "@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
            "policyDelta": {
                "bindingDeltas": [{"action": "ADD", "role": "roles/owner", "member": outsider}]
            },
        },
    )
    return {
        "okta/priv_gcp_owner.jsonl": jsonl(okta_guessed(SPRAYED_AT, "ps", "nadia", ip)),
        "gcp/priv_gcp_owner.jsonl": gcp.jsonl([entry]),
    }


def okta_admin_grants_a_role() -> dict[str, str]:
    t0 = DAY9
    ev = history(["it.admin"], t0, net=OFFICE)
    ev += success(t0 + timedelta(hours=1), "it.admin", OFFICE)
    grant = event(
        t0 + timedelta(hours=1, minutes=7),
        "user.account.privilege.grant",
        "it.admin",
        OFFICE,
        "SUCCESS",
        display="Grant user privilege",
        legacy="core.user.admin_privilege.granted",
        target=[
            {
                "id": user_id("new.hire"),
                "type": "User",
                "alternateId": "new.hire@northwind-ai.com",
                "displayName": "New Hire",
                "detailEntry": None,
            }
        ],
        uri="/api/internal/administrators/" + user_id("new.hire"),
    )
    # Okta names the role granted in the debug data
    grant["debugContext"]["debugData"]["privilegeGranted"] = "Help Desk Administrator"
    ev.append(grant)
    return {"okta/priv_admin_grant.jsonl": jsonl(ev)}


def _aws(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert "compromise:identity.success_after_spray" in ev["reasons"]
    assert "spray_address" in ev["reasons"]
    assert sorted(ev["operations"]) == ["AttachUserPolicy", "CreateUser"]
    assert any(ADMIN_POLICY in p for p in ev["request_parameters"])
    assert f["entities"]["principal"] == [researcher("tomas")]
    assert "granted privileges (AttachUserPolicy, CreateUser)" in f["title"]


def _entra(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["operations"] == ["Add member to role"]
    assert "Global Administrator" in ev["modified_properties"][0]
    assert "compromise:identity.success_after_spray" in ev["reasons"]


def _gcp(found: list[dict]) -> None:
    [f] = found
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["operations"] == ["SetIamPolicy"]
    assert "roles/owner" in ev["request_parameters"][0]
    assert "nw.backup.ops@gmail.com" in ev["request_parameters"][0]
    assert f["entities"]["principal"] == ["nadia@northwind-ai.com"]


SCENARIOS = [
    Scenario(
        "sprayed_engineer_creates_an_admin_user_from_the_spraying_address",
        "attack",
        storage_logs(
            "priv_admin_user",
            okta=lambda: okta_guessed(SPRAYED_AT, "pq", "tomas", "198.51.100.84"),
            cloudtrail=admin_user_from_spray_address,
        ),
        entities={"user": ("tomas",), "src_ip": ("198.51.100.84",)},
        expect=_aws,
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "guessed_password_then_global_administrator_in_entra",
        "attack",
        entra_global_admin,
        entities={"user": ("sana",)},
        expect=_entra,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "guessed_password_then_project_owner_for_an_outside_account_in_gcp",
        "attack",
        gcp_owner_for_an_outsider,
        entities={"user": ("nadia",), "src_ip": ("198.51.100.87",)},
        expect=_gcp,
        also=SPRAY_CHAIN,
    ),
    Scenario(
        "admin_attaches_a_role_policy_from_the_desk",
        "benign",
        storage_logs("priv_role_policy", cloudtrail=policy_from_the_desk),
        also=SPRAY_CHAIN,
        config=registry(),
    ),
    Scenario(
        "okta_admin_grants_a_role_from_the_office",
        "benign",
        okta_admin_grants_a_role,
        also=SPRAY_CHAIN,
    ),
]
