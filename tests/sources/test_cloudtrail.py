"""AWS CloudTrail: S3-delivered documents (plain and gzip), JSON lines, EventBridge
envelopes, console sign-ins copied to ``authentication``, the S3 fields the
exfiltration detections key on, quarantine and truncated uploads.

Fixtures (see ``tests/fixtures/cloudtrail/README.md``) are the AWS documentation's
own examples where AWS publishes one, otherwise built field for field on them.
"""

from __future__ import annotations

import gzip
import json
import shutil

import duckdb
import pytest

from crownwatch.sources import cloudtrail, entra, okta, sniff
from tests.conftest import FIXTURES

# no module fixtures: each test may run on any worker (tests/conftest.py)
pytestmark = pytest.mark.spread

D = FIXTURES / "cloudtrail"
SIGNINS = D / "console_signins.json"
S3 = D / "s3_and_management.json"
LINES = D / "events.jsonl"
EVENTBRIDGE = D / "eventbridge.jsonl"


def q(lake, table, cols, where="true"):
    return duckdb.sql(
        f"SELECT {cols} FROM {lake.table_sql(table)} WHERE {where} ORDER BY raw_source, raw_offset"
    ).fetchall()


def gz(tmp_path, src, name=None):
    out = tmp_path / (name or src.name + ".gz")
    out.write_bytes(gzip.compress(src.read_bytes()))
    return out


def test_sniff_claims_cloudtrail_in_every_shape_and_nothing_else(tmp_path):
    for f in (SIGNINS, S3, LINES, EVENTBRIDGE):
        assert sniff(f) is cloudtrail, f
    renamed = tmp_path / "log.txt"
    shutil.copy(S3, renamed)
    assert sniff(renamed) is cloudtrail
    assert sniff(gz(tmp_path, S3)) is cloudtrail
    empty = tmp_path / "quiet.json"
    empty.write_text('{"Records":[]}')
    assert sniff(empty) is cloudtrail
    # Okta and Entra files are not CloudTrail
    assert sniff(FIXTURES / "okta" / "system_log.jsonl") is okta
    assert sniff(FIXTURES / "entra" / "graph_signins.json") is entra
    # an S3 event notification has "Records" and "eventVersion" too, but is not a trail
    notification = tmp_path / "s3-event.json"
    notification.write_text(
        json.dumps(
            {
                "Records": [
                    {
                        "eventVersion": "2.1",
                        "eventSource": "aws:s3",
                        "awsRegion": "us-east-1",
                        "eventTime": "2026-03-03T02:11:09.000Z",
                        "eventName": "ObjectCreated:Put",
                        "userIdentity": {"principalId": "AWS:AIDAQRSTUVWXYZEXAMPLE"},
                        "s3": {
                            "bucket": {"name": "nw-model-weights"},
                            "object": {"key": "a", "size": 1},
                        },
                    }
                ]
            }
        )
    )
    assert not cloudtrail.sniff(notification.read_text())


