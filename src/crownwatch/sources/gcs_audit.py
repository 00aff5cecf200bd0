"""Google Cloud Storage — Cloud Audit Logs (``cloudaudit.googleapis.com/data_access`` and
``…/activity``) for ``storage.googleapis.com``, as a ``LogEntry`` with an ``AuditLog``
``protoPayload``::

    {"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
       "status": {}, "authenticationInfo": {"principalEmail": "user@domain.com"},
       "requestMetadata": {"callerIp": "8.8.8.8", "callerSuppliedUserAgent": "apitools … gsutil/4.67 …"},
       "serviceName": "storage.googleapis.com", "methodName": "storage.objects.get",
       "resourceName": "projects/_/buckets/scc-export-sample/objects/scc-bad-domain.log", …},
     "insertId": "hhu2r3dw556",
     "resource": {"type": "gcs_bucket", "labels": {"bucket_name": "scc-export-sample",
                  "project_id": "gsec-monitoring-prod", "location": "us"}},
     "timestamp": "2021-09-13T03:03:09.008513033Z", "severity": "INFO",
     "logName": "projects/gsec-monitoring-prod/logs/cloudaudit.googleapis.com%2Fdata_access"}

Three layouts, one record per line (or a JSON array, as ``gcloud logging read
--format=json`` prints):

* **Cloud Logging** export / log sink to Cloud Storage: the LogEntry as above.
* **Pub/Sub** push subscription: ``{"message": {"data": "<base64 LogEntry>", …},
  "subscription": "…"}`` — decoded in the engine; undecodable data is quarantined.
* **BigQuery** sink rows exported as JSON: the payload is ``protopayload_auditlog`` and
  timestamps read ``2026-03-01 10:00:00.123456 UTC``.

Mapping: ``methodName`` → ``api_operation`` (``storage.objects.get`` …);
``authenticationInfo.principalEmail`` → ``principal`` (``principal_type``
``serviceAccount`` for ``*.gserviceaccount.com``, else ``user``; an unauthenticated
caller is ``allUsers``); ``requestMetadata.callerIp`` / ``callerSuppliedUserAgent`` →
``src_ip`` / ``user_agent`` (``gce-internal-ip`` and other non-addresses → NULL);
``resourceName`` ``projects/_/buckets/B/objects/K`` → ``resource`` ``gs://B/K``;
``resource.labels.project_id`` → ``account``; ``status.code`` non-zero → failure.
Audit logs carry no byte counts, so ``bytes_out`` stays NULL (bulk reads on GCS are
measured in objects — see ``exfiltration.bulk_read``). Entries of other services in a
mixed export are kept too (their ``resourceName`` as ``resource``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text

NAME = "gcs_audit"

_PAYLOAD = {
    "@type": "VARCHAR",
    "serviceName": "VARCHAR",
    "methodName": "VARCHAR",
    "resourceName": "VARCHAR",
    "status": {"code": "BIGINT", "message": "VARCHAR"},
    "authenticationInfo": {"principalEmail": "VARCHAR", "principalSubject": "VARCHAR"},
    "requestMetadata": {"callerIp": "VARCHAR", "callerSuppliedUserAgent": "VARCHAR"},
    "resourceLocation": {"currentLocations": ["VARCHAR"]},
    "request": "JSON",
    "metadata": "JSON",
}

STRUCTURE = {
    "insertId": "VARCHAR",
    "logName": "VARCHAR",
    "timestamp": "VARCHAR",
    "resource": {
        "type": "VARCHAR",
        "labels": {"bucket_name": "VARCHAR", "project_id": "VARCHAR", "location": "VARCHAR"},
    },
    "protoPayload": _PAYLOAD,
    "protopayload_auditlog": _PAYLOAD,
}

_P = "coalesce(e.protoPayload, e.protopayload_auditlog)"

REJECT = f"""CASE
    WHEN e.timestamp IS NULL THEN 'missing timestamp'
    WHEN try_cast(e.timestamp AS TIMESTAMPTZ) IS NULL THEN 'unparseable timestamp'
    WHEN {_P}.methodName IS NULL THEN 'not an audit log entry (no protoPayload.methodName)'
