"""Incidents for other tools: a STIX 2.1 bundle and OCSF Incident Finding records.

STIX: each incident is a ``grouping`` (context ``suspicious-activity``) over the objects
:mod:`crownwatch.outputs.stix` makes for its findings — the same deterministic ids, so a
platform that imported the findings links the grouping to what it has.
OCSF: Incident Finding (class_uid 2005, OCSF 1.3), one per incident.
"""

from __future__ import annotations

from crownwatch.findings import SEVERITY_ID, _epoch_ms


def to_stix_bundle(
    incidents: list[dict],
    findings: list[dict],
    versions: dict | None = None,
    finding_versions: dict | None = None,
) -> str:
    """Kept for existing callers: :func:`crownwatch.outputs.stix.incidents_bundle`."""
    from crownwatch.outputs.stix import incidents_bundle

    return incidents_bundle(incidents, findings, versions, finding_versions)


_STATUS_ID = {"new": 1, "triaged": 2, "escalated": 2, "false_positive": 3, "closed": 4}


def to_ocsf_incident(inc: dict, product_version: str) -> dict:
    """OCSF 1.3 Incident Finding (class_uid 2005, category 2 Findings)."""
    techniques = [
        {"technique": {"uid": t}, "version": "ATLAS" if t.startswith("AML.") else "ATT&CK v16"}
        for t in inc["attack"]
    ]
    return {
        "class_uid": 2005,
        "class_name": "Incident Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200501,
        "severity_id": SEVERITY_ID[inc["severity"]],
        "severity": inc["severity"].capitalize(),
        "status_id": _STATUS_ID.get(inc.get("status", "new"), 99),
        "status": inc.get("status", "new"),
        "time": _epoch_ms(inc["last_seen"]),
        "start_time": _epoch_ms(inc["first_seen"]),
        "end_time": _epoch_ms(inc["last_seen"]),
        "message": inc["title"],
        "desc": inc["summary"],
        "metadata": {
            "version": "1.3.0",
            "product": {
                "name": "crownwatch",
                "vendor_name": "crownwatch",
                "version": product_version,
            },
            "uid": inc["id"],
        },
        "finding_info_list": [
            {
                "uid": t["finding"],
                "title": t["title"],
                "analytic": {
                    "uid": t["detection"],
                    "name": t["detection"],
                    "type_id": 1,
                    "type": "Rule",
                },
            }
            for t in inc["timeline"]
        ],
        "attacks": techniques,
        "impact_id": {"critical": 1, "high": 2, "medium": 3, "low": 4}[inc["severity"]],
        "priority_id": {"critical": 4, "high": 3, "medium": 2, "low": 1}[inc["severity"]],
        "unmapped": {
            "stages": inc["stages"],
            "entities": inc["entities"],
            "resembles": [
                {"name": r["name"], "confidence": r["confidence"], "wording": r["wording"]}
                for r in inc["resembles"]
            ],
        },
    }
