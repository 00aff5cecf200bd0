"""OCSF for SIEMs and security data lakes: each finding as a Detection Finding (class
2004), each incident as an Incident Finding (class 2005), OCSF schema 1.8.0.

One event describes the record as it stands now: a finding nobody has touched is a
Create, a triaged one an Update carrying the analyst's note as ``comment``, one that was
closed or found to be a false positive a Close. docs/interfaces.md ("OCSF") has the
whole mapping; tests/outputs/test_ocsf.py checks every export of the demo against the
official 1.8.0 schema.

Every value crownwatch has appears once: in the attribute OCSF defines for it, or under
``unmapped`` where OCSF has none (the detection's evidence, billing ids, kill-chain
stages). ``observables`` point at the mapped values by their path in the event.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crownwatch import mitre

SCHEMA_VERSION = "1.8.0"

DETECTION_FINDING = (2004, "Detection Finding")
INCIDENT_FINDING = (2005, "Incident Finding")

# crownwatch triage status -> OCSF status_id, per class (their enums differ)
FINDING_STATUS = {"new": 1, "triaged": 2, "escalated": 2, "false_positive": 3, "closed": 4}
INCIDENT_STATUS = {"new": 1, "triaged": 2, "escalated": 2, "false_positive": 5, "closed": 5}
_FINDING_STATUS_NAME = {1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved"}
_INCIDENT_STATUS_NAME = {1: "New", 2: "In Progress", 5: "Closed"}
# statuses that end the analyst's work on the record: its event is a Close
_ENDS_WORK = {"false_positive", "closed"}
_ACTIVITY_NAME = {1: "Create", 2: "Update", 3: "Close"}
SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_SEVERITY_NAME = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
PRIORITY_ID = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_PRIORITY_NAME = {1: "Low", 2: "Medium", 3: "High", 4: "Critical"}
OTHER = 99  # OCSF's "Other": the sibling string then carries the source's own value

# Incident Finding requires an assignee or an assignee group. crownwatch tracks no
# analysts: an incident is with whoever works crownwatch's triage queue.
TRIAGE_QUEUE = {
    "name": "crownwatch triage",
    "desc": "crownwatch's triage queue; crownwatch does not track individual analysts",
}


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


# entity kind -> (the evidence object holding one value, the value's path inside it,
# its observable type_id and name as the schema's dictionary gives them). Values that
# fail the check (a src_ip that is not an address) stay in ``unmapped.entities``, as do
# kinds with no place: ``billing``, and ``api_key`` (OCSF holds a key only inside the user
# it belongs to, and a finding's keys and accounts are not paired).
_Evidence = Callable[[str], dict]
ENTITY_EVIDENCE: dict[str, tuple[_Evidence, str, tuple[int, str]]] = {
    "src_ip": (lambda v: {"src_endpoint": {"ip": v}}, "src_endpoint.ip", (2, "IP Address")),
    "user": (lambda v: {"user": {"name": v}}, "user.name", (4, "User Name")),
    "actor_user": (lambda v: {"actor": {"user": {"name": v}}}, "actor.user.name", (4, "User Name")),
    # a cloud principal (role session ARN, SAS name, e-mail) acting on the crown jewels
    "principal": (
        lambda v: {"actor": {"user": {"uid": v}}},
        "actor.user.uid",
        (31, "User Object: uid"),
    ),
    # the cloud or API account the actor works in
    "account": (
        lambda v: {"actor": {"user": {"account": {"uid": v}}}},
        "actor.user.account.uid",
        (35, "Account Object: uid"),
    ),
    "host": (
        lambda v: {"device": {"hostname": v, "type_id": 0, "type": "Unknown"}},
        "device.hostname",
        (1, "Hostname"),
    ),
}
_VALUE_CHECK: dict[str, Callable[[str], str | None]] = {"src_ip": _ip}
# incidents have no evidence objects; these kinds are typed by value alone, so their
# observables may point into ``unmapped.entities``
_INCIDENT_OBSERVABLE = {
    "src_ip": (2, "IP Address"),
    "user": (4, "User Name"),
    "actor_user": (4, "User Name"),
    "host": (1, "Hostname"),
}
RESOURCE_OBSERVABLE = (38, "Resource Details Object: name")


def detection_finding(f: dict, product_version: str) -> dict:
    """One finding (docs/interfaces.md) as an OCSF 1.8.0 Detection Finding."""
    event = _base(DETECTION_FINDING, f, product_version, FINDING_STATUS, _FINDING_STATUS_NAME)
    attacks, unknown_attack = _attacks(f.get("attack") or [])
    event["finding_info"] = _finding_info(
        f["id"], f["title"], f["detection"], f.get("first_seen"), f.get("last_seen"), attacks
    )
    event["is_alert"] = True
    evidences, observables, unmapped = _evidences(f.get("entities") or {})
    resources = [_resource(name, f) for name in (f.get("entities") or {}).get("asset", [])]
    observables += [
        _observable(f"resources[{i}].name", r["name"], RESOURCE_OBSERVABLE)
        for i, r in enumerate(resources)
    ]
    for key, value in (("evidences", evidences), ("resources", resources)):
        if value:
            event[key] = value
    if observables:
        event["observables"] = observables
    extra = _drop_empty(
        {"evidence": f.get("evidence"), "entities": unmapped, "attack": unknown_attack}
    )
    if extra:
        event["unmapped"] = extra
    return event


def incident_finding(inc: dict, product_version: str) -> dict:
    """One incident (docs/interfaces.md) as an OCSF 1.8.0 Incident Finding."""
    event = _base(INCIDENT_FINDING, inc, product_version, INCIDENT_STATUS, _INCIDENT_STATUS_NAME)
    event["metadata"]["profiles"] = ["incident"]  # implied by the class; OCSF asks for it
    event["desc"] = inc["summary"]
    event["finding_info_list"] = [
        _finding_info(
            t["finding"], t["title"], t["detection"], t.get("first_seen"), t.get("last_seen")
        )
        for t in inc["timeline"]
    ]
    attacks, unknown_attack = _attacks(inc.get("attack") or [])
    if attacks:
        event["attacks"] = attacks
    if inc["severity"] in PRIORITY_ID:
        event["priority_id"] = PRIORITY_ID[inc["severity"]]
        event["priority"] = _PRIORITY_NAME[event["priority_id"]]
    if inc.get("status") == "false_positive":
        event["verdict_id"], event["verdict"] = 1, "False Positive"
    event["assignee_group"] = dict(TRIAGE_QUEUE)
    entities = inc.get("entities") or {}
    observables = [
        _observable(f"unmapped.entities.{kind}[{i}]", v, _INCIDENT_OBSERVABLE[kind])
        for kind in sorted(_INCIDENT_OBSERVABLE)
        for i, v in enumerate(entities.get(kind, []))
        if kind != "src_ip" or _ip(v) == v
    ]
    if observables:
        event["observables"] = observables
    extra = _drop_empty(
        {
            "entities": entities,
            "stages": inc.get("stages"),
            "severity_reason": inc.get("severity_reason"),
            "resembles": [
                {"name": r["name"], "confidence": r["confidence"], "wording": r["wording"]}
                for r in inc.get("resembles") or []
            ],
            "attack": unknown_attack,
        }
    )
    if extra:
        event["unmapped"] = extra
    return event


def _base(
    cls: tuple[int, str],
    rec: dict,
    product_version: str,
    status_ids: dict[str, int],
    status_names: dict[int, str],
) -> dict:
    """What every crownwatch OCSF event has: classification, activity, severity, the
    triage status, times, and who produced it."""
    class_uid, class_name = cls
    status = rec.get("status") or "new"
    note = rec.get("note")
    activity_id = 3 if status in _ENDS_WORK else 1 if status == "new" and not note else 2
    severity_id = SEVERITY_ID.get(rec["severity"], OTHER)
    status_id = status_ids.get(status, OTHER)
    first, last = _epoch_ms(rec.get("first_seen")), _epoch_ms(rec.get("last_seen"))
    event: dict[str, Any] = {
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "activity_id": activity_id,
        "activity_name": _ACTIVITY_NAME[activity_id],
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_name}: {_ACTIVITY_NAME[activity_id]}",
        "severity_id": severity_id,
        "severity": _SEVERITY_NAME.get(severity_id, str(rec["severity"])),
        "status_id": status_id,
        "status": status_names.get(status_id, status),
        # the crownwatch status itself: "escalated" and "triaged" share In Progress
        "status_detail": status,
        "message": rec["title"],
        # a record with no times at all is still an event: OCSF requires a time
        "time": last or first or int(datetime.now(UTC).timestamp() * 1000),
        "timezone_offset": 0,
        "metadata": {
            "version": SCHEMA_VERSION,
            "product": {
                "name": "crownwatch",
                "vendor_name": "crownwatch",
                "version": product_version,
            },
        },
    }
    if first is not None:
        event["start_time"] = first
    if last is not None:
        event["end_time"] = last
    if note:
        event["comment"] = note
    return event


def _finding_info(
    uid: str,
    title: str,
    detection: str,
    first_seen: str | None,
    last_seen: str | None,
    attacks: list[dict] | None = None,
) -> dict:
    info: dict[str, Any] = {
        "uid": uid,
        "title": title,
        "types": [detection],
        "analytic": {"uid": detection, "name": detection, "type_id": 1, "type": "Rule"},
    }
    for key, value in (("first_seen_time", first_seen), ("last_seen_time", last_seen)):
        if (ms := _epoch_ms(value)) is not None:
            info[key] = ms
    if attacks:
        info["attacks"] = attacks
    return info


def _attacks(ids: list[str]) -> tuple[list[dict], list[str]]:
    """OCSF ``attack`` objects for ATT&CK and ATLAS ids: a sub-technique under
    ``sub_technique`` with its parent as ``technique``, names and the tactic where we
    know them, ``version`` the framework's. Ids of neither framework are returned apart."""
    out, unknown = [], []
    for tid in ids:
        if not mitre.framework(tid):
            unknown.append(tid)
            continue
        parent = mitre.parent(tid)
        attack: dict[str, Any] = {"version": mitre.version(tid)}
        attack["technique"] = _mitre_entity(parent or tid)
        if parent:
            attack["sub_technique"] = _mitre_entity(tid)
        known = mitre.technique(tid) or mitre.technique(parent or "")
        if known and known.tactic:
            attack["tactic"] = {
                "uid": known.tactic,
                "name": mitre.tactic_name(known.tactic),
                "src_url": mitre.url(known.tactic),
            }
        out.append(attack)
    return out, unknown


