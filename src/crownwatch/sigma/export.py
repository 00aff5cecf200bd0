"""crownwatch's detections as Sigma rules — the ones Sigma can express, and why not the rest.

Sigma describes events by their fields and, with correlation rules (specification v2),
counts them: events per group in a time span (``event_count``), distinct values per
group (``value_count``), rules firing in order (``temporal_ordered``). That is enough
for the *shape* of a spray, a brute force, a foothold spraying with explicit
credentials, a workload session at two addresses, a bucket opened to the world or a
read-then-delete. It is not enough for what keeps crownwatch's versions quiet on a real
week: whether an account *recovered* (a success after the failures, by the same user,
from the same place), each principal's own robust baseline, first sight of a place or a
reader, the crown-jewel registry, joins to other findings. So every exported rule is
an **approximation**, says so in its ``description``, and names what it gives up; the
detections no Sigma rule can honestly stand for are listed in :data:`NOT_EXPRESSIBLE`
with the reason (printed by ``crownwatch sigma export``, and in the README) — or, for
a detection written since, in its own ``META.not_sigma``, so that adding one touches
no file but its own.

Each file is one multi-document YAML, as the correlation specification's own example
writes it: the correlation first, then the rules it references (which carry only
title, id, name, logsource and detection). Ids are UUIDs derived from the detection
and the rule's place in it (:func:`rule_id`), so the same detection exports the same
ids every time and a SIEM updates its copy instead of adding another.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: the namespace of every exported rule id (uuid5 of the detection and the rule's part)
NAMESPACE = uuid.UUID("6f0c1b9e-3c59-4d8a-9a57-0d8f1c2b7e41")
#: when these rule texts were written (Sigma's ``date``; a constant, so files are stable)
DATE = "2026-12-05"
AUTHOR = "crownwatch"

#: detections no Sigma rule can honestly stand for, and why
NOT_EXPRESSIBLE: dict[str, str] = {
    "identity.credential_stuffing": (
        "fires on the share of unknown user names among failures from addresses new to "
        "each account — a ratio between counts, over a per-user history of addresses: Sigma "
        "correlations count, they do not divide, and keep no history"
    ),
    "identity.distributed_spray": (
        "clusters failures from addresses each account never used before by a tool "
        "signature over quiet gaps of hours, setting aside stuck clients and single-source "
        "sprays: needs each user's address history and per-cluster caps no correlation has"
    ),
    "identity.success_after_spray": (
        "a spray followed by a password-correct outcome with the attacker's marks (new "
        "address, network and client for that user, a hosting network, a second factor "
        "that never passed): the marks are per-user history and enrichment; a Sigma "
        "'spray then success' would fire on every owner signing in after an org-wide spray"
    ),
    "identity.new_geo_after_spray": (
        "geo-velocity over a 30-day per-user baseline of countries and ASNs: no baseline in Sigma"
    ),
    "exfiltration.bulk_read": (
        "bytes per principal and day against its own median + k×MAD and its peer group's "
        "95th percentile: a statistical baseline (Sigma's value_sum has a fixed threshold only)"
    ),
    "exfiltration.first_access": (
        "first access by a principal to a registered crown jewel, or from a new ASN/country: "
        "needs the whole history and the asset registry"
    ),
    "exfiltration.jewel_access_after_identity": (
        "joins identity findings to cloud data access through the identity links (user to "
        "principal) and both sides' history: a join across sources and findings"
    ),
    "persistence.credentials_minted": (
        "a credential created by a person with compromise evidence (identity findings) or "
        "from ground new to them, the cloud caller mapped to its person through the "
        "identity links: findings, history and a join across sources"
    ),
    "persistence.mfa_after_compromise": (
        "an MFA change judged by the identity findings it follows (compromise of that "
        "person within a window) and by the person's sign-in history before the attack "
        "(spray addresses, hosting networks new to them): findings and history, not events"
    ),
    "persistence.trust_opened": (
        "a trust change judged by the identity findings it follows and the actor's history, "
        "a role policy's accounts compared with the organisation's own, and a change window: "
        "findings, history and the registry"
    ),
    "supply_chain.outsider_repo_pull": (
        "an outsider's pulls of crown-jewel repositories against the firm's history of "
        "repositories, addresses and busiest day: who is an outsider (configuration, roster, "
        "collaborator grants), the registry and a per-firm baseline"
    ),
    "supply_chain.token_from_new_ground": (
        "a token or key creation joined to its later uses and to the addresses the account "
        "used before it: per-account history and a join of events"
    ),
    "supply_chain.vendor_outside_contract": (
        "activity compared with each outsider's contract dates from the configuration or "
        "the HR roster, sign-ins joined to the person behind a GitHub login: a join across "
        "sources"
    ),
    "workforce.shared_identifiers": (
        "hashed identifiers compared across people's current HR roster rows: a group-by over "
        "a snapshot table Sigma has no log source for"
    ),
    "workforce.laptop_farm": (
        "device check-ins and sign-ins joined to the HR roster's claimed homes, people "
        "counted per address: a join across sources and a distinct count of a joined field"
    ),
    "workforce.remote_control_tool": (
        "device inventory items joined to the device's person and the roster's remote flag, "
        "with allow-lists per person: a join Sigma cannot express"
    ),
    "workforce.vpn_signin": (
        "sign-ins of roster people since their start date, as a share of all their sign-ins: "
        "a join to the roster and a ratio"
    ),
    "workforce.location_contradiction": (
        "days away from the roster's claimed country as a share of all sign-in days: a join "
        "to the roster and a ratio of distinct counts"
    ),
    "workforce.far_timezone_hours": (
        "a fit of a person's hour-of-day histogram against UTC offsets, compared with the "
        "roster's time zone: statistics and a join"
    ),
    "workforce.new_hire_bulk_pull": (
        "crown jewels copied in a person's first weeks (roster start date) against a "
        "percentile of everyone else's: a join, a window per person and a peer statistic"
    ),
    "inference.key_shift": (
        "a change point per API key against its own earlier days and its tenant's other "
        "keys: windowed baselines over a gateway log, which has no Sigma log source"
    ),
    "inference.coverage_swarm": (
        "burner accounts linked by shared prompt scaffolds, scored on how their pooled prompts "
        "tile a task list against the platform: graph components and population statistics "
        "over a gateway log, which has no Sigma log source"
    ),
    "inference.fingerprint_network": (
        "values weighted by their rarity among all accounts, linked two kinds at a time into "
        "networks: graph clustering over a gateway log, which has no Sigma log source"
    ),
    "network.beaconing": (
        "RITA's beacon score per pair and day — Bowley skew and MAD of the gaps and sizes, an "
        "hourly histogram — is statistics over a pair's connections; Sigma counts events"
    ),
    "network.long_connection": (
        "the summed duration of a pair's connections over a day needs a value_sum correlation, "
        "which neither Sigma backend here converts, and its allow-list matches CIDRs and "
        "domain suffixes from the registry"
    ),
    "inference.distillation_account": (
        "scores accounts on features of their prompts (templating, reasoning elicitation, "
        "capability targeting) against the population: statistics over an inference "
        "gateway log, which has no Sigma log source either"
    ),
    "inference.hydra_cluster": (
        "links accounts into clusters by shared billing, addresses, agents, creation time "
        "and prompt templates: graph clustering, not event matching"
    ),
}


def rule_id(detection: str, *part: str) -> str:
    """The stable id of one exported rule (a detection's correlation or base rule)."""
    return str(uuid.uuid5(NAMESPACE, "/".join((detection, *part))))


def tags(attack: Iterable[str]) -> list[str]:
    """Sigma ``attack.*`` tags for ATT&CK ids: the tactic crownwatch observes each under
    (:mod:`crownwatch.mitre`; the Sigma tags appendix hyphenates it:
    ``attack.credential-access``), then the techniques (``attack.t1110.003``). ATLAS ids
    have no Sigma namespace."""
    from crownwatch import mitre

    tactics: list[str] = []
    techniques: list[str] = []
    for t in attack:
        if mitre.framework(t) != "attack":
            continue
        known = mitre.technique(t) or mitre.technique(mitre.parent(t) or t)
        name = mitre.tactic_name(known.tactic) if known and known.tactic else None
        if name and f"attack.{name.lower().replace(' ', '-')}" not in tactics:
            tactics.append(f"attack.{name.lower().replace(' ', '-')}")
        techniques.append(f"attack.{t.lower()}")
    return tactics + techniques


@dataclass(frozen=True)
class Exported:
    """One exported rule file."""

    detection: str
    variant: str  # which shape or log source of the detection
    docs: tuple[dict[str, Any], ...]
    approximation: str  # what the Sigma version gives up, in one sentence

    @property
    def filename(self) -> str:
        return f"crownwatch_{self.detection.replace('.', '_')}_{self.variant}.yml"

    @property
    def id(self) -> str:
        return self.docs[0]["id"]

    def yaml(self) -> str:
        return yaml.safe_dump_all(
            self.docs, sort_keys=False, allow_unicode=True, default_flow_style=False, width=88
        )


def _header(meta, variant: str, title: str, approximation: str, level: str | None) -> dict:
    fp = [meta.false_positives] if meta.false_positives else []
    return {
        "title": title,
        "id": rule_id(meta.id, variant),
        "status": "experimental",
        "description": (
            f"{meta.description} Exported from crownwatch detection {meta.id}. "
            f"Approximation: {approximation}"
        ),
        "references": list(meta.references),
        "author": AUTHOR,
        "date": DATE,
        "tags": tags(meta.attack),
        "_body": None,  # replaced by logsource+detection or correlation, in place
        "falsepositives": fp or ["Unknown"],
        "level": level or meta.severity,
    }


def _with(header: dict, body: dict) -> dict:
    """The header with the body (logsource and detection, or correlation) in Sigma's
    usual place: after the tags, before the false positives."""
    out: dict[str, Any] = {}
    for k, v in header.items():
        if k == "_body":
            out.update(body)
        else:
            out[k] = v
    return out


def _base(meta, variant: str, part: str, title: str, logsource: dict, detection: dict) -> dict:
    return {
        "title": f"{title} (part of crownwatch {meta.id})",
        "id": rule_id(meta.id, variant, part),
        "name": f"crownwatch_{meta.id.replace('.', '_')}_{variant}_{part}",
        "logsource": logsource,
        "detection": detection,
    }


def _plain(meta, variant, title, approximation, logsource, detection, level=None) -> Exported:
    doc = _with(
        _header(meta, variant, title, approximation, level),
        {"logsource": logsource, "detection": detection},
    )
    return Exported(meta.id, variant, (doc,), approximation)


def _correlation(
    meta, variant, title, approximation, correlation: dict, bases: list[dict], level=None
) -> Exported:
    names = [b["name"] for b in bases]
    corr = _with(
        _header(meta, variant, title, approximation, level),
        {"correlation": {"type": correlation.pop("type"), "rules": names, **correlation}},
    )
    return Exported(meta.id, variant, (corr, *bases), approximation)


# -- credential failures, as each log source writes them --------------------------------

OKTA = {"product": "okta", "service": "okta"}
SIGNIN = {"product": "azure", "service": "signinlogs"}
WINDOWS = {"product": "windows", "service": "security"}
CLOUDTRAIL = {"product": "aws", "service": "cloudtrail"}

# crownwatch's credential failures: a wrong password, a name that does not exist, a lockout
_FAILURES: dict[str, tuple[dict, dict, str, str]] = {
    # variant: (logsource, detection, the source address field, the user field)
    "okta": (
        OKTA,
        {
            "selection": {
                "eventType": "user.session.start",
                "outcome.result": "FAILURE",
                "outcome.reason|contains": [
                    "INVALID_CREDENTIALS",
                    "VERIFICATION_ERROR",
                    "LOCKED_OUT",
                ],
            },
            "lockout": {"eventType": "user.account.lock"},
            "condition": "selection or lockout",
        },
        "client.ipAddress",
        "actor.alternateId",
    ),
    "signinlogs": (
        SIGNIN,
        # 50126 wrong password, 50034/50128 no such user, 50053 locked (smart lockout)
        {"selection": {"ResultType": [50126, 50034, 50128, 50053]}, "condition": "selection"},
        "IPAddress",
        "UserPrincipalName",
    ),
    "windows": (
        WINDOWS,
        # 4625 logon failure, 4771 Kerberos pre-authentication, 4768 a TGT for a name
        # that does not exist, 4776 NTLM validation: wrong password (0xC000006A / 0x18),
        # no such user (0xC0000064 / 0x6), locked (0xC0000234 / 0x12); 4625's Status
        # 0xC000006D says why in SubStatus
        {
            "logon_failure": {"EventID": 4625},
            "logon_failure_reason": [
                {"Status": ["0xC000006A", "0xC0000064", "0xC0000234"]},
                {"SubStatus": ["0xC000006A", "0xC0000064", "0xC0000234"]},
            ],
            "kerberos": {"EventID": 4771, "Status": ["0x18", "0x6", "0x12"]},
            "kerberos_no_such_user": {"EventID": 4768, "Status": "0x6"},
            "ntlm": {"EventID": 4776, "Status": ["0xC000006A", "0xC0000064", "0xC0000234"]},
            "condition": "(logon_failure and logon_failure_reason) or 1 of kerberos* or ntlm",
        },
        "IpAddress",
        "TargetUserName",
    ),
}
_FAILURE_TITLES = {
    "okta": "Okta sign-in failed on the credential",
    "signinlogs": "Entra ID sign-in failed on the credential",
    "windows": "Windows logon failed on the credential",
}


def _password_spray(meta) -> list[Exported]:
    p = meta.params
    out = []
    for variant, (logsource, detection, src, user) in _FAILURES.items():
        base = _base(meta, variant, "failure", _FAILURE_TITLES[variant], logsource, detection)
        out.append(
            _correlation(
                meta,
                variant,
                f"Password spray from one source ({logsource['product']})",
                (
                    f"counts distinct accounts failing from one {src} in "
                    f"{p['gap_minutes']} minutes; crownwatch also requires that the accounts do "
                    "not recover (a later success from the same place sets an office NAT's "
                    "password-rotation morning aside) and finds machine-speed bursts and "
                    "outside guessing below this count — expect this rule to fire on a NAT "
                    "after a forced password change."
                ),
                {
                    "type": "value_count",
                    "group-by": [src],
                    "timespan": f"{p['gap_minutes']}m",
                    "condition": {"field": user, "gte": p["min_users"]},
                },
                [base],
            )
        )
    return out


def _brute_force(meta) -> list[Exported]:
    p = meta.params
    out = []
    for variant, (logsource, detection, _src, user) in _FAILURES.items():
        base = _base(meta, variant, "failure", _FAILURE_TITLES[variant], logsource, detection)
        out.append(
            _correlation(
                meta,
                variant,
                f"Password guessing against one account ({logsource['product']})",
                (
                    f"counts failures per account in {p['gap_minutes']} minutes; crownwatch "
                    "also catches machine-speed bursts below the count, tells a service "
                    "account's machine-regular stale-password retries from an attack (this "
                    "rule fires on them), and raises to critical when the password then proved "
                    "right."
                ),
                {
                    "type": "event_count",
                    "group-by": [user],
                    "timespan": f"{p['gap_minutes']}m",
                    "condition": {"gte": p["min_attempts"]},
                },
                [base],
            )
        )
    return out


def _explicit_credential_spray(meta) -> list[Exported]:
    p = meta.params
    base = _base(
        meta,
        "windows",
        "explicit_credentials",
        "Windows logon with another account's explicit credentials",
        WINDOWS,
        {
            "explicit_credentials": {"EventID": 4648},
            "own_credentials": {"TargetUserName|fieldref": "SubjectUserName"},
            "os_logging_on": {
                "SubjectUserName|endswith": "$",
                "TargetServerName": ["localhost", "127.0.0.1", "::1"],
            },
            "condition": "explicit_credentials and not own_credentials and not os_logging_on",
        },
    )
    return [
        _correlation(
            meta,
            "windows",
            "Password spray with explicit credentials from one host",
            (
                "counts distinct target accounts per subject and computer in "
                f"{p['gap_minutes']} minutes; crownwatch compares accounts by identity key "
                "(CORP\\alice and alice@corp are one), also treats the computer's own name as "
                "local, and runs over quiet gaps rather than a fixed span."
            ),
            {
                "type": "value_count",
                "group-by": ["SubjectUserName", "Computer"],
                "timespan": f"{p['gap_minutes']}m",
                "condition": {"field": "TargetUserName", "gte": p["min_targets"]},
            },
            [base],
        )
    ]


_PRIVATE = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
]


