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
from datetime import datetime, timedelta
from pathlib import Path

from crownwatch.detect import run_detections
from crownwatch.detections.identity.workload_credentials_outside_scenarios import (
    AWS_RANGES,
    CLI,
    T0,
    VPS,
    get_object,
    record,
    same_role_inside_aws,
    stolen_instance_role,
)
from crownwatch.engine import Engine
from crownwatch.enrichment import feeds
from crownwatch.lake import Lake
from crownwatch.testing import gcp
from tests.fixtures.shipped.make_fixtures import logstash_cloudtrail

DET = "identity.workload_credentials_outside"


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
    obj = "projects/_/buckets/acme-datasets/objects/pretrain/shard-0001.tar"
    return gcp.audit_entry(
        when,
        "storage.googleapis.com",
        "storage.objects.get",
        GCE_SA,
        ip,
        obj,
        "acme-train",
        log="data_access",
        resource={
            "type": "gcs_bucket",
            "labels": {
                "bucket_name": "acme-datasets",
                "project_id": "acme-train",
                "location": "asia-east1",
            },
        },
        permission="storage.objects.get",
        location="asia-east1",
        ua=ua,
        insert_id=f"{int(when.timestamp()):x}{ip.replace('.', '')}",
    )


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
