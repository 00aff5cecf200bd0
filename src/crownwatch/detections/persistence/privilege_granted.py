"""Roles granted and accounts created by a person the spray got into, or from the
attacker's ground (ATT&CK T1098.003 Additional Cloud Roles, T1136.003 Cloud Account).

**What it looks for.** A privilege or an identity that outlives a password reset,
granted successfully (``operations``):

* **AWS IAM**: a new IAM user (``CreateUser``), a policy attached to or written into a
  user, role or group (``AttachUserPolicy``, ``PutUserPolicy``, ``AttachRolePolicy``,
  ``PutRolePolicy``, ``AttachGroupPolicy``, ``PutGroupPolicy``), a user put into a group
  (``AddUserToGroup``), a new default version of a managed policy
  (``CreatePolicyVersion`` — Rhino Security Labs' escalation, named in ATT&CK's own
  text);
* **Entra ID**: a directory role ("Add member to role", "Add eligible member to role",
  and PIM's own records of an assignment or an activation — "Add member to role in PIM
  completed (permanent)", "… completed (PIM activation)" …), a group membership (a
  role-assignable group carries its roles), a new user ("Add user"), an owner added to
  an application or service principal ("Add owner to application", "Add owner to
  service principal": an owner may add secrets), an application permission granted
  ("Add app role assignment to service principal");
* **Google Cloud**: a project's IAM policy set (``SetIamPolicy``: roles granted to
  members, the binding deltas in the evidence), a service account's IAM policy set
  (``google.iam.admin.v1.SetIAMPolicy``: who may act as it), a service account created
  (``google.iam.admin.v1.CreateServiceAccount``);
* **Okta**: an administrator role granted to a user or group
  (``user.account.privilege.grant``, ``group.privilege.grant``), a group membership
  (``group.user_membership.add``), a new user (``user.lifecycle.create``);

made by a person who

* has **compromise evidence**: an identity finding in ``compromise_detections`` naming
  them, the change no earlier than the finding began and at most ``window_hours`` after
  it ended; or
* acted from the **attacker's ground**: a spray address, or a hosting / proxy network
  new to them before the attack began (:mod:`crownwatch.detections.persistence._common`).

**Who acted.** The directory's acting person (``actor_user``: Okta, Entra) or, for a
cloud principal, the person the identity links name — by equality of the identity key
only (:func:`crownwatch.detections.persistence._common.by_actor`, the judgement
``credentials_minted`` uses).

**Why.** An intruder who expects the password to be reset makes themselves a second way
in that is not the password: an administrator role on their own account, an IAM user of
their own with ``AdministratorAccess``, a policy version that quietly widens a role
(Expel's AWS incident report; Invictus IR's "DangerDev" Entra case, where the attacker
made themselves Global Administrator and created users).

**Evidence.** The operations, the principals that called them, what was granted and to
whom (target, resource, request parameters — the policy ARN, the user name —, modified
properties — the role's name), source addresses and AS organisation, the compromise
findings it follows and the hours from them, raw records.

**Severity.** As the family: ``critical`` from a spray address or, after compromise
evidence, from a hosting or proxy network; ``high`` after compromise evidence;
``medium`` from a hosting or proxy network new to a person nobody attacked.

**False positives.** The daily work of administrators and of infrastructure as code
is exactly these operations, and it is quiet: a change by a person nobody attacked,
from their usual ground, never fires, and automation (a CI role with no person linked to
it) is not judged. What fires wrongly is an administrator granting roles from a cloud
workstation or VPN exit new to them (medium), or a compromised administrator's routine
grant inside the window (the evidence names the operation, the target and the address:
compare with the ticket).

**Sigma.** Not exported (``not_sigma``): the rule is the judgement, not the operation.
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
    id="persistence.privilege_granted",
    title="Roles granted or accounts created after a compromise, or from the attacker's ground",
    severity="high",
    attack=("T1098.003", "T1136.003"),
    tables=("api_activity",),
    description=(
        "A directory or IAM role, policy or group was granted, or a user created, by a person "
        "with compromise evidence or from a spray address or a hosting/proxy network new to them."
    ),
    false_positives=(
        "An administrator granting roles from a cloud workstation or VPN exit new to them "
        "(medium); a compromised administrator's routine grant inside the window."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1098/003/",
        "https://attack.mitre.org/techniques/T1136/003/",
        "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/",
        "https://www.invictus-ir.com/news/the-curious-case-of-dangerdev-protonmail-me",
    ),
    params={
        "window_hours": 72,
        "compromise_detections": list(COMPROMISE_DETECTIONS),
        "operations": [
            "CreateUser",
            "AttachUserPolicy",
            "PutUserPolicy",
            "AttachRolePolicy",
            "PutRolePolicy",
            "AttachGroupPolicy",
            "PutGroupPolicy",
            "AddUserToGroup",
            "CreatePolicyVersion",
            "Add member to role",
            "Add eligible member to role",
            # PIM writes its own names (Microsoft spells the time-bound ones both ways)
            "Add member to role completed (PIM activation)",
            "Add member to role in PIM completed (permanent)",
            "Add member to role in PIM completed (timebound)",
            "Add member to role in PIM completed (time bound)",
            "Add eligible member to role in PIM completed (permanent)",
            "Add eligible member to role in PIM completed (timebound)",
            "Add eligible member to role in PIM completed (time bound)",
            "Add member to group",
            "Add user",
            "Add owner to application",
            "Add owner to service principal",
            "Add app role assignment to service principal",
            "SetIamPolicy",
            "google.iam.admin.v1.SetIAMPolicy",
            "google.iam.admin.v1.CreateServiceAccount",
            "user.account.privilege.grant",
            "group.privilege.grant",
            "group.user_membership.add",
            "user.lifecycle.create",
        ],
    },
    runbook=(
        (
            "Take back what was granted: remove the roles, policies, group memberships and "
            "ownerships in the evidence, delete the users created (and their access keys), and "
            "restore a policy's previous default version."
        ),
        (
            "Contain the person: reset the password, revoke sessions and refresh tokens, and "
            "remove MFA methods and credentials registered since the compromise."
        ),
        (
            "Search the logs for what the granted identities did since: their sign-ins, API "
            "calls and data reads from the addresses in the evidence."
        ),
    ),
    not_sigma=(
        "a role grant or account creation judged by the identity findings it follows and the "
        "actor's history before the attack, the cloud caller mapped to its person through the "
        "identity links: Sigma matches the operation, which is every administrator's daily work"
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    return by_actor(t, p)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return by_actor_rows(rows)


def title(row: dict, p: Params) -> str:
    ops = ", ".join(sorted(set(row["operations"])))
    return f"{row['entity_user']} granted privileges ({ops}): {', '.join(row['reasons'])}"
