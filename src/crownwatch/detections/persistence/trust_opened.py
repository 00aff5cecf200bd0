"""A trust opened to someone else's identity provider or account: a federation, an
identity provider, a role another AWS account may assume, an application a person
consented to (ATT&CK T1484.002 Trust Modification; T1098 Account Manipulation).

**What it looks for.** One of these changes, successful:

* a new or changed **identity provider or domain federation** — Okta
  ``system.idp.lifecycle.create`` / ``.update``; Entra "Set domain authentication",
  "Set federation settings on domain"; AWS ``CreateSAMLProvider``,
  ``UpdateSAMLProvider``, ``CreateOpenIDConnectProvider``. Whoever holds the other side
  signs in as anyone (Golden SAML, Okta cross-tenant impersonation);
* a **role trust opened to an outside account** — ``UpdateAssumeRolePolicy`` or
  ``CreateRole`` whose policy names an AWS account that is not one of
  ``[organisation] own_accounts``, or any principal (``*``);
* **consent to an application** (Entra "Consent to application"): a mail-reading app
  the attacker controls keeps reading after the password is reset.

**When it fires.** These are rare and high-impact, so

* *critical* on any of them by a person with compromise evidence (an identity finding
  in ``compromise_detections``, the change within ``window_hours`` of it) or from the
  attacker's ground (a spray address, a hosting / proxy network new to the person:
  :mod:`crownwatch.detections.persistence._common`);
* *medium* on a federation, identity provider or outside role trust by anyone,
  outside the change window (``change_window_days``, ISO weekdays, and
  ``change_window_hours``, ``[start, end)`` in UTC — set them to your own). Consent is
  everyday work for many users and counts only with compromise or attacker's ground.

**Evidence.** The operation, who acted and from where (address, AS organisation), the
target (domain, provider, role, application), the modified properties and request
parameters (the policy, the federation settings), the outside accounts a role now
trusts, the compromise findings it follows and the hours since, whether it fell inside
the change window, the raw record.

**False positives.** A planned federation or vendor role trust made outside the change
window (medium: compare with the change record); a compromised admin's own planned
change inside the window (critical: the compromise evidence is the reason). An admin's
federation change inside the window, and a role trusting only the organisation's own
accounts, are quiet.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.persistence._common import (
    COMPROMISE_DETECTIONS,
    changes,
    judged,
    reasons,
)
from crownwatch.enrichment.identities import identity_links

ROLE_TRUST_OPS = ("UpdateAssumeRolePolicy", "CreateRole")
# an application's access granted by a person: Entra's consent, Okta's user consent on a
# custom or the org authorization server and an administrator's consent for everyone
CONSENT_OPS = (
    "Consent to application",
    "app.oauth2.as.consent.grant",
    "app.oauth2.consent.grant",
    "app.oauth2.admin.consent.grant",
)

# An AWS account a policy names, as CloudTrail writes the policy: a JSON string inside
# the request's JSON, so its quotes come escaped (\"123456789012\"); or an ARN.
_ACCOUNT = r'"(\d{12})\\?"|::(\d{12}):'
# Principal "*" or {"AWS": "*"}: anyone may assume the role.
_ANYONE = r'\\?"(AWS|Principal)\\?"\s*:\s*\[?\s*\\?"\*'

META = Meta(
    id="persistence.trust_opened",
    title="A trust opened to an outside identity provider, account or application",
    severity="medium",
    attack=("T1484.002", "T1098"),
    tables=("api_activity",),
    description=(
        "A federation, identity provider, outside role trust or application consent, by a "
        "person with compromise evidence or from the attacker's ground (critical), or a "
        "federation, identity provider or outside role trust by anyone outside the change "
        "window (medium)."
    ),
    false_positives=(
        "A planned federation or vendor role trust made outside the change window; tune "
        "change_window_days and change_window_hours to the organisation's own."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1484/002/",
        "https://github.com/Azure/Azure-Sentinel/blob/master/Detections/AuditLogs/ADFSDomainTrustMods.yaml",
        "https://sec.okta.com/articles/2023/08/cross-tenant-impersonation-prevention-and-detection",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html",
    ),
    params={
        "window_hours": 72,
        "compromise_detections": list(COMPROMISE_DETECTIONS),
        "operations": [
            "system.idp.lifecycle.create",
            "system.idp.lifecycle.update",
            "Set domain authentication",
            "Set federation settings on domain",
            "CreateSAMLProvider",
            "UpdateSAMLProvider",
            "CreateOpenIDConnectProvider",
            *ROLE_TRUST_OPS,
            *CONSENT_OPS,
        ],
        "change_window_days": [1, 2, 3, 4, 5],
        "change_window_hours": [8, 18],
    },
    runbook=(
        (
            "Undo the trust: delete the identity provider or revert the domain to managed "
            "authentication, restore the role's trust policy, revoke the application's consent "
            "and its tokens."
        ),
        (
            "When the actor has compromise evidence, contain the person (password, sessions, "
            "MFA methods, credentials minted since) and treat every sign-in through the trust "
            "as the attacker's."
        ),
        "For a medium finding, match the change against the change record before undoing it.",
    ),
)


def strike_own(text: ibis.Value, own_accounts) -> ibis.Value:
    """A role policy's text with the organisation's own accounts struck out: what is
    left of an account in it is someone else's."""
    left = text.fill_null("")
    for acct in own_accounts:
        left = left.replace(str(acct), "")
    return left