END"""


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    if '"protoPayload"' in h or '"protopayload_auditlog"' in h:
        return (
            "storage.googleapis.com" in h or "cloudaudit.googleapis.com" in h or '"gcs_bucket"' in h
        )
    # Pub/Sub push envelope of a log sink: the LogEntry is base64 in message.data
    return '"message"' in h and '"subscription"' in h and '"data"' in h


def _records(reader: Reader, path: Path) -> str:
    is_array = head_text(path, 64).lstrip().startswith("[")
    src = reader.json_document(path, None) if is_array else reader.lines(path)
    # Pub/Sub envelopes carry the LogEntry base64-encoded; TRY keeps a bad one a
    # record (then quarantined as malformed) instead of failing the file.
    return f"""(SELECT raw_offset,
            CASE WHEN json_valid(text) AND json_exists(text, '$.message.data')
                 THEN coalesce(try(decode(from_base64(json_extract_string(text, '$.message.data')))),
                               'pubsub message data is not base64 UTF-8')
                 ELSE text END AS text
        FROM {src})"""


def parse(reader: Reader, path: Path) -> Parsed:
    # JSON lines of bare LogEntries (a sink's export, the common case): one typed
    # parallel read_json; a Pub/Sub envelope, a BigQuery row that fails the checks, a
    # blank or broken line sends the file down the line-by-line path below.
    stage = None
    if not head_text(path, 64).lstrip().startswith("["):
        stage = reader._stage_json_clean(path, STRUCTURE, REJECT)
    if stage is None:
        try:
            stage = reader.stage_json(_records(reader, path), STRUCTURE, REJECT)
        except duckdb.Error:
            stage = reader.stage_json(_records_slow(reader, path), STRUCTURE, REJECT)
    obj = f"{_P}.resourceName"
    bucket = f"nullif(regexp_extract({obj}, '^projects/_/buckets/([^/]+)', 1), '')"
    key = f"nullif(regexp_extract({obj}, '^projects/_/buckets/[^/]+/objects/(.+)$', 1), '')"
    ip = f"{_P}.requestMetadata.callerIp"
    email = f"nullif({_P}.authenticationInfo.principalEmail, '')"
    rows = reader.con.sql(
        f"""SELECT
            try_cast(e.timestamp AS TIMESTAMPTZ) AS time, '{NAME}' AS source, 'gcp' AS cloud,
            coalesce(e.resource.labels.project_id,
                     nullif(regexp_extract(e.logName, '^projects/([^/]+)/', 1), '')) AS account,
            coalesce(e.resource.labels.location, {_P}.resourceLocation.currentLocations[1]) AS region,
            {_P}.serviceName AS api_service, {_P}.methodName AS api_operation,
            coalesce({email}, nullif({_P}.authenticationInfo.principalSubject, ''), 'allUsers') AS principal,
            CASE WHEN {email} LIKE '%.gserviceaccount.com' THEN 'serviceAccount'
                 WHEN {email} IS NOT NULL THEN 'user' ELSE 'anonymous' END AS principal_type,
            nullif(regexp_extract({email}, '@([^.@]+)\\.iam\\.gserviceaccount\\.com$', 1), '') AS principal_account,
            CASE WHEN regexp_full_match({ip}, '[0-9]{{1,3}}(\\.[0-9]{{1,3}}){{3}}')
                   OR (contains({ip}, ':') AND regexp_full_match({ip}, '[0-9A-Fa-f:.]+')) THEN {ip} END AS src_ip,
            {_P}.requestMetadata.callerSuppliedUserAgent AS user_agent,
            CASE WHEN {bucket} IS NOT NULL THEN 'gs://' || {bucket} || coalesce('/' || {key}, '')
                 ELSE {obj} END AS resource,
            coalesce({bucket}, e.resource.labels.bucket_name) AS bucket,
            {key} AS object_key,
            CASE WHEN coalesce({_P}.status.code, 0) = 0 THEN 'success' ELSE 'failure' END AS status,
            CASE WHEN coalesce({_P}.status.code, 0) <> 0
                 THEN concat_ws(' ', {_P}.status.code::VARCHAR, {_P}.status.message) END AS error_code,
            CASE WHEN regexp_extract({email}, '@([^.@]+)\\.iam\\.gserviceaccount\\.com$', 1) NOT IN ('', e.resource.labels.project_id)
                 THEN true ELSE false END AS is_cross_account,
            CAST({_P}.request AS VARCHAR) AS request_parameters,
            e.insertId AS raw_id, raw_offset
        FROM {stage} WHERE _reject IS NULL"""
    )
    return Parsed(
        records=reader.count(stage),
        routed={"api_activity": rows},
        quarantine=reader.quarantine(stage, NAME, path, "e.insertId"),
    )


def _records_slow(reader: Reader, path: Path) -> str:
    lines = reader.materialise_lines(path)
    return f"""(SELECT raw_offset,
            CASE WHEN json_valid(text) AND json_exists(text, '$.message.data')
                 THEN coalesce(try(decode(from_base64(json_extract_string(text, '$.message.data')))),
                               'pubsub message data is not base64 UTF-8')
                 ELSE text END AS text
        FROM {lines})"""