def _workload_credentials(meta) -> list[Exported]:
    p = meta.params
    base = _base(
        meta,
        "cloudtrail",
        "instance_session",
        "AWS call with an EC2 instance's or ECS task's role session from a public address",
        CLOUDTRAIL,
        {
            "instance_session": {
                "userIdentity.arn|re": (
                    r"^arn:aws[a-z-]*:sts::[0-9]+:assumed-role/[^/]+/"
                    r"(i-[0-9a-f]{8}([0-9a-f]{9})?|[0-9a-f]{32})$"
                ),
                # an address, not a service calling for the workload (ec2.amazonaws.com)
                "sourceIPAddress|re": r"^[0-9A-Fa-f:.]+$",
            },
            "private_address": {"sourceIPAddress|cidr": _PRIVATE},
            "condition": "instance_session and not private_address",
        },
    )
    return [
        _correlation(
            meta,
            "cloudtrail",
            "One EC2 instance's or ECS task's credentials used from two addresses at once",
            (
                "only the 'two places at once' half: one instance or task session calling "
                f"from two public addresses within {p['concurrent_minutes']} minutes. The "
                "other half — a call from outside the provider's published address ranges — "
                "needs those ranges (crownwatch feeds update), which Sigma has no way to "
                "look up; Lambda and Compute Engine identities are left out here as there."
            ),
            {
                "type": "value_count",
                "group-by": ["userIdentity.arn"],
                "timespan": f"{p['concurrent_minutes']}m",
                "condition": {"field": "sourceIPAddress", "gte": 2},
            },
            [base],
        )
    ]


