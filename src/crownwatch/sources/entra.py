"""Microsoft Entra ID sign-in and audit logs, in the shapes people actually export and
ship them. Sign-ins are read here; audit records (Graph ``directoryAudit``, the
``AuditLogs`` category and table) by :mod:`crownwatch.sources.entra_audit`, into
``api_activity`` — one file may hold both, and every record is told apart on its own.
Sign-in shapes:

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
  ``{"records": [...]}``): ``{"time", "category", "properties": {…}}``. For the
  sign-in categories the Graph object inside ``properties`` is what is read; when it
  lacks ``createdDateTime`` (or ``status.errorCode``) the record's own ``time`` (and
  ``resultType``) stand in — the envelope states the same facts.
* Any of these inside **Splunk** HEC events or search exports and **Elasticsearch**
  hits (see :mod:`crownwatch.sources.shippers`).

**Categories.** A diagnostic-settings archive holds every category the tenant sends,
and a Log Analytics export may hold any Entra table. Read: ``SignInLogs``,
``NonInteractiveUserSignInLogs`` and ``ADFSSignInLogs`` (tables ``SigninLogs``,
``AADNonInteractiveUserSignInLogs``, ``ADFSSignInLogs``) — a person signing in — into
``authentication``; ``AuditLogs`` (table ``AuditLogs``, Graph ``directoryAudit``) into
``api_activity``. **Skipped** (counted in ``skipped``, not stored, never quarantined):
everything else — ``ProvisioningLogs``, ``RiskyUsers``, ``UserRiskEvents``, … — and,
deliberately, ``ServicePrincipalSignInLogs`` and ``ManagedIdentitySignInLogs`` (and
Graph beta sign-ins whose ``signInEventTypes`` are only ``servicePrincipal`` /
``managedIdentity``): a workload identity has no user, ``authentication`` is a
person's sign-in attempt and every identity detection keys on the person, and the
managed-identity stream is the tenant's largest — reading it would bury the people.
Watching workload credentials (a leaked client secret, 7000215 failures) needs a
detection of its own and is left for one. The sniff knows every Entra category, the
``Microsoft.aadiam`` resource id of diagnostic records, the Entra Log Analytics table
names and the Graph ``signIn`` and ``directoryAudit`` objects.

Each record is told apart on its own (a PascalCase row has ``TimeGenerated`` or
``ResultType``; an audit record is ``AuditLogs`` by its category or table, or a Graph
object with ``activityDateTime`` / ``activityDisplayName``), so a file that mixes them
loses nothing.

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
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crownwatch.sources import entra_audit, shippers
from crownwatch.sources.base import Parsed
from crownwatch.sources.cloudtrail import read_document
from crownwatch.sources.reader import Reader, _duck_type, head_text
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


# Diagnostic-settings categories (``category``, compared lower-cased) and Log
# Analytics tables (``Type``) that are a person signing in: read. The rest is
# skipped (see "Categories" above).
READ_CATEGORIES = ("signinlogs", "noninteractiveusersigninlogs", "adfssigninlogs")
READ_TYPES = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "ADFSSignInLogs")
# Entra ID's diagnostic-settings categories, every one of them (for sniffing).
CATEGORIES = (
    "AuditLogs",
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "ProvisioningLogs",
    "ADFSSignInLogs",
    "RiskyUsers",
    "UserRiskEvents",
    "RiskyServicePrincipals",
    "ServicePrincipalRiskEvents",
    "NetworkAccessTrafficLogs",
    "NetworkAccessAlerts",
    "NetworkAccessConnectionEvents",
    "EnrichedOffice365AuditLogs",
    "MicrosoftGraphActivityLogs",
    "RemoteNetworkHealthLogs",
    "MicrosoftServicePrincipalSignInLogs",
    "AzureADGraphActivityLogs",
    "B2CRequestLogs",
)
# The Log Analytics tables those categories land in.
TYPES = (
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
    "ADFSSignInLogs",
    "AuditLogs",
    "AADProvisioningLogs",
    "AADRiskyUsers",
    "AADUserRiskEvents",
    "AADRiskyServicePrincipals",
    "AADServicePrincipalRiskEvents",
)
_CATEGORY_RE = re.compile(r'"(?:category|Category)"\s*:\s*"(?:' + "|".join(CATEGORIES) + ')"')
_TYPE_RE = re.compile(r'"Type"\s*:\s*"(?:' + "|".join(TYPES) + ')"')

VENDOR = shippers.Vendor()  # Splunk / Elasticsearch envelopes; no Logstash time to restore


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    h = shippers.unescaped(h)  # inside Splunk's _raw or a HEC string event
    if re.search(
        r'"@odata\.context"\s*:\s*"[^"]*auditLogs/(?:signIns|directoryAudits)', h, re.IGNORECASE
    ):
        return True
    if re.search(r'"resourceId"\s*:\s*"/tenants/[^"]*/providers/microsoft\.aadiam"', h, re.I):
        return True  # diagnostic-settings records, whatever their category
    if _CATEGORY_RE.search(h) or _TYPE_RE.search(h):
        return True  # diagnostic-settings records and Log Analytics rows
    if re.search(r'"(?:operationName|OperationName)"\s*:\s*"Sign-in activity"', h):
        return True
    if '"createdDateTime"' in h and '"userPrincipalName"' in h:
        return '"appDisplayName"' in h or '"ipAddress"' in h or '"clientAppUsed"' in h
    if '"activityDisplayName"' in h:  # Graph directoryAudit
        return any(k in h for k in ('"activityDateTime"', '"initiatedBy"', '"loggedByService"'))
    if '"ActivityDisplayName"' in h:  # a Log Analytics AuditLogs row without its "Type"
        return any(k in h for k in ('"InitiatedBy"', '"TargetResources"', '"LoggedByService"'))
    return '"TimeGenerated"' in h and '"ResultType"' in h and '"UserPrincipalName"' in h


@dataclass
class _Stages:
    """A file's records, parsed once each into the stage of their kind."""

    graph: str  # Graph signIn (and diagnostic-settings sign-ins, unwrapped)
    la: str  # Log Analytics sign-in rows
    audit: str  # Graph directoryAudit and diagnostic-settings AuditLogs records
    audit_la: str  # Log Analytics AuditLogs rows
    skipped: int = 0

    def all(self) -> tuple[str, ...]:
        return (self.graph, self.la, self.audit, self.audit_la)


