"""Findings: the record and its store (exports live in :mod:`crownwatch.outputs`).

The store is a DuckDB file in the lake (``findings.duckdb``). Re-running detections
updates a finding in place — same id, refreshed evidence and time range — and keeps
the analyst's triage ``status`` (new → triaged → escalated | false_positive | closed).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, Field, field_validator

from crownwatch.severity import ORDER_SQL, SEVERITIES, at_least

STATUSES = ("new", "triaged", "escalated", "false_positive", "closed")


class Finding(BaseModel):
    """A finding as docs/interfaces.md defines it; extra keys are kept."""

    model_config = {"extra": "allow"}

    id: str
    detection: str
    title: str
    severity: str
    first_seen: str | None = None
    last_seen: str | None = None
    entities: dict[str, list[str]] = Field(default_factory=dict)
    attack: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    status: str = "new"

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: str) -> str:
        if v not in SEVERITIES:
            raise ValueError(f"severity {v!r}")
        return v


_DDL = """
CREATE TABLE IF NOT EXISTS findings (
    id VARCHAR PRIMARY KEY,
    detection VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    first_seen VARCHAR,
    last_seen VARCHAR,
    entities JSON,
    attack JSON,
    evidence JSON,
    status VARCHAR NOT NULL DEFAULT 'new',
    note VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)"""


# A re-run that finds the same thing again leaves updated_at alone: it is the time the
# finding last changed (the STIX export's `modified`), not the time it was last seen.
_UNCHANGED = " AND ".join(
    f"findings.{c} IS NOT DISTINCT FROM excluded.{c}"
    for c in ("title", "severity", "first_seen", "last_seen", "entities", "attack", "evidence")
)


_UPSERT_COLUMNS = (
    "id",
    "detection",
    "title",
    "severity",
    "first_seen",
    "last_seen",
    "entities",
    "attack",
    "evidence",
    "status",
)


def _string_batch(columns: tuple[str, ...], rows: list[tuple]):
    """The first ``len(columns)`` values of each of ``rows`` as an Arrow table of
    string columns, for one INSERT … SELECT (the findings and incidents stores)."""
    import pyarrow as pa

    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})


class StoreBusy(Exception):
    """Another crownwatch process held the findings store for longer than we wait."""


class FindingStore:
    """The findings of one lake. One process writes at a time (DuckDB's file lock);
    writers hold it for the length of one statement, and anyone who finds it taken —
    ``findings`` while ``detect`` stores its results, two triages — waits for it, up to
    ``wait_seconds``, instead of failing at once."""

    wait_seconds = 30.0

    def __init__(self, lake_dir: str | Path):
        self.path = Path(lake_dir) / "findings.duckdb"

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    if "lock" in str(exc).lower():
                        raise StoreBusy(
                            f"{self.path} is held by another crownwatch process "
                            f"(waited {self.wait_seconds:.0f} s); try again when it is done"
                        ) from exc
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        if not read_only:
            con.execute(_DDL)
        return con

    def resolve(self, finding_id: str) -> str | None:
        """The full id for ``finding_id`` or a unique prefix of one (``cw-1234abcd``,
        also as shown truncated: ``cw-1234abcd…``); None when nothing matches.
        Raises ValueError when the prefix is ambiguous or too short."""
        wanted = finding_id.strip().rstrip("…").rstrip(".")
        if not self.path.exists():
            return None
        con = self._connect(read_only=True)
        try:
            exact = con.execute("SELECT id FROM findings WHERE id = ?", [wanted]).fetchall()
            if exact:
                return exact[0][0]
            if len(wanted) < 6:
                raise ValueError(f"{finding_id!r}: give at least 6 characters of the id")
            hits = con.execute(
                "SELECT id FROM findings WHERE starts_with(id, ?) ORDER BY id LIMIT 3", [wanted]
            ).fetchall()
        finally:
            con.close()
        if len(hits) > 1:
            raise ValueError(f"{finding_id!r} matches more than one finding; give more of the id")
        return hits[0][0] if hits else None

    def upsert(self, findings: list[dict]) -> int:
        """Insert or refresh findings; an existing finding keeps its triage status.

        One statement over an Arrow batch of them all: row by row (``executemany``)
        DuckDB took 47 s for 10,580 findings of one detection, 4.4 ms a row. A finding
        given twice is stored as given last, as the row-by-row inserts left it."""
        now = datetime.now(UTC)
        latest: dict[str, tuple] = {}
        for f in findings:
            f = Finding.model_validate(f).model_dump()
            latest[f["id"]] = (
                f["id"],
                f["detection"],
                f["title"],
                f["severity"],
                f["first_seen"],
                f["last_seen"],
                json.dumps(f["entities"]),
                json.dumps(f["attack"]),
                json.dumps(f["evidence"], default=str),
                f.get("status") or "new",
            )
        con = self._connect()
        if not latest:
            con.close()
            return 0
        try:
            con.register("_incoming", _string_batch(_UPSERT_COLUMNS, list(latest.values())))
            con.execute(
                """INSERT INTO findings (id, detection, title, severity, first_seen, last_seen,
                       entities, attack, evidence, status, created_at, updated_at)
                   SELECT id, detection, title, severity, first_seen, last_seen,
                       entities::JSON, attack::JSON, evidence::JSON, status, $now, $now
                   FROM _incoming
                   ON CONFLICT (id) DO UPDATE SET
                       title = excluded.title, severity = excluded.severity,
                       first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                       entities = excluded.entities, attack = excluded.attack,
                       evidence = excluded.evidence,
                       updated_at = CASE WHEN """
                + _UNCHANGED
                + """ THEN findings.updated_at
                           ELSE greatest(excluded.updated_at,
                                         findings.updated_at + INTERVAL 1 MILLISECOND) END""",
                {"now": now},
            )
        finally:
            con.close()
        return len(latest)

    def all(self, detection: str | None = None, min_severity: str | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        con = self._connect(read_only=True)
        try:
            sql = "SELECT id, detection, title, severity, first_seen, last_seen, entities, attack, evidence, status, note FROM findings WHERE 1=1"
            params: list[Any] = []
            if detection:
                sql += " AND (detection = ? OR starts_with(detection, ?))"
                params += [detection, detection + "."]
            sql += " ORDER BY " + ORDER_SQL + ", first_seen, id"
            rows = con.execute(sql, params).fetchall()
        finally:
            con.close()
        out = []
        for r in rows:
            f = {
                "id": r[0],
                "detection": r[1],
                "title": r[2],
                "severity": r[3],
                "first_seen": r[4],
                "last_seen": r[5],
                "entities": json.loads(r[6]),
                "attack": json.loads(r[7]),
                "evidence": json.loads(r[8]),
                "status": r[9],
            }
            if r[10]:
                f["note"] = r[10]
            if not at_least(f["severity"], min_severity):
                continue
            out.append(f)
        return out

    def versions(self) -> dict[str, tuple[datetime, datetime]]:
        """Every finding's (first stored, last changed) time, in UTC: when crownwatch first
        recorded it and when its content or triage last changed."""
        if not self.path.exists():
            return {}
        con = self._connect(read_only=True)
        try:
            rows = con.execute(
                "SELECT id, epoch_ms(created_at), epoch_ms(updated_at) FROM findings"
            ).fetchall()
        finally:
            con.close()
        return {r[0]: (_from_epoch_ms(r[1]), _from_epoch_ms(r[2])) for r in rows}

    def set_status(self, finding_id: str, status: str, note: str | None = None) -> bool:
        """Triage a finding by its id or a unique prefix of it (see :meth:`resolve`)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        resolved = self.resolve(finding_id)
        if resolved is None:
            return False
        finding_id = resolved
        con = self._connect()
        try:
            rows = con.execute(
                "UPDATE findings SET status = ?, note = coalesce(?, note), "
                + _TRIAGE_UPDATED_AT
                + " WHERE id = ? RETURNING id",
                [status, note, status, note, note, datetime.now(UTC), finding_id],
            ).fetchall()
        finally:
            con.close()
        return bool(rows)


#: SET clause for a triage UPDATE: updated_at moves (strictly forward) only when the
#: status or the note really changes. Parameters: status, note, note, now.
_TRIAGE_UPDATED_AT = (
    "updated_at = CASE WHEN status IS DISTINCT FROM ? OR (? IS NOT NULL AND note IS DISTINCT FROM ?) "
    "THEN greatest(?, updated_at + INTERVAL 1 MILLISECOND) ELSE updated_at END"
)


def _from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ocsf(f: dict, product_version: str) -> dict:
    """The finding as an OCSF Detection Finding (:mod:`crownwatch.outputs.ocsf`)."""
    from crownwatch.outputs.ocsf import detection_finding

    return detection_finding(f, product_version)
