"""Incidents in the lake: a table beside the findings in ``findings.duckdb``.

Incidents are re-derived from all stored findings on every run and replace the previous
set in one transaction, so readers see the old set or the new one, never half. What a
responder wrote survives: an incident keeps its triage status and note when it keeps
its id, and when it does not (an earlier finding joined it, two incidents merged) it
takes them from the previous incident it shares the most findings with.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from crownwatch.findings import (
    _TRIAGE_UPDATED_AT,
    STATUSES,
    FindingStore,
    _from_epoch_ms,
    _string_batch,
)
from crownwatch.severity import ORDER_SQL, at_least

_DDL = """
CREATE TABLE IF NOT EXISTS incidents (
    id VARCHAR PRIMARY KEY,
    severity VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    first_seen VARCHAR,
    last_seen VARCHAR,
    findings JSON NOT NULL,
    doc JSON NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'new',
    note VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)"""


_COLUMNS = (
    "id",
    "severity",
    "title",
    "first_seen",
    "last_seen",
    "findings",
    "doc",
    "status",
    "note",
)


def _batch(rows: list[tuple]):
    """The incident rows (the table's columns in order, the last two times) as an
    Arrow table: strings, and the two times."""
    import pyarrow as pa

    batch = _string_batch(_COLUMNS, rows)
    for i, c in ((9, "created_at"), (10, "updated_at")):
        times = pa.array([r[i] for r in rows], pa.timestamp("us", tz="UTC"))
        batch = batch.append_column(c, times)
    return batch


class IncidentStore:
    def __init__(self, lake_dir: str | Path):
        self._findings = FindingStore(lake_dir)
        self.path = self._findings.path

    def _connect(self, read_only: bool = False):
        con = self._findings._connect(read_only=read_only)
        if not read_only:
            con.execute(_DDL)
        return con

    def _has_table(self, con) -> bool:
        return bool(
            con.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'incidents'"
            ).fetchall()
        )

    def replace(self, incidents: list[dict]) -> list[dict]:
        """Store ``incidents`` as the lake's incidents; returns them with the triage
        status and note carried over from the previous derivation."""
        now = datetime.now(UTC)
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            old = con.execute(
                "SELECT id, findings, status, note, created_at, doc, updated_at FROM incidents"
            ).fetchall()
            prev = {r[0]: (set(json.loads(r[1])), r[2], r[3], r[4]) for r in old}
            # an incident derived again unchanged keeps its updated_at: that is the time it
            # last changed (the STIX export's `modified`), not the time of the last run
            unchanged_since = {r[0]: (r[5], r[6]) for r in old}
            taken: set[str] = set()
            rows = []
            for inc in incidents:
                carried = _carry(inc, prev, taken)
                created = now
                if carried:
                    taken.add(carried)
                    _, inc["status"], note, created = prev[carried]
                    if note:
                        inc["note"] = note
                doc = json.dumps(inc, default=str)
                updated = now
                before = unchanged_since.get(inc["id"])
                if before and _content(before[0]) == _content(doc):
                    updated = before[1]
                rows.append(
                    (
                        inc["id"],
                        inc["severity"],
                        inc["title"],
                        inc["first_seen"],
                        inc["last_seen"],
                        json.dumps(inc["findings"]),
                        doc,
                        inc["status"],
                        inc.get("note"),
                        created,
                        updated,
                    )
                )
            con.execute("DELETE FROM incidents")
            if rows:
                # one statement over an Arrow batch: row by row (executemany) it took
                # 7.6 s for 16,000 incidents
                con.register("_incidents", _batch(rows))
                con.execute(
                    """INSERT INTO incidents SELECT id, severity, title, first_seen, last_seen,
                           findings::JSON, doc::JSON, status, note, created_at, updated_at
                       FROM _incidents"""
                )
                con.unregister("_incidents")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return incidents

    def all(self, min_severity: str | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        con = self._findings._connect(read_only=True)
        try:
            if not self._has_table(con):
                return []
            rows = con.execute(
                f"SELECT doc, status, note FROM incidents ORDER BY {ORDER_SQL}, first_seen, id"
            ).fetchall()
        finally:
            con.close()
        out = []
        for doc, status, note in rows:
            inc = json.loads(doc)
            inc["status"] = status
            if note:
                inc["note"] = note
            if not at_least(inc["severity"], min_severity):
                continue
            out.append(inc)
        return out

    def resolve(self, incident_id: str) -> str | None:
        wanted = incident_id.strip().rstrip("…").rstrip(".")
        if not self.path.exists():
            return None
        con = self._findings._connect(read_only=True)
        try:
            if not self._has_table(con):
                return None
            hits = con.execute(
                "SELECT id FROM incidents WHERE id = ? OR starts_with(id, ?) ORDER BY id LIMIT 3",
                [wanted, wanted],
            ).fetchall()
        finally:
            con.close()
        exact = [h[0] for h in hits if h[0] == wanted]
        if exact:
            return exact[0]
        if len(wanted) < 6:
            raise ValueError(f"{incident_id!r}: give at least 6 characters of the id")
        if len(hits) > 1:
            raise ValueError(f"{incident_id!r} matches more than one incident; give more of the id")
        return hits[0][0] if hits else None

    def versions(self) -> dict[str, tuple[datetime, datetime]]:
        """Every incident's (created, last changed) time, in UTC."""
        if not self.path.exists():
            return {}
        con = self._findings._connect(read_only=True)
        try:
            if not self._has_table(con):
                return {}
            rows = con.execute(
                "SELECT id, epoch_ms(created_at), epoch_ms(updated_at) FROM incidents"
            ).fetchall()
        finally:
            con.close()
        return {r[0]: (_from_epoch_ms(r[1]), _from_epoch_ms(r[2])) for r in rows}

    def set_status(self, incident_id: str, status: str, note: str | None = None) -> bool:
        """Triage an incident by its id or a unique prefix of it."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        resolved = self.resolve(incident_id)
        if resolved is None:
            return False
        con = self._connect()
        try:
            rows = con.execute(
                "UPDATE incidents SET status = ?, note = coalesce(?, note), "
                + _TRIAGE_UPDATED_AT
                + " WHERE id = ? RETURNING id",
                [status, note, status, note, note, datetime.now(UTC), resolved],
            ).fetchall()
        finally:
            con.close()
        return bool(rows)


def _content(doc: str) -> str:
    """An incident's derived content, without the triage (which moves updated_at itself)."""
    d = json.loads(doc)
    d.pop("status", None)
    d.pop("note", None)
    return json.dumps(d, sort_keys=True)


def _carry(inc: dict, prev: dict, taken: set[str]) -> str | None:
    """The previous incident whose triage this one inherits: the same id, else the one
    sharing the most findings (ties: the smaller id), each inherited once."""
    if inc["id"] in prev and inc["id"] not in taken:
        return inc["id"]
    mine = set(inc["findings"])
    best = None
    for pid, (fids, *_rest) in sorted(prev.items()):
        if pid in taken:
            continue
        n = len(mine & fids)
        if n and (best is None or n > best[0]):
            best = (n, pid)
    return best[1] if best else None
