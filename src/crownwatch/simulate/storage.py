"""Storage activity of an AI lab — what its crown jewels' logs look like on a normal
fortnight, and with the campaign planted in it.

Writes, field for field as the vendors emit them:

* ``aws/cloudtrail/AWSLogs/<acct>/CloudTrail/us-east-1/YYYY/MM/DD/*.json.gz`` — CloudTrail
  S3 data events (``GetObject``/``PutObject``/``DeleteObject`` with
  ``additionalEventData.bytesTransferredOut`` and ``AuthenticationMethod``) and the
  management events that move data out (``PutBucketReplication``,
  ``ModifySnapshotAttribute``);
* ``aws/s3-access/<bucket>/YYYY-mm-DD-HH-MM-SS-<unique>`` — S3 server access logs of the
  same requests (27 space-separated fields);
* ``gcp/data_access/*.jsonl`` — Cloud Audit Logs ``LogEntry`` lines for
  ``storage.googleapis.com``;
* ``azure/StorageBlobLogs/*.json`` — Azure Monitor diagnostic-settings records.

Benign rhythms: the nightly training job reads every weights shard every night (in
CloudTrail *and* the access logs); researchers read configs and a shard or two in office
hours; the GCP trainer service account reads the EU weights mirror nightly; data
engineers read dataset shards in Azure; the owner sets up replication to the DR account
(listed as own); a new team member's first, modest reads near the end.

Planted attacks (``attacks=True``), on the last days: a researcher's stolen session
bulk-reads the whole checkpoint through presigned URLs from outside; the EBS snapshot of
the training volume is shared with a foreign account; a SAS token pulls the pretraining
corpus from outside Azure; chip-design files on GCS are read and then deleted.

``truth`` (also written as ``truth.json``) lists each planted attack with the detection
that should name it and the entities it should carry.

:func:`write_bulk` writes N S3 access-log records fast, for benchmarks (10M ≈ 3 GB).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crownwatch.testing import gcp

ACCT = "111122223333"
DR_ACCT = "444455556666"
FOREIGN_ACCT = "999988887777"
GCP_PROJECT = "northwind-ml-prod"
AZ_SUB = "5f1c2a3b-7d8e-4f90-a1b2-c3d4e5f60718"
TENANT = "72f988bf-86f1-41af-91ab-222222222222"
OWNER_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DOMAIN = "northwind-ai.com"
START = datetime(2026, 3, 1, tzinfo=UTC)

WEIGHTS_BUCKET = "nw-model-weights"
SHARDS = [f"frontier/v3/model-{i:05d}-of-00008.safetensors" for i in range(1, 9)]
SHARD_BYTES = 4_983_245_312
DATA_ACCOUNT = "nwdatasets"
CORPUS = [f"pretrain/shard-{i:05d}.parquet" for i in range(64)]
CORPUS_BYTES = 536_870_912
CHIP_BUCKET = "nw-silicon"
CHIP_FILES = [
    f"npu-v2/{b}"
    for b in ("top.gds", "top.oas", "cells.lef", "floorplan.def", "npu_core.sv", "tech.lib")
]

RESEARCHERS = ["alice", "bob", "chen", "dmitri", "esther", "farid", "grace", "hiro"]
SSO_ROLE = "AWSReservedSSO_Researcher_0a1b2c3d"
UA_CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22"
UA_SDK = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 cfg/retry-mode#standard Botocore/1.34.69"

REGISTRY_TOML = f"""[organisation]
name = "Northwind AI"
own_accounts = ["{ACCT}", "{DR_ACCT}", "{GCP_PROJECT}", "{AZ_SUB}", "{DATA_ACCOUNT}"]

[[assets]]
name = "frontier-weights"
kind = "model_weights"
locations = ["s3://{WEIGHTS_BUCKET}/frontier/", "gs://nw-weights-eu/frontier/"]
expected_readers = ["arn:aws:sts::{ACCT}:assumed-role/nightly-train/*", "trainer@{GCP_PROJECT}.iam.gserviceaccount.com"]
sensitivity = "critical"

[[assets]]
name = "pretrain-corpus"
kind = "dataset"
locations = ["https://{DATA_ACCOUNT}.blob.core.windows.net/corpus/pretrain/"]
expected_readers = ["*@{DOMAIN}"]