def _mitre_entity(mitre_id: str) -> dict:
    entity = {"uid": mitre_id, "src_url": mitre.url(mitre_id)}
    if known := mitre.technique(mitre_id):
        entity["name"] = known.name
    return entity


def _evidences(entities: dict[str, list[str]]) -> tuple[list[dict], list[dict], dict]:
    """One evidence object per entity value, the observables that point at them, and
    the entities OCSF has no place for."""
    evidences: list[dict] = []
    observables: list[dict] = []
    unmapped: dict[str, list[str]] = {}
    for kind, values in entities.items():
        if kind == "asset":  # a resource, not evidence (see ``resources``)
            continue
        if kind not in ENTITY_EVIDENCE:
            unmapped[kind] = list(values)
            continue
        build, path, observable = ENTITY_EVIDENCE[kind]
        check = _VALUE_CHECK.get(kind, lambda v: v)
        for raw in values:
            value = check(raw)
            if value is None:
                unmapped.setdefault(kind, []).append(raw)
                continue
            observables.append(
                _observable(f"evidences[{len(evidences)}].{path}", value, observable)
            )
            evidences.append({"name": kind, **build(value)})
    return evidences, observables, unmapped


def _resource(name: str, f: dict) -> dict:
    """A crown jewel the finding is about: the target of the activity."""
    res: dict[str, Any] = {"name": name, "role_id": 1, "role": "Target"}
    kind = (f.get("evidence") or {}).get("asset_kind")
    if isinstance(kind, str) and len(f["entities"]["asset"]) == 1:
        res["type"] = kind
    return res


def _observable(path: str, value: str, type_: tuple[int, str]) -> dict:
    return {"name": path, "type_id": type_[0], "type": type_[1], "value": value}


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


def _epoch_ms(iso_ts: str | None) -> int | None:
    """OCSF timestamps are milliseconds since the epoch; None for a missing or
    unreadable time (a record is exported without it rather than not at all)."""
    if not iso_ts:
        return None
    try:
        ts = datetime.fromisoformat(str(iso_ts).replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is None:  # crownwatch writes UTC
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1000)
