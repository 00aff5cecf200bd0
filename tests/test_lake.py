"""The lake's accounting of a parsed file: routed, quarantined, skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from crownwatch.lake import Lake
from crownwatch.sources.base import Parsed


def _parsed(con, records: int, rereads: bool) -> Parsed:
    routed = con.sql("SELECT TIMESTAMPTZ '2026-03-01 10:00:00+00' AS time, 'acct_1' AS account_id")
    reject = con.sql(
        "SELECT now() AS time, 'test' AS source, 'malformed JSON' AS reason, '{' AS record,"
        " 2::BIGINT AS raw_offset, NULL AS raw_id"
    )
    return Parsed(records=records, routed={"llm_request": routed}, quarantine=reject,
                  quarantine_rereads=rereads)


@pytest.mark.parametrize(("records", "rereads", "quarantined"), [
    (1, True, 0),   # every record routed: a re-reading quarantine is not run
    (2, True, 1),   # one short: it is
    (1, False, 1),  # a quarantine the source already decided always runs
])
def test_rereading_quarantine_runs_only_when_routed_rows_come_up_short(
        tmp_path: Path, records: int, rereads: bool, quarantined: int):
    lake = Lake(tmp_path / "lake")
    lake.tables_dir.mkdir(parents=True)
    con = lake.connect()
    res = lake._write_parsed(con, tmp_path / "in.jsonl", "k", "test", _parsed(con, records, rereads))
    assert (res.routed_rows, res.quarantined) == (1, quarantined)
    assert len(lake.table_files("quarantine")) == quarantined
