"""first_access, transfer_out, delete_after_copy and jewel_access_after_identity: each
with its attack and the benign look-alike that must stay quiet."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.parquet as pq

from tests.conftest import by_detection, hunt
from tests.exfiltration._logs import (
    SHARDS,
    T0,
    cloudtrail,
    ct_event,
    jsonl,
    okta_spray,
    role,
    s3_line,
    use_registry,
    weights_rhythm,
    write_lines,
)


def _hunt(lake, tmp_path, monkeypatch, det, s3_extra=(), ct=(), okta=(), only=None):
    conf = use_registry(tmp_path, monkeypatch)
    paths = [write_lines(tmp_path / "logs" / "s3.log", weights_rhythm(10) + list(s3_extra))]
    if ct:
        paths.append(cloudtrail(tmp_path / "logs" / "ct.json.gz", list(ct)))
    if okta:
        paths.append(jsonl(tmp_path / "logs" / "okta.jsonl", list(okta)))
    return by_detection(hunt(lake, *paths, only=only or [det], config=conf), det)


# -- first access -------------------------------------------------------------------------

DAY9 = T0 + timedelta(days=9)


def test_first_access_by_an_unexpected_principal_fires(lake, tmp_path, monkeypatch):
    eve = role("ml-inference", "botocore-session-1772400000")
    extra = [
        s3_line(DAY9 + timedelta(hours=2, minutes=i), "nw-model-weights", eve, k, 4_983_245_312)
        for i, k in enumerate(SHARDS[:3])
    ]
    found = _hunt(lake, tmp_path, monkeypatch, "exfiltration.first_access", extra)
    assert len(found) == 1, found
    f = found[0]
    assert f["evidence"]["reasons"] == ["first_access"]
    assert f["entities"]["asset"] == ["frontier-weights"]


def test_presigned_link_used_from_outside_fires(lake, tmp_path, monkeypatch):
    alice = role("AWSReservedSSO_Researcher_0a1b2c3d", "alice@northwind-ai.com")
    extra = [
        s3_line(
            DAY9 + timedelta(hours=23),
            "nw-model-weights",
            alice,
            SHARDS[0],
            300_000_000,
            ip="203.0.113.77",
            auth="QueryString",
            ua="curl/8.5.0",
        )
    ]
    found = _hunt(lake, tmp_path, monkeypatch, "exfiltration.first_access", extra)
    assert [f["evidence"]["reasons"] for f in found] == [["presigned_outside"]]


def test_newcomer_modest_first_reads_and_expected_reader_stay_quiet(lake, tmp_path, monkeypatch):
    carol = role("AWSReservedSSO_Researcher_0a1b2c3d", "carol@northwind-ai.com")
    modest = [
        s3_line(
            DAY9 + timedelta(hours=14, minutes=i), "nw-model-weights", carol, SHARDS[i], 150_000_000
        )
        for i in range(2)
    ]
    # a new nightly-train session is an expected reader of the weights, however much it reads
    trainer = [
        s3_line(
            DAY9 + timedelta(hours=5, minutes=i),
            "nw-model-weights",
            role("nightly-train", "i-0fresh"),
            k,
            4_983_245_312,
        )
        for i, k in enumerate(SHARDS)
    ]
    assert _hunt(lake, tmp_path, monkeypatch, "exfiltration.first_access", modest + trainer) == []


# -- transfer out ---------------------------------------------------------------------------

ADMIN = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_9f8e7d6c/ops@northwind-ai.com"


def _replication(ts, dest_acct):
    return ct_event(
        ts,
        "PutBucketReplication",
        "s3.amazonaws.com",
        ADMIN,
        {
            "ReplicationConfiguration": {
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                "Role": "arn:aws:iam::111122223333:role/s3-replication",
                "Rule": {
                    "ID": "weights-dr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Filter": {"Prefix": "frontier/"},
                    "Destination": {
                        "Bucket": "arn:aws:s3:::nw-weights-replica",
                        "Account": dest_acct,
                    },
                },
            },
            "bucketName": "nw-model-weights",
            "Host": "nw-model-weights.s3.us-east-1.amazonaws.com",
            "replication": "",
        },
        resources=[
            {
                "accountId": "111122223333",
                "type": "AWS::S3::Bucket",
                "ARN": "arn:aws:s3:::nw-model-weights",
            }
        ],
    )


def _snapshot_share(ts, user_id):
    return ct_event(
        ts,
        "ModifySnapshotAttribute",
        "ec2.amazonaws.com",
        ADMIN,
        {
            "snapshotId": "snap-0a1b2c3d4e5f67890",
            "createVolumePermission": {"add": {"items": [{"userId": user_id}]}},
            "attributeType": "CREATE_VOLUME_PERMISSION",
        },
    )


def _public_policy(ts):
    return ct_event(
        ts,
        "PutBucketPolicy",
        "s3.amazonaws.com",
        ADMIN,
        {
            "bucketPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "x",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::nw-model-weights/frontier/*",
                    }
                ],
            },
            "bucketName": "nw-model-weights",
            "Host": "nw-model-weights.s3.us-east-1.amazonaws.com",
            "policy": "",
        },
    )


def test_transfer_out_to_foreign_accounts_fires(lake, tmp_path, monkeypatch):
    ct = [
        _replication(DAY9, "999988887777"),
        _snapshot_share(DAY9 + timedelta(hours=1), "999988887777"),
        _public_policy(DAY9 + timedelta(hours=2)),
    ]
    found = _hunt(lake, tmp_path, monkeypatch, "exfiltration.transfer_out", ct=ct)
    kinds = sorted((f["evidence"]["kind"], f["evidence"].get("target_account")) for f in found)
    assert kinds == [
        ("grant_public", "public"),
        ("replication_out", "999988887777"),
        ("share_snapshot", "999988887777"),
    ], kinds
    rep = next(f for f in found if f["evidence"]["kind"] == "replication_out")
    assert rep["severity"] == "critical" and rep["entities"]["asset"] == ["frontier-weights"]
    assert "T1537" in rep["attack"]


def test_replica_to_own_dr_account_stays_quiet(lake, tmp_path, monkeypatch):
    ct = [
        _replication(DAY9, "444455556666"),
        _snapshot_share(DAY9 + timedelta(hours=1), "444455556666"),
    ]
    assert _hunt(lake, tmp_path, monkeypatch, "exfiltration.transfer_out", ct=ct) == []


def test_presigned_burst_fires_and_a_few_links_do_not(lake, tmp_path, monkeypatch):
    bob = role("AWSReservedSSO_Researcher_0a1b2c3d", "bob@northwind-ai.com")
    burst = [
        s3_line(
            DAY9 + timedelta(hours=4, seconds=30 * i),
            "nw-model-weights",
            bob,
            SHARDS[i % 8],
            1_000_000,
            ip="10.30.0.8",
            auth="QueryString",
        )
        for i in range(60)
    ]
    found = _hunt(lake, tmp_path, monkeypatch, "exfiltration.transfer_out", burst)
    assert [f["evidence"]["kind"] for f in found] == ["presigned_burst"]
    assert found[0]["evidence"]["events"] == 60


def test_a_few_presigned_links_stay_quiet(lake, tmp_path, monkeypatch):
    bob = role("AWSReservedSSO_Researcher_0a1b2c3d", "bob@northwind-ai.com")
    few = [
        s3_line(
            DAY9 + timedelta(hours=4, minutes=i),
            "nw-model-weights",
            bob,
            SHARDS[i],
            1_000_000,
            ip="10.30.0.8",
            auth="QueryString",
        )
        for i in range(5)
    ]
    assert _hunt(lake, tmp_path, monkeypatch, "exfiltration.transfer_out", few) == []


# -- delete after copy ----------------------------------------------------------------------


def test_read_then_delete_fires_rotation_does_not(lake, tmp_path, monkeypatch):
    mallory = role("AWSReservedSSO_Researcher_0a1b2c3d", "bob@northwind-ai.com")
    t = DAY9 + timedelta(hours=3)
    attack = [
        s3_line(
            t + timedelta(minutes=i),
            "nw-model-weights",
            mallory,
            k,
            4_983_245_312,
            ip="203.0.113.77",
        )
        for i, k in enumerate(SHARDS)
    ]
    attack += [
        s3_line(
            t + timedelta(hours=2, minutes=i),
            "nw-model-weights",
            mallory,
            k,
            0,
            op="REST.DELETE.OBJECT",
            status=204,
            ip="203.0.113.77",
        )
        for i, k in enumerate(SHARDS)
    ]
    found = _hunt(lake, tmp_path, monkeypatch, "exfiltration.delete_after_copy", attack)
    assert len(found) == 1 and found[0]["evidence"]["objects_deleted"] == 8
    assert "T1485" in found[0]["attack"]

    # benign twin: the training job deletes old checkpoints it wrote, not ones it just read
    lake2 = type(lake)(tmp_path / "lake2")
    trainer = role("nightly-train", "i-0rotate")
    rotation = [
        s3_line(
            t + timedelta(minutes=i),
            "nw-model-weights",
            trainer,
            f"frontier/v2/model-{i:05d}-of-00008.safetensors",
            0,
            op="REST.DELETE.OBJECT",
            status=204,
        )
        for i in range(8)
    ]
    assert (
        _hunt(lake2, tmp_path / "b", monkeypatch, "exfiltration.delete_after_copy", rotation) == []
    )


# -- the chain: identity finding, then the crown jewel ----------------------------------------

STAFF = [f"user{i:02d}@northwind-ai.com" for i in range(14)] + ["alice@northwind-ai.com"]


CHAIN = ["identity", "exfiltration.jewel_access_after_identity"]
ALICE = role("AWSReservedSSO_Researcher_0a1b2c3d", "alice@northwind-ai.com")
SPRAY_IP = "198.51.100.66"


def _okta_success(ts, user: str, ip: str) -> dict:
    [ev] = okta_spray(ts, [user], ip=ip)
    ev["outcome"] = {"result": "SUCCESS", "reason": None}
    ev["uuid"] = ev["uuid"][:-4] + "5ucc"
    return ev


def _reads(ts, ip: str, ua: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0") -> list[str]:
    return [
        s3_line(
            ts + timedelta(minutes=i), "nw-model-weights", ALICE, k, 4_983_245_312, ip=ip, ua=ua
        )
        for i, k in enumerate(SHARDS)
    ]


def test_org_wide_spray_then_a_normal_week_is_not_a_chain(lake, tmp_path, monkeypatch):
    """Everyone is sprayed; alice keeps reading the weights as every day: no chain."""
    staff = STAFF + [f"eng{i:03d}@northwind-ai.com" for i in range(200)]
    spray = okta_spray(DAY9 - timedelta(hours=6), staff)
    found = _hunt(
        lake,
        tmp_path,
        monkeypatch,
        "exfiltration.jewel_access_after_identity",
        okta=spray,
        only=CHAIN,
    )
    assert found == []


def test_compromised_user_pulls_the_weights_from_the_attacker_is_critical(
    lake, tmp_path, monkeypatch
):
    spray = okta_spray(DAY9 - timedelta(hours=6), STAFF)
    # the guess worked: alice signs in from the spraying address, then pulls every shard
    spray.append(_okta_success(DAY9 - timedelta(hours=5), "alice@northwind-ai.com", SPRAY_IP))
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


def test_sprayed_user_read_from_new_network_and_client_is_high(lake, tmp_path, monkeypatch):
    """No sign of compromise on the identity side, but the pull comes from a network
    and a client the principal never used: the access side is the evidence."""
    spray = okta_spray(DAY9 - timedelta(hours=6), STAFF)
    found = _hunt(
        lake,
        tmp_path,
        monkeypatch,
        "exfiltration.jewel_access_after_identity",
        s3_extra=_reads(DAY9 + timedelta(hours=2), "203.0.113.150", ua="rclone/v1.66.0"),
        okta=spray,
        only=CHAIN,
    )
    assert [(f["severity"], f["evidence"]["reasons"]) for f in found] == [
        ("high", ["new_network_and_client"])
    ]


def test_short_sprayed_names_link_to_no_principal(lake, tmp_path, monkeypatch):
    """Sprayers try ml, ai, admin: roles that contain those letters are nobody's."""
    names = ["ml", "ai", "admin", "dev", "test", "ops", "data", "research", "infer", "train"]
    spray = okta_spray(DAY9 - timedelta(hours=6), [f"{n}@northwind-ai.com" for n in names])
    ml = role("ml-inference", "botocore-session-1772400000")
    pulls = [
        s3_line(
            DAY9 + timedelta(hours=2, minutes=i), "nw-model-weights", ml, k, 1_000, ip="203.0.113.9"
        )
        for i, k in enumerate(SHARDS)
    ]
    found = _hunt(
        lake,
        tmp_path,
        monkeypatch,
        "exfiltration.jewel_access_after_identity",
        s3_extra=pulls,
        okta=spray,
        only=CHAIN,
    )
    assert found == []


def test_no_identity_finding_no_chain(lake, tmp_path, monkeypatch):
    spray = okta_spray(DAY9 - timedelta(hours=6), STAFF[:4])  # too few users to be a spray
    found = _hunt(
        lake,
        tmp_path,
        monkeypatch,
        "exfiltration.jewel_access_after_identity",
        okta=spray,
        only=CHAIN,
    )
    assert found == []
