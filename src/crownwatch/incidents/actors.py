"""Which publicly reported intrusion sets an incident *resembles* — never who did it.

Profiles live in ``actors.toml``, every claim with its public source. An incident is
compared with each profile on two things crownwatch can see:

* **techniques** — a weighted Jaccard index over ATT&CK/ATLAS ids (the incident's and
  the profile's), each id weighted by how rare it is among the profiles (a technique
  many groups are reported for says less than one only a few use). A sub-technique and
  its sibling or parent (T1110.001 against T1110.003) count as half a match. One
  password spray against a profile of six techniques is a low resemblance, as it
  should be: sprays are everywhere;
* **infrastructure habits** — the share of a profile's observable habits (hosting
  networks, anonymising proxies, VPN services, many accounts) present in the incident.

confidence = 0.8 × technique score + 0.2 × habit score, reported only when at least one
technique overlaps, and worded as "low / moderate / high resemblance".
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib import resources

from crownwatch.enrichment.hosting import HOSTING_AS_ORGS

_VPN_ORGS = ("astrill", "mullvad", "nordvpn", "expressvpn", "protonvpn", "surfshark")
TECHNIQUE_WEIGHT = 0.8
HABIT_WEIGHT = 0.2


@cache
def profiles() -> tuple[dict, ...]:
    """The profiles of ``actors.toml``, checked: every claim names one of its sources."""
    data = tomllib.loads(resources.files(__package__).joinpath("actors.toml").read_text("utf-8"))
    out = []
    for a in data["actors"]:
        ids = {s["id"] for s in a.get("sources", [])}
        for section in ("techniques", "infrastructure", "targets"):
            for claim in a.get(section, []):
                if claim.get("source") not in ids:
                    raise ValueError(f"actors.toml: {a['id']} {section} claim without a source")
        out.append(a)
    return tuple(out)


@cache
def detectable() -> frozenset[str]:
    """Every ATT&CK/ATLAS id some crownwatch detection (or the scanner) can raise."""
    from crownwatch.detections import all_detections

    ids = {t for d in all_detections() for t in d.meta.attack}
    return frozenset(ids | {"AML.T0010", "AML.T0011.000", "T1195.002", "AML.T0040"})


def _parent(t: str) -> str:
    return t.rsplit(".", 1)[0] if t.count(".") >= (2 if t.startswith("AML.") else 1) else t


def _weights() -> dict[str, float]:
    df: dict[str, int] = {}
    for a in profiles():
        for t in {c["id"] for c in a["techniques"]}:
            df[t] = df.get(t, 0) + 1
    n = len(profiles())
    return {t: math.log(1 + n / k) for t, k in df.items()}


def observed_habits(findings: list[dict]) -> set[str]:
    """Infrastructure habits visible in the findings' evidence."""
    habits: set[str] = set()
    orgs: list[str] = []
    accounts: set[str] = set()
    for f in findings:
        ev = f.get("evidence") or {}
        for k, v in ev.items():
            if "as_org" in k:
                vals = v if isinstance(v, list) else list(v) if isinstance(v, dict) else [v]
                orgs += [str(x).lower() for x in vals]
        if ev.get("from_infrastructure"):
            habits.add("hosting")
        if ev.get("is_proxy") or ev.get("proxy_attempts"):
            habits.add("anonymising_proxy")
        if f["detection"].startswith("inference."):
            accounts.update((f.get("entities") or {}).get("account") or [])
    if any(h in o for o in orgs for h in HOSTING_AS_ORGS):
        habits.add("hosting")
    if any(v in o for o in orgs for v in _VPN_ORGS):
        habits.add("vpn_service")
    if len(accounts) >= 5:
        habits.add("many_accounts")
    return habits


def _level(c: float) -> str:
    return "high" if c >= 0.5 else "moderate" if c >= 0.25 else "low"


def resemblance(incident: dict, findings: list[dict], top: int = 3) -> list[dict]:
    """The profiles an incident resembles, best first (at most ``top``)."""
    seen = set(incident.get("attack") or [])
    w = _weights()
    habits = observed_habits(findings)
    out = []
    for a in profiles():
        theirs = {c["id"] for c in a["techniques"]}
        exact = seen & theirs
        half = {t for t in seen - exact if _parent(t) in {_parent(x) for x in theirs}}
        if not exact and not half:
            continue
        num = sum(w.get(t, 1.0) for t in exact) + 0.5 * sum(
            max(w.get(x, 1.0) for x in theirs if _parent(x) == _parent(t)) for t in half
        )
        den = sum(w.get(t, 1.0) for t in seen | theirs)
        tech = num / den if den else 0.0
        observable = [h for h in a.get("infrastructure", []) if h.get("observable", True)]
        matched = [h for h in observable if h["habit"] in habits]
        infra = len(matched) / len(observable) if observable else 0.0
        conf = round(TECHNIQUE_WEIGHT * tech + HABIT_WEIGHT * infra, 3)
        src = {s["id"]: s for s in a["sources"]}
        overlap = [
            {
                "technique": c["id"],
                "match": "exact" if c["id"] in exact else "parent",
                "reported": c["what"],
                "source": src[c["source"]]["url"],
            }
            for c in a["techniques"]
            if c["id"] in exact or any(_parent(c["id"]) == _parent(t) for t in half)
        ]
        out.append(
            {
                "actor": a["id"],
                "name": a["name"],
                "confidence": conf,
                "level": _level(conf),
                "wording": f"{_level(conf)} resemblance to publicly reported {a['name']} activity "
                "(shared techniques; not an attribution)",
                "overlap": overlap,
                "infrastructure": [
                    {"habit": h["habit"], "reported": h["what"], "source": src[h["source"]]["url"]}
                    for h in matched
                ],
                "sources": [
                    {"title": s["title"], "url": s["url"], "publisher": s.get("publisher", "")}
                    for s in a["sources"]
                ],
            }
        )
    out.sort(key=lambda r: (-r["confidence"], r["actor"]))
    return out[:top]
