"""The shape of a detection and how its rows become findings.

A detection is one module that reads top to bottom like a runbook:

1. a docstring — what it looks for, why it matters, false-positive notes;
2. ``META`` — a :class:`Meta` with id, title, severity, ATT&CK/ATLAS ids, the tables
   it reads, references, and its default ``params`` (thresholds, overridable in
   ``crownwatch.toml`` under ``[detections."<id>"]``);
3. ``query(tables, p) -> ibis.Table`` — one Ibis expression, so the same code runs on
   DuckDB and Spark, returning **one row per finding** with these columns:

   ``key``            what makes this finding distinct within the detection (the
                      finding id is derived from it, so it must be stable across runs)
   ``first_seen``     timestamp
   ``last_seen``      timestamp
   ``entity_<kind>``  string or array of strings: ``entity_user``, ``entity_src_ip``,
                      ``entity_account``, ``entity_principal``, ``entity_asset``…
   ``raw_refs``       optional array of ``file#offset`` strings citing raw records
   ``severity``       optional per-finding override of ``META.severity``
   ``attack``         optional per-finding list of technique ids overriding
                      ``META.attack`` (a chip-design theft is not an ATLAS model theft)
   anything else      evidence (counts, samples, ratios)

4. ``title(row, p) -> str`` — one line a responder reads first.

Arrays are sorted and trimmed in Python after the engine returns, so results are
identical across engines whatever order the engine collected them in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import ModuleType, SimpleNamespace
from typing import Any

SEVERITIES = ("low", "medium", "high", "critical")
MAX_ENTITIES = 500
MAX_SAMPLES = 25


@dataclass(frozen=True)
class Meta:
    id: str
    title: str
    severity: str
    attack: tuple[str, ...]
    tables: tuple[str, ...]
    description: str
    false_positives: str = ""
    references: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")


@dataclass(frozen=True)
class Detection:
    meta: Meta
    query: Callable[..., Any]
    title: Callable[[dict, SimpleNamespace], str]
    module: ModuleType

    @property
    def id(self) -> str:
        return self.meta.id


def params_for(meta: Meta, overrides: Mapping[str, Any] | None) -> SimpleNamespace:
    """Defaults from ``META.params`` with overrides from configuration, type-checked
    against the defaults so a typo in crownwatch.toml fails loudly, not silently."""
    values = dict(meta.params)
    for k, v in (overrides or {}).items():
        if k == "enabled":
            continue
        if k not in values:
            raise ValueError(f"{meta.id}: unknown parameter {k!r} (known: {', '.join(values)})")
        if not _same_kind(values[k], v):
            raise ValueError(f"{meta.id}: parameter {k!r} must be {type(values[k]).__name__}")
        values[k] = v
    return SimpleNamespace(**values)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


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


def _ref_order(ref: str) -> tuple:
    """``file#12`` sorts before ``file#100``: file order, then line order."""
    path, _, where = ref.rpartition("#")
    return (path, 0, int(where), "") if where.isdigit() else (path, 1, 0, where)


def row_to_finding(det: Detection, row: dict, p: SimpleNamespace) -> dict:
    """Turn one query row into the finding dict of docs/interfaces.md."""
    entities: dict[str, list[str]] = {}
    evidence: dict[str, Any] = {}
    for col, value in row.items():
        if col in ("key", "first_seen", "last_seen", "severity", "raw_refs", "attack"):
            continue
        if col.startswith("entity_"):
            vals = value if isinstance(value, list | tuple) else [value]
            cleaned = _clean([str(v) for v in vals if v is not None], MAX_ENTITIES)
            if cleaned:
                entities[col.removeprefix("entity_")] = cleaned
        else:
            evidence[col] = _clean(value, MAX_SAMPLES)
    if row.get("raw_refs"):
        refs = sorted({r for r in row["raw_refs"] if r}, key=_ref_order)
        evidence["raw_records"] = refs[:MAX_SAMPLES]
        evidence["raw_records_total"] = len(refs)
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
