"""How a detection's rows become findings — the runner's side of the contract.

What a detection defines and receives (``META``, ``query``, ``title``, the row
columns, ``Tables`` and ``Params``) is :mod:`crownwatch.detections.contract`; its
names are re-exported here for code written before it existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

from crownwatch.detections.contract import SEVERITIES, Meta, Params, params_for

__all__ = [
    "MAX_ENTITIES",
    "MAX_SAMPLES",
    "RAW_REFS_TOTAL",
    "SEVERITIES",
    "Detection",
    "Meta",
    "Params",
    "finding_id",
    "iso",
    "params_for",
    "ref_order",
    "row_to_finding",
]

MAX_ENTITIES = 500
MAX_SAMPLES = 25


@dataclass(frozen=True)
class Detection:
    meta: Meta
    query: Callable[..., Any]
    title: Callable[[dict, Params], str]
    module: ModuleType

    @property
    def id(self) -> str:
        return self.meta.id


def finding_id(detection_id: str, key: str) -> str:
    return "cw-" + hashlib.sha1(f"{detection_id}\x00{key}".encode()).hexdigest()[:16]


def iso(ts: Any) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(ts, date):
        return ts.isoformat()
    return str(ts)


def _clean(value: Any, limit: int) -> Any:
    """Engine-independent evidence values: sorted, de-duplicated, trimmed lists;
    ISO timestamps; floats rounded so DuckDB and Spark agree to the digit."""
    if isinstance(value, list | tuple):
        items = [_clean(v, limit) for v in value if v is not None]
        try:
            items = sorted(set(items))
        except TypeError:
            items = sorted(items, key=repr)
        return items[:limit]
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v, limit) for k, v in value.items()}
    return value


#: a row's column with the distinct count of its ``raw_refs`` when the engine already cut
#: them to the first MAX_SAMPLES (:func:`crownwatch.detections._evidence.ref_samples`)
RAW_REFS_TOTAL = "raw_refs_total"


def ref_order(ref: str) -> tuple:
    """``file#12`` sorts before ``file#100``: file order, then a line number by its
    value (ASCII digits compared by length, then text: no ``int`` of an attacker's
    thousand-digit id, and ``²`` is no number), then any other id by its text."""
    path, _, where = ref.rpartition("#")
    if where.isascii() and where.isdigit():
        number = where.lstrip("0")
        return (path, 0, len(number), number, ref)
    return (path, 1, 0, where, ref)


#: a row's columns that are the finding's own fields, not evidence
_NOT_EVIDENCE = frozenset(
    ("key", "first_seen", "last_seen", "severity", "raw_refs", "attack", RAW_REFS_TOTAL)
)


def row_to_finding(det: Detection, row: dict, p: Params) -> dict:
    """Turn one query row into the finding dict of docs/interfaces.md."""
    entities: dict[str, list[str]] = {}
    evidence: dict[str, Any] = {}
    for col, value in row.items():
        if col in _NOT_EVIDENCE:
            continue
        if col.startswith("entity_"):
            vals = value if isinstance(value, list | tuple) else [value]
            cleaned = _clean([str(v) for v in vals if v is not None], MAX_ENTITIES)
            if cleaned:
                entities[col.removeprefix("entity_")] = cleaned
        else:
            evidence[col] = _clean(value, MAX_SAMPLES)
    if row.get("raw_refs"):
        refs = sorted({r for r in row["raw_refs"] if r}, key=ref_order)
        evidence["raw_records"] = refs[:MAX_SAMPLES]
        evidence["raw_records_total"] = row.get(RAW_REFS_TOTAL, len(refs))
    severity = row.get("severity") or det.meta.severity
    key = str(row["key"])
    try:
        title = det.title(row, p)
    except Exception as exc:  # a title bug must not cost the finding
        title = det.meta.title
        evidence["title_error"] = f"{type(exc).__name__}: {exc}"
    return {
        "id": finding_id(det.id, key),
        "detection": det.id,
        "title": title,
        "severity": severity,
        "first_seen": iso(row.get("first_seen")),
        "last_seen": iso(row.get("last_seen")),
        "entities": entities,
        "attack": sorted(row["attack"]) if row.get("attack") else list(det.meta.attack),
        "evidence": evidence,
        "status": "new",
    }