# A first record that is an audit record: try the audit fast path, not the sign-in one.
_AUDIT_HEAD = re.compile(r'"activityDateTime"\s*:|"category"\s*:\s*"AuditLogs"')
# A first record that is a Log Analytics row: neither fast path would take the file.
_LA_HEAD = re.compile(r'"TimeGenerated"\s*:')


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096)
    h = head.lstrip()
    key = (_envelope_key(h) if h.startswith("{") else None) or shippers.document_key(h)
    wrapped = shippers.looks_wrapped(head, VENDOR)
    if h.startswith("[") or key:
        st = _read(reader, read_document(reader, path, key), wrapped)
    elif (bare := None if wrapped or _LA_HEAD.search(h) else _bare(reader, path, h)) is not None:
        st = bare
    else:
        try:
            st = _read(reader, reader.lines(path), wrapped)
        except duckdb.Error:
            # DuckDB's fast line reader refused the file (truncated gzip, odd bytes)
            st = _read(reader, reader.materialise_lines(path), wrapped)
    # Each pair of SELECTs comes from one template, so their columns line up for UNION ALL.
    auth = reader.con.sql(_auth_select(st.graph, GRAPH_COLUMNS)).union(
        reader.con.sql(_auth_select(st.la, LA_COLUMNS, _LA_DERIVED))
    )
    api = reader.con.sql(entra_audit.api_select(st.audit, entra_audit.GRAPH_COLUMNS)).union(
        reader.con.sql(entra_audit.api_select(st.audit_la, entra_audit.LA_COLUMNS))
    )
    quarantine = (
        reader.quarantine(st.graph, NAME, path, "e.id")
        .union(reader.quarantine(st.la, NAME, path, "e.Id"))
        .union(reader.quarantine(st.audit, NAME, path, entra_audit.GRAPH_COLUMNS["raw_id"]))
        .union(reader.quarantine(st.audit_la, NAME, path, "e.Id"))
    )
    return Parsed(
        records=sum(reader.count(t) for t in st.all()) + st.skipped,
        routed={"authentication": auth, "api_activity": api},
        quarantine=quarantine,
        skipped=st.skipped,
    )


# A bare Graph signIn read by the reader's typed read_json: the keys that would make
# _classify see anything else (a diagnostic-settings envelope, a Log Analytics row) or
# skip the record (a beta service-principal sign-in) are read too, and reject it — the
# file then goes the line-by-line way, where _classify decides.
_BARE_GRAPH = {
    **GRAPH,
    "properties": "JSON",
    "category": "VARCHAR",
    "TimeGenerated": "VARCHAR",
    "ResultType": "VARCHAR",
    "signInEventTypes": ["VARCHAR"],
}
_BARE_GRAPH_REJECT = f"""CASE
    WHEN e.properties IS NOT NULL OR e.category IS NOT NULL OR e.TimeGenerated IS NOT NULL
         OR e.ResultType IS NOT NULL THEN 'not a bare Graph signIn'
    WHEN coalesce(list_has_any(e.signInEventTypes, ['servicePrincipal', 'managedIdentity'])
                  AND NOT list_has_any(e.signInEventTypes, ['interactiveUser', 'nonInteractiveUser']),
                  false) THEN 'a service-principal sign-in'
    ELSE ({GRAPH_REJECT}) END"""


