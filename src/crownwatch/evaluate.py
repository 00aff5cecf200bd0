"""Score findings against a simulator's ground truth (``truth.json``).

An attack item counts as *found* when a finding of the expected detection shares at
least one entity (user, source IP, account, principal, asset) with it and overlaps
it in time (with ``slack`` either side, since a detection may join a spray to the
sign-in that follows it). A benign look-alike counts as *quiet* when no finding of
that detection touches its entities during its time range — so a real spray from the
office NAT on another day does not count against the password-rotation morning.
Used by ``crownwatch demo``, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

_ENTITY_KEYS = {
    "users": "user",
    "src_ips": "src_ip",
    "accounts": "account",
    "principals": "principal",
    "assets": "asset",
    "api_keys": "api_key",
}


@dataclass
class Score:
    item: str
    kind: str
    detection: str
    malicious: bool
    ok: bool
    findings: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.malicious:
            return "found" if self.ok else "MISSED"
        return "quiet" if self.ok else "FALSE POSITIVE"


def _item_entities(item: dict) -> set[tuple[str, str]]:
    out = set()
    for key, kind in _ENTITY_KEYS.items():
        for v in item.get(key) or []:
            out.add((kind, str(v).lower()))
    return out


def _finding_entities(f: dict) -> set[tuple[str, str]]:
    return {(k, str(v).lower()) for k, vs in f["entities"].items() for v in vs}


def _items(truth: dict, key: str) -> list[dict]:
    items = truth.get(key) or []
    if isinstance(items, dict):  # {"id": {...}} manifests
        items = [{"id": k, **v} for k, v in items.items()]
    return [i for i in items if isinstance(i, dict) and i.get("detection")]


def _span(obj: dict, first: str, last: str) -> tuple[datetime, datetime] | None:
    if not obj.get(first) or not obj.get(last):
        return None
    parse = lambda v: datetime.fromisoformat(str(v).replace("Z", "+00:00"))  # noqa: E731
    return parse(obj[first]), parse(obj[last])


def _overlaps(f: dict, item: dict, slack: timedelta) -> bool:
    a, b = _span(f, "first_seen", "last_seen"), _span(item, "first_seen", "last_seen")
    if a is None or b is None:
        return True
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def score(findings: list[dict], truth: dict, slack: timedelta = timedelta(hours=1)) -> list[Score]:
    results = []
    attacks = _items(truth, "attacks")
    for item in attacks + _items(truth, "benign"):
        malicious = item.get("malicious", item in attacks)
        wanted = _item_entities(item)
        hits = [
            f["id"]
            for f in findings
            if f["detection"] == item["detection"]
            and wanted & _finding_entities(f)
            and _overlaps(f, item, slack)
        ]
        ok = bool(hits) if malicious else not hits
        kind = item.get("kind") or item.get("technique") or ""
        results.append(Score(str(item.get("id")), str(kind), item["detection"], malicious, ok, hits))
    return results
