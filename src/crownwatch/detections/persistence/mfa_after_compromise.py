"""An MFA factor enrolled or reset for a person the spray got into, or from the
attacker's ground (ATT&CK T1556.006 Multi-Factor Authentication; T1098 Account
Manipulation).

**What it looks for.** A directory change to a person's second factor — Okta
``user.mfa.factor.activate`` / ``.update`` / ``.reset_all``, Entra "User registered
security info", "User registered all required security info", "Admin registered
security info" (``operations``) — that succeeded, and either

* follows **compromise evidence** for that person: an identity finding in
  ``compromise_detections`` (the sprayed password was right; new ground after the
  spray), the change no earlier than the finding began and at most ``window_hours``
  after it ended; or
* came from the **attacker's ground**: an address that took part in a spray, or a
  hosting / proxy network, new to the person before the attack began
  (:mod:`crownwatch.detections.persistence._common`).

**Why.** The password is reset within the hour of a confirmed compromise; a factor the
attacker registered survives the reset and answers the next prompt. Registering one's
own authenticator (or talking the helpdesk into resetting the owner's) is the first
thing a spray crew does with a working password (Scattered Spider, Midnight Blizzard).

**The person** is the change's target (``target_user``), else its actor: an admin's
reset concerns the user reset, not the admin.

**Evidence.** The operations, who acted (``actors``), the target, the modified
properties and vendor message, source addresses and their AS organisation, the
compromise findings it follows (ids, detections) and the hours from the compromise
evidence to the change, raw records.

**Severity.** ``critical`` when the change came from a spray address, or follows
compromise evidence from a hosting or proxy network; ``high`` after compromise evidence
alone; ``medium`` from a hosting or proxy network new to a person nobody attacked.

**False positives.** The helpdesk resetting a compromised user's factors as part of the
response (actors name the admin: confirm with the ticket). A traveller enrolling a new
phone over a hotel VPN (medium). A helpdesk reset or a new phone from the person's usual
network, with no compromise evidence, is quiet.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.exfiltration._common import empty_lists
from crownwatch.detections.persistence._common import (
    COMPROMISE_DETECTIONS,
    changes,
    judged,
    judgement,
    reasons,
    severity,
)

META = Meta(
    id="persistence.mfa_after_compromise",
    title="MFA factor enrolled or reset after a compromise, or from the attacker's ground",
    severity="high",
    attack=("T1556.006", "T1098"),
    tables=("api_activity",),
    description=(
        "A person's MFA factor was registered or reset soon after evidence their account was "
        "compromised, or from a spray address or a hosting/proxy network new to them."
    ),
    false_positives=(
        "The helpdesk resetting a compromised user's factors during the response; a traveller "
        "enrolling a phone over a VPN (medium)."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1556/006/",
        "https://developer.okta.com/docs/reference/api/event-types/",
        "https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities",
    ),
    params={
        "window_hours": 72,
        "compromise_detections": list(COMPROMISE_DETECTIONS),
        "operations": [
            "user.mfa.factor.activate",
            "user.mfa.factor.update",
            "user.mfa.factor.reset_all",
            "User registered security info",
            "User registered all required security info",
            "Admin registered security info",
        ],
    },
    runbook=(
        (
            "Remove every MFA method registered or changed since the compromise evidence began, "
            "then reset the password and revoke all sessions and refresh tokens."
        ),
        (
            "Re-enrol the person's factors in person or over a verified call; if an admin "
            "(actors) made the change, confirm it against a helpdesk ticket."
        ),
        "Block the source addresses in the evidence and look for other changes from them.",
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    ev = changes(t.api_activity, p.operations)
    ev = ev.mutate(
        subject=ev.target_user.coalesce(ev.actor_user),
        actor=ev.actor_user.coalesce(ev.principal),
    )
    ev = ev.filter(ev.subject.notnull())
    j = judged(t, p, ev)
    g = j.group_by("subject").aggregate(
        first_seen=j.time.min(),
        last_seen=j.time.max(),
        operations=j.api_operation.collect(),
        actors=j.actor.collect(),
        by_someone_else=(j.actor_user.notnull() & (j.actor_user != j.subject)).any(),
        modified_properties=j.modified_properties.collect(),
        status_details=j.status_detail.collect(),
        sources=j.source.collect(),
        src_ips=j.src_ip.collect(),
        as_orgs=j.as_org.collect(),
        **judgement(j),
    )
    g = g.filter(g.compromise | g.from_spray_ip | g.from_infrastructure)
    return g.select(
        key=g.subject,
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_user=g.subject,
        entity_src_ip=g.src_ips,
        severity=severity(g),
        operations=g.operations,
        actors=g.actors,
        by_someone_else=g.by_someone_else,
        modified_properties=g.modified_properties,
        status_details=g.status_details,
        sources=g.sources,
        as_orgs=g.as_orgs,
        compromise_findings=g.compromise_findings,
        compromise_detections=g.compromise_detections,
        from_spray_ip=g.from_spray_ip,
        from_infrastructure=g.from_infrastructure,
        hours_after_compromise=rounded(
            (g.first_change_after_compromise_ts - g.compromise_first_ts) / 3600, 1
        ),
        changes=g.changes,
        raw_refs=g.raw_refs,
    )


LISTS = (
    "operations",
    "actors",
    "modified_properties",
    "status_details",
    "sources",
    "as_orgs",
    "compromise_findings",
    "compromise_detections",
    "raw_refs",
)


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    rows = empty_lists(rows, LISTS)
    for r in rows:
        r["reasons"] = reasons(r)
    return rows


def title(row: dict, p: Params) -> str:
    ops = ", ".join(sorted(set(row["operations"])))
    who = "" if not row["by_someone_else"] else f" by {', '.join(sorted(set(row['actors'])))}"
    return f"MFA change for {row['entity_user']}{who} ({ops}): {', '.join(row['reasons'])}"
