"""Scenarios of ``exfiltration.transfer_out``: the weights bucket replicated to a
foreign account, a snapshot shared with it and a public bucket policy; a burst of
presigned links. A replica and a snapshot share to the organisation's own DR account,
and a few presigned links, must stay quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.storage import (
    SHARDS,
    T0,
    ct_event,
    registry,
    researcher,
    s3_line,
    storage_logs,
)

DAY9 = T0 + timedelta(days=9)
ADMIN = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_9f8e7d6c/ops@northwind-ai.com"
FOREIGN = "999988887777"
OWN_DR = "444455556666"


def replication(ts: datetime, dest_acct: str) -> dict:
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


def snapshot_share(ts: datetime, user_id: str) -> dict:
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


def public_policy(ts: datetime) -> dict:
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


def to_outsiders() -> list[dict]:
    return [
        replication(DAY9, FOREIGN),
        snapshot_share(DAY9 + timedelta(hours=1), FOREIGN),
        public_policy(DAY9 + timedelta(hours=2)),
    ]


def to_own_dr() -> list[dict]:
    day8 = T0 + timedelta(days=8)
    return [replication(day8, OWN_DR), snapshot_share(day8 + timedelta(hours=1), OWN_DR)]


def presigned(who: str, n: int, step: timedelta, desk: str) -> list[str]:
    return [
        s3_line(
            DAY9 + timedelta(hours=4) + i * step,
            "nw-model-weights",
            researcher(who),
            SHARDS[i % 8],
            1_000_000,
            ip=desk,
            auth="QueryString",
        )
        for i in range(n)
    ]


def _outsiders(found: list[dict]) -> None:
    kinds = sorted((f["evidence"]["kind"], f["evidence"].get("target_account")) for f in found)
    assert kinds == [
        ("grant_public", "public"),
        ("replication_out", FOREIGN),
        ("share_snapshot", FOREIGN),
    ], kinds
    rep = next(f for f in found if f["evidence"]["kind"] == "replication_out")
    assert rep["severity"] == "critical" and rep["entities"]["asset"] == ["frontier-weights"]
    assert "T1537" in rep["attack"]


def _burst(found: list[dict]) -> None:
    assert [f["evidence"]["kind"] for f in found] == ["presigned_burst"]
    assert found[0]["evidence"]["events"] == 60


SCENARIOS = [
    Scenario(
        "replica_snapshot_and_policy_to_outsiders",
        "attack",
        storage_logs("transfer_out_to_outsiders", cloudtrail=to_outsiders),
        expect=_outsiders,
        config=registry(),
    ),
    Scenario(
        "replica_and_snapshot_to_own_dr_account",
        "benign",
        storage_logs("transfer_out_to_own_dr", cloudtrail=to_own_dr),
        config=registry(),
    ),
    Scenario(
        "presigned_link_burst",
        "attack",
        # dave, from his own desk: 60 links in half an hour
        storage_logs(
            "transfer_out_burst",
            s3=lambda: presigned("dave", 60, timedelta(seconds=30), "10.30.0.9"),
        ),
        entities={"principal": (researcher("dave"),)},
        expect=_burst,
        config=registry(),
    ),
    Scenario(
        "a_few_presigned_links",
        "benign",
        storage_logs(
            "transfer_out_few_links",
            s3=lambda: presigned("erin", 5, timedelta(minutes=1), "10.30.0.10"),
        ),
        config=registry(),
    ),
]
