"""Zeek conn/ssl/http/dns logs (the zeek source), on the real engine.

Fixtures are written field for field in the layouts Zeek writes (see
``tests/fixtures/zeek/README.md``): TSV with its ``#`` header, JSON lines with epoch
and ISO 8601 ``ts``, a ``_path`` stream, and as Filebeat, Logstash and Splunk ship it."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import zeek_tsv
from tests.conftest import FIXTURES

ZEEK = FIXTURES / "zeek"


def rows(lake: Lake, table: str) -> list[dict]:
    if not lake.table_files(table):
        return []
    return (
        duckdb.sql(
            f"SELECT * FROM {lake.table_sql(table)} "
            f"ORDER BY raw_source, raw_offset{', dst_ip' if table == 'network_names' else ''}"
        )
        .to_arrow_table()
        .to_pylist()
    )


def ingest(lake: Lake, *paths):
    results = lake.ingest(paths)
    for r in results:
        assert r.status == "ingested", r
        assert r.read == r.routed_rows + r.skipped + r.quarantined, r
    return results


def by_line(table_rows: list[dict]) -> dict[int, dict]:
    return {r["raw_offset"]: r for r in table_rows}


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# the facts of conn.log, line by line, that every layout must give the same
CONN = {
    9: (
        "10.20.1.15",
        51514,
        "198.51.100.24",
        443,
        "tcp",
        6,
        "ssl",
        517,
        4402,
        9,
        8,
        "SF",
        "outbound",
    ),
    10: ("10.20.1.15", 45877, "10.20.0.2", 53, "udp", 17, "dns", 44, 92, 1, 1, "SF", "lateral"),
    11: (
        "10.20.1.16",
        49152,
        "203.0.113.80",
        80,
        "tcp",
        6,
        "http",
        421,
        12804,
        6,
        11,
        "SF",
        "outbound",
    ),
    12: (
        "10.20.1.15",
        51530,
        "203.0.113.9",
        8443,
        "tcp",
        6,
        None,
        None,
        None,
        1,
        0,
        "S0",
        "outbound",
    ),
    13: ("203.0.113.77", 60211, "10.20.1.15", 22, "tcp", 6, None, 0, 0, 1, 1, "REJ", "inbound"),
    14: ("10.20.1.15", 8, "198.51.100.1", 0, "icmp", 1, None, 112, 112, 2, 2, "OTH", "outbound"),
    15: (
        "2001:db8:10::15",
        54012,
        "2001:db8:ff::443",
        443,
        "tcp",
        6,
        "ssl",
        1602,
        5510,
        12,
        10,
        "SF",
        "outbound",
    ),
    16: ("10.20.1.15", 123, "10.20.0.3", 123, "udp", 17, "ntp", 48, 48, 1, 1, "SF", "lateral"),
    17: ("10.20.3.7", 50321, "192.0.2.44", 443, "tcp", 6, "ssl", 2240, 88120, 40, 68, "SF", None),
    18: (
        "10.20.1.15",
        51544,
        "198.51.100.24",
        443,
        "tcp",
        6,
        "ssl",
        98112,
        1204,
        880,
        700,
        "SF",
        "outbound",
    ),
}
FACTS = (
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "protocol_num",
    "app_protocol",
    "bytes_out",
    "bytes_in",
    "packets_out",
    "packets_in",
    "conn_state",
    "direction",
)


def facts(r: dict) -> tuple:
    return tuple(r[k] for k in FACTS)


def test_conn_tsv_every_column_by_its_header(lake):
    (res,) = ingest(lake, ZEEK / "conn.log")
    assert (res.source, res.read, res.rows, res.quarantined) == (
        "zeek",
        10,
        {"network_activity": 10},
        0,
    )
    got = by_line(rows(lake, "network_activity"))
    assert {n: facts(r) for n, r in got.items()} == CONN
    first = got[9]
    assert first["time"] == at(1772445600.118133)
    assert first["end_time"] == at(1772445600.430574)  # ts + duration, to the microsecond
    assert first["duration_s"] == pytest.approx(0.312441)
    assert (first["connection_uid"], first["raw_id"]) == ("CHhAvVGS1DHFjwGM9",) * 2
    assert first["community_id"] == "1:8SqwMUl0vV7yq6x1p0MZ7ZC3b1A="
    assert first["conn_history"] == "ShADadFf" and first["action"] is None
    assert first["raw_source"] == str(ZEEK / "conn.log")
    # '-' is NULL, not zero: an S0 attempt has no duration and no byte counts
    s0 = got[12]
    assert (s0["duration_s"], s0["end_time"], s0["bytes_out"]) == (None, None, None)
    # long-lived: an hour and a half-second
    assert got[18]["end_time"] == at(1772445622.900400 + 3600.500123)


def test_header_order_and_site_fields_do_not_move_a_value(lake):
    ingest(lake, ZEEK / "conn_reordered.log")
    got = by_line(rows(lake, "network_activity"))
    # the same three connections, from columns in another order beside vlan/MAC fields
    assert {n: facts(r) for n, r in got.items()} == {n: CONN[n] for n in (9, 10, 11)}
    assert got[9]["community_id"] is None  # this site does not log it


def test_malformed_records_are_quarantined_with_reasons_and_the_rest_kept(lake):
    (res,) = ingest(lake, ZEEK / "conn_malformed.log")
    assert (res.read, res.routed_rows, res.quarantined, res.skipped) == (8, 2, 6, 0)
    assert sorted(by_line(rows(lake, "network_activity"))) == [9, 16]
    q = {r["raw_offset"]: r for r in rows(lake, "quarantine")}
    assert {n: r["reason"] for n, r in q.items()} == {
        10: "truncated record: fewer fields than its #fields header names",
        11: "id.orig_p is not a port number (0-65535)",
        12: "unparseable ts",
        13: "more fields than its #fields header names",
        14: "id.orig_h is not an IP address",
        15: "id.resp_p is not a port number (0-65535)",
    }
    assert q[12]["record"].startswith("yesterday\tCUM0KZ3MLUfNB0cl11\t10.20.1.15")
    assert q[10]["raw_id"] == "CpjMvj2Cvj1ig7WmSa"


def test_rotated_gzip_reads_the_same(lake, tmp_path):
    rotated = tmp_path / "conn.2026-03-02-10-00-00.log.gz"
    rotated.write_bytes(gzip.compress((ZEEK / "conn.log").read_bytes()))
    ingest(lake, rotated)
    assert {n: facts(r) for n, r in by_line(rows(lake, "network_activity")).items()} == CONN


def test_logs_run_together_are_read_block_by_block(lake, tmp_path):
    """``zcat conn.*.log.gz > all.log``: each block by its own header, line numbers of
    the whole file; a stray comment line and a blank line do not stop it."""
    conn = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    other = (ZEEK / "conn_reordered.log").read_text().splitlines(keepends=True)
    dns = (ZEEK / "dns.log").read_text().splitlines(keepends=True)
    text = conn[:9] + ["\n", "# a note someone added\n"] + conn[9:] + other + dns
    path = tmp_path / "all.log"
    path.write_text("".join(text))
    (res,) = ingest(lake, path)
    na = by_line(rows(lake, "network_activity"))
    assert len(na) == 13
    # the blank line (10) and the note (11) keep their numbers
    assert facts(na[9]) == CONN[9] and facts(na[12]) == CONN[10] and facts(na[20]) == CONN[18]
    second = len(conn) + 2 + 9  # the reordered log's first record
    assert facts(na[second]) == CONN[9]
    q = rows(lake, "quarantine")
    assert [(r["raw_offset"], r["reason"]) for r in q] == [(11, "not a Zeek header line")]
    names = rows(lake, "network_names")
    assert {r["name"] for r in names} == {"telemetry.example.com", "api.example.org"}
    assert res.read == 13 + 1 + 4  # conn records, the stray line, dns records


def test_the_fast_path_and_the_line_path_agree(lake, tmp_path, monkeypatch):
    ingest(lake, ZEEK / "conn_malformed.log")
    fast_rows, fast_q = rows(lake, "network_activity"), rows(lake, "quarantine")
    monkeypatch.setattr(zeek_tsv, "_fast_block", lambda reader, path, head: None)
    slow = Lake(tmp_path / "slow")
    ingest(slow, ZEEK / "conn_malformed.log")
    assert rows(slow, "network_activity") == fast_rows
    drop = ("time", "record")  # quarantine time is now(); the record text is rebuilt
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows(slow, "quarantine")] == [
        {k: v for k, v in r.items() if k not in drop} for r in fast_q
    ]


def test_repeated_records_keep_their_own_line_numbers(lake, tmp_path, monkeypatch, small_pieces):
    """The fast path reads a large log in pieces side by side, each numbered from its
    first line: a record repeated word for word, and two records sharing ts and uid,
    are each numbered by their line, as the line-by-line path numbers them."""
    from crownwatch.sources import pieces

    lines = (ZEEK / "conn.log").read_text().splitlines(keepends=True)
    first = lines[8]  # line 9, the first record
    fields = first.rstrip("\n").split("\t")
    twin = "\t".join([*fields[:2], "10.20.1.99", *fields[3:]]) + "\n"  # same ts and uid
    text = lines[:9] + [first, twin] + lines[9:]
    path = tmp_path / "conn_repeated.log"
    path.write_text("".join(text))
    splits = []
    counted = pieces.counted  # numbered from the scan's counts, no count pass
    monkeypatch.setattr(pieces, "counted", lambda *a: splits.append(counted(*a)) or splits[-1])
    ingest(lake, path)
    assert splits and len(splits[0].urls) >= 2, "the log was not read in pieces"
    got = by_line(rows(lake, "network_activity"))
    assert len(got) == len(CONN) + 2
    assert facts(got[9]) == facts(got[10]) == CONN[9]
    assert got[11]["src_ip"] == "10.20.1.99"
    assert facts(got[12]) == CONN[10] and facts(got[20]) == CONN[18]
    monkeypatch.setattr(zeek_tsv, "_fast_block", lambda reader, path, head: None)
    slow = Lake(tmp_path / "slow")
    ingest(slow, path)
    assert rows(slow, "network_activity") == rows(lake, "network_activity")


def test_a_byte_the_numbering_splits_on_takes_the_line_path(lake, tmp_path, monkeypatch):
    """0x01 cuts a line in the line reader (reader.lines), which the line-by-line
    path reads: a file holding one takes that path, so both ways give one verdict."""
    text = (ZEEK / "conn.log").read_text().replace("ShADadFf", "Sh\x01ADadFf", 1)
    path = tmp_path / "conn_soh.log"
    path.write_text(text)
    assert zeek_tsv._scan(path) is None
    (res,) = ingest(lake, path)
    assert res.routed_rows + res.quarantined == len(CONN)
    numbered = set(by_line(rows(lake, "network_activity")))
    assert numbered | {r["raw_offset"] for r in rows(lake, "quarantine")} == set(CONN)


@pytest.mark.parametrize("chunk", [7, 64, 1 << 24])
def test_the_scan_counts_the_lines_before_each_piece_and_refuses_blank_lines(
    tmp_path, monkeypatch, chunk
):
    """The scan numbers the pieces (no count pass of their own): the lines before each
    cut, whatever chunk a cut or a blank line falls in."""
    monkeypatch.setattr(zeek_tsv, "_CHUNK", chunk)
    data = (ZEEK / "conn.log").read_bytes()
    path = tmp_path / "conn.log"
    path.write_bytes(data)
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10][:-1]  # every line's start
    got = zeek_tsv._scan(path, starts)
    assert got is not None and got.lines == data.count(b"\n")
    assert list(got.before) == list(range(len(starts)))
    assert got.meta == sum(line.startswith(b"#") for line in data.splitlines())
    for at in (0, starts[3], starts[-1]):  # a blank line first, inside, last but one
        path.write_bytes(data[:at] + b"\n" + data[at:])
        assert zeek_tsv._scan(path) is None, at


def test_other_markers_are_read_as_the_header_declares(lake, tmp_path):
    text = (ZEEK / "conn.log").read_text()
    head, body = text.split("#fields", 1)
    head = head.replace("#unset_field\t-", "#unset_field\tNONE").replace(
        "#separator \\x09", "#separator \\x7c"
    )
    body = ("#fields" + body).replace("\t", "|").replace("|-|", "|NONE|").replace("|-|", "|NONE|")
    head = head.replace("\t", "|")
    path = tmp_path / "conn_pipes.log"
    path.write_text(head + body)
    ingest(lake, path)
    assert {n: facts(r) for n, r in by_line(rows(lake, "network_activity")).items()} == CONN


def test_hostile_header_values_stay_data(lake, tmp_path):
    text = (ZEEK / "conn.log").read_text()
    text = text.replace("#path\tconn", "#path\tconn'); DROP TABLE x; --")
    text = text.replace("\tcommunity_id\n", "\tcommunity_id'\"\n")
    path = tmp_path / "hostile.log"
    path.write_text(text)
    (res,) = ingest(lake, path)
    # not a conn log by its #path: read, and every record skipped
    assert (res.read, res.skipped, res.routed_rows) == (10, 10, 0)


def test_ssl_http_dns_give_destination_names(lake):
    results = ingest(lake, ZEEK / "ssl.log", ZEEK / "http.log", ZEEK / "dns.log")
    counts = {
        r.path.rsplit("/", 1)[-1]: (r.read, r.routed_rows, r.extra_rows, r.skipped) for r in results
    }
    assert counts == {
        "ssl.log": (4, 2, 0, 2),  # no SNI; an IP literal as SNI
        "http.log": (4, 2, 0, 2),  # a Host that is an IP literal; no Host at all
        "dns.log": (4, 2, 1, 2),  # two A answers (one extra row); NXDOMAIN; PTR
    }
    got = [
        (
            r["name_type"],
            r["name"],
            r["src_ip"],
            r["dst_ip"],
            r["dst_port"],
            r["connection_uid"],
            r["ttl_s"],
        )
        for r in rows(lake, "network_names")
    ]
    assert sorted(got) == sorted(
        [
            (
                "sni",
                "telemetry.example.com",
                "10.20.1.15",
                "198.51.100.24",
                443,
                "CHhAvVGS1DHFjwGM9",
                None,
            ),
            (
                "sni",
                "api.example.org",
                "2001:db8:10::15",
                "2001:db8:ff::443",
                443,
                "CFLRIC3zaTU1loLGxh",
                None,
            ),
            (
                "http_host",
                "mirror.example.net",
                "10.20.1.16",
                "203.0.113.80",
                80,
                "C4J4Th3PJpwUYZZ6gc",
                None,
            ),
            (
                "http_host",
                "files.example.net",
                "10.20.1.16",
                "203.0.113.80",
                80,
                "C4J4Th3PJpwUYZZ6gc",
                None,
            ),
            (
                "dns",
                "telemetry.example.com",
                "10.20.1.15",
                "198.51.100.24",
                None,
                "CpjMvj2Cvj1ig7WmSa",
                60.0,
            ),
            (
                "dns",
                "telemetry.example.com",
                "10.20.1.15",
                "198.51.100.25",
                None,
                "CpjMvj2Cvj1ig7WmSa",
                60.0,
            ),
            (
                "dns",
                "api.example.org",
                "2001:db8:10::15",
                "2001:db8:ff::443",
                None,
                "CWmV8b2zK1gEGjRkq3",
                120.0,
            ),
        ]
    )


def test_json_lines_give_the_tsv_rows_and_quarantine_the_broken(lake):
    (res,) = ingest(lake, ZEEK / "conn_json.log")
    assert (res.read, res.routed_rows, res.quarantined) == (13, 10, 3)
    got = rows(lake, "network_activity")
    # the JSON file holds conn.log's records in order, three broken lines at 7-9
    assert [facts(r) for r in got] == list(CONN.values())
    assert got[0]["time"] == at(1772445600.118133) and got[0]["end_time"] == at(1772445600.430574)
    assert {r["raw_offset"]: r["reason"] for r in rows(lake, "quarantine")} == {
        7: "id.orig_p is not a port number (0-65535)",
        8: "missing ts",
        9: "malformed JSON",
    }


def test_a_stream_of_several_logs_with_iso_timestamps(lake):
    (res,) = ingest(lake, ZEEK / "zeek_stream.log")
    # conn, ssl, dns (2 answers), http; files and weird skipped
    assert (res.read, res.rows, res.extra_rows, res.skipped) == (
        6,
        {"network_activity": 1, "network_names": 4},
        1,
        2,
    )
    (conn,) = rows(lake, "network_activity")
    assert facts(conn) == CONN[9] and conn["time"] == at(1772445600.118133)
    names = {(r["name_type"], r["dst_ip"]): r for r in rows(lake, "network_names")}
    assert names["sni", "198.51.100.24"]["time"] == at(1772445600.130902)
    assert set(names) == {
        ("sni", "198.51.100.24"),
        ("dns", "198.51.100.24"),
        ("dns", "198.51.100.25"),
        ("http_host", "203.0.113.80"),
    }


def test_filebeat_zeek_module_documents(lake):
    (res,) = ingest(lake, ZEEK / "filebeat_zeek.ndjson")
    # rows count extra rows too: the DNS record's second address
    assert (res.rows, res.extra_rows) == ({"network_activity": 1, "network_names": 4}, 1)
    (conn,) = rows(lake, "network_activity")
    # the module keeps IP-level byte counts only (orig_ip_bytes / resp_ip_bytes)
    assert facts(conn) == CONN[9][:7] + (997, 4834, 9, 8, "SF", "outbound")
    assert conn["duration_s"] == pytest.approx(0.312441)  # event.duration, nanoseconds
    assert conn["connection_uid"] == "CHhAvVGS1DHFjwGM9"
    assert conn["community_id"] == "1:8SqwMUl0vV7yq6x1p0MZ7ZC3b1A="
    assert conn["time"] == datetime(2026, 3, 2, 10, 0, 0, 118000, UTC)  # @timestamp
    assert sorted(
        (r["name_type"], r["name"], r["dst_ip"]) for r in rows(lake, "network_names")
    ) == [
        ("dns", "telemetry.example.com", "198.51.100.24"),
        ("dns", "telemetry.example.com", "198.51.100.25"),
        ("http_host", "mirror.example.net", "203.0.113.80"),
        ("sni", "telemetry.example.com", "198.51.100.24"),
    ]


def test_filebeat_message_and_splunk_hec_deliveries(lake):
    (res,) = ingest(lake, ZEEK / "conn_shipped.ndjson")
    assert (res.read, res.routed_rows, res.quarantined) == (4, 4, 0)
    assert [facts(r) for r in rows(lake, "network_activity")] == [CONN[n] for n in (9, 10, 11, 12)]
