"""Scenarios of ``identity.workload_credentials_outside`` on CloudTrail: an EC2
instance role's session replayed from a VPS outside AWS; the same role used only from
inside AWS (a new address after a stop and start) and a Lambda role called from many
AWS addresses at once must stay quiet.

Records follow CloudTrail's layout field for field (instance-profile sessions carry
``sessionContext.ec2RoleDelivery``); the ranges file is AWS's ``ip-ranges.json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from crownwatch.detections.contract import Scenario
from crownwatch.testing.storage import ct_event

DET = "identity.workload_credentials_outside"
ACCOUNT = "111122223333"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOTO = (
    "Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#6.1.0 md/arch#x86_64 "
    "lang/python#3.11.8 Botocore/1.34.50"
)
CLI = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.8"
LAMBDA_UA = (
    "Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#5.10.219 md/arch#x86_64 "
    "lang/python#3.12.3 exec-env/AWS_Lambda_python3.12 Botocore/1.34.50"
)
AWS_RANGES = {
    "syncToken": "1764619987",
    "createDate": "2026-03-01-20-13-07",
    "prefixes": [
        {
            "ip_prefix": "54.201.0.0/16",
            "region": "us-west-2",
            "service": "AMAZON",
            "network_border_group": "us-west-2",
        },
        {
            "ip_prefix": "54.201.0.0/16",
            "region": "us-west-2",
            "service": "EC2",
            "network_border_group": "us-west-2",
        },
        {
            "ip_prefix": "3.80.0.0/12",
            "region": "us-east-1",
            "service": "AMAZON",
            "network_border_group": "us-east-1",
        },
    ],
    "ipv6_prefixes": [],
}
VPS = "45.77.12.34"  # a rented server, not AWS, not ours


def record(
    when: datetime,
    role: str,
    session: str,
    name: str,
    ip: str,
    ua: str = BOTO,
    source: str = "s3.amazonaws.com",
    params: dict | None = None,
    ec2: bool = True,
) -> dict:
    """One CloudTrail record of an assumed-role session (an instance profile's when
    ``ec2``), in the project's CloudTrail layout (:func:`crownwatch.testing.storage.ct_event`)."""
    return ct_event(
        when,
        name,
        source,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        params,
        acct=ACCOUNT,
        ip=ip,
        data=source == "s3.amazonaws.com",
        ua=ua,
        region="us-west-2",
        ec2_role_delivery=ec2,
    )


def get_object(when, role, session, ip, key="llm-70b/step-90000/model-00001.safetensors", ua=BOTO):
    return record(
        when,
        role,
        session,
        "GetObject",
        ip,
        ua=ua,
        params={
            "bucketName": "acme-model-weights",
            "Host": "acme-model-weights.s3.us-west-2.amazonaws.com",
            "key": key,
        },
    )


def stolen_instance_role() -> list[dict]:
    """The training node i-0a1b… reads weights from its AWS address all morning; two
    hours in, its session is used from a VPS: who am I, what buckets, take a shard."""
    role, inst, own = "ml-training-node", "i-0a1b2c3d4e5f67890", "54.201.10.20"
    ev = [get_object(T0 + timedelta(minutes=10 * i), role, inst, own) for i in range(12)]
    ev.append(
        record(
            T0 + timedelta(minutes=3),
            role,
            inst,
            "DescribeInstances",
            "ec2.amazonaws.com",
            ua="ec2.amazonaws.com",
            source="ec2.amazonaws.com",
        )
    )
    thief = T0 + timedelta(hours=1, minutes=5)
    ev += [
        record(thief, role, inst, "GetCallerIdentity", VPS, ua=CLI, source="sts.amazonaws.com"),
        record(thief + timedelta(seconds=20), role, inst, "ListBuckets", VPS, ua=CLI),
        get_object(thief + timedelta(seconds=50), role, inst, VPS, ua=CLI),
    ]
    return ev


def same_role_inside_aws() -> list[dict]:
    """The same role on another node: its own AWS address, then — after a stop and
    start three hours later — a new AWS address; a Lambda role called from many AWS
    addresses at once."""
    role, inst = "ml-training-node", "i-0fedcba9876543210"
    ev = [get_object(T0 + timedelta(minutes=7 * i), role, inst, "54.201.10.21") for i in range(6)]
    ev += [
        get_object(T0 + timedelta(hours=4, minutes=i), role, inst, "54.201.77.3") for i in range(4)
    ]
    for i in range(8):
        ev.append(
            record(
                T0 + timedelta(minutes=i),
                "eval-runner",
                "eval-runner",
                "PutObject",
                f"3.80.{i}.{10 + i}",
                ua=LAMBDA_UA,
                ec2=False,
                params={"bucketName": "acme-eval-results", "key": f"run-{i}.json"},
            )
        )
    return ev


def trail(records: list[dict]) -> str:
    """A CloudTrail log file: ``{"Records": [...]}``."""
    return json.dumps({"Records": records})


def _stolen(found: list[dict]) -> None:
    [f] = found
    ev = f["evidence"]
    assert f["severity"] == "critical"
    assert f["attack"] == ["T1552.005", "T1078.004"]
    assert f["entities"]["principal"] == [
        f"arn:aws:sts::{ACCOUNT}:assumed-role/ml-training-node/i-0a1b2c3d4e5f67890"
    ]
    assert f["entities"]["src_ip"] == [VPS]
    assert (ev["workload_kind"], ev["role"], ev["workload"]) == (
        "ec2_instance",
        "ml-training-node",
        "i-0a1b2c3d4e5f67890",
    )
    assert ev["outside_provider"] is True
    assert ev["calls"] == 3
    assert ev["operations"] == ["GetCallerIdentity", "GetObject", "ListBuckets"]
    assert any("model-00001.safetensors" in r for r in ev["resources"])
    assert ev["workload_src_ips"] == ["54.201.10.20"]  # its own address is not suspect
    assert ev["user_agents"] == [CLI]
    assert ev["raw_records_total"] == 3
    assert "outside AWS" in f["title"]


RANGES = {"ip-ranges.json": json.dumps(AWS_RANGES).encode()}

SCENARIOS = [
    Scenario(
        "instance_role_replayed_from_a_vps",
        "attack",
        lambda: {"cloudtrail/stolen_instance_role.json": trail(stolen_instance_role())},
        entities={"src_ip": (VPS,)},
        expect=_stolen,
        feeds=RANGES,
    ),
    Scenario(
        "same_roles_inside_aws",
        "benign",
        lambda: {"cloudtrail/same_role_inside_aws.json": trail(same_role_inside_aws())},
        feeds=RANGES,
    ),
]