[[assets]]
name = "npu-v2-tapeout"
kind = "chip_design"
locations = ["gs://{CHIP_BUCKET}/npu-v2/"]
expected_readers = ["*@{DOMAIN}"]
sensitivity = "critical"
"""


def _h(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _role_arn(role: str, session: str) -> str:
    return f"arn:aws:sts::{ACCT}:assumed-role/{role}/{session}"


def request_id(ts: datetime, bucket: str, principal: str, key: str, op: str) -> str:
    """The request id S3 and CloudTrail share for one request (stable per request)."""
    return _h(ts, bucket, principal, key, op)[:16].upper()


def access_log_line(
    ts: datetime,
    bucket: str,
    requester: str,
    key: str,
    nbytes: int,
    ip: str,
    rid: str,
    *,
    op: str = "GetObject",
    auth: str = "AuthHeader",
    ua: str = UA_CLI,
    status: int = 200,
    owner: str = OWNER_ID,
) -> str:
    """One S3 server access log record (27 space-separated fields) for a request by
    ``requester`` (an IAM/STS ARN, as S3 logs it)."""
    rest_op = {
        "GetObject": "REST.GET.OBJECT",
        "PutObject": "REST.PUT.OBJECT",
        "DeleteObject": "REST.DELETE.OBJECT",
    }[op]
    method = rest_op.split(".")[1]
    q = (
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA&X-Amz-Expires=3600"
        if auth == "QueryString"
        else ""
    )
    sent = str(nbytes) if op == "GetObject" and nbytes else "-"
    size = str(nbytes) if op != "DeleteObject" and nbytes else "-"
    return (
        f"{owner} {bucket} [{ts.strftime('%d/%b/%Y:%H:%M:%S +0000')}] {ip} {requester} {rid} {rest_op} "
        f'{key} "{method} /{key}{q} HTTP/1.1" {status} - {sent} {size} {40 + nbytes // 80_000_000} 12 "-" '
        f'"{ua}" - {_h(rid)[:56]}= SigV4 TLS_AES_128_GCM_SHA256 {auth} '
        f"{bucket}.s3.us-east-1.amazonaws.com TLSv1.3 - - -"
    )


def write_access_logs(root: Path, lines: dict[str, list[tuple[datetime, str]]]) -> list[str]:
    """Write ``{bucket: [(time, line)]}`` as S3 delivers server access logs: one object
    per bucket and hour, ``<root>/<bucket>/YYYY-mm-DD-HH-MM-SS-<unique>``; returns the paths."""
    files = []
    for bucket, recs in sorted(lines.items()):
        by_hour: dict[str, list[str]] = {}
        for ts, line in sorted(recs, key=lambda x: x[0]):
            by_hour.setdefault(ts.strftime("%Y-%m-%d-%H-00-00"), []).append(line)
        for hour, ls in by_hour.items():
            p = root / bucket / f"{hour}-{_h(bucket, hour)[:16].upper()}"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("\n".join(ls) + "\n")
            files.append(str(p))
    return files


class _Out:
    """Collects records per vendor file and writes them at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.ct: dict[str, list[dict]] = {}
        self.s3: dict[str, list[tuple[datetime, str]]] = {}
        self.gcs_recs: list[tuple[datetime, dict]] = []
        self.az: list[tuple[datetime, dict]] = []

    def s3_read(
        self,
        ts,
        bucket,
        principal,
        key,
        nbytes,
        ip,
        *,
        op="GetObject",
        auth="AuthHeader",
        ua=UA_CLI,
        status=200,
        cloudtrail=True,
    ):
        rid = request_id(ts, bucket, principal, key, op)
        line = access_log_line(
            ts, bucket, principal, key, nbytes, ip, rid, op=op, auth=auth, ua=ua, status=status
        )
        self.s3.setdefault(bucket, []).append((ts, line))
        if cloudtrail:
            self._ct(
                ts,
                op,
                "s3.amazonaws.com",
                principal,
                ip,
                ua,
                {"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com", "key": key},
                data=True,
                rid=rid,
                extra={
                    "SignatureVersion": "SigV4",
                    "CipherSuite": "TLS_AES_128_GCM_SHA256",
                    "bytesTransferredIn": 0,
                    "AuthenticationMethod": auth,
                    "x-amz-id-2": _h(rid)[:56] + "=",
                    "bytesTransferredOut": nbytes if op == "GetObject" else 0,
                },
                resources=[
                    {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                    {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
                ],
            )

    def _ct(
        self,
        ts,
        name,
        source,
        principal,
        ip,
        ua,
        params,
        *,
        data=False,
        rid=None,
        extra=None,
        resources=None,
    ):
        role, session = principal.split("/")[1], principal.split("/")[2]
        pid = "AROA" + _h(role)[:17].upper()
        rec = {
            "eventVersion": "1.10" if data else "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"{pid}:{session}",
                "arn": principal,
                "accountId": ACCT,
                "accessKeyId": "ASIA" + _h(session, ts.date())[:16].upper(),
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": pid,
                        "arn": f"arn:aws:iam::{ACCT}:role/{role}",
                        "accountId": ACCT,
                        "userName": role,
                    },
                    "attributes": {
                        "creationDate": (ts - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "mfaAuthenticated": "false",
                    },
                },
            },
            "eventTime": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": ip,
            "userAgent": f"[{ua}]" if data else ua,
            "requestParameters": params,
            "responseElements": None,
        }
        if extra:
            rec["additionalEventData"] = extra
        rec.update(
            {
                "requestID": rid or _h(ts, name)[:16].upper(),
                "eventID": str(_uuid(ts, name, principal, json.dumps(params, sort_keys=True))),
                "readOnly": name.startswith(("Get", "List", "Describe")),
            }
        )
        if resources:
            rec["resources"] = resources
        rec.update(
            {
                "eventType": "AwsApiCall",
                "managementEvent": not data,
                "recipientAccountId": ACCT,
                "eventCategory": "Data" if data else "Management",
                "tlsDetails": {
                    "tlsVersion": "TLSv1.3",
                    "cipherSuite": "TLS_AES_128_GCM_SHA256",
                    "clientProvidedHostHeader": params.get(
                        "Host", f"{source.split('.')[0]}.us-east-1.amazonaws.com"
                    ),
                },
            }
        )
        self.ct.setdefault(ts.strftime("%Y/%m/%d/%H"), []).append(rec)

    def gcs(
        self,
        ts,
        email,
        method,
        bucket,
        obj,
        ip,
        ua="google-cloud-sdk gcloud/467.0.0 command/gcloud.storage.cp",
        code=0,
    ):
        rn = f"projects/_/buckets/{bucket}" + (f"/objects/{obj}" if obj else "")
        entry = gcp.audit_entry(
            ts,
            "storage.googleapis.com",
            method,
            email,
            ip,
            rn,
            GCP_PROJECT,
            log="data_access",
            resource={
                "type": "gcs_bucket",
                "labels": {
                    "bucket_name": bucket,
                    "project_id": GCP_PROJECT,
                    "location": "europe-west4",
                },
            },
            permission=method,
            code=code,
            location="europe-west4",
            ua=ua + ",gzip(gfe)",
            insert_id=_h(ts, email, method, obj)[:12],
            received=ts + timedelta(seconds=1),
        )
        self.gcs_recs.append((ts, entry))

    def blob(
        self,
        ts,
        op,
        blob,
        nbytes,
        ip,
        *,
        upn=None,
        auth="OAuth",
        ua="AzCopy/10.24.0 azsdk-go-azblob/v1.3.1 (go1.21.5; linux)",
    ):
        ident = {"type": auth, "tokenHash": _h(upn or auth, ts.date()).upper()}
        if auth == "OAuth":
            ident["requester"] = {
                "appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                "audience": "https://storage.azure.com",
                "objectId": str(_uuid(upn)),
                "tenantId": TENANT,
                "tokenIssuer": f"https://sts.windows.net/{TENANT}/",
                "upn": upn,
            }
        props = {
            "accountName": DATA_ACCOUNT,
            "userAgentHeader": ua,
            "clientRequestId": str(_uuid(ts, blob, "c")),
            "etag": '"0x8DC3A1B2C3D4E5F"',
            "serviceType": "blob",
            "objectKey": f"/{DATA_ACCOUNT}/corpus/{blob}",
            "lastModifiedTime": "2/28/2026 6:01:12 PM",
            "metricResponseType": "Success",
            "serverLatencyMs": 180,
            "requestHeaderSize": 1520,
            "responseHeaderSize": 410,
        }
        if nbytes:
            props["responseBodySize"] = nbytes
        props["tlsVersion"] = "TLS 1.2"
        rec = {
            "time": ts.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "resourceId": f"/subscriptions/{AZ_SUB}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/{DATA_ACCOUNT}/blobServices/default",
            "category": "StorageRead" if op.startswith("Get") else "StorageWrite",
            "operationName": op,
            "operationVersion": "2023-11-03",
            "schemaVersion": "1.0",
            "statusCode": 200,
            "statusText": "Success",
            "durationMs": 2210,
            "callerIpAddress": f"{ip}:{50000 + int(_h(ts)[:3], 16)}",
            "correlationId": str(_uuid(ts, blob, op, upn)),
            "identity": ident,
            "location": "eastus",
            "properties": props,
            "uri": f"https://{DATA_ACCOUNT}.blob.core.windows.net:443/corpus/{blob}"
            + ("?sv=2022-11-02&sr=c&sp=rl&sig=XXXXX" if auth == "SAS" else ""),
            "protocol": "HTTPS",
            "resourceType": "Microsoft.Storage/storageAccounts/blobServices",
        }
        self.az.append((ts, rec))

    def write(self) -> list[str]:
        files = []
        for hour, recs in sorted(self.ct.items()):
            y, m, d, hh = hour.split("/")
            p = (
                self.root
                / "aws/cloudtrail/AWSLogs"
                / ACCT
                / "CloudTrail/us-east-1"
                / y
                / m
                / d
                / (f"{ACCT}_CloudTrail_us-east-1_{y}{m}{d}T{hh}00Z_{_h(hour)[:16]}.json.gz")
            )
            p.parent.mkdir(parents=True, exist_ok=True)
            recs.sort(key=lambda r: r["eventTime"])
            with gzip.open(p, "wt") as fh:
                json.dump({"Records": recs}, fh)
            files.append(str(p))
        files += write_access_logs(self.root / "aws/s3-access", self.s3)
        for sub, recs in (
            ("gcp/data_access/storage.jsonl", self.gcs_recs),
            ("azure/StorageBlobLogs/PT1H.json", self.az),
        ):
            p = self.root / sub
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("".join(json.dumps(r) + "\n" for _, r in sorted(recs, key=lambda x: x[0])))
            files.append(str(p))
        return files


