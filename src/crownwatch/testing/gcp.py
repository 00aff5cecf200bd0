"""Google Cloud Audit Logs records for the simulators, tests and scenarios: the
``LogEntry`` of an audit entry (``cloudaudit.googleapis.com/activity`` or
``…/data_access``), fields in the order and shape Cloud Logging exports them
(``gcloud logging read --format=json``, a log sink to Cloud Storage)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

GCLOUD_UA = (
    "google-cloud-sdk gcloud/460.0.0 command/gcloud.projects.add-iam-policy-binding "
    "invocation-id/0a1b2c3d4e5f environment/None environment-version/None "
    "client-os/LINUX client-os-ver/6.5.0 client-pltf-arch/x86_64 interactive/True "
    "from-script/False python/3.11.8 term/xterm-256color (Linux 6.5.0-1016-gcp),gzip(gfe)"
)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def audit_entry(
    when: datetime,
    service: str,
    method: str,
    email: str,
    ip: str,
    resource_name: str,
    project: str,
    *,
    log: str = "activity",
    resource: dict | None = None,
    permission: str = "",
    code: int = 0,
    location: str | None = None,
    request: dict | None = None,
    service_data: dict | None = None,
    ua: str = GCLOUD_UA,
    insert_id: str | None = None,
    received: datetime | None = None,
) -> dict:
    """One audit entry a caller (``email``, from ``ip``) caused in ``project``.

    ``log``: ``activity`` (Admin Activity, severity NOTICE) or ``data_access`` (INFO);
    ``resource``: the monitored resource (default the project); ``code``: a non-zero
    status is a refusal (PERMISSION_DENIED); ``location``: the resource's location, as
    storage entries give it."""
    payload: dict = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {"code": code, "message": "PERMISSION_DENIED"} if code else {},
        "authenticationInfo": {"principalEmail": email},
        "requestMetadata": {
            "callerIp": ip,
            "callerSuppliedUserAgent": ua,
            "requestAttributes": {"time": _stamp(when), "auth": {}},
            "destinationAttributes": {},
        },
        "serviceName": service,
        "methodName": method,
        "authorizationInfo": [
            {
                "resource": resource_name,
                "permission": permission,
                "granted": code == 0,
                "resourceAttributes": {},
            }
        ],
        "resourceName": resource_name,
    }
    if location is not None:
        payload["resourceLocation"] = {"currentLocations": [location]}
    if service_data is not None:
        payload["serviceData"] = service_data
    if request is not None:
        payload["request"] = request
    seed = hashlib.sha1(f"{_stamp(when)}{method}{email}".encode()).hexdigest()
    return {
        "protoPayload": payload,
        "insertId": insert_id or seed[:12],
        "resource": resource or {"type": "project", "labels": {"project_id": project}},
        "timestamp": _stamp(when),
        "severity": "NOTICE" if log == "activity" else "INFO",
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}",
        "receiveTimestamp": _stamp(received or when),
    }


def jsonl(entries: list[dict]) -> str:
    return "".join(json.dumps(e) + "\n" for e in entries)
