"""Incidents for other tools: a STIX 2.1 bundle and OCSF Incident Finding records.

STIX: each incident is a ``grouping`` (context ``suspicious-activity``) whose
``object_refs`` are the sightings, observed data, indicators-to-be and attack patterns
:mod:`crownwatch.stix` already makes for its findings — the same deterministic ids, so
a platform that imported the findings links the grouping to what it has.
OCSF: Incident Finding (class_uid 2005, OCSF 1.3), one per incident.
"""

from __future__ import annotations

import json
import uuid

from crownwatch.findings import SEVERITY_ID, _epoch_ms


def to_stix_bundle(incidents: list[dict], findings: list[dict]) -> str:
    import stix2

    from crownwatch.stix import _IDENTITY, _NS
    from crownwatch.stix import to_stix_bundle as findings_bundle

    wanted = {fid for inc in incidents for fid in inc["findings"]}
    base = json.loads(findings_bundle([f for f in findings if f["id"] in wanted]))
    objects = {o["id"]: o for o in base.get("objects", [])}
    by_finding: dict[str, list[str]] = {}
    for o in objects.values():
        for ref in o.get("external_references") or []:
            if ref.get("source_name") == "crownwatch":
                by_finding.setdefault(ref["external_id"], []).append(o["id"])
                by_finding[ref["external_id"]] += o.get("observed_data_refs") or []
                by_finding[ref["external_id"]].append(o["sighting_of_ref"])
    for inc in incidents:
        refs = sorted({r for fid in inc["findings"] for r in by_finding.get(fid, [])})
        if not refs:
            continue
        g = stix2.Grouping(
            id="grouping--" + str(uuid.uuid5(_NS, inc["id"])),
            created_by_ref=_IDENTITY.id,
            name=inc["title"],
            description=inc["summary"],
            context="suspicious-activity",
            object_refs=refs,
            external_references=[{"source_name": "crownwatch", "external_id": inc["id"]}],
            custom_properties={
                "x_crownwatch_severity": inc["severity"],
                "x_crownwatch_stages": inc["stages"],
                "x_crownwatch_resembles": [
                    {"name": r["name"], "confidence": r["confidence"]} for r in inc["resembles"]
                ],
            },
            allow_custom=True,
        )
        objects[g.id] = json.loads(g.serialize())
    bundle = stix2.Bundle(objects=list(objects.values()), allow_custom=True)
    return bundle.serialize(pretty=True)


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
