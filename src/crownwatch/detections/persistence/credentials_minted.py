"""New credentials minted by a person the spray got into, or from the attacker's ground
(ATT&CK T1098.001 Additional Cloud Credentials).

**What it looks for.** A credential that outlives a password reset, created
successfully — an Okta API token (``system.api_token.create``), an AWS access key or
console password (``CreateAccessKey``, ``CreateLoginProfile``, ``UpdateLoginProfile``),
an Entra secret or certificate on a service principal or application ("Add service
principal credentials", "Update application – Certificates and secrets management"), a
Google Cloud service-account key (``google.iam.admin.v1.CreateServiceAccountKey``)
(``operations``) — by a person who

* has **compromise evidence**: an identity finding in ``compromise_detections`` naming
  them, the change no earlier than the finding began and at most ``window_hours`` after
  it ended; or
* acted from the **attacker's ground**: a spray address, or a hosting / proxy network
  new to them before the attack began (:mod:`crownwatch.detections.persistence._common`).

**Who acted.** The directory's acting person (``actor_user``: Okta, Entra) or, for a
cloud principal, the person the identity links name (an SSO role session named after
the person's e-mail, an IAM user of the same name:
:mod:`crownwatch.enrichment.identities`) — by equality of the identity key only.

**Why.** A password reset and a session revocation end the attacker's sign-ins, not the
access key, API token or application secret they made while they were in: those keep
working until someone finds them (Midnight Blizzard's secrets on OAuth applications,
Scattered Spider's access keys).

**Evidence.** The operations, the principals that called them, what they were made on
(target, resource, request parameters, modified properties), source addresses and AS
organisation, the compromise findings it follows and the hours from them, raw records.

**Severity.** As the family: ``critical`` from a spray address or, after compromise
evidence, from a hosting or proxy network; ``high`` after compromise evidence;
``medium`` from a hosting or proxy network new to a person nobody attacked.

**False positives.** An engineer rotating a key from a cloud workstation or VPN on a
hosting network (medium); a compromised user's scheduled rotation inside the window
(the evidence names the operation and the address: compare with the schedule). An
engineer rotating their own key from their usual place with no compromise evidence is
quiet.
"""

from __future__ import annotations

import ibis

from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.persistence._common import (
    COMPROMISE_DETECTIONS,
    by_actor,
    by_actor_rows,
)

META = Meta(
    id="persistence.credentials_minted",
    title="Credentials minted after a compromise, or from the attacker's ground",
    severity="high",
    attack=("T1098.001",),
    tables=("api_activity",),
    description=(
        "An API token, access key, console password or application secret was created by a "
        "person with compromise evidence, or from a spray address or a hosting/proxy network "
        "new to them."
    ),
    false_positives=(
        "Key rotation from a cloud workstation or VPN (medium); a compromised user's scheduled "
        "rotation inside the window."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1098/001/",
        "https://developer.okta.com/docs/reference/api/event-types/",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html",
        "https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities",
    ),
    params={
        "window_hours": 72,
        "compromise_detections": list(COMPROMISE_DETECTIONS),
        "operations": [
            "system.api_token.create",
            "CreateAccessKey",
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "Add service principal credentials",
            "Update application – Certificates and secrets management",
            "google.iam.admin.v1.CreateServiceAccountKey",
        ],
    },
    runbook=(
        (
            "Revoke what was made: delete the access keys, API tokens and application secrets "
            "or certificates in the evidence, and remove any console password set."
        ),
        (
            "Contain the person: reset the password, revoke sessions and refresh tokens, and "
            "remove MFA methods registered since the compromise."
        ),
        (
            "Search the cloud and directory logs for the new credential's use (the access key "
            "id, the application) from the addresses in the evidence."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    # who made it, judged by the compromise evidence and the ground it came from; the
    # same judgement as a role granted (privilege_granted)
    return by_actor(t, p)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return by_actor_rows(rows)


def title(row: dict, p: Params) -> str:
    ops = ", ".join(sorted(set(row["operations"])))
    return f"{row['entity_user']} minted credentials ({ops}): {', '.join(row['reasons'])}"
