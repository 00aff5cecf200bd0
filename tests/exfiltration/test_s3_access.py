"""S3 server access logs on AWS's own documented example records (see fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from crownwatch.sources import s3_access, sniff

FIX = Path(__file__).parent / "fixtures"


def _rows(lake, table="api_activity"):
    con = duckdb.connect()
    return (
        con.sql(f"SELECT * FROM {lake.table_sql(table)} ORDER BY raw_offset")
        .to_arrow_table()
        .to_pylist()
    )


def test_sniffs_aws_doc_example():
    assert sniff(FIX / "s3_access_aws_docs.log") is s3_access
    assert not s3_access.sniff('{"Records": []}')


def test_parses_every_documented_field_and_quarantines_the_rest(lake):
    (res,) = lake.ingest([FIX / "s3_access_aws_docs.log"])
    assert res.source == "s3_access"
    assert (res.read, res.rows["api_activity"], res.quarantined) == (8, 6, 2)
    rows = _rows(lake)
    first = rows[0]
    assert first["api_operation"] == "REST.GET.VERSIONING"
    assert first["resource"] == "s3://amzn-s3-demo-bucket1"
    assert first["bytes_out"] == 113 and first["src_ip"] == "192.0.2.3"
    assert first["auth_method"] == "AuthHeader" and first["tls_version"] == "TLSV1.2"
    assert first["account"] == "123456789012" and first["region"] == "us-west-1"
    assert first["raw_id"] == "3E57427F3EXAMPLE" and first["principal_type"] == "CanonicalUser"
    assert first["time"].isoformat() == "2019-02-06T00:00:38+00:00"
    # 2014 layout: ends at the version id, error code kept, '-' bytes become 0
    old = rows[2]
    assert (old["status"], old["error_code"], old["tls_version"]) == (
        "failure",
        "NoSuchBucketPolicy",
        None,
    )
    put = rows[3]
    assert (put["api_operation"], put["object_key"], put["bytes_out"]) == (
        "REST.PUT.OBJECT",
        "s3-dg.pdf",
        0,
    )
    # presigned GET of a safetensors shard by an IAM role
    shard = rows[4]
    assert shard["principal"] == "arn:aws:sts::111122223333:assumed-role/ml-researcher/mallory"
    assert (shard["principal_type"], shard["principal_account"]) == ("AssumedRole", "111122223333")
    assert shard["auth_method"] == "QueryString"
    assert shard["resource"] == "s3://nw-model-weights/frontier/v3/model-00001-of-00008.safetensors"
    assert shard["bytes_out"] == shard["object_size"] == 4983245312
    assert shard["user_agent"].startswith("aws-cli/2.15.30")
    # URL-encoded key decoded; anonymous caller named
    anon = rows[5]
    assert anon["object_key"] == "frontier/v3/config final.json"
    assert (anon["principal"], anon["status"], anon["auth_method"]) == (
        "anonymous",
        "failure",
        None,
    )
    reasons = sorted(r["reason"] for r in _rows(lake, "quarantine"))
    assert reasons == ["not an S3 server access log record", "unparseable time"]


def test_reingest_adds_nothing(lake):
    lake.ingest([FIX / "s3_access_aws_docs.log"])
    (again,) = lake.ingest([FIX / "s3_access_aws_docs.log"])
    assert again.status == "duplicate"
    assert len(_rows(lake)) == 6


def test_split_path_and_grammar_regex_give_the_same_row(lake, tmp_path):
    """Lines are split on quotes then spaces; a quoted field holding an escaped quote
    takes the 27-group grammar regex instead. Both must produce the same columns."""
    shard = (FIX / "s3_access_aws_docs.log").read_text().splitlines()[4]
    escaped = shard.replace('"aws-cli/2.15.30', '"aws-cli \\"x\\" 2.15.30').replace(
        "5B7D2C91E0", "5B7D2C91E1"
    )
    newer = shard.replace(
        " - - -", " arn:aws:s3:us-east-1:999988887777:accesspoint/ap Yes us-east-1 later-field"
    )
    f = tmp_path / "2026-03-02-03-00-00-0123456789ABCDEF"
    f.write_text("\n".join([shard, escaped, newer, "", "garbage"]) + "\n")
    (res,) = lake.ingest([f])
    assert (res.read, res.rows["api_activity"], res.quarantined) == (4, 3, 1)
    plain, esc, new = _rows(lake)
    assert (
        esc["user_agent"]
        == 'aws-cli \\"x\\" 2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22'
    )
    skip = {"user_agent", "raw_id", "raw_offset"}
    assert {k: v for k, v in esc.items() if k not in skip} == {
        k: v for k, v in plain.items() if k not in skip
    }
    # access point in another account than the requester's: cross-account; trailing fields ignored
    assert (new["account"], new["principal_account"], new["is_cross_account"]) == (
        "999988887777",
        "111122223333",
        True,
    )
    assert (plain["account"], plain["is_cross_account"], plain["region"]) == (
        None,
        None,
        "us-east-1",
    )
