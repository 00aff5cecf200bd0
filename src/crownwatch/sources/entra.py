"""Microsoft Entra ID sign-in logs, in the shapes people actually export them:

* **Microsoft Graph** ``signIn`` resources (camelCase): the ``GET
  /auditLogs/signIns`` page ``{"@odata.context": …, "value": [...]}`` (v1.0 or beta),
  the admin center's "Download JSON" array, and JSON lines of bare objects.
* **Log Analytics / Sentinel ``SigninLogs``** rows (PascalCase; also
  ``AADNonInteractiveUserSignInLogs``): a JSON array (query export) or JSON lines
  (workspace data export). ``ResultType`` is a *string*; ``LocationDetails``,
  ``Status`` and ``DeviceDetail`` are ``dynamic`` — an object in one export and a
  JSON-encoded string in another (the non-interactive table types them as strings),
  so both are read.
* **Diagnostic-settings records** (storage account JSON lines, or Event Hub's
  ``{"records": [...]}``): ``{"time", "category": "SignInLogs", "properties":
  {signIn}}`` — the Graph object inside ``properties`` is what is read.

Each record is told apart on its own (a PascalCase row has ``TimeGenerated`` or
``ResultType``), so a file that mixes them loses nothing.

**Error code → ``reason``** (``status.errorCode`` / ``ResultType``; the code is
always kept verbatim in ``status_code``):

============================================  ============  ==========================
Entra code                                    reason        why
============================================  ============  ==========================
0                                             success
50126 InvalidUserNameOrPassword               bad_password
50034 UserAccountNotFound,                    unknown_user  the name is not in the
50128 invalid domain name                                   tenant (stuffing lists)
50053 IdsLocked (incl. smart lockout and      locked
malicious-IP blocks)
50057 UserDisabled                            disabled
50055 password expired,                       expired
50144 on-prem password expired
50072, 50074, 50076, 50079 (MFA required or   mfa_required  first factor accepted:
enrolment required), 500121 (second factor                  the password was right
failed)
53000, 53001, 53002, 53003, 53004, 530032     ca_blocked    Conditional Access runs
(Conditional Access: device not compliant /                 after the first factor:
not joined / app not approved / blocked /                   the password was right
proof-up blocked / security policy)
anything else (50140 KMSI interrupt, 50097,   other
70044 token expiry, 16000…)
============================================  ============  ==========================

Other columns: ``user`` is the UPN lower-cased (for 50034 it is the name that was
typed); ``user_uid`` the object id (the all-zero id Entra writes for unknown users
becomes NULL); ``src_asn`` is ``AutonomousSystemNumber`` (Log Analytics) or the beta
Graph ``autonomousSystemNumber`` — Graph v1.0 has none, so NULL; ``src_country`` the
two-letter ``countryOrRegion`` (``Location`` in Log Analytics); ``service`` the app
signed in to; ``auth_protocol`` Entra's ``authenticationProtocol`` where it names one
(``ropc``, ``deviceCode``, ``saml20``…) else ``clientAppUsed`` lower-cased
(``browser``, ``exchange activesync``, ``imap4``…) so sprays over legacy protocols
stay visible; ``session_uid`` the ``correlationId``; ``raw_id`` the sign-in ``id``.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.cloudtrail import read_document
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_columns

NAME = "entra"

REASON_CODES = {
    "success": ("0",),
    "bad_password": ("50126",),
    "unknown_user": ("50034", "50128"),
    "locked": ("50053",),
    "disabled": ("50057",),
    "expired": ("50055", "50144"),
    "mfa_required": ("50072", "50074", "50076", "50079", "500121"),
    "ca_blocked": ("53000", "53001", "53002", "53003", "53004", "530032"),
}


def _reason_sql(code: str) -> str:
    whens = "\n".join(
        f"    WHEN {code} IN ({', '.join(repr(c) for c in codes)}) THEN '{reason}'"
        for reason, codes in REASON_CODES.items()
    )
    return (
        f"CASE\n    WHEN lower({code}) = 'success' THEN 'success'\n{whens}\n    ELSE 'other'\nEND"
    )


# Microsoft Graph signIn (and the "properties" of a diagnostic-settings record).
GRAPH = {
    "id": "VARCHAR",
    "createdDateTime": "VARCHAR",
    "userPrincipalName": "VARCHAR",
    "userId": "VARCHAR",
    "appDisplayName": "VARCHAR",
    "resourceDisplayName": "VARCHAR",
    "ipAddress": "VARCHAR",
    "clientAppUsed": "VARCHAR",
    "correlationId": "VARCHAR",
    "userAgent": "VARCHAR",
    "authenticationProtocol": "VARCHAR",
    "autonomousSystemNumber": "VARCHAR",
    "status": {"errorCode": "VARCHAR", "failureReason": "VARCHAR", "additionalDetails": "VARCHAR"},
    "location": {"city": "VARCHAR", "countryOrRegion": "VARCHAR"},
}

GRAPH_REJECT = """CASE
    WHEN e.createdDateTime IS NULL THEN 'missing createdDateTime'
    WHEN try_cast(e.createdDateTime AS TIMESTAMPTZ) IS NULL THEN 'unparseable createdDateTime'
    WHEN coalesce(e.status.errorCode, '') = '' THEN 'missing status.errorCode'
