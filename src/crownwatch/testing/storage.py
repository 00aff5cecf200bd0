"""Small writers of real-format storage records for the exfiltration scenarios and tests.

Each writes records exactly in the vendor grammar the sources read (see the source
modules' docstrings for the specs they follow); tests call them to build an attack and
its benign twin that differ in one behaviour only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

OWNER = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _rid(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16].upper()


def s3_line(
    ts: datetime,
    bucket: str,
    requester: str,
    key: str,
    nbytes: int,
    ip: str = "10.20.0.5",
    op: str = "REST.GET.OBJECT",
    auth: str = "AuthHeader",
    status: int = 200,
    ua: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
) -> str:
    """One S3 server access log record (current layout, 27 fields)."""
    stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
    method = {
        "REST.GET.OBJECT": "GET",
        "REST.PUT.OBJECT": "PUT",
        "REST.DELETE.OBJECT": "DELETE",
        "REST.COPY.OBJECT": "PUT",
        "REST.HEAD.OBJECT": "HEAD",
    }.get(op, "GET")
    enc = key.replace(" ", "%20")
    uri = f"{method} /{enc}{'?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600' if auth == 'QueryString' else ''} HTTP/1.1"
    sent = str(nbytes) if nbytes else "-"
    size = str(nbytes) if op == "REST.GET.OBJECT" and nbytes else "-"
    err = "-" if status < 400 else "AccessDenied"
    rid = _rid(ts, bucket, requester, key, op)
    return (
        f'{OWNER} {bucket} [{stamp}] {ip} {requester} {rid} {op} {enc} "{uri}" {status} {err} '
        f'{sent} {size} 120 40 "-" "{ua}" - {rid}hostidEXAMPLE= SigV4 TLS_AES_128_GCM_SHA256 '
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


# researchers with a daily habit on the weights; a scenario takes one of its own
RESEARCHERS = ("alice", "bob", "dave", "erin", "frank", "gina", "hana", "koji")


def researcher(name: str) -> str:
    """A researcher's SSO role session on the weights."""
    return role("AWSReservedSSO_Researcher_0a1b2c3d", f"{name}@northwind-ai.com")


def weights_rhythm(days: int = 10, researchers: tuple[str, ...] = ("alice", "bob")) -> list[str]:
    """The benign background: the nightly training job reads every shard each night;
    the researchers read the config and one shard range most days, each from their
    own desk (10.30.0.7 onwards)."""
    lines = []
    for d in range(days):
        night = T0 + timedelta(days=d, hours=1)
        sess = f"i-0{_rid(d).lower()[:16]}"
        for i, k in enumerate(SHARDS):
            lines.append(
                s3_line(
                    night + timedelta(minutes=i),
                    "nw-model-weights",
                    role("nightly-train", sess),
                    k,
                    SHARD_BYTES + d * 1000,
                    ip="10.20.4.11",
                )
            )
        for j, who in enumerate(f"{r}@northwind-ai.com" for r in researchers):
            ts = T0 + timedelta(days=d, hours=10 + j)
            r = role("AWSReservedSSO_Researcher_0a1b2c3d", who)
            lines.append(
                s3_line(
                    ts,
                    "nw-model-weights",
                    r,
                    "frontier/v3/config.json",
                    2_345,
                    ip=f"10.30.0.{7 + j}",
                )
            )
            lines.append(
                s3_line(
                    ts + timedelta(minutes=3),
                    "nw-model-weights",
                    r,
                    SHARDS[d % 8],
                    180_000_000 + 1_000_000 * j,
                    ip=f"10.30.0.{7 + j}",
                )
            )
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

    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "crownwatch.toml"
    cfg.write_text(text)
    monkeypatch.setenv("CROWNWATCH_CONFIG", str(cfg))
    return tomllib.loads(text)


def jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def cloudtrail(path: Path, records: list[dict]) -> Path:
    """A CloudTrail log file as the trail delivers it: gzip JSON ``{"Records": [...]}``."""
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        json.dump({"Records": records}, fh)
    return path


def ct_event(
    ts: datetime,
    name: str,
    source: str,
    principal_arn: str,
    params: dict | None,
    *,
    acct: str = "111122223333",
    ip: str = "198.51.100.20",
    extra: dict | None = None,
    resources: list | None = None,
    data: bool = False,
    ua: str = "[aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22]",
    region: str = "us-east-1",
    ec2_role_delivery: bool = False,
) -> dict:
    """One CloudTrail record, fields in the order and shape AWS writes them.
    ``ec2_role_delivery``: the session is an EC2 instance profile's (CloudTrail adds
    ``sessionContext.ec2RoleDelivery``, the IMDS version that delivered it)."""
    caller_acct = principal_arn.split(":")[4]
    rec = {
        "eventVersion": "1.10" if data else "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLEID0001:" + principal_arn.rsplit("/", 1)[-1],
            "arn": principal_arn,
            "accountId": caller_acct,
            "accessKeyId": "ASIAEXAMPLEKEY000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID0001",
                    "arn": f"arn:aws:iam::{caller_acct}:role/" + principal_arn.split("/")[1],
                    "accountId": caller_acct,
                    "userName": principal_arn.split("/")[1],
                },
                "attributes": {
                    "creationDate": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "mfaAuthenticated": "false",
                },
            },
        },
        "eventTime": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": ua,
        "requestParameters": params,
        "responseElements": None,
        "additionalEventData": extra or {},
        "requestID": _rid(ts, name, "req"),
        "eventID": "a" + _rid(ts, name, principal_arn).lower() + "-0000-4000-8000-000000000000",
        "readOnly": name.startswith(("Get", "List", "Describe")),
        "resources": resources or [],
        "eventType": "AwsApiCall",
        "managementEvent": not data,
        "recipientAccountId": acct,
        "eventCategory": "Data" if data else "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "s3.amazonaws.com",
        },
    }
    if ec2_role_delivery:
        rec["userIdentity"]["sessionContext"]["ec2RoleDelivery"] = "2.0"
    return rec


