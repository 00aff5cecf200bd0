"""Microsoft Entra ID audit logs — the directory's own record of who changed what —
into ``api_activity``. Part of the Entra source: :mod:`crownwatch.sources.entra`
sniffs the file and tells every record's kind (a sign-in, an audit record, a category
no table models); this module knows the audit record. Shapes read:

* **Microsoft Graph** ``directoryAudit`` (camelCase): the ``GET
  /auditLogs/directoryAudits`` page ``{"@odata.context": …, "value": [...],
  "@odata.nextLink": …}``, and JSON lines of bare objects.
* **Diagnostic-settings** ``AuditLogs`` records (storage-account JSON lines, Event Hub's
  ``{"records": [...]}``): ``{"time", "resourceId", "operationName", "category":
  "AuditLogs", "tenantId", "callerIpAddress", "correlationId", "identity", "properties":
  {…the directoryAudit…}}``. Read as a whole: the envelope states what ``properties``
  may lack — ``time`` stands in for ``activityDateTime``, ``operationName`` for
  ``activityDisplayName``, ``callerIpAddress`` for the initiator's address — and
  carries the tenant. Azure Monitor writes ``result`` as a string (``"success"``) or as
  the enum's number (``0``, Microsoft's own example).
* **Log Analytics / Sentinel** ``AuditLogs`` rows (PascalCase: ``TimeGenerated``,
  ``ActivityDateTime``, ``ActivityDisplayName``, ``OperationName``, ``Result``,
  ``ResultReason``, ``ResultDescription``, ``LoggedByService``, ``CorrelationId``,
  ``AADTenantId``, ``Identity``, ``Id``); ``InitiatedBy``, ``TargetResources`` and
  ``AdditionalDetails`` are ``dynamic`` — objects in a query export, JSON-encoded
  strings in a workspace data export (Event Hub) — and both are read.
* Any of these inside Splunk and Elasticsearch envelopes, as for sign-ins.

**Field by field** (Graph names; the other shapes map onto them):

=====================  ===========================================================
api_activity           directoryAudit
=====================  ===========================================================
time                   ``activityDateTime`` (diagnostic: else ``time``; Log
                       Analytics: ``ActivityDateTime``, else ``TimeGenerated``)
cloud / account        ``azure`` / the tenant: ``tenantId`` of a diagnostic record,
                       ``AADTenantId`` of a row; Graph states none (NULL)
api_service            ``loggedByService`` (Core Directory, Authentication Methods…)
api_operation          ``activityDisplayName``, **verbatim** — Entra's own names keep
                       their quirks (``Update application – Certificates and secrets
                       management `` has an en dash and a trailing space)
principal              ``initiatedBy.user.userPrincipalName`` lower-cased (else the
                       user's object id); for an app ``initiatedBy.app.displayName``
                       (else ``servicePrincipalName``, ``servicePrincipalId``,
                       ``appId``); for neither, the record's ``identity``
principal_type         ``User`` or ``ServicePrincipal`` (the app's identity in the
                       tenant); NULL when only ``identity`` names the caller
principal_account      ``initiatedBy.user.homeTenantId`` (a guest's home tenant);
                       ``is_cross_account`` when it differs from ``account``
actor_user             the initiating user's UPN by the identity-key rule
src_ip                 ``initiatedBy.user.ipAddress``, else ``callerIpAddress`` — only
                       an address (``<null>``, ``""`` are NULL)
user_agent             ``additionalDetails`` ``User-Agent`` (else ``userAgent``)
resource               the first target: its ``userPrincipalName``, else
                       ``displayName``, else ``id``
target_type/target_id  the first target's ``type`` / ``id``
target_user            the first target that has a ``userPrincipalName``, by the
                       identity-key rule (the user a factor was registered for, the
                       member added to a role or group)
status / error_code    ``success`` for ``result`` ``success`` (or ``0``), else
                       ``failure`` with ``result`` verbatim (``failure``, ``timeout``)
status_detail          ``resultReason`` (else ``resultDescription``), verbatim — on
                       success too: "User registered Authenticator App with
                       Notification and Code"
correlation_id         ``correlationId``
modified_properties    every target's ``modifiedProperties`` as JSON text
                       ``[{"target": i, "name", "old", "new"}]`` (see
                       :mod:`crownwatch.tables.api_activity`); NULL when none
raw_id / raw_offset    ``id`` / line number or index in the page
=====================  ===========================================================

The all-zero object id Entra writes for "nobody" (``initiatedBy.user.id``, a target's
``id``) is NULL. ``additionalDetails`` beyond the user agent, ``category`` and
``operationType`` stay in the raw record, one ``raw_offset`` away.

**Quarantined:** a record without a time, with one that does not parse, without an
activity name or without a ``result`` — a directory change whose outcome is unknown
must not read as one that happened.
"""

from __future__ import annotations

import json

from crownwatch.sources import shippers
from crownwatch.tables.authentication import identity_key

SOURCE = "entra"