END"""

# Log Analytics SigninLogs row.
LOGANALYTICS = {
    "Id": "VARCHAR",
    "TimeGenerated": "VARCHAR",
    "CreatedDateTime": "VARCHAR",
    "UserPrincipalName": "VARCHAR",
    "UserId": "VARCHAR",
    "AppDisplayName": "VARCHAR",
    "ResourceDisplayName": "VARCHAR",
    "IPAddress": "VARCHAR",
    "ClientAppUsed": "VARCHAR",
    "CorrelationId": "VARCHAR",
    "UserAgent": "VARCHAR",
    "AuthenticationProtocol": "VARCHAR",
    "AutonomousSystemNumber": "VARCHAR",
    "ResultType": "VARCHAR",
    "ResultDescription": "VARCHAR",
    "Location": "VARCHAR",
    "LocationDetails": "JSON",
    "Status": "JSON",
}

LA_REJECT = """CASE
    WHEN coalesce(e.TimeGenerated, e.CreatedDateTime) IS NULL THEN 'missing TimeGenerated'
    WHEN try_cast(coalesce(e.TimeGenerated, e.CreatedDateTime) AS TIMESTAMPTZ) IS NULL
        THEN 'unparseable TimeGenerated'
    WHEN coalesce(e.ResultType, '') = '' THEN 'missing ResultType'