def _uuid(*parts) -> str:
    h = _h(*parts)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def generate_storage(
    out_dir: str | Path, *, seed: int = 5, days: int = 14, attacks: bool = True
) -> dict:
    """Write a fortnight of storage logs under ``out_dir``; returns ``{"files", "truth",
    "config"}`` and writes ``truth.json`` and ``crownwatch.toml`` beside the logs."""
    rng = random.Random(seed)
    root = Path(out_dir)
    out = _Out(root)
    office = {u: f"10.30.{rng.randint(0, 3)}.{rng.randint(10, 250)}" for u in RESEARCHERS}

    for d in range(days):
        day = START + timedelta(days=d)
        # nightly training: every shard, CloudTrail + access logs, one instance session per night
        sess = f"i-0{_h(seed, d)[:16]}"
        for i, k in enumerate(SHARDS):
            out.s3_read(
                day + timedelta(hours=1, minutes=i * 3, seconds=rng.randint(0, 59)),
                WEIGHTS_BUCKET,
                _role_arn("nightly-train", sess),
                k,
                SHARD_BYTES,
                "10.20.4.11",
                ua=UA_SDK,
            )
        # GCP trainer reads the EU mirror nightly
        for i, k in enumerate(SHARDS):
            out.gcs(
                day + timedelta(hours=2, minutes=i),
                f"trainer@{GCP_PROJECT}.iam.gserviceaccount.com",
                "storage.objects.get",
                "nw-weights-eu",
                k,
                "10.132.0.7",
                ua="gcloud-python/2.14.0",
            )
        if day.weekday() < 5:
            for u in RESEARCHERS:
                arn = _role_arn(SSO_ROLE, f"{u}@{DOMAIN}")
                t = day + timedelta(hours=9 + rng.random() * 8)
                out.s3_read(t, WEIGHTS_BUCKET, arn, "frontier/v3/config.json", 2_345, office[u])
                if rng.random() < 0.6:
                    out.s3_read(
                        t + timedelta(minutes=5),
                        WEIGHTS_BUCKET,
                        arn,
                        rng.choice(SHARDS),
                        rng.randint(50, 400) * 1_000_000,
                        office[u],
                    )
                # a couple of dataset shards in Azure
                for _ in range(rng.randint(0, 3)):
                    out.blob(
                        t + timedelta(minutes=rng.randint(10, 90)),
                        "GetBlob",
                        rng.choice(CORPUS),
                        CORPUS_BYTES,
                        office[u],
                        upn=f"{u}@{DOMAIN}",
                    )
                # chip-design review on GCS by a couple of people
                if u in ("esther", "hiro") and rng.random() < 0.5:
                    out.gcs(
                        t + timedelta(minutes=30),
                        f"{u}@{DOMAIN}",
                        "storage.objects.get",
                        CHIP_BUCKET,
                        rng.choice(CHIP_FILES),
                        "35.191.10.20",
                    )
    # the owner sets up replication to the DR account (own) on day 1
    admin = _role_arn("AWSReservedSSO_MLPlatform_7e6f5a4b", f"ops@{DOMAIN}")
    out._ct(
        START + timedelta(hours=15),
        "PutBucketReplication",
        "s3.amazonaws.com",
        admin,
        "203.0.113.10",
        UA_CLI,
        {
            "ReplicationConfiguration": {
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                "Role": f"arn:aws:iam::{ACCT}:role/s3-replication",
                "Rule": {
                    "ID": "weights-dr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Filter": {"Prefix": "frontier/"},
                    "Destination": {
                        "Bucket": "arn:aws:s3:::nw-model-weights-dr",
                        "Account": DR_ACCT,
                    },
                },
            },
            "bucketName": WEIGHTS_BUCKET,
            "Host": f"{WEIGHTS_BUCKET}.s3.us-east-1.amazonaws.com",
            "replication": "",
        },
        resources=[
            {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{WEIGHTS_BUCKET}"}
        ],
    )
    # a new team member's first, modest reads near the end
    newbie = _role_arn(SSO_ROLE, f"ines@{DOMAIN}")
    nd = START + timedelta(days=days - 2, hours=11)
    out.s3_read(nd, WEIGHTS_BUCKET, newbie, "frontier/v3/config.json", 2_345, "10.30.2.77")
    out.s3_read(
        nd + timedelta(minutes=4), WEIGHTS_BUCKET, newbie, SHARDS[0], 120_000_000, "10.30.2.77"
    )

    truth: list[dict] = []
    if attacks:
        last = START + timedelta(days=days - 1)
        thief = _role_arn(SSO_ROLE, f"bob@{DOMAIN}")
        for i, k in enumerate(SHARDS):
            out.s3_read(
                last + timedelta(hours=3, minutes=2 * i),
                WEIGHTS_BUCKET,
                thief,
                k,
                SHARD_BYTES,
                "203.0.113.77",
                auth="QueryString",
                ua="rclone/v1.66.0",
            )
        truth.append(
            {
                "attack": "stolen session bulk-reads the checkpoint through presigned URLs",
                "detections": ["exfiltration.bulk_read", "exfiltration.first_access"],
                "principal": thief,
                "asset": "frontier-weights",
                "src_ip": "203.0.113.77",
            }
        )
        out._ct(
            last + timedelta(hours=4),
            "ModifySnapshotAttribute",
            "ec2.amazonaws.com",
            thief,
            "203.0.113.77",
            UA_CLI,
            {
                "snapshotId": "snap-0a1b2c3d4e5f67890",
                "createVolumePermission": {"add": {"items": [{"userId": FOREIGN_ACCT}]}},
                "attributeType": "CREATE_VOLUME_PERMISSION",
            },
        )
        truth.append(
            {
                "attack": "training-volume snapshot shared with a foreign account",
                "detections": ["exfiltration.transfer_out"],
                "principal": thief,
                "target_account": FOREIGN_ACCT,
            }
        )
        for i, b in enumerate(CORPUS):
            out.blob(
                last + timedelta(hours=5, seconds=20 * i),
                "GetBlob",
                b,
                CORPUS_BYTES,
                "192.0.2.200",
                auth="SAS",
                ua="rclone/v1.66.0",
            )
        truth.append(
            {
                "attack": "SAS token pulls the pretraining corpus from outside",
                "detections": [
                    "exfiltration.first_access",
                    "exfiltration.bulk_read",
                    "exfiltration.transfer_out",
                ],
                "principal": f"sas:{DATA_ACCOUNT}",
                "asset": "pretrain-corpus",
                "src_ip": "192.0.2.200",
            }
        )
        insider = f"esther@{DOMAIN}"
        for i, f in enumerate(CHIP_FILES):
            out.gcs(
                last + timedelta(hours=6, minutes=i),
                insider,
                "storage.objects.get",
                CHIP_BUCKET,
                f,
                "198.51.100.45",
            )
            out.gcs(
                last + timedelta(hours=7, minutes=i),
                insider,
                "storage.objects.delete",
                CHIP_BUCKET,
                f,
                "198.51.100.45",
            )
        truth.append(
            {
                "attack": "chip-design files read then deleted",
                "detections": ["exfiltration.delete_after_copy"],
                "principal": insider,
                "asset": "npu-v2-tapeout",
            }
        )
    files = out.write()
    (root / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    (root / "crownwatch.toml").write_text(REGISTRY_TOML)
    return {"files": files, "truth": truth, "config": str(root / "crownwatch.toml")}


def write_bulk(
    path: str | Path, n_events: int, *, seed: int = 5, days: int = 14, files: int = 8
) -> list[str]:
    """``n_events`` S3 server access log records split over ``files`` files under
    ``path``, fast enough for 10M (string templates, no per-record JSON): the nightly
    job's rhythm, researchers' reads and a planted bulk read on the last day."""
    rng = random.Random(seed)
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    # The research staff grows with the volume (one person per 5,000 records, at least
    # 200) so each person's daily reads stay what a person reads — ~11 GB — at any
    # size; a fixed 200 people would make everyone a 100 GB-a-day reader at 10M and
    # bury the planted theft inside an ordinary day.
    n_people = max(200, n_events // 5000)
    people = [_role_arn(SSO_ROLE, f"user{i:03d}@{DOMAIN}") for i in range(n_people)]
    jobs = [_role_arn("nightly-train", f"i-0{_h(seed, i)[:16]}") for i in range(days)]
    keys = SHARDS + [f"frontier/v3/eval/part-{i:05d}.parquet" for i in range(400)]
    span = days * 86400
    per_file = n_events // files
    out = []
    tmpl = (
        f'{OWNER_ID} {WEIGHTS_BUCKET} [%s] %s %s %s REST.GET.OBJECT %s "GET /%s HTTP/1.1" 200 - %d %d 40 12 '
        '"-" "' + UA_CLI + '" - %s= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader '
        f"{WEIGHTS_BUCKET}.s3.us-east-1.amazonaws.com TLSv1.3 - - -\n"
    )
    start = START.timestamp()
    for f in range(files):
        p = (
            root
            / f"{(START + timedelta(days=f * days // files)).strftime('%Y-%m-%d-%H-%M-%S')}-{_h(seed, f)[:16].upper()}"
        )
        with open(p, "w", buffering=1 << 22) as fh:
            lines = []
            for _j in range(per_file):
                sec = rng.randrange(span)
                day = sec // 86400
                if rng.random() < 0.3:
                    who, key, nbytes = jobs[day], keys[rng.randrange(8)], SHARD_BYTES
                else:
                    who, key, nbytes = (
                        people[rng.randrange(n_people)],
                        keys[8 + rng.randrange(400)],
                        rng.randint(10_000, 90_000_000),
                    )
                ts = datetime.fromtimestamp(start + sec, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
                rid = f"{rng.getrandbits(64):016X}"
                lines.append(
                    tmpl
                    % (
                        ts,
                        f"10.30.{rng.randrange(4)}.{rng.randrange(1, 250)}",
                        who,
                        rid,
                        key,
                        key,
                        nbytes,
                        nbytes,
                        rid,
                    )
                )
                if len(lines) >= 100_000:
                    fh.writelines(lines)
                    lines.clear()
            if f == files - 1:
                thief = people[7]
                ts = datetime.fromtimestamp(start + span - 3600, UTC).strftime(
                    "%d/%b/%Y:%H:%M:%S +0000"
                )
                for k in SHARDS * 6:
                    lines.append(
                        tmpl
                        % (
                            ts,
                            "203.0.113.77",
                            thief,
                            f"{rng.getrandbits(64):016X}",
                            k,
                            k,
                            SHARD_BYTES,
                            SHARD_BYTES,
                            "X",
                        )
                    )
            fh.writelines(lines)
        out.append(str(p))
    return out
