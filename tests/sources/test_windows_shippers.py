"""The Windows Security events as shippers deliver them: NXLog ``im_msvistalog`` JSON,
Log Analytics / Sentinel ``SecurityEvent`` rows (JSON array and JSON lines), Splunk's
``XmlWinEventLog`` XML and Elastic Agent documents as Elasticsearch hits — each
sniffed from content, each mapped to the rows the native events give, each keeping
the rest of the file when one record is bad.

The fixtures render the 37 events of ``security_wevtutil.xml`` in each layout (see
``tests/fixtures/windows/make_fixtures.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from crownwatch.sources import sniff, windows_security
from crownwatch.sources.reader import Reader
from tests.conftest import FIXTURES

WIN = FIXTURES / "windows"
NATIVE = WIN / "security_wevtutil.xml"
NXLOG = WIN / "nxlog_msvistalog.ndjson"
SENTINEL = WIN / "sentinel_securityevent.json"
SENTINEL_LINES = WIN / "sentinel_securityevent.jsonl"
SPLUNK = WIN / "splunk_xmlwineventlog.xml"
ELASTIC = WIN / "elastic_agent_hits.ndjson"
SHIPPED = (NXLOG, SENTINEL, SENTINEL_LINES, SPLUNK, ELASTIC)

# what a layout must agree on with the native event (raw_offset is the layout's own;
# raw_id is EventOriginId in SecurityEvent, which has no record number)
COMPARED = (
    "user",
    "user_raw",
    "user_domain",
    "user_uid",
    "src_ip",
    "service",
    "auth_protocol",
    "logon_type",
    "status",
    "reason",
    "status_code",
    "activity",
    "actor_user",
    "session_uid",
)


def parse(path: Path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    p = windows_security.parse(Reader(con), path)

    def rows(rel):
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]

    return p, rows(p.routed["authentication"]), rows(p.quarantine)


def key(rows, precision=1):
    """Rows as comparable tuples, time cut to ``precision`` microseconds."""

    def t(r):
        ts = r["time"]
        return ts.replace(microsecond=ts.microsecond // precision * precision).isoformat()

    return sorted(((t(r), *(r[c] for c in COMPARED)) for r in rows), key=repr)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_each_layout_is_sniffed_and_gives_the_native_rows(path):
    assert sniff(path) is windows_security
    p, rows, quarantined = parse(path)
    assert quarantined == []
    native = parse(NATIVE)
    assert (p.records, p.skipped, len(rows)) == (native[0].records, native[0].skipped, 30)
    # NXLog's EventTime has whole seconds, Elastic's @timestamp milliseconds
    precision = {NXLOG: 1_000_000, ELASTIC: 1000}.get(path, 1)
    assert key(rows, precision) == key(native[1], precision)
    if path in (NXLOG, SPLUNK, ELASTIC):
        assert sorted(r["raw_id"] for r in rows) == sorted(r["raw_id"] for r in native[1])


def test_status_detail_is_the_same_whatever_the_shipper():
    native = {r["user"] + r["status_detail"] for r in parse(NATIVE)[1]}
    for path in SHIPPED:
        assert {r["user"] + r["status_detail"] for r in parse(path)[1]} == native, path


def test_sentinel_rows_without_the_copied_columns_read_eventdata(tmp_path):
    """A workspace whose transformation drops the copied columns (or a table that
    never had them) still has the event in ``EventData``: the XML string is read."""
    keep = {"TimeGenerated", "Computer", "EventID", "EventData", "Channel", "EventOriginId"}
    rows = [{k: v for k, v in r.items() if k in keep} for r in json.loads(SENTINEL.read_text())]
    f = tmp_path / "securityevent_minimal.json"
    f.write_text(json.dumps(rows))
    assert sniff(f) is windows_security
    _, got, quarantined = parse(f)
    assert quarantined == [] and key(got) == key(parse(NATIVE)[1])


def test_windowsevent_rows_with_eventdata_as_an_object(tmp_path):
    """The ``WindowsEvent`` table (Windows Forwarded Events connector) keeps EventData
    as a dynamic object: the fields are read from it."""
    native = parse(NATIVE)[1]
    lines = []
    for r in json.loads(SENTINEL.read_text()):
        data = dict(
            __import__("re").findall(r'<Data Name="([^"]+)">([^<]*)</Data>', r["EventData"])
        )
        lines.append(
            json.dumps(
                {
                    "TimeGenerated": r["TimeGenerated"],
                    "Computer": r["Computer"],
                    "Channel": "Security",
                    "EventID": r["EventID"],
                    "EventRecordId": str(r["EventOriginId"]),
                    "Provider": "Microsoft-Windows-Security-Auditing",
                    "EventData": {k: v.replace("&amp;", "&") for k, v in data.items()},
                    "Type": "WindowsEvent",
                }
            )
        )
    f = tmp_path / "windowsevent.jsonl"
    f.write_text("\n".join(lines) + "\n")
    assert sniff(f) is windows_security
    _, got, quarantined = parse(f)
    assert quarantined == [] and key(got) == key(native)


def test_xml_entities_in_eventdata_are_decoded(tmp_path):
    row = json.loads(SENTINEL_LINES.read_text().splitlines()[4])  # bob's 4625
    for col in ("TargetUserName", "TargetAccount", "Account"):
        row.pop(col)
    row["EventData"] = row["EventData"].replace(">bob<", ">o&apos;brien&amp;co<")
    f = tmp_path / "entities.jsonl"
    f.write_text(json.dumps(row) + "\n")
    _, [r], _ = parse(f)
    assert (r["user"], r["user_raw"]) == ("o'brien&co", "o'brien&co")


def test_nxlog_event_time_forms(tmp_path):
    """``EventTime`` is the agent's local time with no zone in NXLog CE's to_json():
    read as UTC. A zone written by a newer xm_json (or an ``strftime`` in the
    configuration) is honoured; an integer epoch (``integer($EventTime)``, µs, or
    divided to ms or s) is read by magnitude."""
    line = json.loads(NXLOG.read_text().splitlines()[4])  # bob, 2026-03-02 09:01:10 UTC
    forms = [
        "2026-03-02 09:01:10",
        "2026-03-02T10:01:10.000000+01:00",
        "2026-03-02T09:01:10Z",
        1772442070,
        1772442070000,
        1772442070000000,
    ]
    f = tmp_path / "nxlog_times.ndjson"
    f.write_text("".join(json.dumps({**line, "EventTime": v}) + "\n" for v in forms))
    _, rows, quarantined = parse(f)
    assert quarantined == []
    assert {r["time"].isoformat() for r in rows} == {"2026-03-02T09:01:10+00:00"}


def test_events_of_other_channels_are_skipped_not_read_as_sign_ins(tmp_path):
    """NXLog and Log Analytics mix channels; event ids are per provider, so a 4624 in
    the Application log is not a logon."""
    line = json.loads(NXLOG.read_text().splitlines()[0])
    f = tmp_path / "mixed.ndjson"
    f.write_text(
        json.dumps(line)
        + "\n"
        + json.dumps({**line, "Channel": "Application", "SourceName": "SomeVendorApp"})
        + "\n"
    )
    p, rows, quarantined = parse(f)
    assert (len(rows), p.skipped, quarantined) == (1, 1, [])


def _bad(path: Path) -> str:
    """One broken record in ``path``'s own layout."""
    if path == NXLOG:
        return json.dumps({**json.loads(path.read_text().splitlines()[4]), "EventTime": "soon"})
    if path == SENTINEL_LINES:
        return json.dumps({**json.loads(path.read_text().splitlines()[4]), "EventID": "forty"})
    if path == ELASTIC:
        hit = json.loads(path.read_text().splitlines()[4])
        del hit["_source"]["winlog"]["event_id"]
        return json.dumps(hit)
    raise AssertionError(path)