def test_console_signins_map_to_reasons_users_and_mfa(lake):
    (res,) = lake.ingest([SIGNINS])
    assert (res.source, res.read, res.quarantined) == ("cloudtrail", 8, 0)
    # every event is API activity; the seven ConsoleLogins are also sign-ins (copies)
    assert res.rows == {"api_activity": 8, "authentication": 7}
    assert res.read == res.routed_rows + res.quarantined
    got = q(
        lake,
        "authentication",
        '"user", user_uid, src_ip, auth_protocol, status, reason, status_detail, raw_id',
    )
    assert got == [
        (
            "anaya",
            "AIDACKCEVSQ6C2EXAMPLE",
            "192.0.2.0",
            "password",
            "success",
            "success",
            None,
            "3fcfb182-98f8-4744-bd45-10a395ab61cb",
        ),
        (
            "anaya",
            "AIDACKCEVSQ6C2EXAMPLE",
            "192.0.2.0",
            "password+mfa",
            "success",
            "success",
            None,
            "fed06f42-cb12-4764-8c69-121063dc79b9",
        ),
        (
            "anaya",
            "AIDACKCEVSQ6C2EXAMPLE",
            "192.0.2.0",
            "password+mfa",
            "failure",
            "bad_password",
            "Failed authentication",
            "d38ce1b3-4575-4cb8-a632-611b8243bfc3",
        ),
        (
            "root@111122223333",
            "AIDACKCEVSQ6C2EXAMPLE",
            "192.0.2.0",
            "password",
            "success",
            "success",
            None,
            "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
        ),
        (
            "root@111122223333",
            "AIDACKCEVSQ6C2EXAMPLE",
            "192.0.2.0",
            "password",
            "failure",
            "bad_password",
            "Failed authentication",
            "a4fbbe77-91a0-4238-804a-64314184edb6",
        ),
        # AWS hides the name that was typed: no pseudo-user
        (
            None,
            None,
            "192.0.2.101",
            "password",
            "failure",
            "unknown_user",
            "No username found in supplied account",
            "a7654656-0417-45c6-9386-ea8231385051",
        ),
        # SSO federation: the role session name is the person
        (
            "jane.doe",
            "AROAEXAMPLEROLEID1234:Jane.Doe@northwind-ai.com",
            "198.51.100.10",
            "federated",
            "success",
            "success",
            None,
            "9b1a6c2e-3f0d-4d8e-a1c7-5e2f8b9d0a11",
        ),
    ]
    # CheckMfa stays API activity only
    assert q(lake, "api_activity", "api_operation, status", "raw_offset = 3") == [
        ("CheckMfa", "success")
    ]
    assert q(lake, "api_activity", "status, error_code", "raw_offset = 6") == [
        ("failure", "No username found in supplied account")
    ]
    services = {r[0] for r in q(lake, "authentication", "service")}
    assert services == {"aws-console:111122223333", "aws-console:123456789012"}


def test_s3_fields_for_exfiltration_detections(lake):
    (res,) = lake.ingest([S3])
    assert (res.read, res.rows, res.quarantined) == (
        12,
        {"api_activity": 12, "authentication": 0},
        0,
    )
    cols = (
        "api_operation, principal, principal_type, principal_account, src_ip, auth_method, resource,"
        " bucket, object_key, bytes_out, bytes_in, status, error_code, is_cross_account"
    )
    got = {r[-1]: r[:-1] for r in q(lake, "api_activity", cols + ", raw_offset")}
    me = "arn:aws:iam::111122223333:user/ml-pipeline"
    w = "nw-model-weights"
    shard1 = "llm-70b/ckpt-0042/model-00001-of-00030.safetensors"
    assert got[0] == (
        "GetObject",
        me,
        "IAMUser",
        "111122223333",
        "203.0.113.50",
        "AuthHeader",
        f"s3://{w}/{shard1}",
        w,
        shard1,
        4932501504,
        0,
        "success",
        None,
        False,
    )
    # presigned URL fetched from elsewhere
    assert got[1][4:6] == ("185.220.101.4", "QueryString")
    assert got[1][9] == 4929339392
    assert got[2][:1] + got[2][6:8] == ("PutBucketPolicy", f"s3://{w}", w)
    # the S3 guide's PutBucketAcl: empty bucketName and sourceIPAddress are not values
    assert got[3][:1] + got[3][4:5] + got[3][6:8] == ("PutBucketAcl", None, None, None)
    assert got[4][0] == "PutBucketReplication" and got[4][6] == f"s3://{w}"
    # CopyObject: the destination in bucket/key; the source stays in request_parameters
    assert got[5][6:9] == ("s3://nw-scratch/tmp/m3.bin", "nw-scratch", "tmp/m3.bin")
    (rp,) = q(lake, "api_activity", "request_parameters", "raw_offset = 5")[0]
    assert (
        json.loads(rp)["x-amz-copy-source"]
        == f"{w}/llm-70b/ckpt-0042/model-00003-of-00030.safetensors"
    )
    assert got[6][0] == "DeleteObject"
    # snapshot sharing carries no resources[]: the snapshot id is the resource
    assert got[7][0] == "ModifySnapshotAttribute" and got[7][6] == "snap-0b5f4e1a2c3d4e5f6"
    assert got[7][7] is None
    # another account's role reading our bucket, over IPv6
    assert got[8][1:5] == (
        "arn:aws:sts::444455556666:assumed-role/partner-etl/etl-job",
        "AssumedRole",
        "444455556666",
        "2001:db8:85a3::8a2e:370:7334",
    )
    assert got[8][-1] is True
    # anonymous public read is cross-account too
    assert got[9][1:3] == ("anonymous", "AWSAccount") and got[9][-1] is True
    # a service acting for itself: sourceIPAddress is a name, not an address
    assert got[10][1:5] == ("ec2.amazonaws.com", "AWSService", None, None)
    assert got[11][11:13] == ("failure", "AccessDenied")
    # request_parameters keeps the whole object
    (rp,) = q(lake, "api_activity", "request_parameters", "raw_offset = 2")[0]
    assert json.loads(rp)["bucketPolicy"]["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::444455556666:root"
    }
    (acct, region, svc, raw_id) = q(
        lake, "api_activity", "account, region, api_service, raw_id", "raw_offset = 0"
    )[0]
    assert (acct, region, svc, raw_id) == (
        "111122223333",
        "us-east-1",
        "s3.amazonaws.com",
        "f2b287f3-0df1-4a1e-a2f4-c4bdfed47657",
    )