INITIATOR = {
    "user": {
        "id": "VARCHAR",
        "displayName": "VARCHAR",
        "userPrincipalName": "VARCHAR",
        "ipAddress": "VARCHAR",
        "userType": "VARCHAR",
        "homeTenantId": "VARCHAR",
    },
    "app": {
        "appId": "VARCHAR",
        "displayName": "VARCHAR",
        "servicePrincipalId": "VARCHAR",
        "servicePrincipalName": "VARCHAR",
    },
}
TARGETS = [
    {
        "id": "VARCHAR",
        "displayName": "VARCHAR",
        "type": "VARCHAR",
        "userPrincipalName": "VARCHAR",
        "modifiedProperties": [
            {"displayName": "VARCHAR", "oldValue": "VARCHAR", "newValue": "VARCHAR"}
        ],
    }
]
DETAILS = [{"key": "VARCHAR", "value": "VARCHAR"}]

# Microsoft Graph directoryAudit (and the "properties" of a diagnostic-settings record).
AUDIT = {
    "id": "VARCHAR",
    "correlationId": "VARCHAR",
    "result": "VARCHAR",
    "resultReason": "VARCHAR",
    "activityDisplayName": "VARCHAR",
    "activityDateTime": "VARCHAR",
    "loggedByService": "VARCHAR",
    "userAgent": "VARCHAR",
    "initiatedBy": INITIATOR,
    "targetResources": TARGETS,
    "additionalDetails": DETAILS,
}

# One structure for both camelCase shapes: a bare Graph object fills the top-level
# keys, a diagnostic-settings record its envelope and "properties" — so a file of
# either, or both, is one parse, and every field is read properties-first.
STRUCTURE = {
    **AUDIT,
    "time": "VARCHAR",
    "operationName": "VARCHAR",
    "tenantId": "VARCHAR",
    "callerIpAddress": "VARCHAR",
    "identity": "VARCHAR",
    "resultDescription": "VARCHAR",
    "properties": AUDIT,
}


def _p(field: str) -> str:
    return f"coalesce(e.properties.{field}, e.{field})"


GRAPH_COLUMNS = {
    "time": f"coalesce(nullif({_p('activityDateTime')}, ''), nullif(e.time, ''))",
    "operation": f"coalesce(nullif({_p('activityDisplayName')}, ''), nullif(e.operationName, ''))",
    "result": f"nullif(trim({_p('result')}), '')",
    "reason": f"coalesce(nullif({_p('resultReason')}, ''), nullif(e.resultDescription, ''))",
    "service": _p("loggedByService"),
    "initiator": _p("initiatedBy"),
    "targets": _p("targetResources"),
    "details": _p("additionalDetails"),
    "agent": _p("userAgent"),
    "correlation": _p("correlationId"),
    "tenant": "e.tenantId",
    "caller_ip": "e.callerIpAddress",
    "identity": "e.identity",
    "raw_id": _p("id"),
}

# Log Analytics / Sentinel AuditLogs row.
LOGANALYTICS = {
    "Id": "VARCHAR",
    "TimeGenerated": "VARCHAR",
    "ActivityDateTime": "VARCHAR",
    "ActivityDisplayName": "VARCHAR",
    "OperationName": "VARCHAR",
    "Result": "VARCHAR",
    "ResultType": "VARCHAR",
    "ResultReason": "VARCHAR",
    "ResultDescription": "VARCHAR",
    "CorrelationId": "VARCHAR",
    "LoggedByService": "VARCHAR",
    "AADTenantId": "VARCHAR",
    "Identity": "VARCHAR",
    "InitiatedBy": "JSON",
    "TargetResources": "JSON",
    "AdditionalDetails": "JSON",
}


def _dynamic(col: str, spec) -> str:
    """A ``dynamic`` column (an object or array, or a string holding one) as the typed
    Graph value; anything else NULL."""
    spec_sql = json.dumps(spec).replace("'", "''")
    return f"json_transform({shippers.dynamic(col)}, '{spec_sql}')"


LA_COLUMNS = {
    "time": "coalesce(nullif(e.ActivityDateTime, ''), nullif(e.TimeGenerated, ''))",
    "operation": "coalesce(nullif(e.ActivityDisplayName, ''), nullif(e.OperationName, ''))",
    "result": "coalesce(nullif(trim(e.Result), ''), nullif(trim(e.ResultType), ''))",
    "reason": "coalesce(nullif(e.ResultReason, ''), nullif(e.ResultDescription, ''))",
    "service": "e.LoggedByService",
    "initiator": _dynamic("e.InitiatedBy", INITIATOR),
    "targets": _dynamic("e.TargetResources", TARGETS),
    "details": _dynamic("e.AdditionalDetails", DETAILS),
    "agent": "NULL",
    "correlation": "e.CorrelationId",
    "tenant": "e.AADTenantId",
    "caller_ip": "NULL",
    "identity": "e.Identity",
    "raw_id": "e.Id",
}


