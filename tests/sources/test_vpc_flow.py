"""AWS VPC Flow Logs (the vpc_flow source), on the real engine.

Fixtures follow AWS's documented record layouts and examples (see
``tests/fixtures/vpcflow/README.md``): the default v2 format and a v5 custom format as
S3 delivers them (header line), CloudWatch Logs pages, subscription payloads, export
task text, and CloudWatch events as Logstash, Elastic Agent and Splunk deliver them."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crownwatch.lake import Lake
from crownwatch.sources import vpc_flow
from tests.conftest import FIXTURES

VPC = FIXTURES / "vpcflow"


def rows(lake: Lake, table: str = "network_activity") -> list[dict]:
    if not lake.table_files(table):
        return []
    return (
        duckdb.sql(f"SELECT * FROM {lake.table_sql(table)} ORDER BY raw_source, raw_offset")
        .to_arrow_table()
        .to_pylist()
    )


def ingest(lake: Lake, *paths):
    results = lake.ingest(paths)
    for r in results:
        assert (r.status, r.source) == ("ingested", "vpc_flow"), r
        assert r.read == r.routed_rows + r.skipped + r.quarantined, r
    return results


def flow(r: dict) -> tuple:
    return (
        r["src_ip"],
        r["src_port"],
        r["dst_ip"],
        r["dst_port"],
        r["protocol"],
        r["protocol_num"],
        r["packets_out"],
        r["bytes_out"],
        r["action"],
    )


# default_s3.log by line number (the header is line 1; 6 NODATA and 10 SKIPDATA skipped)
DEFAULT = {
    2: ("10.20.1.15", 51514, "198.51.100.24", 443, "tcp", 6, 17, 5831, "allowed"),
    3: ("198.51.100.24", 443, "10.20.1.15", 51514, "tcp", 6, 15, 9804, "allowed"),
    4: ("203.0.113.77", 60211, "10.20.1.15", 22, "tcp", 6, 1, 44, "denied"),
    5: ("10.20.1.15", 0, "198.51.100.1", 0, "icmp", 1, 2, 168, "allowed"),
    7: ("2001:db8:10::15", 54012, "2001:db8:ff::443", 443, "tcp", 6, 12, 2242, "allowed"),
    8: ("10.20.1.16", 45877, "10.20.0.2", 53, "udp", 17, 1, 72, "allowed"),
    9: ("10.20.1.16", 0, "203.0.113.5", 0, "gre", 47, 40, 52000, "allowed"),
}


def test_default_format_from_s3_plain_and_gzip(lake, tmp_path):
    gz = tmp_path / "123456789012_vpcflowlogs_us-east-1_fl-0abc1234_20260302T1000Z_a1b2c3d4.log.gz"
    gz.write_bytes(gzip.compress((VPC / "default_s3.log").read_bytes()))
    for res in ingest(lake, VPC / "default_s3.log", gz):
        assert (res.read, res.routed_rows, res.skipped, res.quarantined) == (9, 7, 2, 0)
    got = rows(lake)
    assert {r["raw_offset"]: flow(r) for r in got if r["raw_source"] == str(gz)} == DEFAULT
    first = got[0]
    assert first["time"] == datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)  # start, UTC
    assert first["end_time"] == datetime(2026, 3, 2, 10, 0, 58, tzinfo=UTC)
    assert first["duration_s"] == 58.0
    assert (first["interface_uid"], first["account"]) == ("eni-0a1b2c3d4e5f60001", "123456789012")
    assert (first["bytes_in"], first["packets_in"], first["direction"]) == (None, None, None)
    assert (first["source"], first["raw_id"], first["connection_uid"]) == ("vpc_flow", None, None)


def test_custom_v5_format_read_by_its_header(lake):
    (res,) = ingest(lake, VPC / "custom_v5_s3.log")
    assert (res.read, res.routed_rows, res.skipped) == (4, 3, 1)
    nat, s3, rejected = rows(lake)
    # the NAT gateway's interface: its own address, the instance's in pkt-srcaddr
    assert (nat["src_ip"], nat["pkt_src_ip"], nat["pkt_dst_ip"]) == (
        "10.20.0.40",
        "10.20.1.15",
        "198.51.100.24",
    )
    assert (nat["direction"], nat["tcp_flags"], nat["instance_uid"]) == ("outbound", 19, None)
    assert (nat["vpc_uid"], nat["subnet_uid"], nat["region"]) == (
        "vpc-0c0ffee0c0ffee001",
        "subnet-0aa11bb22cc33dd44",
        "us-east-1",
    )
    assert (nat["bytes_out"], nat["packets_out"]) == (5831, 17)  # bytes before packets here
    assert (s3["pkt_dst_service"], s3["pkt_src_service"], s3["instance_uid"]) == (
        "S3",
        None,
        "i-0123456789abcdef0",
    )
    assert (rejected["action"], rejected["direction"]) == ("denied", "inbound")


def test_malformed_records_are_quarantined_with_reasons(lake):
    (res,) = ingest(lake, VPC / "malformed_s3.log")
    assert (res.read, res.routed_rows, res.quarantined) == (7, 2, 5)
    assert [r["raw_offset"] for r in rows(lake)] == [2, 8]
    got = {r["raw_offset"]: r["reason"] for r in rows(lake, "quarantine")}
    assert got == {
        3: "11 fields where the format names 14",
        4: "srcport is not a port number (0-65535)",
        5: "unparseable start",
        6: "dstaddr is not an IP address",
        7: "15 fields where the format names 14",
    }


def test_files_run_together_each_block_by_its_header(lake, tmp_path):
    path = tmp_path / "all.log"
    path.write_text((VPC / "default_s3.log").read_text() + (VPC / "custom_v5_s3.log").read_text())
    (res,) = ingest(lake, path)
    assert (res.read, res.routed_rows, res.skipped) == (13, 10, 3)
    got = rows(lake)
    assert {r["raw_offset"]: flow(r) for r in got[:7]} == DEFAULT
    assert got[7]["raw_offset"] == 12 and got[7]["pkt_src_ip"] == "10.20.1.15"


def test_cloudwatch_pages_payloads_and_exports(lake):
    results = ingest(
        lake,
        VPC / "cloudwatch_get_log_events.json",
        VPC / "cloudwatch_subscription.json",
        VPC / "cloudwatch_export.txt",
        VPC / "cloudwatch_shipped.ndjson",
    )
    got = {r.path.rsplit("/", 1)[-1]: (r.read, r.routed_rows, r.skipped) for r in results}
    assert got == {
        "cloudwatch_get_log_events.json": (4, 3, 1),
        "cloudwatch_subscription.json": (3, 3, 0),
        "cloudwatch_export.txt": (5, 4, 1),
        "cloudwatch_shipped.ndjson": (3, 3, 0),
    }
    by_file: dict[str, list] = {}
    for r in rows(lake):
        by_file.setdefault(r["raw_source"].rsplit("/", 1)[-1], []).append(
            (r["raw_offset"], flow(r))
        )
    # page and payload records are numbered by their place in the events array
    assert by_file["cloudwatch_get_log_events.json"] == [
        (0, DEFAULT[2]),
        (1, DEFAULT[3]),
        (3, DEFAULT[4]),
    ]
    assert by_file["cloudwatch_subscription.json"] == [
        (0, DEFAULT[7]),
        (1, DEFAULT[8]),
        (2, DEFAULT[9]),
    ]
    assert by_file["cloudwatch_export.txt"] == [(n, DEFAULT[n + 1]) for n in (1, 2, 3, 4)]
    assert by_file["cloudwatch_shipped.ndjson"] == [
        (1, DEFAULT[2]),
        (2, DEFAULT[4]),
        (3, DEFAULT[8]),
    ]


def test_a_custom_format_without_its_header(lake, tmp_path, monkeypatch):
    """CloudWatch carries no header: a custom-format record is read in the format
    CROWNWATCH_VPC_FLOW_FORMAT names — without it, quarantined, not misread."""
    lines = (VPC / "custom_v5_s3.log").read_text().splitlines()
    page = tmp_path / "page.json"
    import json

    page.write_text(
        json.dumps({"events": [{"timestamp": 1772445660000, "message": m} for m in lines[1:]]})
    )
    (res,) = ingest(lake, page)
    assert (res.read, res.quarantined) == (4, 4)
    assert {r["reason"] for r in rows(lake, "quarantine")} == {
        "27 fields where the format names 14"
    }
    monkeypatch.setenv(vpc_flow.FORMAT_ENV, " ".join("${" + f + "}" for f in lines[0].split()))
    again = Lake(tmp_path / "with-format")
    (res,) = ingest(again, page)
    assert (res.read, res.routed_rows, res.skipped) == (4, 3, 1)
    assert rows(again)[0]["pkt_src_ip"] == "10.20.1.15"


def test_field_names_of_a_format_never_reach_sql(lake, tmp_path, monkeypatch):
    """A format is text from a file or a setting: a name no flow log documents (here
    with a quote and a semicolon) is read and not kept, and the known ones still map."""
    lines = (VPC / "default_s3.log").read_text().splitlines()
    records = [ln + " extra" for ln in lines[1:3]]
    page = tmp_path / "page.json"
    import json

    page.write_text(
        json.dumps({"events": [{"timestamp": 1772445660000, "message": m} for m in records]})
    )
    monkeypatch.setenv(vpc_flow.FORMAT_ENV, lines[0] + ' x";DROP')
    (res,) = ingest(lake, page)
    assert (res.read, res.routed_rows, res.quarantined) == (2, 2, 0)
    assert [flow(r) for r in rows(lake)] == [DEFAULT[2], DEFAULT[3]]


# -- S3 delivery in Parquet -------------------------------------------------------------------

# The Parquet data type AWS documents for each field (flow-log-records.html, "Available
# fields"): the rest are STRING.
_PARQUET_INT32 = {"version", "srcport", "dstport", "protocol", "tcp-flags", "traffic-path"}
_PARQUET_INT64 = {"packets", "bytes", "start", "end"}


def parquet_flow_log(text_fixture: Path, out: Path, *, start_type=None) -> Path:
    """The records of a text fixture as S3 delivers them with ``FileFormat: parquet``:
    a column per field of the header, named with underscores and typed as documented,
    gzip inside; ``-`` is NULL in a number column and stays ``-`` in a text one.
    ``start_type``: write ``start``/``end`` with this Arrow type instead (a table
    rewritten by other tooling)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header, *records = text_fixture.read_text().splitlines()
    names = header.split()
    values = list(zip(*(r.split(" ") for r in records), strict=True))
    columns = {}
    for name, col in zip(names, values, strict=True):
        if name in _PARQUET_INT32 | _PARQUET_INT64:
            typ = pa.int32() if name in _PARQUET_INT32 else pa.int64()
            nums = [None if v == "-" else int(v) for v in col]
            arr = pa.array(nums, typ)
            if start_type is not None and name in ("start", "end"):
                arr = pa.array(
                    [None if n is None else datetime.fromtimestamp(n, UTC) for n in nums],
                    start_type,
                )
        else:
            arr = pa.array(list(col), pa.string())
        columns[name.replace("-", "_")] = arr
    pq.write_table(pa.table(columns), out, compression="gzip")
    return out