def test_gzip_document_reads_the_same(lake, tmp_path):
    (res,) = lake.ingest([gz(tmp_path, S3)])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("cloudtrail", 12, 12, 0)
    assert [r[0] for r in q(lake, "api_activity", "raw_offset")] == list(range(12))


def test_json_lines_quarantine_with_reasons_and_counts_add_up(lake):
    (res,) = lake.ingest([LINES])
    assert res.read == 8  # the blank line is not a record
    assert res.rows == {"api_activity": 3, "authentication": 1}
    assert res.quarantined == 5
    assert res.read == res.routed_rows + res.quarantined
    assert q(lake, "quarantine", "raw_offset, reason") == [
        (3, "malformed JSON"),
        (5, "JSON record is not an object"),
        (6, "missing eventTime"),
        (7, "unparseable eventTime"),
        (8, "missing eventName"),
    ]
    # line numbers are provenance for the good rows
    assert [r[0] for r in q(lake, "api_activity", "raw_offset")] == [1, 2, 9]


def test_eventbridge_envelopes_are_unwrapped(lake):
    (res,) = lake.ingest([EVENTBRIDGE])
    assert (res.read, res.rows, res.quarantined) == (2, {"api_activity": 2, "authentication": 1}, 0)
    assert q(lake, "api_activity", "api_operation, bucket") == [
        ("ConsoleLogin", None),
        ("PutBucketPolicy", "nw-model-weights"),
    ]


def test_lookup_events_output_is_read(lake, tmp_path):
    events = json.loads(S3.read_text())["Records"][:2]
    out = tmp_path / "lookup.json"
    out.write_text(
        json.dumps(
            {
                "Events": [
                    {
                        "EventId": e["eventID"],
                        "EventName": e["eventName"],
                        "ReadOnly": "true",
                        "EventTime": e["eventTime"],
                        "EventSource": e["eventSource"],
                        "Username": "ml-pipeline",
                        "Resources": [],
                        "CloudTrailEvent": json.dumps(e),
                    }
                    for e in events
                ]
            },
            indent=2,
        )
    )
    (res,) = lake.ingest([out])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("cloudtrail", 2, 2, 0)
    assert [r[0] for r in q(lake, "api_activity", "bytes_out")] == [4932501504, 4929339392]