def _bare_graph(reader: Reader, path: Path) -> str | None:
    """The Graph stage of a JSON-lines file of bare Graph signIn objects, every one
    clean (the export of ``GET /auditLogs/signIns``, the common case), by one typed
    parallel ``read_json`` (measured at 1M sign-ins: about half the time of splitting
    lines, classifying and ``json_transform`` per line); None for any other file."""
    return reader._stage_json_clean(path, _BARE_GRAPH, _BARE_GRAPH_REJECT)


# The audit records' fast path, the same way: Graph directoryAudit objects and
# diagnostic-settings AuditLogs records share one structure, so a storage-account
# AuditLogs archive or a directoryAudits export is one typed read. Any sign-in, Log
# Analytics row or other category rejects, and the file goes the line-by-line way.
_BARE_AUDIT = {
    **entra_audit.STRUCTURE,
    "category": "VARCHAR",
    "createdDateTime": "VARCHAR",
    "TimeGenerated": "VARCHAR",
}
_BARE_AUDIT_REJECT = f"""CASE
    WHEN e.createdDateTime IS NOT NULL OR e.TimeGenerated IS NOT NULL THEN 'not an audit record'
    WHEN e.properties IS NOT NULL AND coalesce(lower(e.category), '') <> 'auditlogs'
        THEN 'not an audit record'
    ELSE ({entra_audit.GRAPH_REJECT}) END"""


def _bare(reader: Reader, path: Path, head: str) -> _Stages | None:
    """The stages of a clean JSON-lines file of one kind (sign-ins, or audit records,
    as its first record says), or None: the file is read line by line instead."""
    if _AUDIT_HEAD.search(head):
        audit = reader._stage_json_clean(path, _BARE_AUDIT, _BARE_AUDIT_REJECT)
        if audit is None:
            return None
        return _Stages(
            _empty_stage(reader, GRAPH),
            _empty_stage(reader, LOGANALYTICS),
            audit,
            _empty_stage(reader, entra_audit.LOGANALYTICS),
        )
    graph = _bare_graph(reader, path)
    if graph is None:
        return None
    return _Stages(
        graph,
        _empty_stage(reader, LOGANALYTICS),
        _empty_stage(reader, entra_audit.STRUCTURE),
        _empty_stage(reader, entra_audit.LOGANALYTICS),
    )


