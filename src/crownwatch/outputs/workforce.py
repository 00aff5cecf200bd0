"""The per-employee summary of workforce-integrity and trusted-outsider signals
(``crownwatch workforce``).

A hiring fraud is seen in pieces: one signal — a VPN, night hours, a remote-desktop
tool — has ordinary explanations; several on one person are a case for HR, legal and
security to look at together. This lists, for every person a ``workforce.*`` or
``supply_chain.*`` finding names, each signal with its severity, when, its one-line
title and the evidence a reviewer checks first — ordered by how many different
signals the person has. It never says what a person *is*: the column is "signals",
and the reviewer decides.

Rows (also the JSON keys): ``person``, ``signals`` (distinct detections), ``worst``
(the highest severity), ``first_seen``, ``last_seen``, ``detections``, ``findings``
(each ``{id, detection, severity, title, first_seen, last_seen, status, evidence}``)
and, when the lake holds an HR roster, ``roster`` (employee id, employment type, firm,
start date, claimed location, remote).
"""

from __future__ import annotations

from typing import Any

from crownwatch.severity import RANK

FAMILIES = ("workforce.", "supply_chain.")
# evidence keys too bulky for a summary line (the finding itself keeps them)
_BULKY = {"raw_refs", "local_hour_histogram", "changes"}


def _is_signal(finding: dict) -> bool:
    return str(finding.get("detection", "")).startswith(FAMILIES)


def summarise(findings: list[dict], roster: dict[str, dict] | None = None) -> list[dict]:
    """One row per person named (``entities.user``) by a workforce or supply-chain
    finding; false positives a reviewer closed are left out."""
    people: dict[str, list[dict]] = {}
    for f in findings:
        if not _is_signal(f) or f.get("status") == "false_positive":
            continue
        for person in f.get("entities", {}).get("user", []):
            people.setdefault(str(person), []).append(f)
    rows = []
    for person, fs in people.items():
        fs = sorted(fs, key=lambda f: (-RANK.get(f["severity"], 0), f["first_seen"]))
        row: dict[str, Any] = {
            "person": person,
            "signals": len({f["detection"] for f in fs}),
            "worst": fs[0]["severity"],
            "first_seen": min(f["first_seen"] for f in fs),
            "last_seen": max(f["last_seen"] for f in fs),
            "detections": sorted({f["detection"] for f in fs}),
            "findings": [
                {
                    "id": f["id"],
                    "detection": f["detection"],
                    "severity": f["severity"],
                    "title": f["title"],
                    "first_seen": f["first_seen"],
                    "last_seen": f["last_seen"],
                    "status": f.get("status", "new"),
                    "evidence": {
                        k: v for k, v in (f.get("evidence") or {}).items() if k not in _BULKY
                    },
                }
                for f in fs
            ],
        }
        if roster is not None and person in roster:
            row["roster"] = roster[person]
        rows.append(row)
    rows.sort(key=lambda r: (-r["signals"], -RANK.get(r["worst"], 0), r["person"]))
    return rows


def roster_of(lake_root) -> dict[str, dict]:
    """Each person's current roster row from the lake (empty without a roster)."""
    from pathlib import Path

    import duckdb

    from crownwatch.lake import Lake

    lake = Lake(Path(lake_root))
    if not lake.table_files("workforce"):
        return {}
    con = duckdb.connect()
    # every column, by name: a file holds only the columns its export had
    rows = con.execute(
        f"""SELECT user, employee_id, employment_type, firm, CAST(start_date AS VARCHAR),
                  CAST(end_date AS VARCHAR), location, remote
           FROM {lake.table_sql("workforce")}
           WHERE user IS NOT NULL
           QUALIFY row_number() OVER (PARTITION BY user ORDER BY time DESC) = 1"""
    ).fetchall()
    keys = (
        "employee_id",
        "employment_type",
        "firm",
        "start_date",
        "end_date",
        "location",
        "remote",
    )
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}
