"""The chain's derived identity links, kept for the responder. The exfiltration
detections' attacks and look-alikes are their scenarios (``*_scenarios.py`` beside
each detection, run by tests/test_detection_scenarios.py)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.parquet as pq

from crownwatch.testing.storage import (
    SHARDS,
    T0,
    jsonl,
    okta_spray,
    okta_success,
    role,
    s3_line,
    use_registry,
    weights_rhythm,
    write_lines,
)
from tests.conftest import by_detection, hunt

DAY9 = T0 + timedelta(days=9)
STAFF = [f"user{i:02d}@northwind-ai.com" for i in range(14)] + ["alice@northwind-ai.com"]
CHAIN = ["identity", "exfiltration.jewel_access_after_identity"]
ALICE = role("AWSReservedSSO_Researcher_0a1b2c3d", "alice@northwind-ai.com")
SPRAY_IP = "198.51.100.66"


def _hunt(lake, tmp_path, monkeypatch, det, s3_extra=(), okta=(), only=None):
    conf = use_registry(tmp_path, monkeypatch)
    paths = [write_lines(tmp_path / "logs" / "s3.log", weights_rhythm(10) + list(s3_extra))]
    if okta:
        paths.append(jsonl(tmp_path / "logs" / "okta.jsonl", list(okta)))
    return by_detection(hunt(lake, *paths, only=only or [det], config=conf), det)


def _reads(ts, ip: str, ua: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0") -> list[str]:
    return [
        s3_line(
            ts + timedelta(minutes=i), "nw-model-weights", ALICE, k, 4_983_245_312, ip=ip, ua=ua
        )
        for i, k in enumerate(SHARDS)
    ]


def test_compromised_user_pulls_the_weights_from_the_attacker_is_critical(
    lake, tmp_path, monkeypatch
):
    spray = okta_spray(DAY9 - timedelta(hours=6), STAFF)
    # the guess worked: alice signs in from the spraying address, then pulls every shard
    spray.append(okta_success(DAY9 - timedelta(hours=5), "alice@northwind-ai.com", SPRAY_IP))
    found = _hunt(
        lake,
        tmp_path,
        monkeypatch,
        "exfiltration.jewel_access_after_identity",
        s3_extra=_reads(DAY9 + timedelta(hours=2), SPRAY_IP, ua="python-requests/2.31.0"),
        okta=spray,
        only=CHAIN,
    )
    assert len(found) == 1, found
    f = found[0]
    assert f["severity"] == "critical"
    assert f["entities"]["user"] == ["alice"]
    assert f["entities"]["asset"] == ["frontier-weights"]
    ev = f["evidence"]
    assert "compromise:identity.success_after_spray" in ev["reasons"]
    assert "attack_address" in ev["reasons"]
    assert ev["links"] == ["role_session"]
    # the links the chain joined through are kept for the responder, with how each was learned
    links = pq.read_table(lake.root / "derived" / "identity_links.parquet").to_pylist()
    assert {(r["user"], r["principal"], r["how"]) for r in links} >= {
        ("alice", ALICE, "role_session")
    }
    assert not [r for r in links if r["principal"].startswith(role("nightly-train", ""))]


def test_a_pull_object_by_object_is_cut_in_the_engine(lake, tmp_path, monkeypatch, engine_rows):
    """A compromised account copying 600 objects one by one: the chain's finding cites
    the first 25 reads in line order and counts them all, and the row the engine returns
    already holds only those 25 — a real copy is millions of reads, each joined to
    every identity finding about the account (1M of them ran out of memory under the
    default bound while the lists came back whole)."""
    spray = okta_spray(DAY9 - timedelta(hours=6), STAFF)
    spray.append(okta_success(DAY9 - timedelta(hours=5), "alice@northwind-ai.com", SPRAY_IP))
    pulls = [
        s3_line(
            DAY9 + timedelta(hours=2, seconds=i),
            "nw-model-weights",
            ALICE,
            f"frontier/v3/chunks/chunk-{i:04d}.bin",
            1_000_000,
            ip=SPRAY_IP,
        )
        for i in range(600)
    ]
    det = "exfiltration.jewel_access_after_identity"
    (f,) = _hunt(lake, tmp_path, monkeypatch, det, s3_extra=pulls, okta=spray, only=CHAIN)
    (row,) = [r for r in engine_rows if "identity_findings" in r]
    ev = f["evidence"]
    # the 600 and alice's own two reads of the day after the compromise began
    assert len(row["raw_refs"]) == 25 and row["raw_refs_total"] == ev["requests"] == 602
    assert ev["raw_records_total"] == 602 and ev["objects"] == 602
    lines = [int(r.rsplit("#", 1)[1]) for r in ev["raw_records"]]
    assert all(r.rsplit("#", 1)[0].endswith("s3.log") for r in ev["raw_records"])
    assert lines == sorted(lines) and len(set(lines)) == 25
    assert f["severity"] == "critical" and SPRAY_IP in f["entities"]["src_ip"]


def test_a_wiped_copy_is_cut_in_the_engine(lake, tmp_path, monkeypatch, engine_rows):
    """A principal reads 600 objects and deletes each an hour later: one finding, its row
    already cut to 25 delete records of 600, 25 keys and 25 read records."""
    keys = [f"frontier/v3/chunks/chunk-{i:04d}.bin" for i in range(600)]
    lines = [
        s3_line(DAY9 + timedelta(seconds=i), "nw-model-weights", ALICE, k, 1_000_000)
        for i, k in enumerate(keys)
    ]
    lines += [
        s3_line(
            DAY9 + timedelta(hours=1, seconds=i),
            "nw-model-weights",
            ALICE,
            k,
            0,
            op="REST.DELETE.OBJECT",
        )
        for i, k in enumerate(keys)
    ]
    det = "exfiltration.delete_after_copy"
    (f,) = _hunt(lake, tmp_path, monkeypatch, det, s3_extra=lines)
    (row,) = engine_rows
    assert len(row["raw_refs"]) == 25 and row["raw_refs_total"] == 600
    assert len(row["sample_keys"]) == 25 and len(row["read_records"]) == 25
    ev = f["evidence"]
    assert ev["objects_deleted"] == 600 and ev["raw_records_total"] == 600
    assert ev["sample_keys"] == keys[:25] and ev["delete_operations"] == ["REST.DELETE.OBJECT"]
