"""Small writers of real-format storage records for the exfiltration tests.

Each writes records exactly in the vendor grammar the sources read (see the source
modules' docstrings for the specs they follow); tests call them to build an attack and
its benign twin that differ in one behaviour only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

OWNER = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _rid(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16].upper()


def s3_line(ts: datetime, bucket: str, requester: str, key: str, nbytes: int, ip: str = "10.20.0.5",
            op: str = "REST.GET.OBJECT", auth: str = "AuthHeader", status: int = 200,
            ua: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22") -> str:
    """One S3 server access log record (current layout, 27 fields)."""
    stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
    method = {"REST.GET.OBJECT": "GET", "REST.PUT.OBJECT": "PUT", "REST.DELETE.OBJECT": "DELETE",
              "REST.COPY.OBJECT": "PUT", "REST.HEAD.OBJECT": "HEAD"}.get(op, "GET")
    enc = key.replace(" ", "%20")
    uri = f"{method} /{enc}{'?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600' if auth == 'QueryString' else ''} HTTP/1.1"
    sent = str(nbytes) if nbytes else "-"
    size = str(nbytes) if op == "REST.GET.OBJECT" and nbytes else "-"
    err = "-" if status < 400 else "AccessDenied"
    rid = _rid(ts, bucket, requester, key, op)
    return (
        f"{OWNER} {bucket} [{stamp}] {ip} {requester} {rid} {op} {enc} \"{uri}\" {status} {err} "
        f"{sent} {size} 120 40 \"-\" \"{ua}\" - {rid}hostidEXAMPLE= SigV4 TLS_AES_128_GCM_SHA256 "
        f"{auth} {bucket}.s3.us-east-1.amazonaws.com TLSv1.3 - - -"
    )


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def role(name: str, session: str, acct: str = "111122223333") -> str:
    return f"arn:aws:sts::{acct}:assumed-role/{name}/{session}"


SHARDS = [f"frontier/v3/model-{i:05d}-of-00008.safetensors" for i in range(1, 9)]
SHARD_BYTES = 4_983_245_312


def weights_rhythm(days: int = 10) -> list[str]:
    """The benign background: the nightly training job reads every shard each night;
    two researchers read the config and one shard range most days."""
    lines = []
    for d in range(days):
        night = T0 + timedelta(days=d, hours=1)
        sess = f"i-0{_rid(d).lower()[:16]}"
        for i, k in enumerate(SHARDS):
            lines.append(s3_line(night + timedelta(minutes=i), "nw-model-weights", role("nightly-train", sess), k,
                                 SHARD_BYTES + d * 1000, ip="10.20.4.11"))
        for j, who in enumerate(("alice@northwind-ai.com", "bob@northwind-ai.com")):
            ts = T0 + timedelta(days=d, hours=10 + j)
            r = role("AWSReservedSSO_Researcher_0a1b2c3d", who)
            lines.append(s3_line(ts, "nw-model-weights", r, "frontier/v3/config.json", 2_345, ip=f"10.30.0.{7 + j}"))
            lines.append(s3_line(ts + timedelta(minutes=3), "nw-model-weights", r, SHARDS[d % 8], 180_000_000 + 1_000_000 * j,
                                 ip=f"10.30.0.{7 + j}"))
    return lines


REGISTRY_TOML = """
[organisation]
own_accounts = ["111122223333", "444455556666", "northwind-ml-prod", "nwdatasets"]

[[assets]]
name = "frontier-weights"
kind = "model_weights"
locations = ["s3://nw-model-weights/frontier/", "gs://nw-weights-eu/frontier/", "azure://nwweights/frontier/"]
expected_readers = ["arn:aws:sts::*:assumed-role/nightly-train/*", "trainer@northwind-ml-prod.iam.gserviceaccount.com"]
sensitivity = "critical"

[[assets]]
name = "pretrain-corpus"
kind = "dataset"
locations = ["s3://nw-datasets/pretrain/", "https://nwdatasets.blob.core.windows.net/corpus/pretrain/", "gs://nw-datasets-eu/pretrain/"]
expected_readers = ["arn:aws:sts::*:assumed-role/nightly-train/*", "arn:aws:sts::*:assumed-role/AWSReservedSSO_DataEng_*/*"]
sensitivity = "high"

[[assets]]
name = "npu-v2-tapeout"
kind = "chip_design"
locations = ["gs://nw-silicon/npu-v2/"]
expected_readers = ["*@northwind-ai.com"]
sensitivity = "critical"
"""


def use_registry(tmp_path: Path, monkeypatch, text: str = REGISTRY_TOML) -> dict:
    """Write the registry to a crownwatch.toml and point $CROWNWATCH_CONFIG at it (so the
    detections find it whether or not the framework passes the run's config)."""
    import tomllib

    cfg = tmp_path / "crownwatch.toml"
    cfg.write_text(text)
    monkeypatch.setenv("CROWNWATCH_CONFIG", str(cfg))
    return tomllib.loads(text)


def jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
