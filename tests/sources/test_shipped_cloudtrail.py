"""AWS CloudTrail as SIEMs and shippers deliver it: Logstash (``eventTime`` moved into
``@timestamp``), Elasticsearch hits and search responses, Splunk HEC events and search
exports, Sentinel's ``AWSCloudTrail`` table — each read into the rows the trail's own
files give, its bad record quarantined with a reason, and a console password spray
shipped through Logstash found beside its benign twin.

Fixtures: ``tests/fixtures/shipped/`` (see its README for where each layout comes
from); the unwrapped reference is ``tests/fixtures/cloudtrail``.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from crownwatch.sources import cloudtrail, sniff
from tests.conftest import FIXTURES, by_detection, hunt
from tests.fixtures.shipped.make_fixtures import (
    cloudtrail_events,
    hec,
    logstash_cloudtrail,
    sentinel_cloudtrail,
)

SH = FIXTURES / "shipped"
BARE = [
    FIXTURES / "cloudtrail" / "console_signins.json",
    FIXTURES / "cloudtrail" / "s3_and_management.json",
]

# layout → (records read, skipped, (raw_offset, reason) of the one bad record)
LAYOUTS = {
    "cloudtrail_logstash.jsonl": (21, 0, (21, "malformed JSON")),
    "cloudtrail_elasticsearch_hits.jsonl": (
        21,
        0,
        (21, "Elasticsearch _source: not a JSON object"),
    ),
    "cloudtrail_elasticsearch_search.json": (
        21,
        0,
        (20, "Elasticsearch _source: missing eventSource"),
    ),
    "cloudtrail_splunk_hec.jsonl": (21, 0, (21, "Splunk HEC event: malformed JSON")),
    # a preview row and the closing lastrow line are skipped
    "cloudtrail_splunk_export.jsonl": (
        23,
        2,
        (7, "Splunk _raw: missing (a table export, not events)"),
    ),
    "cloudtrail_sentinel.json": (21, 0, (20, "Sentinel AWSCloudTrail: missing TimeGenerated")),
    "cloudtrail_sentinel.jsonl": (21, 0, (21, "Sentinel AWSCloudTrail: missing TimeGenerated")),
}


def rows(lake, table):
    """Every column but where the row came from, in a stable order."""
    return duckdb.sql(
        f"""SELECT * EXCLUDE (raw_source, raw_offset)
            FROM {lake.table_sql(table)}
            ORDER BY ALL"""
    ).fetchall()


def quarantined(lake):
    return duckdb.sql(
        f"SELECT raw_offset, reason, record FROM {lake.table_sql('quarantine')}"
    ).fetchall()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The rows of the same 20 events as the trail writes them."""
    from crownwatch.lake import Lake

    lake = Lake(tmp_path_factory.mktemp("bare") / "lake")
    res = lake.ingest(BARE)
    assert sum(r.quarantined for r in res) == 0
    return rows(lake, "api_activity"), rows(lake, "authentication")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_reads_the_trails_rows_and_quarantines_its_bad_record(lake, reference, name):
    path = SH / name
    assert sniff(path) is cloudtrail
    read, skipped, bad = LAYOUTS[name]
    (res,) = lake.ingest([path])
    assert (res.source, res.status, res.read, res.skipped) == (
        "cloudtrail",
        "ingested",
        read,
        skipped,
    )
    assert res.rows == {"api_activity": 20, "authentication": 7}
    assert res.quarantined == 1 and res.read == res.routed_rows + res.quarantined + res.skipped
    ((offset, reason, record),) = quarantined(lake)
    assert (offset, reason) == bad
    # the quarantine keeps the record as delivered, envelope and all
    assert record and record.strip()
    # the same data unwrapped gives identical rows, field for field
    assert (rows(lake, "api_activity"), rows(lake, "authentication")) == reference


def _without_bad_record(tmp_path, name):
    """The layout's file as a well-behaved pipeline writes it: no bad record."""
    src = SH / name
    out = tmp_path / name
    if name == "cloudtrail_elasticsearch_search.json":
        doc = json.loads(src.read_text())
        doc["hits"]["hits"] = doc["hits"]["hits"][:-1]
        out.write_text(json.dumps(doc, indent=2))
    elif name.endswith(".json"):
        out.write_text(json.dumps(json.loads(src.read_text())[:-1], indent=2))
    else:
        offset = LAYOUTS[name][2][0]
        lines = src.read_text().splitlines(keepends=True)
        out.write_text("".join(line for n, line in enumerate(lines, 1) if n != offset))
    return out


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_well_formed_input_quarantines_nothing(lake, tmp_path, name):
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(_without_bad_record(tmp_path, name).read_bytes()))
    assert sniff(gz) is cloudtrail
    (res,) = lake.ingest([gz])
    assert (res.quarantined, res.routed_rows) == (0, 20)


def test_logstash_time_is_the_events_time(lake):
    """The codec moved eventTime into @timestamp: that is when the call happened."""
    lake.ingest([SH / "cloudtrail_logstash.jsonl"])
    got = duckdb.sql(
        f"""SELECT raw_id, time FROM {lake.table_sql("api_activity")}
            WHERE raw_id = 'f2b287f3-0df1-4a1e-a2f4-c4bdfed47657'"""
    ).fetchall()
    assert [(i, t.astimezone(UTC).isoformat()) for i, t in got] == [
        ("f2b287f3-0df1-4a1e-a2f4-c4bdfed47657", "2026-03-03T02:11:09+00:00")
    ]