def okta_success(ts: datetime, user: str, ip: str) -> dict:
    """The Okta System Log user.session.start SUCCESS for ``user`` from ``ip``."""
    [ev] = okta_spray(ts, [user], ip=ip)
    ev["outcome"] = {"result": "SUCCESS", "reason": None}
    ev["legacyEventType"] = "core.user_auth.login_success"
    ev["severity"] = "INFO"
    ev["uuid"] = ev["uuid"][:-4] + "5ucc"
    return ev


def okta_spray(ts: datetime, users: list[str], ip: str = "198.51.100.66") -> list[dict]:
    """Okta System Log user.session.start failures: one source, many users, one try each."""
    out = []
    for i, u in enumerate(users):
        out.append(
            {
                "actor": {
                    "id": "00u" + _rid(u)[:17].lower(),
                    "type": "User",
                    "alternateId": u,
                    "displayName": u.split("@")[0],
                },
                "client": {
                    "userAgent": {
                        "rawUserAgent": "python-requests/2.31.0",
                        "os": "Unknown",
                        "browser": "UNKNOWN",
                    },
                    "zone": "null",
                    "device": "Unknown",
                    "id": None,
                    "ipAddress": ip,
                    "geographicalContext": {
                        "city": "Amsterdam",
                        "state": None,
                        "country": "Netherlands",
                        "postalCode": None,
                        "geolocation": {"lat": 52.37, "lon": 4.89},
                    },
                },
                "authenticationContext": {
                    "authenticationProvider": None,
                    "credentialProvider": None,
                    "credentialType": None,
                    "issuer": None,
                    "interface": None,
                    "authenticationStep": 0,
                    "externalSessionId": "unknown",
                },
                "displayMessage": "User login to Okta",
                "eventType": "user.session.start",
                "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
                "published": (ts + timedelta(seconds=20 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "securityContext": {
                    "asNumber": 64496,
                    "asOrg": "example hosting",
                    "isp": "example hosting",
                    "domain": None,
                    "isProxy": False,
                },
                "severity": "WARN",
                "legacyEventType": "core.user_auth.login_failed",
                "transaction": {"type": "WEB", "id": _rid(ts, u), "detail": {}},
                "uuid": _rid(ts, u, "uuid").lower() + "-a1b2-11ee-8c3d-0123456789ab",
                "version": "0",
                "request": {"ipChain": [{"ip": ip, "version": "V4", "source": None}]},
                "target": None,
            }
        )
    return out


def okta_guessed(ts: datetime, prefix: str, who: str, ip: str) -> list[dict]:
    """A spray from ``ip`` at ``ts`` over fourteen colleagues (``<prefix>00@…`` …) and
    ``who``, and an hour later ``who``'s password right from the same address: the way
    in every persistence scenario starts from."""
    staff = [f"{prefix}{i:02d}@northwind-ai.com" for i in range(14)] + [f"{who}@northwind-ai.com"]
    spray = okta_spray(ts, staff, ip=ip)
    spray.append(okta_success(ts + timedelta(hours=1), f"{who}@northwind-ai.com", ip))
    return spray


def registry() -> dict:
    """:data:`REGISTRY_TOML` as the configuration dict a scenario carries."""
    import tomllib

    return tomllib.loads(REGISTRY_TOML)


def storage_logs(
    name: str,
    s3: Callable[[], list[str]] = list,
    cloudtrail: Callable[[], list[dict]] = list,
    okta: Callable[[], list[dict]] = list,
) -> Callable[[], dict[str, str]]:
    """A scenario's ``logs``: ten days of :func:`weights_rhythm` for every researcher
    (one background file every storage scenario shares) and the scenario's own S3
    access log lines, CloudTrail records and Okta System Log events."""

    def build() -> dict[str, str]:
        files = {"s3/weights_rhythm.log": "\n".join(weights_rhythm(10, RESEARCHERS)) + "\n"}
        if lines := s3():
            files[f"s3/{name}.log"] = "\n".join(lines) + "\n"
        if records := cloudtrail():
            files[f"cloudtrail/{name}.json"] = json.dumps({"Records": records})
        if events := okta():
            files[f"okta/{name}.jsonl"] = "".join(json.dumps(e) + "\n" for e in events)
        return files

    return build