@pytest.mark.parametrize("cut", [0.35, 0.6, 0.9])
def test_truncated_gzip_keeps_every_complete_record(lake, tmp_path, cut):
    data = gzip.compress(S3.read_bytes())
    broken = tmp_path / "111122223333_CloudTrail_us-east-1_20260303T0210Z_partial.json.gz"
    broken.write_bytes(data[: int(len(data) * cut)])
    (res,) = lake.ingest([broken])
    assert res.source == "cloudtrail" and res.status == "ingested"
    assert res.read == res.routed_rows + res.quarantined
    assert res.quarantined == 1 and res.routed_rows >= 1
    (reason,) = q(lake, "quarantine", "reason")[0]
    assert "truncated" in reason and "gzip" in reason
    # the records kept are exactly the first N of the file, verbatim
    offsets = [r[0] for r in q(lake, "api_activity", "raw_offset")]
    assert offsets == list(range(len(offsets)))


def test_truncated_plain_document_and_syntax_error(lake, tmp_path):
    text = S3.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    bad = tmp_path / "bad.json"
    recs = json.loads(text)["Records"]
    bad.write_text(
        '{"Records": [' + json.dumps(recs[0]) + ", " + json.dumps(recs[1]) + " {oops} ]}"
    )
    res_cut, res_bad = lake.ingest([cut, bad])
    assert res_cut.quarantined == 1 and res_cut.read == res_cut.routed_rows + 1 >= 2
    assert (res_bad.read, res_bad.routed_rows, res_bad.quarantined) == (3, 2, 1)
    reasons = sorted(r[0] for r in q(lake, "quarantine", "reason"))
    assert "corrupt after Records[1]" in reasons[0] + reasons[1]


def test_unusable_document_is_quarantined_whole(lake, tmp_path):
    notarray = tmp_path / "x.json"
    notarray.write_text('{"Records": {"eventVersion": "1.08", "userIdentity": {}}}')
    (res,) = lake.ingest([notarray])
    assert (res.source, res.read, res.quarantined) == ("cloudtrail", 1, 1)
    assert (
        'expected a JSON object whose "Records" is an array'
        in q(lake, "quarantine", "reason")[0][0]
    )


def test_empty_interval_file_has_no_records(lake, tmp_path):
    empty = tmp_path / "quiet.json.gz"
    empty.write_bytes(gzip.compress(b'{"Records":[]}'))
    (res,) = lake.ingest([empty])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("cloudtrail", 0, 0, 0)


def test_reingest_is_idempotent(lake, tmp_path):
    lake.ingest([SIGNINS, S3])
    before = (len(q(lake, "api_activity", "1")), len(q(lake, "authentication", "1")))
    copy = tmp_path / "again.json"
    shutil.copy(S3, copy)
    results = lake.ingest([SIGNINS, S3, copy])
    assert [r.status for r in results] == ["duplicate"] * 3
    assert (len(q(lake, "api_activity", "1")), len(q(lake, "authentication", "1"))) == before


def test_simulator_output_ingests_without_quarantine(lake, tmp_path):
    """The simulator's Entra and CloudTrail writers (crownwatch.simulate) and these
    sources agree: nothing it writes is quarantined, and every console sign-in it
    logged lands in ``authentication``."""
    from crownwatch.simulate.identity import generate_identity

    out = tmp_path / "sim"
    generate_identity(
        out, users=60, days=1, formats=("entra_graph", "entra_signinlogs", "cloudtrail")
    )
    results = [
        r
        for r in lake.ingest([out])
        if r.path.endswith((".json", ".json.gz")) and not r.path.endswith("truth.json")
    ]
    by_source = {r.source for r in results}
    assert by_source == {"cloudtrail", "entra"}
    assert sum(r.quarantined for r in results) == 0
    assert all(r.read == r.routed_rows and r.note is None for r in results)
    ct_auth = sum(r.rows.get("authentication", 0) for r in results if r.source == "cloudtrail")
    ct_logins = duckdb.sql(
        f"""SELECT count(*) FROM {lake.table_sql("api_activity")}
            WHERE api_operation = 'ConsoleLogin'"""
    ).fetchall()[0][0]
    assert ct_auth == ct_logins > 0
    assert sum(r.routed_rows for r in results if r.source == "entra") > 0