def test_a_vendor_time_beats_logstashs_ingest_time(lake, tmp_path):
    """Logstash's json codec keeps eventTime and stamps @timestamp with the time it
    read the line: eventTime wins."""
    e = cloudtrail_events()[8]
    doc = {"@timestamp": "2026-03-09T00:00:00.000Z", "@version": "1", **e}
    f = tmp_path / "json-codec.jsonl"
    f.write_text(json.dumps(doc) + "\n")
    lake.ingest([f])
    (t,) = duckdb.sql(f"SELECT time FROM {lake.table_sql('api_activity')}").fetchall()[0]
    assert t == datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00"))


def test_file_that_changes_shape_after_its_head_loses_nothing(lake, tmp_path):
    """Bare records first, Logstash documents after the first 4 KiB: the wrapped ones
    are read too (the rejects of a bare read are looked at again)."""
    events = cloudtrail_events()
    f = tmp_path / "mixed.jsonl"
    f.write_text(
        "".join(json.dumps(e) + "\n" for e in events[:10])
        + "".join(json.dumps(logstash_cloudtrail(e)) + "\n" for e in events[10:])
    )
    (res,) = lake.ingest([f])
    assert (res.read, res.routed_rows, res.quarantined) == (20, 20, 0)


def test_hostile_envelopes_are_quarantined_never_fatal(lake, tmp_path):
    e = cloudtrail_events()[8]
    lines = [
        hec(e, e["eventTime"], "aws:cloudtrail", "x"),  # good
        {"_index": "i", "_id": "1", "_source": ["not", "an", "object"]},
        {"_index": "i", "_id": "2", "_source": {"@timestamp": "garbage", "eventVersion": "1.08"}},
        {"preview": False, "result": {"_raw": '{"eventVersion": "1.08", truncated'}},
        {"preview": False, "result": {"_raw": 42}},
        {"time": 1, "sourcetype": "aws:cloudtrail", "event": 12},
        {"time": 1, "sourcetype": "aws:cloudtrail", "event": "'; DROP TABLE api_activity; --"},
        dict(sentinel_cloudtrail(e, precise=False), TimeGenerated="2026-02-30T25:00:00Z"),
    ]
    f = tmp_path / "hostile.jsonl"
    f.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"_source": \n')
    (res,) = lake.ingest([f])
    assert res.status == "ingested" and res.source == "cloudtrail"
    assert (res.read, res.routed_rows, res.quarantined) == (9, 1, 8)
    reasons = [r[1] for r in sorted(quarantined(lake))]
    assert reasons == [
        "Elasticsearch _source: not a JSON object",
        "Elasticsearch _source: unparseable eventTime",
        "Splunk _raw: malformed JSON",
        "Splunk _raw: JSON record is not an object",
        "Splunk HEC event: not a JSON object",
        "Splunk HEC event: malformed JSON",
        "Sentinel AWSCloudTrail: unparseable TimeGenerated",
        "malformed JSON",
    ]


# -- a console password spray shipped through Logstash, and its benign twin -----------

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
_FAILURE = json.loads((BARE[0]).read_text())["Records"][2]  # AWS's documented IAM failure
_SUCCESS = json.loads((BARE[0]).read_text())["Records"][0]  # and success


def _console(n: int, t: datetime, user: str, ip: str, ok: bool) -> dict:
    """A ConsoleLogin record, field for field AWS's documented IAM-user example."""
    e = copy.deepcopy(_SUCCESS if ok else _FAILURE)
    e["userIdentity"].update(
        principalId=f"AIDA{n:016d}",
        arn=f"arn:aws:iam::111122223333:user/{user}",
        accountId="111122223333",
        userName=user,
    )
    e["eventTime"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    e["sourceIPAddress"] = ip
    e["recipientAccountId"] = "111122223333"
    e["eventID"] = f"5c0e9a1b-2d3f-4a6e-8b9c-{n:012d}"
    return e


def spray(ip="45.61.140.7"):
    """One address, one password, 14 IAM users: nobody gets in."""
    return [
        _console(i, T0 + timedelta(seconds=41 * i), f"ml-user{i:02d}", ip, ok=False)
        for i in range(14)
    ]


def rotation(ip="198.51.100.1"):
    """The morning after a forced password change: 14 people mistype the new password
    once at the office, then sign in from the same NAT."""
    out = []
    for i in range(14):
        t = T0 + timedelta(seconds=53 * i)
        out.append(_console(1000 + 2 * i, t, f"staff{i:02d}", ip, ok=False))
        out.append(_console(1001 + 2 * i, t + timedelta(seconds=40), f"staff{i:02d}", ip, ok=True))
    return out


def _shipped(tmp_path, events, layout):
    if layout == "logstash":
        f = tmp_path / "logstash-cloudtrail.jsonl"
        f.write_text("".join(json.dumps(logstash_cloudtrail(e)) + "\n" for e in events))
    else:
        f = tmp_path / "AWSCloudTrail.json"
        f.write_text(json.dumps([sentinel_cloudtrail(e, precise=False) for e in events]))
    return f


DET = "identity.password_spray"


@pytest.mark.parametrize("layout", ["logstash", "sentinel"])
def test_console_spray_shipped_is_found(lake, tmp_path, layout):
    found = by_detection(hunt(lake, _shipped(tmp_path, spray(), layout), only=[DET]), DET)
    assert len(found) == 1, found
    (f,) = found
    assert f["entities"]["src_ip"] == ["45.61.140.7"]
    assert len(f["entities"]["user"]) == 14
    assert f["evidence"]["unrecovered_users"] == 14


@pytest.mark.parametrize("layout", ["logstash", "sentinel"])
def test_office_nat_after_rotation_shipped_stays_quiet(lake, tmp_path, layout):
    assert by_detection(hunt(lake, _shipped(tmp_path, rotation(), layout), only=[DET]), DET) == []
