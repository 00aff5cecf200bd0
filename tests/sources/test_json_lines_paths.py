"""The two ways a JSON-lines file is staged (``Reader.stage_json_lines``) must give the
same lake: the fast ``read_json`` path for clean files and the line-by-line path that
dirty files take. Line numbers stay line numbers on both."""

from __future__ import annotations

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.simulate import generate_identity_bulk
from crownwatch.sources.reader import Reader


def _rows(lake: Lake, table: str) -> list[tuple]:
    return duckdb.sql(
        f"SELECT * EXCLUDE (raw_source) FROM {lake.table_sql(table)} ORDER BY raw_offset"
    ).fetchall()


@pytest.fixture(scope="module")
def clean_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("okta") / "okta.jsonl"
    generate_identity_bulk(path, 3_000, seed=3)
    return path


def test_fast_and_line_by_line_paths_give_the_same_rows(clean_log, tmp_path, monkeypatch):
    calls = []
    real = Reader._stage_json_clean

    def spy(self, *a):
        out = real(self, *a)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(Reader, "_stage_json_clean", spy)
    fast = Lake(tmp_path / "fast")
    (res_fast,) = fast.ingest([clean_log])
    assert calls == [True]  # a clean file takes the fast path

    monkeypatch.setattr(Reader, "_stage_json_clean", lambda self, *a: None)
    slow = Lake(tmp_path / "slow")
    (res_slow,) = slow.ingest([clean_log])

    assert res_fast.read == res_slow.read == 3_000
    assert res_fast.rows == res_slow.rows
    got = _rows(fast, "authentication")
    assert got == _rows(slow, "authentication")
    assert [r[-2] for r in got[:3]] == [1, 2, 3]  # raw_offset: line numbers


def test_a_blank_line_keeps_line_numbers_exact(clean_log, tmp_path):
    lines = clean_log.read_bytes().split(b"\n")
    gapped = tmp_path / "gapped.jsonl"
    gapped.write_bytes(b"\n".join(lines[:10] + [b"   "] + lines[10:]))
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([gapped])
    assert res.read == 3_000 and res.quarantined == 0
    offsets = [r[-2] for r in _rows(lake, "authentication")]
    # read_json would have numbered the 11th record 11; it is on line 12
    assert offsets[9:12] == [10, 12, 13]


def test_a_record_failing_our_checks_sends_the_file_line_by_line(clean_log, tmp_path):
    lines = clean_log.read_bytes().split(b"\n")
    bad = lines[5].replace(b'"published":"', b'"published":"not a time ')
    dirty = tmp_path / "dirty.jsonl"
    dirty.write_bytes(b"\n".join(lines[:5] + [bad] + lines[6:]))
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([dirty])
    assert (res.read, res.quarantined) == (3_000, 1)
    (q,) = duckdb.sql(
        f"SELECT raw_offset, reason, record FROM {lake.table_sql('quarantine')}"
    ).fetchall()
    assert q[:2] == (6, "unparseable published timestamp") and "not a time" in q[2]