def _transfer_out(meta) -> list[Exported]:
    p = meta.params
    not_ours = (
        "crownwatch fires only when the target is not one of [organisation] own_accounts "
        "and raises to critical for a bucket holding a registered crown jewel; Sigma knows "
        "neither list, so this fires on every such call — tune it with your own accounts."
    )
    return [
        _plain(
            meta,
            "replication",
            "S3 bucket replication configured",
            f"every PutBucketReplication, to any account: {not_ours}",
            CLOUDTRAIL,
            {
                "selection": {
                    "eventSource": "s3.amazonaws.com",
                    "eventName": "PutBucketReplication",
                },
                "condition": "selection",
            },
            level="medium",
        ),
        _plain(
            meta,
            "public_grant",
            "S3 bucket or object opened to everyone",
            (
                "matches the grant in the request parameters' JSON text as CloudTrail "
                'delivers it (minified: "Principal":"*"); crownwatch parses the policy '
                "and also flags grants to foreign accounts (needs own_accounts). " + not_ours
            ),
            CLOUDTRAIL,
            {
                "selection": {
                    "eventSource": "s3.amazonaws.com",
                    "eventName": ["PutBucketPolicy", "PutBucketAcl", "PutObjectAcl"],
                },
                "public": {
                    "requestParameters|contains": [
                        "AllUsers",
                        "AuthenticatedUsers",
                        # \\* is Sigma's literal star (a bare * is its wildcard)
                        '"Principal":"\\*"',
                        '"AWS":"\\*"',
                    ]
                },
                "condition": "selection and public",
            },
        ),
        _plain(
            meta,
            "share",
            "EC2 or RDS snapshot or machine image shared",
            f"every snapshot or image permission change: {not_ours}",
            CLOUDTRAIL,
            {
                "selection": {
                    "eventName": [
                        "ModifySnapshotAttribute",
                        "ModifyImageAttribute",
                        "ModifyDBSnapshotAttribute",
                        "ModifyDBClusterSnapshotAttribute",
                    ]
                },
                "condition": "selection",
            },
            level="medium",
        ),
        _correlation(
            meta,
            "presigned_burst",
            "Burst of presigned-URL reads of one bucket by one principal",
            (
                "counts presigned (QueryString) GetObject calls per principal and bucket in "
                "an hour, on any bucket; crownwatch counts them only on crown jewels and "
                "also reads Azure SAS and S3 server access logs."
            ),
            {
                "type": "event_count",
                "group-by": ["userIdentity.arn", "requestParameters.bucketName"],
                "timespan": "1h",
                "condition": {"gte": p["presigned_burst"]},
            },
            [
                _base(
                    meta,
                    "presigned_burst",
                    "presigned_read",
                    "S3 object read through a presigned URL",
                    CLOUDTRAIL,
                    {
                        "selection": {
                            "eventSource": "s3.amazonaws.com",
                            "eventName": "GetObject",
                            "additionalEventData.AuthenticationMethod": "QueryString",
                        },
                        "condition": "selection",
                    },
                )
            ],
        ),
    ]


