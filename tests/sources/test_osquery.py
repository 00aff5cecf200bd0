"""osquery scheduled-query results into ``device_items`` and ``devices``: the
differential, snapshot and batch formats, Elastic's osquery integration documents,
Splunk and Elasticsearch deliveries — which table each row came from told by its
columns, every column of the rows checked, ``removed`` rows and other queries skipped,
snapshot rows beyond the first counted as extra rows, quarantine with reasons (a bad
USB id keeping the snapshot's other rows), provenance to the line, gzip, and the
test-data writer against the same layout.

Fixtures: ``tests/fixtures/osquery/make_fixtures.py`` writes them (README.md there).
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import cloudtrail, entra, okta, osquery, sniff, windows_security, zeek
from crownwatch.testing import osquery as oq
from tests.conftest import FIXTURES
from tests.fixtures.shipped.make_fixtures import es_hit, hec, splunk_result

D = FIXTURES / "osquery"
DIFFERENTIAL = D / "osqueryd.results.log"
SNAPSHOT = D / "snapshot.log"
BATCH = D / "batch.log"
ELASTIC = D / "elastic_osquery_result.ndjson"
MALFORMED = D / "malformed.log"
FIXTURE_FILES = (DIFFERENTIAL, SNAPSHOT, BATCH, ELASTIC, MALFORMED)

WIN = "8A1F2C3E-77D0-4E1B-9C2A-5D6E7F801234"
MAC = "mbp-jlee.local"
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ITEM = (
    'device_uid, device_name, serial, "user", item_type, name, version, publisher,'
    " vendor_id, product_id, path"
)
DEVICE = (
    'device_uid, device_name, serial, "user", os, os_version, last_ip, enrolled_time, ownership'
)


def _ts(offset_s: int) -> datetime:
    return datetime.fromtimestamp(T.timestamp() + offset_s, UTC)


def _lines(path):
    return [ln for ln in path.read_text().splitlines() if ln.strip()]


def _wrapped(tmp):
    """The differential log as Splunk's HEC, Splunk's search export and elasticdump
    deliver it."""
    recs = [json.loads(ln) for ln in _lines(DIFFERENTIAL)]
    src = "/var/log/osquery/osqueryd.results.log"

    def iso(r):
        return datetime.fromtimestamp(int(r["unixTime"]), UTC).isoformat()

    out = {}
    p = tmp / "splunk_hec.json"
    p.write_text("".join(json.dumps(hec(r, iso(r), "osquery:results", src)) + "\n" for r in recs))
    out["hec"] = p
    rows = [
        {"preview": True, "offset": 0, "result": splunk_result("{}", iso(recs[0]), "x", src, 0)}
    ]
    for n, r in enumerate(recs):
        raw = json.dumps(r, separators=(",", ":"))
        rows.append(
            {
                "preview": False,
                "offset": n,
                "result": splunk_result(raw, iso(r), "osquery:results", src, n),
            }
        )
    p = tmp / "splunk_export.json"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out["export"] = p
    docs = [json.loads(ln) for ln in _lines(ELASTIC)]
    p = tmp / "es_hits.json"
    p.write_text(
        "".join(
            json.dumps(es_hit(".ds-logs-osquery.result-default-2026.03.02-000001", d, n)) + "\n"
            for n, d in enumerate(docs)
        )
    )
    out["hits"] = p
    return out


def _writer_records():
    return [
        oq.usb_added(
            T,
            "lt-0007",
            "1d6b",
            "0104",
            vendor="Linux Foundation",
            model="Multifunction Composite Gadget",
            serial="CAFEBABE",
            hardware_serial="pf3zzz01",
            username="CORP\\Alice.Ng",
        ),
        oq.program_added(
            T, "lt-0007", "AnyDesk", version="ad 8.0.8", publisher="AnyDesk Software GmbH"
        ),
        oq.program_added(
            T,
            "mac-0002",
            "RustDesk",
            version="1.3.2",
            publisher="com.carriez.rustdesk",
            platform="darwin",
            username="bo@corp.example",
        ),
        oq.program_added(
            T, "lt-0008", "anydesk", version="6.3.0", publisher="philandro", platform="linux"
        ),
        oq.snapshot(
            T,
            "lt-0007",
            "inventory",
            [
                oq.system_info_row("lt-0007", "pf3zzz01"),
                oq.usb_row("046d", "c52b", vendor="Logitech, Inc.", model="Unifying Receiver"),
                {"pid": "1", "name": "systemd"},
            ],
        ),
    ]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("osquery")
    gz = tmp / "results.log.gz"
    gz.write_bytes(gzip.compress(DIFFERENTIAL.read_bytes()))
    writer = tmp / "writer.log"
    writer.write_text(oq.jsonl(_writer_records()))
    wrapped = _wrapped(tmp)
    lake = Lake(tmp / "lake")
    files = [*FIXTURE_FILES, gz, writer, *wrapped.values()]
    results = {r.path: r for r in lake.ingest(files)}
    return lake, results, {"gz": gz, "writer": writer, **wrapped}


def q(lake, table, cols, where="true"):
    # the rows of one line (a snapshot's) in the order of the columns asked for
    return duckdb.sql(
        f"""SELECT {cols} FROM {lake.table_sql(table)}
            WHERE {where} ORDER BY ALL"""
    ).fetchall()


def items(lake, path, cols=ITEM):
    return q(lake, "device_items", f"raw_offset, time, {cols}", f"raw_source = '{path}'")


def devices(lake, path):
    return q(lake, "devices", f"raw_offset, time, {DEVICE}", f"raw_source = '{path}'")


# -- sniffing ---------------------------------------------------------------------------


def test_sniffed_by_content_and_steals_no_one(tmp_path, ingested):
    _, _, extra = ingested
    for f in (*FIXTURE_FILES, extra["gz"], extra["hec"], extra["export"], extra["hits"]):
        assert sniff(f) is osquery, f
        renamed = tmp_path / f"export-{f.stem}.dat"
        shutil.copy(f, renamed)
        assert sniff(renamed) is osquery, f
        head = f.read_text()[:4096] if f.suffix != ".gz" else ""
        for other in (okta, entra, cloudtrail, windows_security, zeek):
            assert not other.sniff(head), (other.NAME, f)
    # no other source's fixture is mistaken for osquery results
    for f in FIXTURES.rglob("*"):
        if f.is_file() and f.parent != D and f.suffix in (".json", ".jsonl", ".ndjson", ".log"):
            head = f.read_bytes()[:4096].decode("utf-8", "replace")
            assert not osquery.sniff(head), f
    # a snapshot line far longer than the 4 KiB head is still recognised
    rows = [oq.program_row(f"Tool {i}", version="1.0", publisher="Acme") for i in range(200)]
    big = tmp_path / "big_snapshot.log"
    big.write_text(oq.jsonl([oq.snapshot(T, "h", "programs", rows)]))
    assert big.stat().st_size > 60_000 and sniff(big) is osquery
    # the status log in JSON is osquery's: claimed, its lines skipped (no syslog reader
    # takes it for something it is not)
    status = tmp_path / "osqueryd.INFO.log"
    status.write_text(_lines(MALFORMED)[8] + "\n")
    assert sniff(status) is osquery
    [res] = Lake(tmp_path / "status-lake").ingest([status])
    assert (res.source, res.read, res.skipped, res.quarantined) == ("osquery", 1, 1, 0)


# -- counting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, read, rows, extra, quarantined, skipped",
    [
        # 13 lines: 9 rows; removed, processes, listening_ports (removed), pci_devices skipped
        (DIFFERENTIAL, 13, {"device_items": 7, "devices": 2}, 0, 0, 4),
        # usb snapshot 1+2, host details, programs 1+1, processes, empty, event-format snapshot
        (SNAPSHOT, 6, {"device_items": 5, "devices": 2}, 3, 0, 2),
        # added 1+1 (removed ignored), removals only, old hostname batch, processes
        (BATCH, 4, {"device_items": 3}, 1, 0, 2),
        (ELASTIC, 5, {"device_items": 3, "devices": 1}, 0, 0, 1),
        # 2 kept, 7 quarantined (the bad snapshot's 2 good rows as extra rows), status line
        (MALFORMED, 10, {"device_items": 4}, 2, 7, 1),
    ],
)
def test_every_line_is_a_row_skipped_or_quarantined(
    ingested, path, read, rows, extra, quarantined, skipped
):
    _, results, _ = ingested
    r = results[str(path)]
    assert (r.source, r.status) == ("osquery", "ingested")
    assert (r.read, r.rows, r.extra_rows, r.quarantined, r.skipped) == (
        read,
        rows,
        extra,
        quarantined,
        skipped,
    )
    assert r.read == r.routed_rows + r.skipped + r.quarantined
    assert r.note is None


# -- columns ----------------------------------------------------------------------------


def test_differential_rows_every_column(ingested):
    lake, _, _ = ingested
    jsmith = ("eng-lt-0142", "eng-lt-0142", None, "jsmith")
    win = (WIN, "FIN-WS-0031", "5CG1234XYZ", "mgarcia")
    mac = (MAC, MAC, "C02DX1ABMD6M", "jin.lee")
    assert items(lake, DIFFERENTIAL) == [
        (1, _ts(0), *jsmith, "usb_device", "2.0 root hub", None, "Linux Foundation", "1d6b", "0002", None),
        (2, _ts(3600), *jsmith, "usb_device", "Multifunction Composite Gadget", None,
         "Linux Foundation", "1d6b", "0104", None),
        (4, _ts(60), *win, "application", "AnyDesk", "ad 8.0.8", "AnyDesk Software GmbH",
         None, None, "C:\\Program Files (x86)\\AnyDesk"),
        (5, _ts(120), *mac, "application", "RustDesk.app", "1.3.2", "com.carriez.rustdesk",
         None, None, "/Applications/RustDesk.app"),
        (6, _ts(180), *jsmith, "application", "anydesk", "6.3.0",
         "philandro Software GmbH <info@philandro.com>", None, None, None),
        (7, _ts(240), "osquery-host", None, None, None, "application", "xz", "5.2.4", "CentOS",
         None, None, None),
        (11, _ts(480), *jsmith, "usb_device", "Unifying Receiver", None, "Logitech, Inc.",
         "046d", "c52b", None),
    ]  # fmt: skip
    assert devices(lake, DIFFERENTIAL) == [
        (8, _ts(300), "eng-lt-0142", "eng-lt-0142", "PF3ABCDE", "jsmith", None, None, None, None, None),
        # the firmware's "To Be Filled By O.E.M." is no serial
        (13, _ts(600), "lab-desk-07", "lab-desk-07", None, None, None, None, None, None, None),
    ]  # fmt: skip


def test_snapshot_and_batch_rows_every_column(ingested):
    lake, _, _ = ingested
    mac = (MAC, MAC, "C02DX1ABMD6M", "jin.lee")
    win = (WIN, "FIN-WS-0031", "5CG1234XYZ", "mgarcia")
    assert items(lake, SNAPSHOT) == [
        (1, _ts(900), *mac, "usb_device", "AppleUSBXHCI Root Hub Simulation", None, "Apple Inc.",
         "05ac", "8007", None),
        (1, _ts(900), *mac, "usb_device", "TinyPilot Composite Gadget", None, "TinyPilot",
         "1d6b", "0104", None),
        (1, _ts(900), *mac, "usb_device", "YubiKey OTP+FIDO+CCID", None, "Yubico", "1050", "0407", None),
        (3, _ts(1020), *win, "application", "Chrome Remote Desktop Host", "124.0.6367.16",
         "Google LLC", None, None, None),
        (3, _ts(1020), *win, "application", "TeamViewer", "15.51.5", "TeamViewer", None, None,
         "C:\\Program Files\\TeamViewer"),
    ]  # fmt: skip
    assert devices(lake, SNAPSHOT) == [
        # joined with os_version: platform and version
        (2, _ts(960), *mac, "macOS", "14.4.1", None, None, None),
        (6, _ts(1200), *win, None, None, None, None, None),
    ]
    assert items(lake, BATCH) == [
        (1, _ts(1500), *win, "application", "RustDesk", "1.3.2", "RustDesk", None, None,
         "C:\\Program Files\\RustDesk"),
        (1, _ts(1500), *win, "application", "TeamViewer", "15.51.5", "TeamViewer", None, None,
         "C:\\Program Files\\TeamViewer"),
        # osquery 1.x: the host under "hostname", no decorations
        (3, _ts(1620), "old-mac.local", None, None, None, "application", "AnyDesk.app", "8.1.0",
         "com.philandro.anydesk", None, None, "/Applications/AnyDesk.app"),
    ]  # fmt: skip


def test_elastic_documents_read_as_the_lines_they_came_from(ingested):
    lake, _, _ = ingested
    got = {r[1:] for r in items(lake, ELASTIC)}
    want = {r[1:] for r in items(lake, DIFFERENTIAL) if r[0] in (2, 4, 5)}
    assert got == want and len(got) == 3
    assert [r[1:] for r in devices(lake, ELASTIC)] == [r[1:] for r in devices(lake, DIFFERENTIAL)][
        :1
    ]


def test_splunk_and_elasticsearch_deliveries_give_the_same_rows(ingested):
    lake, results, extra = ingested
    want = [r[1:] for r in items(lake, DIFFERENTIAL)]
    for name in ("hec", "export"):
        assert [r[1:] for r in items(lake, extra[name])] == want, name
        assert [r[1:] for r in devices(lake, extra[name])] == [
            r[1:] for r in devices(lake, DIFFERENTIAL)
        ]
        r = results[str(extra[name])]
        assert r.read == r.routed_rows + r.skipped + r.quarantined and r.quarantined == 0
    # the export's preview row is skipped, not read as a record
    assert results[str(extra["export"])].skipped == 4 + 1
    assert {r[1:] for r in items(lake, extra["hits"])} == {r[1:] for r in items(lake, ELASTIC)}


def test_gzip_gives_the_same_rows(ingested):
    lake, results, extra = ingested
    assert [r[1:] for r in items(lake, extra["gz"])] == [r[1:] for r in items(lake, DIFFERENTIAL)]
    assert [r[1:] for r in devices(lake, extra["gz"])] == [
        r[1:] for r in devices(lake, DIFFERENTIAL)
    ]
    assert results[str(extra["gz"])].read == 13


# -- quarantine and provenance ------------------------------------------------------------


def test_quarantine_reasons_and_the_kept_rows_around_them(ingested):
    lake, _, _ = ingested
    got = q(lake, "quarantine", "raw_offset, source, reason, record", f"raw_source = '{MALFORMED}'")
    lines = _lines(MALFORMED)
    assert [(o, s, why) for o, s, why, _ in got] == [
        (2, "osquery", "malformed JSON"),
        (3, "osquery", "JSON record is not an object"),
        (4, "osquery", "missing unixTime"),
        (5, "osquery", "unixTime is not seconds since the epoch"),
        (6, "osquery", "not a query result: no columns, snapshot or diffResults"),
        (7, "osquery", "USB vendor_id is not hex: KVM!"),
        (8, "osquery", "USB model_id is not hex: 01G4"),
    ]
    assert all(rec == lines[o - 1] for o, _, _, rec in got)
    # the good lines around the bad ones, and the bad snapshot's two good devices
    assert [(r[0], r[7], r[10], r[11]) for r in items(lake, MALFORMED)] == [
        (1, "Ultra Fit", "0781", "5583"),
        (8, "Magic Keyboard", "05ac", "029c"),
        (8, "YubiKey OTP+FIDO+CCID", "1050", "0407"),
        (10, "Multifunction Composite Gadget", "1d6b", "0104"),
    ]


def test_every_row_cites_its_line(ingested):
    lake, _, _ = ingested
    for path in (DIFFERENTIAL, SNAPSHOT, BATCH):
        lines = _lines(path)
        for off, uid, name, raw_id in q(
            lake,
            "device_items",
            "raw_offset, device_uid, name, raw_id",
            f"raw_source = '{path}'",
        ):
            line = lines[off - 1]
            assert json.dumps(uid)[1:-1] in line and json.dumps(name)[1:-1] in line
            assert raw_id is None  # osquery has no record id


# -- the test-data writer -------------------------------------------------------------------


def test_writer_records_have_the_fixtures_layout():
    fixture = [json.loads(ln) for ln in _lines(DIFFERENTIAL)]
    usb, prog, mac = fixture[0], fixture[3], fixture[4]
    w_usb, w_prog, w_mac = _writer_records()[:3]
    assert list(w_usb) == list(usb)  # envelope keys, in osquery's order
    assert sorted(w_usb["columns"]) == sorted(usb["columns"]) == list(w_usb["columns"])
    assert set(prog["columns"]) <= set(w_prog["columns"])
    assert set(w_mac["columns"]) == set(mac["columns"])
    snap = _writer_records()[4]
    fixture_snap = json.loads(_lines(SNAPSHOT)[0])
    assert list(snap) == list(fixture_snap)
    assert (
        isinstance(w_usb["unixTime"], int)
        and w_usb["calendarTime"] == "Mon Mar  2 09:00:00 2026 UTC"
    )
    assert oq.jsonl([w_usb]) == json.dumps(w_usb, separators=(",", ":")) + "\n"
    with pytest.raises(ValueError):
        oq.program_row("x", platform="solaris")


def test_writer_records_ingest_to_the_rows_they_describe(ingested):
    lake, results, extra = ingested
    alice = ("lt-0007", "lt-0007", "PF3ZZZ01", "alice.ng")
    plain = ("lt-0007", "lt-0007", None, None)
    assert items(lake, extra["writer"]) == [
        (1, T, *alice, "usb_device", "Multifunction Composite Gadget", None, "Linux Foundation",
         "1d6b", "0104", None),
        (2, T, *plain, "application", "AnyDesk", "ad 8.0.8", "AnyDesk Software GmbH", None, None,
         "C:\\Program Files\\AnyDesk\\"),
        (3, T, "mac-0002", "mac-0002", None, "bo", "application", "RustDesk.app", "1.3.2",
         "com.carriez.rustdesk", None, None, "/Applications/RustDesk.app"),
        (4, T, "lt-0008", "lt-0008", None, None, "application", "anydesk", "6.3.0", "philandro",
         None, None, None),
        (5, T, *plain, "usb_device", "Unifying Receiver", None, "Logitech, Inc.", "046d", "c52b", None),
    ]  # fmt: skip
    assert devices(lake, extra["writer"]) == [
        (5, T, "lt-0007", "lt-0007", "PF3ZZZ01", None, None, None, None, None, None)
    ]
    r = results[str(extra["writer"])]
    assert (r.read, r.routed_rows, r.extra_rows, r.skipped) == (5, 5, 1, 0)


# -- hostile values -----------------------------------------------------------------------


def test_hostile_values_stay_data(tmp_path):
    evil = "x'); DROP TABLE device_items; --"
    recs = [
        oq.program_added(T, evil, evil, version=evil, publisher=evil),
        oq.usb_added(T, "h", "1d6b", "0104", model="\x00\u202e" + "A" * 70_000),
        {**oq.usb_added(T, "h", "1d6b", "0104"), "unixTime": 10**30},
        {**oq.usb_added(T, "h", "1d6b", "0104"), "columns": "not an object"},
    ]
    path = tmp_path / "evil.log"
    path.write_text(oq.jsonl(recs))
    lake = Lake(tmp_path / "lake")
    (r,) = lake.ingest([path])
    assert r.source == "osquery" and r.read == r.routed_rows + r.skipped + r.quarantined
    assert (r.routed_rows, r.quarantined, r.skipped) == (2, 1, 1)
    names = {row[0] for row in q(lake, "device_items", "name")}
    assert evil in names and any(n and n.endswith("A" * 100) for n in names)