@pytest.mark.parametrize(
    "path,reason",
    [
        (NXLOG, "missing or unparseable TimeCreated"),
        (SENTINEL_LINES, "missing or non-numeric EventID"),
        (ELASTIC, "missing or non-numeric EventID"),
    ],
    ids=lambda x: getattr(x, "name", None),
)
def test_a_bad_line_is_quarantined_and_the_rest_kept(tmp_path, path, reason):
    lines = path.read_text().splitlines()
    f = tmp_path / path.name
    f.write_text("\n".join([*lines[:10], _bad(path), "{not json", *lines[10:]]) + "\n")
    p, rows, quarantined = parse(f)
    assert len(rows) == 30
    assert {q["raw_offset"]: q["reason"] for q in quarantined} == {
        11: reason,
        12: "malformed JSON",
    }
    assert p.records == len(rows) + len(quarantined) + p.skipped


def test_a_bad_element_of_a_sentinel_array_is_quarantined(tmp_path):
    rows = json.loads(SENTINEL.read_text())
    bad = {**rows[4], "TimeGenerated": "yesterday"}
    del bad["EventID"]
    f = tmp_path / "securityevent.json"
    f.write_text(json.dumps([*rows[:5], bad, ["not", "an", "object"], *rows[5:]]))
    p, got, quarantined = parse(f)
    assert len(got) == 30
    assert {q["raw_offset"]: q["reason"] for q in quarantined} == {
        5: "missing or non-numeric EventID",
        6: "JSON record is not an object",
    }
    assert p.records == len(got) + len(quarantined) + p.skipped