def test_parquet_delivery_reads_as_the_text_does(lake, tmp_path):
    """The default and a custom v5 format delivered as Parquet: the same rows as the
    text files, each numbered by its row (1-based), the NODATA/SKIPDATA rows skipped."""
    default = parquet_flow_log(
        VPC / "default_s3.log",
        tmp_path
        / "123456789012_vpcflowlogs_us-east-1_fl-0abc1234_20260302T1000Z_a1b2c3d4.log.parquet",
    )
    custom = parquet_flow_log(VPC / "custom_v5_s3.log", tmp_path / "custom.parquet")
    first, second = ingest(lake, default, custom)
    assert (first.read, first.routed_rows, first.skipped, first.quarantined) == (9, 7, 2, 0)
    assert (second.read, second.routed_rows, second.skipped) == (4, 3, 1)
    got = rows(lake)
    assert {r["raw_offset"]: flow(r) for r in got if r["raw_source"] == str(default)} == {
        line - 1: want for line, want in DEFAULT.items()
    }
    text = Lake(tmp_path / "text")
    ingest(text, VPC / "default_s3.log", VPC / "custom_v5_s3.log")
    keep = ("raw_source", "raw_offset")
    as_text = [{k: v for k, v in r.items() if k not in keep} for r in rows(text)]
    as_parquet = [{k: v for k, v in r.items() if k not in keep} for r in got]
    assert sorted(as_parquet, key=repr) == sorted(as_text, key=repr)


