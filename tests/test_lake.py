"""The lake's accounting of a parsed file: routed, quarantined, skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from crownwatch.lake import Lake
from crownwatch.sources.base import Parsed


def _parsed(con, records: int) -> Parsed:
    routed = con.sql("SELECT TIMESTAMPTZ '2026-03-01 10:00:00+00' AS time, 'acct_1' AS account_id")
    reject = con.sql(
        "SELECT now() AS time, 'test' AS source, 'malformed JSON' AS reason, '{' AS record,"
        " 2::BIGINT AS raw_offset, NULL AS raw_id"
    )
    return Parsed(
        records=records,
        routed={"llm_request": routed},
        quarantine=reject,
    )


@pytest.mark.parametrize(
    ("records", "quarantined"),
    [
        (1, 0),  # every record routed: the quarantine is not run, no file is written
        (2, 1),  # one short: it is
    ],
)
def test_the_quarantine_runs_only_when_routed_rows_come_up_short(
    tmp_path: Path, records: int, quarantined: int
):
    lake = Lake(tmp_path / "lake")
    lake.tables_dir.mkdir(parents=True)
    con = lake.connect()
    res = lake._write_parsed(con, tmp_path / "in.jsonl", "k", "test", _parsed(con, records))
    assert (res.routed_rows, res.quarantined) == (1, quarantined)
    assert len(lake.table_files("quarantine")) == quarantined


def test_a_file_the_engine_gives_up_on_fails_alone_and_is_retried(tmp_path, monkeypatch):
    """Out of memory on one file must not crash the run or lose the other files, keep
    nothing half-written, and leave the file un-ingested so that the next run, given
    the memory, takes it. (DuckDB runs out of memory here on purpose: every reader now
    streams, so no small test file exhausts a real bound on its own.)"""
    import json

    import duckdb

    from crownwatch.sources.reader import Reader

    recs = [
        {
            "eventVersion": "1.08",
            "eventTime": "2026-03-02T10:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": {"bucketName": "models", "key": f"weights/shard-{i}.safetensors"},
        }
        for i in range(1_000)
    ]
    (tmp_path / "in").mkdir()
    big = tmp_path / "in" / "a_cloudtrail.json"
    big.write_text(json.dumps({"Records": recs}))
    small = tmp_path / "in" / "b_cloudtrail.json"
    small.write_text(json.dumps({"Records": recs[:3]}))
    lake = Lake(tmp_path / "lake")
    stream = Reader._stream_array

    def starved(self, path, records_at, name):
        if path.name.startswith("a_"):
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")
        return stream(self, path, records_at, name)

    monkeypatch.setattr(Reader, "_stream_array", starved)
    first, second = lake.ingest([tmp_path / "in"])
    assert first.status == "failed" and "CROWNWATCH_MEMORY_LIMIT" in first.note
    assert not any(
        "_" in f.name and first.content_key[:24] in f.name
        for f in (tmp_path / "lake").rglob("*.parquet")
    )
    assert second.status == "ingested" and second.routed_rows == 3
    monkeypatch.setattr(Reader, "_stream_array", stream)
    again = lake.ingest([big])[0]
    assert again.status == "ingested" and again.routed_rows == 1_000


def test_a_file_holds_its_sources_columns_and_every_reader_gets_the_schema(tmp_path: Path):
    """Columns the source has no value for are left out of its files (the partitioned
    writer copied every NULL); the lake's readers, by name, give them back as NULL,
    typed, and the file's path is a plain Parquet string whatever DuckDB held it as."""
    import duckdb
    import pyarrow.parquet as pq

    from crownwatch.engine import Engine
    from crownwatch.tables import SCHEMAS
    from tests.conftest import FIXTURES

    lake = Lake(tmp_path / "lake")
    path = FIXTURES / "zeek" / "conn.log"
    (res,) = lake.ingest([path])
    files = lake.table_files("network_activity")
    assert res.rows["network_activity"] > 0 and files
    stored = pq.read_schema(files[0])
    assert "account" not in stored.names and "vpc_uid" not in stored.names  # VPC flow's
    assert str(stored.field("raw_source").type) == "string"

    schema = SCHEMAS["network_activity"]
    rel = duckdb.sql(f"SELECT * FROM {lake.table_sql('network_activity')}")
    assert rel.columns == schema.names
    ((n, accounts, sources),) = rel.aggregate(
        "count(*), count(account), count(DISTINCT raw_source)"
    ).fetchall()
    assert (n, accounts, sources) == (res.rows["network_activity"], 0, 1)
    assert duckdb.sql(
        f"SELECT raw_source FROM {lake.table_sql('network_activity')} LIMIT 1"
    ).fetchall() == [(str(path),)]

    table = Engine(lake).table("network_activity")
    assert table.columns == tuple(schema.names)
    assert table.account.count().execute() == 0