def _reject(c: dict[str, str], time_name: str, name: str) -> str:
    return f"""CASE
    WHEN ({c["time"]}) IS NULL THEN 'missing {time_name}'
    WHEN try_cast(({c["time"]}) AS TIMESTAMPTZ) IS NULL THEN 'unparseable {time_name}'
    WHEN ({c["operation"]}) IS NULL THEN 'missing {name}'
    WHEN ({c["result"]}) IS NULL THEN 'missing result'
END"""


GRAPH_REJECT = _reject(GRAPH_COLUMNS, "activityDateTime", "activityDisplayName")
LA_REJECT = _reject(LA_COLUMNS, "ActivityDateTime/TimeGenerated", "ActivityDisplayName")

_NULL_UID = "'00000000-0000-0000-0000-000000000000'"


def _id(x: str) -> str:
    return f"CASE WHEN trim({x}) IN ('', {_NULL_UID}) THEN NULL ELSE {x} END"


def _ip(x: str) -> str:
    """``x`` when it is an IPv4 or IPv6 address, else NULL (``<null>``, ``""``)."""
    return f"""CASE WHEN regexp_full_match({x}, '[0-9]{{1,3}}(\\.[0-9]{{1,3}}){{3}}')
        OR (contains({x}, ':') AND regexp_full_match({x}, '[0-9A-Fa-f:.]+')) THEN {x} END"""


_FIRST_USER_TARGET = (
    "list_filter(tr, lambda x: coalesce(trim(x.userPrincipalName), '') <> '')[1].userPrincipalName"
)
_MODIFIED = """flatten(list_transform(tr, lambda tgt, i: list_transform(
    coalesce(tgt.modifiedProperties, []),
    lambda p: {'target': i - 1, 'name': p.displayName, 'old': p.oldValue, 'new': p.newValue})))"""


def api_select(stage: str, c: dict[str, str]) -> str:
    """The ``api_activity`` SELECT for one stage; ``c`` maps the shape's expressions
    (over ``e``) to the common ones. Both shapes come from this one template, so their
    columns line up for UNION ALL."""
    return f"""
    WITH d AS (
        SELECT raw_offset, {c["time"]} AS ts, {c["operation"]} AS op,
            {c["result"]} AS res, {c["reason"]} AS why,
            {c["initiator"]} AS ib, {c["targets"]} AS tr, {c["details"]} AS ad,
            nullif({c["service"]}, '') AS service, nullif({c["agent"]}, '') AS agent,
            nullif({c["correlation"]}, '') AS correlation, nullif({c["tenant"]}, '') AS tenant,
            {c["caller_ip"]} AS caller_ip, nullif({c["identity"]}, '') AS ident,
            {c["raw_id"]} AS raw_id
        FROM {stage} WHERE _reject IS NULL
    ), u AS (
        SELECT *, ib.user AS iu, ib.app AS ia, tr[1] AS t1, {_MODIFIED} AS mp FROM d
    ), a AS (
        SELECT *,
            nullif(trim(iu.userPrincipalName), '') AS upn, {_id("iu.id")} AS uid,
            coalesce(nullif(ia.displayName, ''), nullif(ia.servicePrincipalName, ''),
                     {_id("ia.servicePrincipalId")}, {_id("ia.appId")}) AS app,
            nullif(iu.homeTenantId, '') AS home,
            lower(res) IN ('success', '0') AS ok
        FROM u
    )
    SELECT try_cast(ts AS TIMESTAMPTZ) AS time, '{SOURCE}' AS source, 'azure' AS cloud,
        tenant AS account, service AS api_service, op AS api_operation,
        coalesce(lower(upn), uid, app, ident) AS principal,
        CASE WHEN upn IS NOT NULL OR uid IS NOT NULL THEN 'User'
             WHEN app IS NOT NULL THEN 'ServicePrincipal' END AS principal_type,
        home AS principal_account,
        coalesce({_ip("iu.ipAddress")}, {_ip("caller_ip")}) AS src_ip,
        coalesce(nullif(list_filter(ad, lambda x: x.key = 'User-Agent')[1].value, ''), agent)
            AS user_agent,
        coalesce(nullif(trim(t1.userPrincipalName), ''), nullif(t1.displayName, ''), {_id("t1.id")})
            AS resource,
        CASE WHEN ok THEN 'success' ELSE 'failure' END AS status,
        CASE WHEN NOT ok THEN res END AS error_code,
        coalesce(lower(tenant) <> lower(home), false) AS is_cross_account,
        {identity_key("upn")} AS actor_user,
        {identity_key(_FIRST_USER_TARGET)} AS target_user,
        nullif(t1.type, '') AS target_type, {_id("t1.id")} AS target_id,
        why AS status_detail, correlation AS correlation_id,
        CASE WHEN len(mp) > 0 THEN CAST(to_json(mp) AS VARCHAR) END AS modified_properties,
        raw_id, raw_offset
    FROM a"""
