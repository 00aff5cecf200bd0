"""The report's content as plain data: numbers for the SVG geometry, strings for text.

The template only places these values; none of them is markup. Long values are cut
here (a 10 MB user agent must not make a 10 MB page), never escaped here — escaping
is the template engine's job, done once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

from crownwatch.incidents.killchain import LABELS, STAGES, technique_stage

SEV_COLOR = {"critical": "#b3001b", "high": "#d9480f", "medium": "#c99700", "low": "#1c7ed6"}
_MAX_TEXT = 300


def _cut(value, n: int = _MAX_TEXT) -> str:
    s = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return s if len(s) <= n else s[: n - 1] + "…"


def _ts(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None


def timeline(inc: dict, width: int = 760) -> dict:
    """Bars on a time × kill-chain-stage grid (only the stages the incident reaches,
    in order). Coordinates in SVG user units."""
    rows = [s for s in STAGES if s in inc["stages"]] or list(STAGES[:1])
    left, top, row_h, right = 190, 24, 30, 16
    items = inc["timeline"]
    starts = [t for i in items if (t := _ts(i["first_seen"]))]
    ends = [t for i in items if (t := _ts(i["last_seen"] or i["first_seen"]))]
    t0 = min(starts) if starts else None
    t1 = max(ends) if ends else None
    span = max((t1 - t0).total_seconds(), 1.0) if t0 and t1 else 1.0
    plot = width - left - right
    bars = []
    for i in items:
        a, b = _ts(i["first_seen"]), _ts(i["last_seen"] or i["first_seen"])
        x = left + (plot * (a - t0).total_seconds() / span if a and t0 else 0)
        w = max(plot * ((b - a).total_seconds() if a and b else 0) / span, 6)
        y = top + rows.index(i["stage"]) * row_h + 6
        bars.append(
            {
                "x": round(min(x, width - right - 6), 1),
                "y": y,
                "w": round(min(w, width - right - x), 1) if w > 6 else 6,
                "h": row_h - 12,
                "color": SEV_COLOR.get(i["severity"], "#555"),
                "label": _cut(f"{i['title']} ({i['first_seen']} → {i['last_seen']})", 200),
                "anchor": i["finding"],
            }
        )
    height = top + len(rows) * row_h + 28
    ticks = []
    if t0 and t1:
        for k in range(5):
            t = t0 + (t1 - t0) * (k / 4)
            ticks.append({"x": round(left + plot * k / 4, 1), "text": t.strftime("%m-%d %H:%M")})
    return {
        "width": width,
        "height": height,
        "rows": [
            {
                "y": top + n * row_h,
                "h": row_h,
                "label": LABELS[s],
                "mid": top + n * row_h + row_h / 2 + 4,
            }
            for n, s in enumerate(rows)
        ],
        "left": left,
        "right": width - right,
        "axis_y": top + len(rows) * row_h,
        "ticks": ticks,
        "bars": bars,
    }


_LEFT_KINDS = ("user", "principal", "account")
_RIGHT_KINDS = ("src_ip", "asset", "billing", "api_key")
_PER_KIND = 5


def entity_graph(inc: dict, findings: dict[str, dict], width: int = 760) -> dict:
    """Who (people, principals, accounts) ← finding → where/what (addresses, crown
    jewels, billing, keys). Entities named by more of the incident's findings first;
    at most five per kind, the rest counted."""
    fids = inc["findings"]
    degree: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fid in fids:
        for kind, values in (findings.get(fid, {}).get("entities") or {}).items():
            for v in values:
                degree[(kind, str(v))].add(fid)

    def side(kinds):
        nodes, more = [], []
        for kind in kinds:
            ks = sorted((k for k in degree if k[0] == kind), key=lambda k: (-len(degree[k]), k[1]))
            nodes += ks[:_PER_KIND]
            if len(ks) > _PER_KIND:
                more.append(f"+{len(ks) - _PER_KIND} more {kind}")
        return nodes, more

    lefts, lmore = side(_LEFT_KINDS)
    rights, rmore = side(_RIGHT_KINDS)
    row_h = 26
    n = max(len(lefts) + len(lmore), len(rights) + len(rmore), len(fids), 1)
    height = 30 + n * row_h
    pos = {}

    def column(nodes, x, kind):
        out = []
        off = (n - len(nodes)) * row_h / 2
        for k, node in enumerate(nodes):
            y = 24 + off + k * row_h
            pos[(kind, node)] = (x, y)
            out.append((node, y))
        return out

    lx, mx, rx = 170, width / 2, width - 170
    left_nodes = [
        {"x": lx, "y": y, "kind": k[0], "text": _cut(k[1], 34), "full": _cut(k[1])}
        for k, y in column(lefts, lx, "e")
    ]
    right_nodes = [
        {"x": rx, "y": y, "kind": k[0], "text": _cut(k[1], 34), "full": _cut(k[1])}
        for k, y in column(rights, rx, "e")
    ]
    mid_nodes = []
    for fid, y in column(fids, mx, "f"):
        f = findings.get(fid, {})
        mid_nodes.append(
            {
                "x": mx,
                "y": y,
                "text": _cut(f.get("detection", fid), 40),
                "full": _cut(f.get("title", fid)),
                "color": SEV_COLOR.get(f.get("severity", ""), "#555"),
            }
        )
    edges = []
    for key, fs in degree.items():
        if ("e", key) not in pos:
            continue
        ex, ey = pos[("e", key)]
        for fid in fs:
            fx, fy = pos[("f", fid)]
            edges.append({"x1": ex, "y1": ey, "x2": fx, "y2": fy})
    return {
        "width": width,
        "height": height,
        "left": left_nodes,
        "right": right_nodes,
        "mid": mid_nodes,
        "edges": edges,
        "more_left": ", ".join(lmore),
        "more_right": ", ".join(rmore),
    }


def evidence_rows(f: dict) -> list[tuple[str, str]]:
    ev = f.get("evidence") or {}
    return [(k, _cut(v)) for k, v in ev.items() if k not in ("raw_records", "raw_records_total")]


def coverage(findings: list[dict]) -> list[dict]:
    """Every technique a detection can raise, which detections, and whether it fired."""
    from crownwatch.detections import all_detections

    fired: dict[str, int] = defaultdict(int)
    for f in findings:
        for t in f.get("attack") or []:
            fired[t] += 1
    by_tech: dict[str, list[str]] = defaultdict(list)
    for d in all_detections():
        for t in d.meta.attack:
            by_tech[t].append(d.id)
    for t in ("AML.T0010", "AML.T0011.000", "T1195.002"):
        by_tech[t].append("scan (model artifacts)")
    rows = []
    for t in sorted(
        by_tech, key=lambda t: (STAGES.index(technique_stage(t) or "initial_access"), t)
    ):
        url = (
            f"https://atlas.mitre.org/techniques/{t}"
            if t.startswith("AML.")
            else f"https://attack.mitre.org/techniques/{t.replace('.', '/')}/"
        )
        rows.append(
            {
                "technique": t,
                "framework": "ATLAS" if t.startswith("AML.") else "ATT&CK",
                "stage": LABELS.get(technique_stage(t) or "", ""),
                "detections": sorted(by_tech[t]),
                "fired": fired.get(t, 0),
                "url": url,
            }
        )
    return rows


def report_context(findings: list[dict], incidents: list[dict]) -> dict:
    by_id = {f["id"]: f for f in findings}
    blocks = []
    for inc in incidents:
        members = [by_id[i] for i in inc["findings"] if i in by_id]
        blocks.append(
            {
                "inc": inc,
                "timeline": timeline(inc),
                "graph": entity_graph(inc, by_id),
                "findings": [
                    {
                        "f": f,
                        "evidence": evidence_rows(f),
                        "entities": [
                            (
                                k,
                                ", ".join(map(str, v[:20]))
                                + (f" (+{len(v) - 20})" if len(v) > 20 else ""),
                            )
                            for k, v in f["entities"].items()
                        ],
                        "raw": (f.get("evidence") or {}).get("raw_records") or [],
                        "raw_total": (f.get("evidence") or {}).get("raw_records_total"),
                    }
                    for f in members
                ],
            }
        )
    counts = defaultdict(int)
    for inc in incidents:
        counts[inc["severity"]] += 1
    return {
        "incidents": incidents,
        "blocks": blocks,
        "coverage": coverage(findings),
        "n_findings": len(findings),
        "counts": dict(counts),
        "sev_color": SEV_COLOR,
        "stage_labels": LABELS,
    }
