"""Incidents: findings grouped into the intrusions they are part of.

The stage after detections (sources → tables → lake → enrichment → detections →
findings → **incidents** → outputs). ``derive`` is a pure function of the stored
findings and what the lake says about their keys; ``run`` re-derives a lake's
incidents after every detection run and stores them (:mod:`.store`), keeping triage.
How findings are linked is :mod:`.linking`; order and severity :mod:`.build`; which
reported intrusion sets an incident resembles :mod:`.actors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crownwatch.incidents.linking import Key, Params, finding_keys, group


def derive(
    findings: list[dict],
    lake_people: Mapping[Key, int] | None = None,
    identity_links: Mapping[str, str] | None = None,
    config: Mapping | None = None,
) -> list[dict]:
    """Incidents of ``findings``, most severe first. Findings an analyst closed as
    false positives do not join (or hold together) an incident."""
    from crownwatch.incidents.actors import resemblance
    from crownwatch.incidents.build import build
    from crownwatch.severity import RANK

    live = [f for f in findings if f.get("status") != "false_positive"]
    g = group(live, lake_people, identity_links, Params.from_config(config))
    by_id = {f["id"]: f for f in live}
    out = []
    for ids in g.groups:
        members = [by_id[i] for i in ids]
        inc = build(members, g.links)
        inc["resembles"] = resemblance(inc, members)
        out.append(inc)
    out.sort(key=lambda i: (-RANK[i["severity"]], i["first_seen"] or "", i["id"]))
    return out


def run(lake_root: str | Path, config: Mapping | None = None) -> list[dict]:
    """Re-derive and store the incidents of a lake; returns them (with triage)."""
    from crownwatch.findings import FindingStore
    from crownwatch.incidents.evidence import identity_links, lake_people
    from crownwatch.incidents.store import IncidentStore

    findings = FindingStore(lake_root).all()
    links = identity_links(lake_root)
    ips: set[str] = set()
    accounts: set[str] = set()
    for f in findings:
        ks = finding_keys(f, links)
        ips |= ks.get("src_ip", set())
        accounts |= ks.get("cloud_account", set())
    people = lake_people(lake_root, ips, accounts)
    return IncidentStore(lake_root).replace(derive(findings, people, links, config))
