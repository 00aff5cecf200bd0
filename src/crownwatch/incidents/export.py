"""Incidents for other tools: a STIX 2.1 bundle and OCSF Incident Finding records.

STIX: each incident is a ``grouping`` (context ``suspicious-activity``) over the objects
:mod:`crownwatch.outputs.stix` makes for its findings — the same deterministic ids, so a
platform that imported the findings links the grouping to what it has.
OCSF: Incident Finding (class_uid 2005), one per incident: :mod:`crownwatch.outputs.ocsf`.
"""

from __future__ import annotations


def to_stix_bundle(
    incidents: list[dict],
    findings: list[dict],
    versions: dict | None = None,
    finding_versions: dict | None = None,
) -> str:
    """Kept for existing callers: :func:`crownwatch.outputs.stix.incidents_bundle`."""
    from crownwatch.outputs.stix import incidents_bundle

    return incidents_bundle(incidents, findings, versions, finding_versions)


def to_ocsf_incident(inc: dict, product_version: str) -> dict:
    """The incident as an OCSF Incident Finding (:mod:`crownwatch.outputs.ocsf`)."""
    from crownwatch.outputs.ocsf import incident_finding

    return incident_finding(inc, product_version)