def _empty_stage(reader: Reader, structure: dict) -> str:
    name = reader.name("stage")
    reader.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT NULL::BIGINT AS raw_offset, NULL::{_duck_type(structure)} AS e,
               NULL::VARCHAR AS _reject, NULL::VARCHAR AS _record LIMIT 0"""
    )
    return name


def _read(reader: Reader, records: str, wrapped: bool) -> _Stages:
    """:func:`_stages`, peeled when the head showed envelopes or the rejects of a
    bare read hold some (see :mod:`crownwatch.sources.shippers`)."""
    st = _stages(reader, records, wrapped)
    if not wrapped and any(shippers.rejects_look_wrapped(reader, s, VENDOR) for s in st.all()):
        for s in st.all():
            reader.con.execute(f"DROP TABLE {s}")
        st = _stages(reader, records, True)
    return st


# The stage of each kind of record: (its rows in _classify's table, structure, rejects).
_KINDS = {
    "graph": ("NOT la AND NOT audit", GRAPH, GRAPH_REJECT),
    "la": ("la AND NOT audit", LOGANALYTICS, LA_REJECT),
    "audit": ("NOT la AND audit", entra_audit.STRUCTURE, entra_audit.GRAPH_REJECT),
    "audit_la": ("la AND audit", entra_audit.LOGANALYTICS, entra_audit.LA_REJECT),
}


def _stages(reader: Reader, records: str, wrapped: bool) -> _Stages:
    """The four stages of a record table, and how many records were skipped
    (categories no table models, Splunk control rows)."""
    peeled = shippers.peel(records, VENDOR) if wrapped else shippers.bare(records)
    cls = _classify(reader, peeled)
    cols = "raw_offset, text, original, why, skip, label"
    stages, skipped = {}, 0
    for kind, (where, structure, reject) in _KINDS.items():
        stages[kind], n = shippers.stage(
            reader, f"(SELECT {cols} FROM {cls} WHERE {where})", structure, reject
        )
        skipped += n
    return _Stages(**stages, skipped=skipped)


def _envelope_key(head: str) -> str | None:
    m = _ENVELOPE.match(head)
    if m:
        return m.group(1)
    # a Graph page whose "value" comes after "@odata.nextLink" or other keys
    if re.match(r'\{\s*"@odata\.', head):
        return "value"
    return None


# What _classify reads of each record, in one parse (json_extract with a list of paths).
_KEYS = (
    "$.properties",  # 1 diagnostic-settings record: the Graph object
    "$.category",  # 2
    "$.time",  # 3
    "$.properties.createdDateTime",  # 4
    "$.properties.status.errorCode",  # 5
    "$.resultType",  # 6
    "$.Type",  # 7 Log Analytics row
    "$.Category",  # 8
    "$.TimeGenerated",  # 9
    "$.ResultType",  # 10
    "$.signInEventTypes",  # 11 Graph beta signIn
    "$.activityDateTime",  # 12 Graph directoryAudit
    "$.activityDisplayName",  # 13
    "$.ActivityDisplayName",  # 14 Log Analytics AuditLogs row
)


def _classify(reader: Reader, peeled: str) -> str:
    """One pass over the peeled records: tag each record as a Log Analytics row
    (``la``) or a Graph object, as an audit record (``audit``) or a sign-in, unwrap
    the diagnostic-settings envelopes of sign-ins, and mark the records of categories
    no table models (``skip``).

    A diagnostic-settings sign-in whose ``properties`` lack ``createdDateTime`` (or
    ``status.errorCode``) is read with the record's own ``time`` (``resultType``): the
    envelope states the same facts. A diagnostic-settings audit record stays whole:
    its stage reads envelope and ``properties`` together (see
    :mod:`crownwatch.sources.entra_audit`)."""
    name = reader.name("entra_records")
    paths = "[" + ", ".join(f"'{p}'" for p in _KEYS) + "]"
    read_cats = ", ".join(f"'{c}'" for c in READ_CATEGORIES)
    read_types = ", ".join(f"'{t}'" for t in READ_TYPES)
    reader.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
        WITH r AS (
            SELECT raw_offset, text, original, why, skip, label,
                CASE WHEN raw_offset >= 0 AND starts_with(ltrim(text), '{{')
                     THEN try(json_extract(text, {paths})) END AS k
            FROM {peeled}
        ), c AS (
            SELECT *,
                coalesce(starts_with(CAST(k[1] AS VARCHAR), '{{')
                         AND json_type(k[2]) = 'VARCHAR', false) AS diag,
                CASE WHEN json_type(k[2]) = 'VARCHAR' THEN lower(k[2] ->> '$') END AS category,
                CASE WHEN json_type(k[7]) = 'VARCHAR' THEN k[7] ->> '$' END AS la_type,
                CASE WHEN json_type(k[8]) = 'VARCHAR' THEN lower(k[8] ->> '$') END AS la_category
            FROM r
        ), d AS (
            SELECT *,
                NOT diag AND (k[9] IS NOT NULL OR k[10] IS NOT NULL OR k[14] IS NOT NULL) AS la
            FROM c
        ), a AS (
            SELECT *, coalesce(CASE
                WHEN diag THEN category = 'auditlogs'
                WHEN la THEN (CASE WHEN la_type IS NOT NULL THEN la_type = 'AuditLogs'
                                   ELSE k[14] IS NOT NULL END)
                ELSE k[12] IS NOT NULL OR k[13] IS NOT NULL OR category = 'auditlogs' END,
                false) AS audit
            FROM d
        )
        SELECT raw_offset,
            CASE WHEN diag AND NOT audit THEN CAST(json_merge_patch(k[1],
                    CASE WHEN coalesce(json_type(k[4]), 'NULL') = 'NULL' AND json_type(k[3]) = 'VARCHAR'
                         THEN json_object('createdDateTime', k[3]) ELSE '{{}}' END,
                    CASE WHEN coalesce(json_type(k[5]), 'NULL') = 'NULL'
                              AND json_type(k[6]) IN ('VARCHAR', 'BIGINT', 'UBIGINT')
                         THEN json_object('status', json_object('errorCode', k[6])) ELSE '{{}}' END)
                 AS VARCHAR)
                 ELSE text END AS text,
            CASE WHEN diag AND NOT audit THEN coalesce(original, text) ELSE original END AS original,
            why, label, la, audit,
            skip OR CASE
                WHEN audit THEN false
                WHEN diag THEN category NOT IN ({read_cats})
                WHEN la AND la_type IS NOT NULL THEN la_type NOT IN ({read_types})
                WHEN la AND la_category IS NOT NULL THEN la_category NOT IN ({read_cats})
                WHEN json_type(k[11]) = 'ARRAY'
                    THEN list_has_any(from_json(k[11], '["VARCHAR"]'), ['servicePrincipal', 'managedIdentity'])
                         AND NOT list_has_any(from_json(k[11], '["VARCHAR"]'),
                                              ['interactiveUser', 'nonInteractiveUser'])
                ELSE false END AS skip
        FROM a"""
    )
    return name
