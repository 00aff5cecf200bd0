"""Azure Blob Storage resource logs, in the two layouts Azure Monitor writes them.

**Diagnostic settings** (archived to a storage account, streamed to Event Hubs), one
JSON record a line (Event Hubs batches ``{"records": [...]}`` are read too)::

    {"time": "2022-07-05T12:32:21.4573166Z",
     "resourceId": "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<acct>/blobServices/default",
     "category": "StorageRead", "operationName": "GetBlob", "statusCode": 200, "statusText": "Success",
     "callerIpAddress": "203.0.113.7:51234",
     "identity": {"type": "OAuth", "tokenHash": "…",
                  "requester": {"appId": "…", "objectId": "…", "tenantId": "…", "upn": "alice@contoso.com"}},
     "properties": {"accountName": "<acct>", "userAgentHeader": "…", "objectKey": "/<acct>/<container>/<blob>",
                    "responseBodySize": 1048576, "requestBodySize": 0, "tlsVersion": "TLS 1.2", …},
     "uri": "https://<acct>.blob.core.windows.net:443/<container>/<blob>", "protocol": "HTTPS", …}

**Log Analytics** ``StorageBlobLogs`` rows (query exports, ``az monitor log-analytics
query``), JSON lines or one JSON array, with the table's columns: ``TimeGenerated``,
``AccountName``, ``OperationName``, ``AuthenticationType`` (``OAuth``, ``SAS``,
``AccountKey``, ``Anonymous``…), ``StatusCode``, ``CallerIpAddress`` (``ip:port``),
``Uri``, ``ObjectKey``, ``ResponseBodySize``, ``RequesterObjectId``, ``RequesterUpn``,
``RequesterTenantId``, ``UserAgentHeader``, ``TlsVersion``, ``_ResourceId``…

Mapping: the caller is the UPN, else the OAuth object id; a SAS or account-key caller
has no identity in the log, so it is named by its credential — ``sas:<account>`` /
``accountkey:<account>`` — which is what a finding can act on (rotate the key, revoke
the SAS). ``AuthenticationType`` → ``auth_method`` verbatim; ``responseBodySize`` →
``bytes_out``; ``objectKey`` ``/acct/container/blob`` → ``resource``
``azure://acct/container/blob``; the port is dropped from ``callerIpAddress``; the
subscription in the resource id → ``account``; the requester's tenant →
``principal_account``. Status below 400 is success.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text

NAME = "azure_blob"

DIAG_STRUCTURE = {
    "time": "VARCHAR",
    "resourceId": "VARCHAR",
    "category": "VARCHAR",
    "operationName": "VARCHAR",
    "statusCode": "VARCHAR",
    "statusText": "VARCHAR",
    "callerIpAddress": "VARCHAR",
    "correlationId": "VARCHAR",
    "location": "VARCHAR",
    "uri": "VARCHAR",
    "identity": {
        "type": "VARCHAR",
        "tokenHash": "VARCHAR",
        "requester": {
            "appId": "VARCHAR",
            "objectId": "VARCHAR",
            "tenantId": "VARCHAR",
            "upn": "VARCHAR",
        },
    },
    "properties": {
        "accountName": "VARCHAR",
        "userAgentHeader": "VARCHAR",
        "objectKey": "VARCHAR",
        "responseBodySize": "BIGINT",
        "requestBodySize": "BIGINT",
        "tlsVersion": "VARCHAR",
        "sourceUri": "VARCHAR",
        "destinationUri": "VARCHAR",
    },
}
DIAG = {
    "time": "e.time",
    "rid": "e.resourceId",
    "category": "e.category",
    "op": "e.operationName",
    "code": "e.statusCode",
    "text": "e.statusText",
    "ip": "e.callerIpAddress",
    "corr": "e.correlationId",
    "loc": "e.location",
    "uri": "e.uri",
    "auth": "e.identity.type",
    "hash": "e.identity.tokenHash",
    "app": "e.identity.requester.appId",
    "oid": "e.identity.requester.objectId",
    "tenant": "e.identity.requester.tenantId",
    "upn": "e.identity.requester.upn",
    "acct": "e.properties.accountName",
    "ua": "e.properties.userAgentHeader",
    "okey": "e.properties.objectKey",
    "resp": "e.properties.responseBodySize",
    "req": "e.properties.requestBodySize",
    "tls": "e.properties.tlsVersion",
    "src_uri": "e.properties.sourceUri",
    "dst_uri": "e.properties.destinationUri",
}

# Log Analytics StorageBlobLogs: the same facts under the table's column names.
LA_COLUMNS = {
    "TimeGenerated": "time",
    "_ResourceId": "rid",
    "Category": "category",
    "OperationName": "op",
    "StatusCode": "code",
    "StatusText": "text",
    "CallerIpAddress": "ip",
    "CorrelationId": "corr",
    "Location": "loc",
    "Uri": "uri",
    "AuthenticationType": "auth",
    "AuthenticationHash": "hash",
    "RequesterAppId": "app",
    "RequesterObjectId": "oid",
    "RequesterTenantId": "tenant",
    "RequesterUpn": "upn",
    "AccountName": "acct",
    "UserAgentHeader": "ua",
    "ObjectKey": "okey",
    "ResponseBodySize": "resp",
    "RequestBodySize": "req",
    "TlsVersion": "tls",
    "SourceUri": "src_uri",
    "DestinationUri": "dst_uri",
}
LA_STRUCTURE = {c: ("BIGINT" if c.endswith("BodySize") else "VARCHAR") for c in LA_COLUMNS}
LA = {v: f"e.{k}" for k, v in LA_COLUMNS.items()}


def _reject(f: dict) -> str:
    return f"""CASE
    WHEN {f["time"]} IS NULL THEN 'missing time'
    WHEN try_cast({f["time"]} AS TIMESTAMPTZ) IS NULL THEN 'unparseable time'
    WHEN {f["op"]} IS NULL THEN 'missing operation name'
