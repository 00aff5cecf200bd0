"""Okta System Log: JSON lines and API page, reason mapping, quarantine."""

from __future__ import annotations

import gzip
import json
import shutil
import zlib

import duckdb

from crownwatch.sources import okta, sniff
from tests.conftest import FIXTURES

LOG = FIXTURES / "okta" / "system_log.jsonl"
PAGE = FIXTURES / "okta" / "api_page.json"


def rows(lake, table):
    return duckdb.sql(f"SELECT * FROM {lake.table_sql(table)} ORDER BY raw_offset").fetchall()


def q(lake, table, cols):
    return duckdb.sql(f"SELECT {cols} FROM {lake.table_sql(table)} ORDER BY raw_offset").fetchall()


def _records() -> list[dict]:
    out = []
    for line in LOG.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return [r for r in out if isinstance(r, dict)]


def test_sniff_from_content_not_name(tmp_path):
    renamed = tmp_path / "whatever.log"
    shutil.copy(LOG, renamed)
    assert sniff(renamed) is okta
    assert sniff(PAGE) is okta


def test_reason_mapping_covers_every_okta_outcome(lake):
    (res,) = lake.ingest([LOG])
    got = dict(q(lake, "authentication", "raw_id, reason"))
    assert got == {
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a01": "success",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a02": "bad_password",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a03": "unknown_user",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a04": "locked",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a05": "mfa_required",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a06": "ca_blocked",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a07": "expired",
        "1f0e2b2a-d3c1-11ee-8c2a-6b3f1d2e4a08": "disabled",
    }
    # the non-sign-in event is kept, as API activity
    assert q(lake, "api_activity", "api_operation, principal") == [
        ("user.lifecycle.create", "admin@northwind-ai.com")
    ]


def test_fields_and_provenance(lake):
    lake.ingest([LOG])
    (first,) = duckdb.sql(
        f"""SELECT time, "user", user_uid, src_ip, src_asn, src_country, status, raw_offset, raw_source
            FROM {lake.table_sql("authentication")} WHERE raw_offset = 1"""
    ).fetchall()
    assert str(first[0]).startswith("2026-03-02 09:00:01.123")
    assert first[1:7] == (
        "alice",
        "00u1a2b3c4d5e6f7g8h9",
        "198.51.100.10",
        7922,
        "United States",
        "success",
    )
    assert first[8] == str(LOG)
    # the identity key is the login without its domain; the login stays as logged
    (ident,) = duckdb.sql(
        f"""SELECT user_raw, user_domain FROM {lake.table_sql("authentication")}
            WHERE raw_offset = 1"""
    ).fetchall()
    assert ident == ("alice@northwind-ai.com", "northwind-ai.com")
    # the unknown user's placeholder actor id is not an id
    (uid,) = duckdb.sql(
        f"""SELECT user_uid FROM {lake.table_sql("authentication")}
            WHERE reason = 'unknown_user'"""
    ).fetchall()[0]
    assert uid is None


def test_admin_events_name_actor_and_target_by_identity_key(lake, tmp_path):
    """Who acted on whom, as keys that join authentication.user: a helpdesk admin
    resets a user's factors; the system acts on nobody's behalf."""
    create = next(r for r in _records() if r["eventType"] == "user.lifecycle.create")
    reset = dict(
        create,
        uuid="7c1e0b2a-d3c1-11ee-8c2a-6b3f1d2e4a99",
        eventType="user.mfa.factor.reset_all",
        displayMessage="Reset all factors for user",
        target=[
            {
                "id": "00u9z8y7x6w5v4u3t2s1",
                "type": "User",
                "alternateId": "Bob.Smith@northwind-ai.com",
                "displayName": "Bob Smith",
                "detailEntry": None,
            }
        ],
    )
    system = dict(
        reset,
        uuid="7c1e0b2a-d3c1-11ee-8c2a-6b3f1d2e4a98",
        actor={"id": "0oa1", "type": "SystemPrincipal", "alternateId": "system@okta.com"},
    )
    f = tmp_path / "admin.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in (create, reset, system)))
    lake.ingest([f])
    assert q(lake, "api_activity", "api_operation, actor_user, target_user, target_type") == [
        ("user.lifecycle.create", "admin", None, None),
        ("user.mfa.factor.reset_all", "admin", "bob.smith", "User"),
        ("user.mfa.factor.reset_all", None, "bob.smith", "User"),
    ]


def test_bad_lines_are_quarantined_and_counts_add_up(lake):
    (res,) = lake.ingest([LOG])
    assert res.read == 13  # blank line is not a record
    assert res.rows == {"authentication": 8, "api_activity": 1}
    assert res.quarantined == 4
    assert res.read == res.routed_rows + res.quarantined
    reasons = q(lake, "quarantine", "raw_offset, reason")
    assert reasons == [
        (5, "malformed JSON"),
        (7, "JSON record is not an object"),
        (13, "unparseable published timestamp"),
        (14, "missing eventType"),
    ]


def test_api_page_array_and_gzip(lake, tmp_path):
    gz = tmp_path / "page.json.gz"
    gz.write_bytes(gzip.compress(PAGE.read_bytes()))
    (res,) = lake.ingest([gz])
    assert (res.source, res.read, res.rows["authentication"], res.quarantined) == ("okta", 3, 3, 0)
    # raw_offset is the index in the array
    assert [r[0] for r in q(lake, "authentication", "raw_offset")] == [0, 1, 2]


def test_reingest_adds_nothing_even_under_another_name(lake, tmp_path):
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(LOG, copy)
    lake.ingest([LOG])
    before = len(rows(lake, "authentication"))
    results = lake.ingest([LOG, copy])
    assert [r.status for r in results] == ["duplicate", "duplicate"]
    assert len(rows(lake, "authentication")) == before


def test_truncated_gzip_keeps_good_lines(lake, tmp_path):
    data = gzip.compress(LOG.read_bytes())
    broken = tmp_path / "cut.jsonl.gz"
    cut = data[: len(data) * 2 // 3]
    broken.write_bytes(cut)
    whole_lines = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).split(b"\n")[:-1]
    good = sum(1 for line in whole_lines if line.strip().startswith(b'{"actor"'))
    (res,) = lake.ingest([broken])
    assert res.source == "okta"
    assert res.read == res.routed_rows + res.quarantined
    assert good >= 2 and res.routed_rows == good
    reasons = [r[0] for r in q(lake, "quarantine", "reason")]
    assert any("truncated" in r for r in reasons)


def test_unrecognised_file_is_quarantined_not_lost(lake, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\nworld\n")
    (res,) = lake.ingest([junk])
    assert res.status == "unrecognised" and res.quarantined == 1
    assert q(lake, "quarantine", "reason, record") == [
        ("no source recognises this format", "hello\nworld\n")
    ]


def test_truncated_api_page_keeps_its_complete_records(lake, tmp_path):
    """A page cut off mid-download keeps every complete event before the break; the
    rest is one quarantined record that says where it broke."""
    data = gzip.compress(PAGE.read_bytes())
    cut = tmp_path / "page.json.gz"
    cut.write_bytes(data[: int(len(data) * 0.97)])
    (res,) = lake.ingest([cut])
    assert (res.source, res.status, res.read, res.routed_rows, res.quarantined) == (
        "okta",
        "ingested",
        3,
        2,
        1,
    )
    assert [r[0] for r in q(lake, "authentication", "raw_offset")] == [0, 1]
    (reason,) = q(lake, "quarantine", "reason")[0]
    assert "truncated" in reason and "array[2]" in reason