def _delete_after_copy(meta) -> list[Exported]:
    p = meta.params
    read = _base(
        meta,
        "cloudtrail",
        "read",
        "S3 object read",
        CLOUDTRAIL,
        {
            "selection": {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"},
            "condition": "selection",
        },
    )
    delete = _base(
        meta,
        "cloudtrail",
        "delete",
        "S3 object deleted",
        CLOUDTRAIL,
        {
            "selection": {"eventSource": "s3.amazonaws.com", "eventName": "DeleteObject"},
            "condition": "selection",
        },
    )
    return [
        _correlation(
            meta,
            "cloudtrail",
            "S3 object read, then deleted by the same principal",
            (
                f"the same principal reading then deleting the same object within "
                f"{p['window_hours']} hours, in any bucket; crownwatch looks only at crown "
                "jewels, also counts copies out and batch deletes (DeleteObjects names no key "
                "a Sigma group-by could use) and reads S3 access logs, GCS and Azure too."
            ),
            {
                "type": "temporal_ordered",
                "group-by": [
                    "userIdentity.arn",
                    "requestParameters.bucketName",
                    "requestParameters.key",
                ],
                "timespan": f"{p['window_hours']}h",
                "condition": {"gte": 2},  # both rules, read first
            },
            [read, delete],
            level="medium",
        )
    ]


#: detection id -> the rules it exports
EXPORTS: dict[str, Callable[[Any], list[Exported]]] = {
    "identity.password_spray": _password_spray,
    "identity.brute_force": _brute_force,
    "identity.explicit_credential_spray": _explicit_credential_spray,
    "identity.workload_credentials_outside": _workload_credentials,
    "exfiltration.transfer_out": _transfer_out,
    "exfiltration.delete_after_copy": _delete_after_copy,
}


@dataclass(frozen=True)
class Plan:
    """What an export writes, and what it cannot."""

    exported: tuple[Exported, ...]
    not_exported: tuple[tuple[str, str], ...]  # (detection id, reason)


def plan() -> Plan:
    """Every detection, exported or listed with its reason. A detection added without
    a decision here is listed as not assessed (and the tests fail until it is)."""
    from crownwatch.detections import all_detections

    exported: list[Exported] = []
    missing: list[tuple[str, str]] = []
    for det in all_detections():
        if det.id in EXPORTS:
            exported += EXPORTS[det.id](det.meta)
        else:
            why = NOT_EXPRESSIBLE.get(det.id) or det.meta.not_sigma or "not yet assessed for Sigma"
            missing.append((det.id, why))
    return Plan(tuple(exported), tuple(missing))


def write(out: Path, p: Plan | None = None) -> list[Path]:
    """Write each exported rule file into ``out``; returns the paths written."""
    p = p or plan()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in p.exported:
        path = out / e.filename
        path.write_text(e.yaml(), encoding="utf-8")
        written.append(path)
    return written
