"""identity.workload_credentials_outside on CloudTrail: an EC2 instance role's session
replayed from a VPS outside AWS fires (critical, with the role, the instance, the calls
and where from) — from the trail's own file and as Logstash ships it; the same role
used only from inside AWS, a Lambda role called from many AWS addresses at once, and
the provider's own service calls stay quiet. Without AWS's ranges in the lake the
"outside" reason cannot be judged, and only "two places at once" remains. The
Compute Engine default service account reading a dataset through GCS (Cloud Audit Logs)
is judged the same way against Google Cloud's ``cloud.json``.

Records follow CloudTrail's layout field for field (instance-profile sessions carry
``sessionContext.ec2RoleDelivery``); the ranges file is AWS's ``ip-ranges.json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.enrichment import feeds
from crownwatch.lake import Lake
from tests.exfiltration._logs import ct_event
from tests.fixtures.shipped.make_fixtures import logstash_cloudtrail

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
    ``ec2``), in the project's CloudTrail layout (:func:`tests.exfiltration._logs.ct_event`)."""
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


def write_trail(path: Path, events: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Records": events}))
    return path


def write_logstash(path: Path, events: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(logstash_cloudtrail(e)) + "\n" for e in events))
    return path


def hunt(
    tmp: Path, files: list[Path], ranges: bool = True, config: dict | None = None
) -> list[dict]:
    lake = Lake(tmp / "lake")
    if ranges:
        feeds.store(lake.root, json.dumps(AWS_RANGES).encode(), "ip-ranges.json")
    lake.ingest(files)
    found = run_detections(Engine(lake), config or {}, only=[DET])
    return [f for f in found if f["detection"] == DET]


def test_instance_role_used_outside_aws_fires(tmp_path):
    [f] = hunt(tmp_path, [write_trail(tmp_path / "trail.json", stolen_instance_role())])
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


def test_logstash_shipped_trail_gives_the_same_finding(tmp_path):
    bare = hunt(
        tmp_path / "a", [write_trail(tmp_path / "a" / "trail.json", stolen_instance_role())]
    )
    shipped = hunt(
        tmp_path / "b", [write_logstash(tmp_path / "b" / "ls.jsonl", stolen_instance_role())]
    )
    assert len(shipped) == 1
    for k in ("severity", "entities", "title"):
        assert shipped[0][k] == bare[0][k]
    assert shipped[0]["evidence"]["operations"] == bare[0]["evidence"]["operations"]


def test_same_role_inside_aws_is_quiet(tmp_path):
    assert hunt(tmp_path, [write_trail(tmp_path / "trail.json", same_role_inside_aws())]) == []


def test_own_network_is_not_outside(tmp_path):
    """The organisation's own egress (an on-premises jump host the team debugs from)
    listed in own_cidrs is not "outside"."""
    config = {"organisation": {"own_cidrs": ["45.77.12.0/24"]}}
    files = [write_trail(tmp_path / "trail.json", stolen_instance_role())]
    assert hunt(tmp_path, files, config=config) == []


def test_without_ranges_only_two_places_at_once(tmp_path):
    """No AWS ranges stored: a VPS using the session hours after the node's last call
    cannot be judged (it might be the node's new address); the VPS while the node is
    still calling is a copy of its keys (high, not critical)."""
    role, inst = "ml-training-node", "i-0a1b2c3d4e5f67890"
    later = [
        get_object(T0 + timedelta(minutes=10 * i), role, inst, "54.201.10.20") for i in range(6)
    ]
    later.append(record(T0 + timedelta(hours=4), role, inst, "ListBuckets", VPS, ua=CLI))
    assert (
        hunt(tmp_path / "a", [write_trail(tmp_path / "a" / "trail.json", later)], ranges=False)
        == []
    )

    files = [write_trail(tmp_path / "b" / "trail.json", stolen_instance_role())]
    [f] = hunt(tmp_path / "b", files, ranges=False)
    assert f["severity"] == "high"
    assert f["evidence"]["two_places_at_once"] is True
    assert f["evidence"]["outside_provider"] is False
    assert f["entities"]["src_ip"] == [VPS]
    assert "two places at once" in f["title"]