def test_parquet_times_written_as_timestamps(lake, tmp_path):
    import pyarrow as pa

    path = parquet_flow_log(
        VPC / "default_s3.log", tmp_path / "ts.parquet", start_type=pa.timestamp("us", "UTC")
    )
    (res,) = ingest(lake, path)
    assert (res.read, res.routed_rows, res.skipped) == (9, 7, 2)
    first = rows(lake)[0]
    assert first["time"] == datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
    assert first["duration_s"] == 58.0


def test_parquet_bad_values_are_quarantined_and_names_never_reach_sql(lake, tmp_path):
    """A port out of range and an address that is none are quarantined with their
    reasons, the good rows kept; a column named like SQL is read and not kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bad.parquet"
    table = pa.table(
        {
            "version": pa.array([2, 2, 2], pa.int32()),
            "srcaddr": ["10.20.1.15", "10.20.1.15", "not an address"],
            "dstaddr": ["198.51.100.24"] * 3,
            "srcport": pa.array([51514, 70000, 51514], pa.int32()),
            "dstport": pa.array([443, 443, 443], pa.int32()),
            "protocol": pa.array([6, 6, 6], pa.int32()),
            "start": pa.array([1772445600] * 3, pa.int64()),
            "end": pa.array([1772445658] * 3, pa.int64()),
            'x");DROP TABLE network_activity;--': ["a b", "c", "d"],
            "action": ["ACCEPT"] * 3,
            "log_status": ["OK"] * 3,
        }
    )
    pq.write_table(table, path)
    (res,) = ingest(lake, path)
    assert (res.read, res.routed_rows, res.quarantined) == (3, 1, 2)
    assert [(r["raw_offset"], r["src_port"]) for r in rows(lake)] == [(1, 51514)]
    got = {r["raw_offset"]: (r["reason"], r["record"]) for r in rows(lake, "quarantine")}
    assert got == {
        2: (
            "srcport is not a port number (0-65535)",
            "2 10.20.1.15 198.51.100.24 70000 443 6 1772445600 1772445658 c ACCEPT OK",
        ),
        3: (
            "srcaddr is not an IP address",
            "2 not an address 198.51.100.24 51514 443 6 1772445600 1772445658 d ACCEPT OK",
        ),
    }


def test_other_and_broken_parquet_files_are_not_claimed(lake, tmp_path):
    """Parquet that is no flow log (the lake's own files, a table of thousands of columns
    that names the flow fields among them), and a flow log cut short in upload, are not
    read as flow logs: each is quarantined whole as unrecognised."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    other = tmp_path / "network_activity.parquet"
    pq.write_table(pa.table({"src_ip": ["10.0.0.1"], "dst_ip": ["10.0.0.2"], "time": [1]}), other)
    whole = parquet_flow_log(VPC / "default_s3.log", tmp_path / "whole.parquet")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    wide = tmp_path / "wide.parquet"
    names = ["srcaddr", "dstaddr", "start"] + [f"c{i}" for i in range(5000)]
    pq.write_table(pa.table({n: ["1"] for n in names}), wide)
    results = lake.ingest([other, cut, wide])
    assert [(r.status, r.source) for r in results] == [("unrecognised", None)] * 3
    assert rows(lake) == []
    assert len(rows(lake, "quarantine")) == 3