def names_someone(policy_left: ibis.Value) -> ibis.Value:
    """Whether a struck-out policy still names an AWS account, or anyone (``*``)."""
    return policy_left.re_search(_ACCOUNT) | policy_left.re_search(_ANYONE)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    ev = changes(t.api_activity, p.operations)
    links = identity_links(t, reg)
    links = links.select(l_user=links.user, l_principal=links.principal).distinct()
    ev = ev.left_join(links, ev.principal == links.l_principal)
    ev = ev.mutate(subject=ev.actor_user.coalesce(ev.l_user)).drop("l_user", "l_principal")
    ev = ev.mutate(operation=ev.api_operation.strip())

    policy = strike_own(ev.request_parameters, reg.organisation.own_accounts)
    ev = ev.filter(~ev.operation.isin(ROLE_TRUST_OPS) | names_someone(policy))
    ev = ev.mutate(policy_left=policy)

    j = judged(t, p, ev)
    j = j.mutate(compromise=j.c_id.notnull())
    g = j.group_by("ref").aggregate(
        first_seen=j.time.min(),
        ts=j.ts.min(),
        operation=j.operation.max(),
        subject=j.subject.max(),
        actor=j.actor_user.coalesce(j.principal).max(),
        principal=j.principal.max(),
        target=j.target_user.coalesce(j.resource).coalesce(j.target_id).max(),
        target_type=j.target_type.max(),
        modified_properties=j.modified_properties.max(),
        request_parameters=j.request_parameters.max(),
        policy_left=j.policy_left.max(),
        status_detail=j.status_detail.max(),
        source=j.source.max(),
        account=j.account.max(),
        src_ip=j.src_ip.max(),
        as_org=j.as_org.max(),
        compromise_findings=j.c_id.collect(),
        compromise_detections=j.c_detection.collect(),
        compromise_first_ts=j.c_first.min(),
        compromise=j.compromise.any(),
        from_spray_ip=j.from_spray_ip.any(),
        from_infrastructure=j.from_infrastructure.any(),
        raw_refs=j.ref.collect(),
        event_id=j.raw_id.max(),
    )
    attacker = g.compromise | g.from_spray_ip | g.from_infrastructure
    g = g.filter(attacker | ~g.operation.isin(CONSENT_OPS))
    return g.select(
        # the vendor's own event id (CloudTrail eventID, Entra audit id, Okta uuid): the
        # same change is the same finding whichever file or folder it was read from
        key=g.source.concat(":", g.event_id.coalesce(g.ref)),
        first_seen=g.first_seen,
        last_seen=g.first_seen,
        entity_user=g.subject,
        entity_principal=g.principal,
        entity_src_ip=g.src_ip,
        severity=ibis.ifelse(attacker, "critical", "medium"),
        operation=g.operation,
        actor=g.actor,
        target=g.target,
        target_type=g.target_type,
        modified_properties=g.modified_properties,
        request_parameters=g.request_parameters,
        policy_left=g.policy_left,
        status_detail=g.status_detail,
        source=g.source,
        account=g.account,
        as_org=g.as_org,
        compromise_findings=g.compromise_findings,
        compromise_detections=g.compromise_detections,
        from_spray_ip=g.from_spray_ip,
        from_infrastructure=g.from_infrastructure,
        hours_after_compromise=rounded((g.ts - g.compromise_first_ts) / 3600, 1),
        raw_refs=g.raw_refs,
    )


def _utc(ts) -> datetime:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def in_change_window(ts, p: Params) -> bool:
    """Whether ``ts`` falls in the change window: an ISO weekday of
    ``change_window_days`` and an hour in ``[start, end)`` of ``change_window_hours``
    (UTC)."""
    when = _utc(ts)
    start, end = p.change_window_hours
    return when.isoweekday() in p.change_window_days and start <= when.hour < end


def _outside_accounts(policy_left: str | None) -> list[str]:
    """The accounts (or ``*``) a role policy names once the own accounts were struck out."""
    found = {a or b for a, b in re.findall(_ACCOUNT, policy_left or "")}
    if re.search(_ANYONE, policy_left or ""):
        found.add("*")
    return sorted(found)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    out = []
    for r in empty_lists(rows, ("compromise_findings", "compromise_detections", "raw_refs")):
        r["reasons"] = reasons(r)
        r["in_change_window"] = in_change_window(r["first_seen"], p)
        if not r["reasons"] and r["in_change_window"]:
            continue
        if not r["reasons"]:
            r["reasons"] = ["outside_change_window"]
        left = r.pop("policy_left", None)
        r["outside_accounts"] = _outside_accounts(left) if r["operation"] in ROLE_TRUST_OPS else []
        r["attack"] = ["T1098"] if r["operation"] in (*ROLE_TRUST_OPS, *CONSENT_OPS) else None
        out.append(r)
    return out


def title(row: dict, p: Params) -> str:
    who = row["actor"] or "unknown actor"
    what = row["operation"] + (f" on {row['target']}" if row["target"] else "")
    return f"{what} by {who}: {', '.join(row['reasons'])}"
