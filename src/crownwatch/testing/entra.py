"""Build Microsoft Entra ID audit records (Graph ``directoryAudit`` objects, one per
line, as an export of ``GET /auditLogs/directoryAudits`` stores them) for detection
scenarios and tests.

Field for field as the ``directoryAudit`` resource (v1.0) and the fixtures in
``tests/fixtures/entra`` (``make_audits.py``): ``initiatedBy.user`` with
``homeTenantId`` / ``homeTenantName`` / ``userType``, targets with ``groupType`` and
``modifiedProperties`` whose values are JSON-encoded as Entra writes them, activity
names verbatim (Entra's "Update application – Certificates and secrets management "
keeps its trailing space).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime


def _uuid(*parts) -> str:
    h = hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def prop(name: str, old, new) -> dict:
    """A modified property; values JSON-encoded as Entra writes them."""
    enc = lambda v: None if v is None else json.dumps(v)  # noqa: E731
    return {"displayName": name, "oldValue": enc(old), "newValue": enc(new)}


def target(
    name: str,
    type_: str,
    upn: str | None = None,
    props: list | None = None,
    *,
    object_id: bool = True,
) -> dict:
    """A target resource; a domain has no object id (``object_id=False``: ``null``)."""
    return {
        "id": _uuid("target", name, type_) if object_id else None,
        "displayName": name,
        "type": type_,
        "userPrincipalName": upn,
        "groupType": None,
        "modifiedProperties": list(props or []),
    }


def audit(
    when: datetime,
    activity: str,
    actor_upn: str,
    ip: str,
    targets: list[dict],
    *,
    service: str = "Core Directory",
    category: str = "ApplicationManagement",
    operation: str = "Update",
    reason: str = "",
    user_agent: str | None = None,
) -> dict:
    """One ``directoryAudit`` a person (``actor_upn``, from ``ip``) initiated."""
    corr = _uuid("corr", when.isoformat(), activity, actor_upn)
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"
    details = [{"key": "User-Agent", "value": user_agent}] if user_agent else []
    return {
        "id": f"Directory_{corr}_{corr[:5].upper()}_{int(corr[:8], 16) % 10**9:09d}",
        "category": category,
        "correlationId": corr,
        "result": "success",
        "resultReason": reason,
        "activityDisplayName": activity,
        "activityDateTime": stamp,
        "loggedByService": service,
        "operationType": operation,
        "initiatedBy": {
            "app": None,
            "user": {
                "id": _uuid("user", actor_upn),
                "displayName": None,
                "userPrincipalName": actor_upn,
                "ipAddress": ip,
                "userType": None,
                "homeTenantId": None,
                "homeTenantName": None,
            },
        },
        "targetResources": targets,
        "additionalDetails": details,
    }


def jsonl(records: list[dict]) -> str:
    records = sorted(records, key=lambda r: (r["activityDateTime"], r["id"]))
    return "".join(json.dumps(r) + "\n" for r in records)