END"""


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    diag = '"operationName"' in h and (
        '"blobServices' in h
        or '"StorageRead"' in h
        or '"StorageWrite"' in h
        or '"StorageDelete"' in h
    )
    la = (
        '"OperationName"' in h
        and ('"AccountName"' in h or '"StorageBlobLogs"' in h)
        and '"TimeGenerated"' in h
    )
    return diag or la


def _stage(reader: Reader, path: Path, structure: dict, reject_sql: str) -> str:
    """The parsed records: one document (a JSON array, or ``{"records": [...]}`` as
    diagnostic settings archive them) record by record; JSON lines by the typed
    parallel read when the file is clean (:meth:`Reader.stage_json_lines`, which
    falls back to reading line by line itself)."""
    head = head_text(path, 256).lstrip()
    if head.startswith("["):
        records = reader.json_document(path, None)
    elif head.startswith('{"records"') or head.startswith('{ "records"'):
        records = reader.json_document(path, "records")
    else:
        return reader.stage_json_lines(path, structure, reject_sql)
    try:
        return reader.stage_json(records, structure, reject_sql)
    except duckdb.Error:
        return reader.stage_json(reader.materialise_lines(path), structure, reject_sql)


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096)
    la = '"TimeGenerated"' in head and '"OperationName"' in head
    structure, f = (LA_STRUCTURE, LA) if la else (DIAG_STRUCTURE, DIAG)
    stage = _stage(reader, path, structure, _reject(f))
    acct = f"lower({f['acct']})"
    okey = f["okey"]
    auth = f["auth"]
    upn = f"nullif({f['upn']}, '')"
    oid = f"nullif({f['oid']}, '')"
    ipport = f["ip"]
    code = f"try_cast({f['code']} AS INTEGER)"
    path_part = f"nullif(regexp_extract({okey}, '^/[^/]+/(.+)$', 1), '')"
    container = f"nullif(split_part({path_part}, '/', 1), '')"
    blob = f"nullif(regexp_extract({okey}, '^/[^/]+/[^/]+/(.+)$', 1), '')"
    rows = reader.con.sql(
        f"""SELECT
            try_cast({f["time"]} AS TIMESTAMPTZ) AS time, '{NAME}' AS source, 'azure' AS cloud,
            nullif(regexp_extract(lower({f["rid"]}), '^/subscriptions/([^/]+)/', 1), '') AS account,
            {f["loc"]} AS region,
            'blob.core.windows.net' AS api_service, {f["op"]} AS api_operation,
            lower(coalesce({upn}, {oid},
                CASE WHEN lower({auth}) LIKE '%sas%' THEN 'sas:' || {acct}
                     WHEN lower({auth}) = 'accountkey' THEN 'accountkey:' || {acct}
                     ELSE 'anonymous' END)) AS principal,
            CASE WHEN {upn} IS NOT NULL THEN 'user' WHEN {oid} IS NOT NULL THEN 'servicePrincipal'
                 ELSE {auth} END AS principal_type,
            nullif({f["tenant"]}, '') AS principal_account,
            CASE WHEN {ipport} LIKE '[%' THEN nullif(regexp_extract({ipport}, '^\\[([^\\]]+)\\]', 1), '')
                 WHEN regexp_full_match({ipport}, '[0-9.]+:[0-9]+') THEN split_part({ipport}, ':', 1)
                 WHEN regexp_full_match({ipport}, '[0-9A-Fa-f:.]+') THEN {ipport} END AS src_ip,
            {f["ua"]} AS user_agent,
            {auth} AS auth_method,
            CASE WHEN {okey} LIKE '/%' THEN 'azure://' || lower(split_part({okey}, '/', 2))
                      || coalesce('/' || {path_part}, '') END AS resource,
            {acct} || coalesce('/' || {container}, '') AS bucket,
            {blob} AS object_key,
            coalesce({f["resp"]}, 0) AS bytes_out,
            {f["req"]} AS bytes_in,
            CASE WHEN {code} < 400 THEN 'success' ELSE 'failure' END AS status,
            CASE WHEN {code} >= 400 OR {code} IS NULL THEN coalesce({f["text"]}, {f["code"]}) END AS error_code,
            json_object('uri', {f["uri"]}, 'source_uri', {f["src_uri"]}, 'destination_uri', {f["dst_uri"]},
                        'app_id', nullif({f["app"]}, ''), 'token_hash', {f["hash"]},
                        'category', {f["category"]})::VARCHAR AS request_parameters,
            lower(nullif(regexp_extract(coalesce({f["dst_uri"]}, ''),
                         '^https://([a-z0-9]+)\\.blob\\.core\\.windows\\.net', 1), '')) AS target_account,
            {f["tls"]} AS tls_version,
            {f["corr"]} AS raw_id, raw_offset
        FROM {stage} WHERE _reject IS NULL"""
    )
    return Parsed(
        records=reader.count(stage),
        routed={"api_activity": rows},
        quarantine=reader.quarantine(stage, NAME, path, f["corr"]),
    )
