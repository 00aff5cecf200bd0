"""Google Cloud Audit Logs records for tests and scenarios: the ``LogEntry`` of an Admin
Activity entry (``cloudaudit.googleapis.com/activity``), fields in the shape Cloud Logging
exports them (``gcloud logging read --format=json``, a log sink to Cloud Storage)."""

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


def admin_activity(
    when: datetime,
    service: str,
    method: str,
    email: str,
    ip: str,
    resource_name: str,
    project: str,
    *,
    request: dict | None = None,
    service_data: dict | None = None,
    permission: str = "",
    resource_type: str = "project",
    ua: str = GCLOUD_UA,
) -> dict:
    """One Admin Activity audit entry a person (``email``, from ``ip``) caused."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    seed = hashlib.sha1(f"{stamp}{method}{email}".encode()).hexdigest()
    payload = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {},
        "authenticationInfo": {"principalEmail": email},
        "requestMetadata": {
            "callerIp": ip,
            "callerSuppliedUserAgent": ua,
            "requestAttributes": {"time": stamp, "auth": {}},
            "destinationAttributes": {},
        },
        "serviceName": service,
        "methodName": method,
        "authorizationInfo": [
            {"resource": resource_name, "permission": permission, "granted": True}
        ],
        "resourceName": resource_name,
    }
    if service_data is not None:
        payload["serviceData"] = service_data
    if request is not None:
        payload["request"] = request
    return {
        "protoPayload": payload,
        "insertId": seed[:12],
        "resource": {"type": resource_type, "labels": {"project_id": project}},
        "timestamp": stamp,
        "severity": "NOTICE",
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity",
        "receiveTimestamp": stamp,
    }


def jsonl(entries: list[dict]) -> str:
    return "".join(json.dumps(e) + "\n" for e in entries)
