"""Jamf Pro computer inventory (the jamf source), on the real engine: the
``computers-inventory`` API page, JSON lines of its results, and the Advanced Computer
Search CSV export (``tests/fixtures/jamf/README.md`` says where each layout comes from).
One lake, ingested once for the module; each test reads its part."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import jamf, sniff
from crownwatch.testing import devices as testing
from tests.conftest import FIXTURES

JAMF = FIXTURES / "jamf"
T = datetime(2026, 3, 4, 9, 12, 33, tzinfo=UTC)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("jamf")
    gz = root / "computers_inventory.json.gz"
    gz.write_bytes(gzip.compress((JAMF / "computers_inventory.json").read_bytes()))
    written = root / "written.json"
    written.write_text(
        testing.jamf_inventory_json(
            [
                testing.jamf_computer(
                    f"C02FARM{i:05d}",
                    f"hire{i}@northwind-ai.com",
                    last_ip="198.51.100.77",
                    last_contact=T,
                    apps=[["AnyDesk", ("Slack", "4.41.105")], [f"App {n}" for n in range(80)], []][
                        i
                    ],
                )
                for i in range(3)
            ]
        )
    )
    lake = Lake(root / "lake")
    paths = [
        JAMF / "computers_inventory.json",
        JAMF / "computers_inventory.jsonl",
        JAMF / "advanced_search.csv",
        gz,
        written,
    ]
    results = {r.path: r for r in lake.ingest(paths)}
    return lake, results, {p.name: str(p) for p in paths}


def rows(lake: Lake, table: str, raw_source: str) -> list[dict]:
    return (
        duckdb.sql(
            f"SELECT * FROM {lake.table_sql(table)} "
            "WHERE raw_source = $src ORDER BY raw_offset, name",
            params={"src": raw_source},
        )
        .to_arrow_table()
        .to_pylist()
        if table == "device_items"
        else duckdb.sql(
            f"SELECT * FROM {lake.table_sql(table)} WHERE raw_source = $src ORDER BY raw_offset",
            params={"src": raw_source},
        )
        .to_arrow_table()
        .to_pylist()
    )


def test_every_file_is_jamf_and_fully_accounted_for(ingested):
    lake, results, _ = ingested
    counts = {}
    for path, r in results.items():
        assert (r.status, r.source) == ("ingested", "jamf"), r
        assert r.read == r.routed_rows + r.skipped + r.quarantined, r
        counts[path.rsplit("/", 1)[-1]] = (r.read, r.routed_rows, r.quarantined, r.extra_rows)
    assert counts == {
        "computers_inventory.json": (5, 3, 2, 4),
        "computers_inventory.jsonl": (3, 2, 1, 3),
        "advanced_search.csv": (7, 3, 4, 0),
        "computers_inventory.json.gz": (5, 3, 2, 4),
        # 2 + 80 + 0 applications: one record per computer, its applications copies
        "written.json": (3, 3, 0, 82),
    }


def test_api_page_devices_every_column(ingested):
    lake, _, src = ingested
    ana, bo, lab = rows(lake, "devices", src["computers_inventory.json"])
    assert ana == {
        "time": datetime(2026, 3, 4, 9, 12, 33, 518000, tzinfo=UTC),  # lastContactTime
        "source": "jamf",
        "device_uid": "117",
        "device_name": "Ana's MacBook Pro",
        "serial": "C02XK1ABCD12",  # upper-cased
        "user": "ana.lee",  # the e-mail's identity key
        "os": "macOS",
        "os_version": "14.4.1",
        # lastReportedIp is her home network's 192.168.1.23: the public address wins
        "last_ip": "203.0.113.57",
        "enrolled_time": datetime(2025, 9, 15, 14, 2, 47, 230000, tzinfo=UTC),
        "ownership": None,
        "raw_source": src["computers_inventory.json"],
        "raw_offset": 0,
        "raw_id": "117",
    }
    # "+0000" offsets; a blank e-mail falls back to the username (DOMAIN\\ stripped);
    # "Mac OS X" is macOS; here the reported address is the public one
    assert (bo["time"], bo["user"], bo["os"], bo["os_version"], bo["last_ip"]) == (
        datetime(2026, 3, 4, 7, 1, 12, 4000, tzinfo=UTC),
        "b.chen",
        "macOS",
        "13.6.4",
        "198.51.100.24",
    )
    # no lastContactTime: the inventory report date; no user, no address, no OS section
    assert (lab["time"], lab["user"], lab["last_ip"], lab["os"], lab["os_version"]) == (
        datetime(2026, 2, 27, 22, 10, 44, 990000, tzinfo=UTC),
        None,
        None,
        "macOS",
        None,
    )
    assert (lab["raw_offset"], lab["enrolled_time"], lab["serial"]) == (2, None, "H2WDN0ABQ6NV")


def test_applications_are_device_items_with_the_devices_fields(ingested):
    lake, _, src = ingested
    items = rows(lake, "device_items", src["computers_inventory.json"])
    assert [
        (i["device_uid"], i["name"], i["version"], i["publisher"], i["path"]) for i in items
    ] == [
        ("117", "AnyDesk.app", "8.1.0", "com.philandro.anydesk", "/Applications/AnyDesk.app"),
        ("117", "Slack.app", "4.41.105", "com.tinyspeck.slackmacgap", "/Applications/Slack.app"),
        ("117", "Stickies.app", "10.3", None, "/System/Applications/Stickies.app"),
        (
            "119",
            "TeamViewerHost.app",
            "15.51.5",
            "com.teamviewer.TeamViewerHost",
            "/Applications/TeamViewerHost.app",
        ),
    ]
    first = items[0]
    assert {k: first[k] for k in first if k not in ("name", "version", "publisher", "path")} == {
        "time": datetime(2026, 3, 4, 9, 12, 33, 518000, tzinfo=UTC),
        "source": "jamf",
        "device_uid": "117",
        "device_name": "Ana's MacBook Pro",
        "serial": "C02XK1ABCD12",
        "user": "ana.lee",
        "item_type": "application",
        "vendor_id": None,
        "product_id": None,
        "raw_source": src["computers_inventory.json"],
        "raw_offset": 0,
        "raw_id": "117",
    }


def test_quarantine_reasons_and_provenance(ingested):
    lake, _, src = ingested
    got = {
        (r["raw_source"].rsplit("/", 1)[-1], r["raw_offset"]): (r["reason"], r["raw_id"])
        for name in ("computers_inventory.json", "computers_inventory.jsonl", "advanced_search.csv")
        for r in rows(lake, "quarantine", src[name])
    }
    assert got == {
        ("computers_inventory.json", 3): ("no computer id and no serial number", None),
        ("computers_inventory.json", 4): ("unparseable lastContactTime", "121"),
        ("computers_inventory.jsonl", 2): ("malformed JSON", None),
        ("advanced_search.csv", 5): ("not a CSV row (unbalanced quotes)", None),
        ("advanced_search.csv", 6): ("7 fields where the header names 13", "122"),
        ("advanced_search.csv", 7): ("unparseable Last Check-in", "123"),
        ("advanced_search.csv", 8): ("no computer id and no serial number", None),
    }
    (bad,) = [
        r for r in rows(lake, "quarantine", src["advanced_search.csv"]) if r["raw_offset"] == 7
    ]
    assert bad["record"].startswith("Loaner 5,123,")  # the line as exported


def test_json_lines_keep_line_numbers(ingested):
    lake, _, src = ingested
    got = rows(lake, "devices", src["computers_inventory.jsonl"])
    assert [(r["raw_offset"], r["device_uid"]) for r in got] == [(1, "117"), (4, "118")]
    assert {
        i["raw_offset"] for i in rows(lake, "device_items", src["computers_inventory.jsonl"])
    } == {1}


def test_advanced_search_export_by_column_name(ingested):
    lake, _, src = ingested
    ana, bo, lab = rows(lake, "devices", src["advanced_search.csv"])
    assert {k: v for k, v in ana.items() if k != "raw_source"} == {
        "time": datetime(2026, 3, 4, 9, 12, tzinfo=UTC),  # "2026-03-04 at 9:12 AM"
        "source": "jamf",
        "device_uid": "117",
        "device_name": "Ana's MacBook Pro",
        "serial": "C02XK1ABCD12",
        "user": "ana.lee",
        "os": "macOS",
        "os_version": "14.4.1",
        "last_ip": "203.0.113.57",
        "enrolled_time": datetime(2025, 9, 15, 14, 2, tzinfo=UTC),
        "ownership": None,
        "raw_offset": 2,
        "raw_id": "117",
    }
    assert (bo["time"], bo["user"], bo["last_ip"], bo["device_name"]) == (
        datetime(2026, 3, 4, 7, 1, 12, tzinfo=UTC),
        "b.chen",  # no e-mail: the username
        "198.51.100.24",
        "NW-MAC-0118",
    )
    # no Last Check-in: the Last Inventory Update; the serial upper-cased
    assert (lab["time"], lab["serial"], lab["user"]) == (
        datetime(2026, 2, 27, 22, 10, tzinfo=UTC),
        "H2WDN0ABQ6NV",
        None,
    )


def test_gzip_reads_like_the_plain_file(ingested):
    lake, _, src = ingested
    plain = rows(lake, "devices", src["computers_inventory.json"])
    gz = rows(lake, "devices", src["computers_inventory.json.gz"])
    strip = lambda rs: [{k: v for k, v in r.items() if k != "raw_source"} for r in rs]  # noqa: E731
    assert strip(gz) == strip(plain)


def test_the_writer_emits_what_the_source_reads(ingested):
    lake, _, src = ingested
    (d0, *_) = rows(lake, "devices", src["written.json"])
    assert (d0["serial"], d0["user"], d0["last_ip"], d0["time"], d0["os"]) == (
        "C02FARM00000",
        "hire0",
        "198.51.100.77",
        T,
        "macOS",
    )
    items = rows(lake, "device_items", src["written.json"])
    assert [(i["name"], i["publisher"]) for i in items if i["raw_offset"] == 0] == [
        ("AnyDesk.app", "com.philandro.anydesk"),
        ("Slack.app", "com.tinyspeck.slackmacgap"),
    ]
    assert sum(i["raw_offset"] == 1 for i in items) == 80  # one computer, 80 applications


def test_sniffing(tmp_path):
    assert sniff(JAMF / "computers_inventory.json") is jamf
    assert sniff(JAMF / "computers_inventory.jsonl") is jamf
    assert sniff(JAMF / "advanced_search.csv") is jamf
    # a pretty-printed computers-inventory-detail record, one object
    detail = tmp_path / "detail.json"
    detail.write_text(
        json.dumps(
            json.loads((JAMF / "computers_inventory.json").read_text())["results"][0], indent=4
        )
    )
    assert sniff(detail) is jamf
    assert not jamf.sniff('{"general": {"name": "x"}, "eventType": "user.session.start"}')
    assert not jamf.sniff("Device ID,Device name,Last check-in\n")
    assert not jamf.sniff("Computer Name,Owner\n")


def test_a_detail_record_pretty_printed(tmp_path):
    detail = tmp_path / "detail.json"
    rec = json.loads((JAMF / "computers_inventory.json").read_text())["results"][0]
    detail.write_text(json.dumps(rec, indent=4) + "\n" + json.dumps(rec, indent=4) + "\n")
    lake = Lake(tmp_path / "lake")
    (r,) = lake.ingest([detail])
    assert (r.source, r.read, r.routed_rows, r.quarantined, r.extra_rows) == ("jamf", 2, 2, 0, 6)
