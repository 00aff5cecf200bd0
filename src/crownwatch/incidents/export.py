"""Incidents for other tools: a STIX 2.1 bundle and OCSF Incident Finding records.

STIX: each incident is a ``grouping`` (context ``suspicious-activity``) whose
``object_refs`` are the sightings, observed data, indicators-to-be and attack patterns
:mod:`crownwatch.stix` already makes for its findings — the same deterministic ids, so
a platform that imported the findings links the grouping to what it has.
OCSF: Incident Finding (class_uid 2005), one per incident: :mod:`crownwatch.outputs.ocsf`.
"""

from __future__ import annotations

import json
import uuid


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


def to_ocsf_incident(inc: dict, product_version: str) -> dict:
    """The incident as an OCSF Incident Finding (:mod:`crownwatch.outputs.ocsf`)."""
    from crownwatch.outputs.ocsf import incident_finding

    return incident_finding(inc, product_version)