END"""

# A ``dynamic`` column as JSON text whether it came as an object or as a string
# holding one; anything else is NULL. CASE (not AND) so that nothing parses a
# string that is not JSON.
_DYN = """CASE WHEN json_type(e.{c}) = 'OBJECT' THEN CAST(e.{c} AS VARCHAR)
     WHEN json_type(e.{c}) = 'VARCHAR' THEN (CASE WHEN json_valid(e.{c} ->> '$')
          THEN (CASE WHEN json_type(e.{c} ->> '$') = 'OBJECT' THEN e.{c} ->> '$' END) END) END"""

_NULL_UID = "'00000000-0000-0000-0000-000000000000'"


def _auth_select(stage: str, c: dict[str, str], derived: str = "") -> str:
    """The normalising SELECT for one record variant; ``c`` maps the variant's
    expressions to the common columns."""
    reason = _reason_sql("code")
    return f"""
    WITH d AS (
        SELECT raw_offset, e, trim({c["code"]}) AS code {derived}
        FROM {stage} WHERE _reject IS NULL
    )
    SELECT try_cast({c["time"]} AS TIMESTAMPTZ) AS time, '{NAME}' AS source, 'logon' AS activity,
        {identity_columns(c["user"])},
        CASE WHEN {c["user_uid"]} IN ('', {_NULL_UID}) THEN NULL ELSE {c["user_uid"]} END AS user_uid,
        nullif({c["src_ip"]}, '') AS src_ip,
        try_cast({c["src_asn"]} AS BIGINT) AS src_asn,
        nullif({c["src_country"]}, '') AS src_country,
        nullif({c["src_city"]}, '') AS src_city,
        nullif({c["user_agent"]}, '') AS user_agent,
        coalesce(nullif({c["app"]}, ''), nullif({c["resource"]}, ''), 'entra') AS service,
        lower(coalesce(nullif(nullif({c["protocol"]}, 'none'), ''), nullif({c["client_app"]}, '')))
            AS auth_protocol,
        CASE WHEN ({reason}) = 'success' THEN 'success' ELSE 'failure' END AS status,
        {reason} AS reason,
        code AS status_code,
        {c["detail"]} AS status_detail,
        nullif({c["session"]}, '') AS session_uid,
        {c["raw_id"]} AS raw_id, raw_offset
    FROM d"""


GRAPH_COLUMNS = {
    "code": "e.status.errorCode",
    "time": "e.createdDateTime",
    "user": "e.userPrincipalName",
    "user_uid": "e.userId",
    "src_ip": "e.ipAddress",
    "src_asn": "e.autonomousSystemNumber",
    "src_country": "e.location.countryOrRegion",
    "src_city": "e.location.city",
    "user_agent": "e.userAgent",
    "app": "e.appDisplayName",
    "resource": "e.resourceDisplayName",
    "protocol": "e.authenticationProtocol",
    "client_app": "e.clientAppUsed",
    "detail": "coalesce(e.status.failureReason, e.status.additionalDetails)",
    "session": "e.correlationId",
    "raw_id": "e.id",
}

LA_COLUMNS = {
    "code": "e.ResultType",
    "time": "coalesce(e.TimeGenerated, e.CreatedDateTime)",
    "user": "e.UserPrincipalName",
    "user_uid": "e.UserId",
    "src_ip": "e.IPAddress",
    "src_asn": "e.AutonomousSystemNumber",
    "src_country": "coalesce(nullif(e.Location, ''), loc ->> '$.countryOrRegion')",
    "src_city": "loc ->> '$.city'",
    "user_agent": "e.UserAgent",
    "app": "e.AppDisplayName",
    "resource": "e.ResourceDisplayName",
    "protocol": "e.AuthenticationProtocol",
    "client_app": "e.ClientAppUsed",
    "detail": "coalesce(nullif(e.ResultDescription, ''), st ->> '$.failureReason', st ->> '$.additionalDetails')",
    "session": "e.CorrelationId",
    "raw_id": "e.Id",
}
_LA_DERIVED = f", {_DYN.format(c='LocationDetails')} AS loc, {_DYN.format(c='Status')} AS st"

# Where a document keeps its records: Graph pages under "value", Event Hub batches
# under "records"; anything else starting with "[" is a top-level array.
_ENVELOPE = re.compile(
    r'\{\s*"(?:@odata\.[A-Za-z]+"\s*:\s*"[^"]*"\s*,\s*"|)(value|records)"\s*:\s*\['
)


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    if re.search(r'"@odata\.context"\s*:\s*"[^"]*auditLogs/signIns', h, re.IGNORECASE):
        return True
    if re.search(r'"(?:category|Category)"\s*:\s*"\w*SignInLogs"', h):
        return True  # Log Analytics rows and diagnostic-settings records
    if re.search(r'"(?:operationName|OperationName)"\s*:\s*"Sign-in activity"', h):
        return True
    if '"createdDateTime"' in h and '"userPrincipalName"' in h:
        return '"appDisplayName"' in h or '"ipAddress"' in h or '"clientAppUsed"' in h
    return '"TimeGenerated"' in h and '"ResultType"' in h and '"UserPrincipalName"' in h


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096).lstrip()
    key = _envelope_key(head) if head.startswith("{") else None
    if head.startswith("[") or key:
        records = _classify(reader, read_document(reader, path, key))
    else:
        try:
            records = _classify(reader, reader.lines(path))
        except duckdb.Error:
            # DuckDB's fast line reader refused the file (truncated gzip, odd bytes)
            records = _classify(reader, reader.materialise_lines(path))
    la = reader.stage_json(
        f"(SELECT raw_offset, text FROM {records} WHERE la)", LOGANALYTICS, LA_REJECT
    )
    graph = reader.stage_json(
        f"(SELECT raw_offset, text FROM {records} WHERE NOT la)", GRAPH, GRAPH_REJECT
    )
    # Both SELECTs come from one template, so their columns line up for UNION ALL.
    auth = reader.con.sql(_auth_select(graph, GRAPH_COLUMNS)).union(
        reader.con.sql(_auth_select(la, LA_COLUMNS, _LA_DERIVED))
    )
    quarantine = reader.quarantine(graph, NAME, path, "e.id").union(
        reader.quarantine(la, NAME, path, "e.Id")
    )
    return Parsed(
        records=reader.count(graph) + reader.count(la),
        routed={"authentication": auth},
        quarantine=quarantine,
    )


def _envelope_key(head: str) -> str | None:
    m = _ENVELOPE.match(head)
    if m:
        return m.group(1)
    # a Graph page whose "value" comes after "@odata.nextLink" or other keys
    if re.match(r'\{\s*"@odata\.', head):
        return "value"
    return None


def _classify(reader: Reader, records: str) -> str:
    """One pass over the records: unwrap diagnostic-settings envelopes and tag each
    record as a Log Analytics row (``la``) or a Graph object."""
    name = reader.name("entra_records")
    reader.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
        WITH r AS (
            SELECT raw_offset, text,
                CASE WHEN raw_offset >= 0 AND json_valid(text)
                     THEN (CASE WHEN json_type(text) = 'OBJECT' THEN true ELSE false END)
                     ELSE false END AS obj
            FROM {records}
        )
        SELECT raw_offset,
            CASE WHEN obj AND json_type(text, '$.properties') = 'OBJECT'
                      AND json_type(text, '$.category') = 'VARCHAR'
                 THEN CAST(json_extract(text, '$.properties') AS VARCHAR)
                 ELSE text END AS text,
            CASE WHEN obj THEN json_exists(text, '$.TimeGenerated') OR json_exists(text, '$.ResultType')
                 ELSE false END AS la
        FROM r"""
    )
    return name