def test_a_cut_splunk_event_is_quarantined_and_the_rest_kept(tmp_path):
    text = SPLUNK.read_text()
    events = text.split("<Event xmlns=")
    cut = events[5][: len(events[5]) // 2]  # bob's 4625, cut off mid-event
    f = tmp_path / "splunk.xml"
    f.write_text("<Event xmlns=".join([*events[:5], cut, *events[6:]]))
    p, rows, quarantined = parse(f)
    assert len(rows) == 29 and "bob" not in {r["user"] for r in rows}
    assert [q["reason"] for q in quarantined] == ["truncated XML event (no </Event>)"]
    assert p.records == len(rows) + len(quarantined) + p.skipped


def test_lake_ingests_every_layout_with_nothing_quarantined(lake, tmp_path):
    d = tmp_path / "shipped"
    d.mkdir()
    for f in SHIPPED:
        shutil.copy(f, d / f.name)
    results = lake.ingest([d])
    assert {r.source for r in results} == {"windows"} and len(results) == len(SHIPPED)
    for res in results:
        assert res.note is None and res.quarantined == 0, res
        assert (res.read, res.routed_rows, res.skipped) == (37, 30, 7), res


def test_other_formats_are_not_claimed():
    for head in (
        # Entra SigninLogs from Log Analytics
        '{"TimeGenerated": "2026-03-02T09:00:00Z", "ResultType": "50126", '
        '"UserPrincipalName": "a@x", "Category": "SignInLogs"}',
        # Log Analytics Syslog table: a Computer, no event id
        '{"TimeGenerated": "2026-03-02T09:00:00Z", "Computer": "bastion1", '
        '"Facility": "auth", "SyslogMessage": "Accepted password for a"}',
        # NXLog shipping a Linux file: no EventID
        '{"EventTime": "2026-03-02 09:00:00", "Hostname": "bastion1", '
        '"SourceName": "sshd", "Message": "Accepted password"}',
        '{"eventVersion": "1.08", "eventID": "x", "eventSource": "s3.amazonaws.com"}',
        '{"eventType": "user.session.start", "published": "x", "actor": {}}',
    ):
        assert not windows_security.sniff(head), head


def test_absurd_times_are_quarantined_not_stored(tmp_path):
    """A number too large for a timestamp, a year past 2199, the FILETIME epoch a
    broken record shows: quarantined with a reason, never a crash or a row in 99999."""
    line = json.loads(NXLOG.read_text().splitlines()[4])
    values = ["1" * 40, "99999-01-01T00:00:00Z", "1601-01-01 00:00:00", "2026-03-02 09:01:10"]
    f = tmp_path / "times.ndjson"
    f.write_text("".join(json.dumps({**line, "EventTime": v}) + "\n" for v in values))
    p, rows, quarantined = parse(f)
    assert len(rows) == 1
    assert {q["raw_offset"]: q["reason"] for q in quarantined} == {
        1: "missing or unparseable TimeCreated",
        2: "TimeCreated out of range (before 1970 or after 2199)",
        3: "TimeCreated out of range (before 1970 or after 2199)",
    }