def test_lambda_role_replayed_outside_aws_fires(tmp_path):
    """A function's role is known by its own calls (``exec-env/AWS_Lambda_…``); its
    keys, read from the function's environment, used from the VPS are the finding —
    while its concurrent invocations from many AWS addresses are not."""
    ev = same_role_inside_aws()
    ev.append(
        record(
            T0 + timedelta(minutes=30),
            "eval-runner",
            "eval-runner",
            "ListBuckets",
            VPS,
            ua=CLI,
            ec2=False,
        )
    )
    [f] = hunt(tmp_path, [write_trail(tmp_path / "trail.json", ev)])
    assert (f["evidence"]["workload_kind"], f["evidence"]["role"]) == ("lambda", "eval-runner")
    assert f["entities"]["src_ip"] == [VPS] and f["severity"] == "critical"


GCP_RANGES = {
    "syncToken": "1767225600000",
    "creationTime": "2026-03-01T11:43:57.000000",
    "prefixes": [{"ipv4Prefix": "34.80.0.0/15", "service": "Google Cloud", "scope": "asia-east1"}],
}
GCE_SA = "123456789012-compute@developer.gserviceaccount.com"


def gcs_read(when: datetime, ip: str, ua: str) -> dict:
    """A Cloud Audit Logs data-access entry for a GCS object read (LogEntry layout)."""
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {},
            "authenticationInfo": {"principalEmail": GCE_SA},
            "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": ua},
            "serviceName": "storage.googleapis.com",
            "methodName": "storage.objects.get",
            "authorizationInfo": [
                {
                    "resource": "projects/_/buckets/acme-datasets/objects/pretrain/shard-0001.tar",
                    "permission": "storage.objects.get",
                    "granted": True,
                    "resourceAttributes": {},
                }
            ],
            "resourceName": "projects/_/buckets/acme-datasets/objects/pretrain/shard-0001.tar",
            "resourceLocation": {"currentLocations": ["asia-east1"]},
        },
        "insertId": f"{int(when.timestamp()):x}{ip.replace('.', '')}",
        "resource": {
            "type": "gcs_bucket",
            "labels": {
                "bucket_name": "acme-datasets",
                "project_id": "acme-train",
                "location": "asia-east1",
            },
        },
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "severity": "INFO",
        "logName": "projects/acme-train/logs/cloudaudit.googleapis.com%2Fdata_access",
        "receiveTimestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def test_compute_engine_default_account_outside_google_cloud_fires(tmp_path):
    """The project's default Compute Engine account reads the dataset from a VM's
    address inside Google Cloud (quiet) and from the VPS (critical)."""
    gsutil = "apitools Python/3.11.8 gsutil/5.27 (linux) analytics/disabled interactive/False command/cp google-cloud-sdk/466.0.0"
    ev = [gcs_read(T0 + timedelta(minutes=i), "34.80.5.6", gsutil) for i in range(5)]
    lake = Lake(tmp_path / "lake")
    feeds.store(lake.root, json.dumps(GCP_RANGES).encode(), "cloud.json")
    path = tmp_path / "gcs_audit.jsonl"
    inside = "".join(json.dumps(e) + "\n" for e in ev)
    path.write_text(inside)
    lake.ingest([path])
    assert [f for f in run_detections(Engine(lake), {}, only=[DET]) if f["detection"] == DET] == []

    path2 = tmp_path / "gcs_audit_2.jsonl"
    path2.write_text(json.dumps(gcs_read(T0 + timedelta(hours=3), VPS, gsutil)) + "\n")
    lake.ingest([path2])
    [f] = [f for f in run_detections(Engine(lake), {}, only=[DET]) if f["detection"] == DET]
    assert (f["evidence"]["workload_kind"], f["evidence"]["provider"]) == ("gce_default", "gcp")
    assert f["entities"]["src_ip"] == [VPS] and f["severity"] == "critical"
    assert f["evidence"]["workload_src_ips"] == ["34.80.5.6"]
