"""An incident from its findings: stable id, kill-chain order, severity, summary.

Everything here is derived from the findings and the links that joined them, so a
re-run over the same findings gives the same incidents, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from crownwatch.incidents.killchain import LABELS, STAGES, finding_stage, stage_index
from crownwatch.incidents.linking import Link
from crownwatch.severity import RANK, SEVERITIES

_ACCESS = {"initial_access", "valid_accounts", "persistence"}
_TAKING = {"collection", "exfiltration", "impact", "api_extraction"}


def incident_id(anchor_finding_id: str) -> str:
    """``ci-`` + 16 hex digits of the earliest finding's id. New findings that join an
    incident later in time keep its id; a triage status survives re-derivation."""
    return "ci-" + hashlib.sha256(anchor_finding_id.encode()).hexdigest()[:16]


def severity(findings: list[dict], stages: list[str]) -> tuple[str, str]:
    """The worst finding's severity, one step up when the chain goes from getting in to
    taking something (access *and* collection/exfiltration/impact/extraction): each
    finding alone may be medium, the sequence is what a responder must not miss."""
    worst = max(RANK[f["severity"]] for f in findings)
    why = f"worst finding is {SEVERITIES[worst]}"
    if _ACCESS & set(stages) and _TAKING & set(stages) and worst < len(SEVERITIES) - 1:
        worst += 1
        why += "; raised one step: the chain goes from access to the data"
    return SEVERITIES[worst], why


def _ordered(findings: list[dict]) -> list[dict]:
    return sorted(
        findings,
        key=lambda f: (f.get("first_seen") or "", stage_index(finding_stage(f)), f["id"]),
    )


def _list(values, n: int = 3) -> str:
    values = sorted(values)
    if not values:
        return ""
    shown = ", ".join(values[:n])
    return shown + (f" and {len(values) - n} more" if len(values) > n else "")


def summary(findings: list[dict], stages: list[str], sev: str, why: str) -> str:
    """One paragraph, from a template: when, the steps in order, who and what."""
    fs = _ordered(findings)
    first = min(f["first_seen"] or "" for f in fs) or "an unknown time"
    last = max(f["last_seen"] or "" for f in fs) or "an unknown time"
    by_stage: dict[str, list[dict]] = defaultdict(list)
    for f in fs:
        by_stage[finding_stage(f)].append(f)
    steps = []
    for s in STAGES:
        if s in by_stage:
            titles = sorted({f["title"] for f in by_stage[s]})
            steps.append(f"{LABELS[s].lower()} ({_list(titles, 2)})")
    ents: dict[str, set[str]] = defaultdict(set)
    for f in fs:
        for k, vs in (f.get("entities") or {}).items():
            ents[k].update(map(str, vs))
    who = []
    if ents.get("user"):
        who.append(f"users {_list(ents['user'])}")
    if ents.get("principal"):
        who.append(f"principals {_list(ents['principal'], 2)}")
    if ents.get("account") and any(f["detection"].startswith("inference.") for f in fs):
        who.append(f"API accounts {_list(ents['account'])}")
    if ents.get("src_ip"):
        who.append(f"from {_list(ents['src_ip'])}")
    if ents.get("asset"):
        who.append(f"crown jewels {_list(ents['asset'])}")
    n = len(fs)
    text = (
        f"{n} finding{'s' if n != 1 else ''} between {first} and {last} (UTC), "
        f"in kill-chain order: {'; then '.join(steps)}."
    )
    if who:
        text += " Involved: " + "; ".join(who) + "."
    text += f" Severity {sev}: {why}."
    return text


def _title(fs: list[dict], stages: list[str], lead: dict) -> str:
    if len(fs) == 1:
        return lead["title"]
    path = LABELS[stages[0]] if len(stages) == 1 else f"{LABELS[stages[0]]} → {LABELS[stages[-1]]}"
    return f"{path} ({len(fs)} findings): {lead['title']}"


def build(members: list[dict], links: list[Link], resembles: list[dict] | None = None) -> dict:
    fs = _ordered(members)
    anchor = min(fs, key=lambda f: (f.get("first_seen") or "", f["id"]))
    stages = [s for s in STAGES if any(finding_stage(f) == s for f in fs)]
    sev, why = severity(fs, stages)
    ids = {f["id"] for f in fs}
    entities: dict[str, set[str]] = defaultdict(set)
    for f in fs:
        for k, vs in (f.get("entities") or {}).items():
            entities[k].update(map(str, vs))
    lead = max(fs, key=lambda f: (RANK[f["severity"]], stage_index(finding_stage(f))))
    return {
        "id": incident_id(anchor["id"]),
        "title": _title(fs, stages, lead),
        "severity": sev,
        "severity_reason": why,
        "status": "new",
        "first_seen": min((f["first_seen"] for f in fs if f.get("first_seen")), default=None),
        "last_seen": max((f["last_seen"] for f in fs if f.get("last_seen")), default=None),
        "stages": stages,
        "findings": [f["id"] for f in fs],
        "detections": sorted({f["detection"] for f in fs}),
        "attack": sorted({t for f in fs for t in f.get("attack") or []}),
        "entities": {k: sorted(v) for k, v in sorted(entities.items())},
        "timeline": [
            {
                "finding": f["id"],
                "stage": finding_stage(f),
                "detection": f["detection"],
                "title": f["title"],
                "severity": f["severity"],
                "first_seen": f.get("first_seen"),
                "last_seen": f.get("last_seen"),
            }
            for f in fs
        ],
        "links": [
            {"findings": [ln.a, ln.b], "keys": [list(k) for k in ln.keys], "why": ln.why}
            for ln in links
            if ln.a in ids and ln.b in ids
        ],
        "summary": summary(fs, stages, sev, why),
        "resembles": resembles or [],
    }
