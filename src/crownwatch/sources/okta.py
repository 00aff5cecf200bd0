"""Okta System Log, as Okta serves it and as SIEMs and shippers deliver it:

* JSON lines of ``LogEvent`` objects (exports, SIEM forwarders) and the JSON array
  that ``GET /api/v1/logs`` returns;
* **Microsoft Sentinel** ``Okta_CL`` rows (the Azure Functions connector: the event
  flattened into type-suffixed columns — ``published_t``, ``eventType_s``,
  ``uuid_g``, ``displayMessage_s``, ``actor_alternateId_s`` / ``_id_s`` / ``_type_s``,
  ``client_ipAddress_s``, ``client_userAgent_rawUserAgent_s``,
  ``client_geographicalContext_country_s`` / ``_city_s``, ``outcome_result_s`` /
  ``_reason_s``, ``securityContext_asNumber_d`` / ``asOrg_s`` / ``isProxy_b``,
  ``authenticationContext_externalSessionId_s`` / ``credentialType_s``, ``target_s``
  as JSON text; values are strings, ``""`` for none). ``TimeGenerated`` there is when
  Sentinel ingested the row, so the time is ``published_t`` and a row without it is
  quarantined, not read at the wrong time;
* Sentinel ``OktaV2_CL`` rows (the codeless connector; its DCR writes ``published``
  as ``TimeGenerated`` and the actor, client and outcome as ``OriginalActorAlternateId``,
  ``SrcIpAddr``, ``OriginalOutcomeResult``, ``EventOriginalResultDetails``,
  ``EventOriginalType`` …);
* the events inside Splunk HEC events and search exports, Elasticsearch hits and
  search responses, and Logstash documents (``@timestamp`` stands in for
  ``published`` only when ``published`` is gone) — see
  :mod:`crownwatch.sources.shippers`.

Every shape is mapped into the one stage below, so the same normalising SELECTs read
them all.

Sign-in events go to ``authentication``; every other System Log event (admin and
lifecycle activity) goes to ``api_activity`` so no record is dropped, with the acting
person (``actor.type`` ``User``) and the first ``User`` target as identity keys
(``actor_user``, ``target_user``: who reset whose factors) and the first target's type.

Outcome mapping (Okta ``outcome.result`` / ``outcome.reason``):

* ``SUCCESS`` / ``ALLOW`` → success
* ``INVALID_CREDENTIALS`` → bad_password
* ``VERIFICATION_ERROR`` on ``user.session.start`` with an actor Okta could not
  resolve (``actor.id`` ``unknown`` or missing) → unknown_user; otherwise bad_password
* ``LOCKED_OUT`` and ``user.account.lock`` → locked
* ``PASSWORD_EXPIRED`` → expired; ``USER_NOT_ALLOWED``/suspended/deactivated → disabled
* ``CHALLENGE`` (sign-on policy asked for a factor) → mfa_required
* ``DENY`` from ``policy.evaluate_sign_on`` → ca_blocked
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources import shippers
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_columns, identity_key

NAME = "okta"

AUTH_EVENTS = (
    "user.session.start",
    "user.authentication.sso",
    "user.authentication.auth_via_mfa",
    "user.authentication.verify",
    "user.authentication.authenticate",
    "user.account.lock",
    "policy.evaluate_sign_on",
)

STRUCTURE = {
    "uuid": "VARCHAR",
    "published": "VARCHAR",
    "eventType": "VARCHAR",
    "displayMessage": "VARCHAR",
    "actor": {"id": "VARCHAR", "type": "VARCHAR", "alternateId": "VARCHAR"},
    "client": {
        "ipAddress": "VARCHAR",
        "userAgent": {"rawUserAgent": "VARCHAR"},
        "geographicalContext": {"city": "VARCHAR", "country": "VARCHAR"},
    },
    "outcome": {"result": "VARCHAR", "reason": "VARCHAR"},
    "securityContext": {"asNumber": "BIGINT", "asOrg": "VARCHAR", "isProxy": "BOOLEAN"},
    "authenticationContext": {"externalSessionId": "VARCHAR", "credentialType": "VARCHAR"},
    "target": [{"alternateId": "VARCHAR", "type": "VARCHAR"}],
}

REJECT = """CASE
    WHEN e.published IS NULL THEN 'missing published'
    WHEN try_cast(e.published AS TIMESTAMPTZ) IS NULL THEN 'unparseable published timestamp'
    WHEN e.eventType IS NULL THEN 'missing eventType'
END"""

_AUTH_LIST = ", ".join(f"'{t}'" for t in AUTH_EVENTS)

#: the outcome of a successful event: REASON's first branch, and every table's status
SUCCEEDED = "upper(e.outcome.result) IN ('SUCCESS', 'ALLOW')"

REASON = f"""CASE
    WHEN {SUCCEEDED} THEN 'success'
    WHEN e.eventType = 'user.account.lock' THEN 'locked'
    WHEN upper(e.outcome.result) = 'CHALLENGE' THEN 'mfa_required'
    WHEN e.eventType = 'policy.evaluate_sign_on' AND upper(e.outcome.result) = 'DENY' THEN 'ca_blocked'
    WHEN upper(e.outcome.reason) LIKE '%INVALID_CREDENTIALS%' THEN 'bad_password'
    WHEN upper(e.outcome.reason) LIKE '%LOCKED_OUT%' THEN 'locked'
    WHEN upper(e.outcome.reason) LIKE '%VERIFICATION_ERROR%'
         AND coalesce(lower(e.actor.id), 'unknown') = 'unknown' THEN 'unknown_user'
    WHEN upper(e.outcome.reason) LIKE '%VERIFICATION_ERROR%' THEN 'bad_password'
    WHEN upper(e.outcome.reason) LIKE '%PASSWORD_EXPIRED%' THEN 'expired'
    WHEN upper(e.outcome.reason) LIKE '%USER_NOT_ALLOWED%'
         OR upper(e.outcome.reason) LIKE '%SUSPENDED%'
         OR upper(e.outcome.reason) LIKE '%DEACTIVATED%' THEN 'disabled'
    ELSE 'other'
END"""


# -- shipped and SIEM shapes -----------------------------------------------------------


def _c(name: str) -> str:
    return shippers.blank_null(f"env.{name}")


# Sentinel's Okta_CL (the Azure Functions connector): the LogEvent flattened into
# custom-log columns whose suffix is their type (_s string, _d double, _b boolean,
# _t datetime, _g GUID); everything is a string in exports ("10993", "FALSE", "" for
# nothing) and target_s is the target array as JSON text.
_OKTA_CL = shippers.Shape(
    label="Okta_CL",
    columns={
        "published_t": "VARCHAR",
        "eventType_s": "VARCHAR",
        "uuid_g": "VARCHAR",
        "displayMessage_s": "VARCHAR",
        "actor_id_s": "VARCHAR",
        "actor_type_s": "VARCHAR",
        "actor_alternateId_s": "VARCHAR",
        "client_ipAddress_s": "VARCHAR",
        "client_userAgent_rawUserAgent_s": "VARCHAR",
        "client_geographicalContext_country_s": "VARCHAR",
        "client_geographicalContext_city_s": "VARCHAR",
        "outcome_result_s": "VARCHAR",
        "outcome_reason_s": "VARCHAR",
        "securityContext_asNumber_d": "VARCHAR",
        "securityContext_asOrg_s": "VARCHAR",
        "securityContext_isProxy_b": "VARCHAR",
        "authenticationContext_externalSessionId_s": "VARCHAR",
        "authenticationContext_credentialType_s": "VARCHAR",
        "target_s": "JSON",
    },
    detect="(env.eventType_s IS NOT NULL OR env.published_t IS NOT NULL OR env.uuid_g IS NOT NULL)",
    build=f"""CAST(to_json({{
        'uuid': {_c("uuid_g")},
        'published': {_c("published_t")},
        'eventType': {_c("eventType_s")},
        'displayMessage': {_c("displayMessage_s")},
        'actor': {{'id': {_c("actor_id_s")}, 'type': {_c("actor_type_s")},
                   'alternateId': {_c("actor_alternateId_s")}}},
        'client': {{
            'ipAddress': {_c("client_ipAddress_s")},
            'userAgent': {{'rawUserAgent': {_c("client_userAgent_rawUserAgent_s")}}},
            'geographicalContext': {{'city': {_c("client_geographicalContext_city_s")},
                                     'country': {_c("client_geographicalContext_country_s")}}}
        }},
        'outcome': {{'result': {_c("outcome_result_s")}, 'reason': {_c("outcome_reason_s")}}},
        'securityContext': {{
            'asNumber': try_cast(try_cast(env.securityContext_asNumber_d AS DOUBLE) AS BIGINT),
            'asOrg': {_c("securityContext_asOrg_s")},
            'isProxy': try_cast(env.securityContext_isProxy_b AS BOOLEAN)
        }},
        'authenticationContext': {{
            'externalSessionId': {_c("authenticationContext_externalSessionId_s")},
            'credentialType': {_c("authenticationContext_credentialType_s")}
        }},
        'target': {shippers.dynamic("env.target_s")}
    }}) AS VARCHAR)""",
    why=f"""CASE WHEN {_c("published_t")} IS NULL THEN 'missing published_t'
        WHEN try_cast(env.published_t AS TIMESTAMPTZ) IS NULL THEN 'unparseable published_t'
        WHEN {_c("eventType_s")} IS NULL THEN 'missing eventType_s' END""",
)

# Sentinel's OktaV2_CL (the codeless connector): its DCR projects the LogEvent into
# ASIM-like columns — TimeGenerated is ``published``, the dynamic ones stay objects.
_OKTA_V2 = shippers.Shape(
    label="OktaV2_CL",
    columns={
        "TimeGenerated": "VARCHAR",
        "EventOriginalUid": "VARCHAR",
        "EventOriginalType": "VARCHAR",
        "EventMessage": "VARCHAR",
        "OriginalUserId": "VARCHAR",
        "OriginalUserType": "VARCHAR",
        "OriginalActorAlternateId": "VARCHAR",
        "SrcIpAddr": "VARCHAR",
        "HttpUserAgent": "VARCHAR",
        "SrcGeoCity": "VARCHAR",
        "SrcGeoCountry": "VARCHAR",
        "OriginalOutcomeResult": "VARCHAR",
        "EventOriginalResultDetails": "VARCHAR",
        "SecurityContextAsNumber": "VARCHAR",
        "SecurityContextAsOrg": "VARCHAR",
        "SecurityContextIsProxy": "VARCHAR",
        "ActorSessionId": "VARCHAR",
        "LogonMethod": "VARCHAR",
        "OriginalTarget": "JSON",
    },
    detect="(env.EventOriginalType IS NOT NULL OR env.EventOriginalUid IS NOT NULL)",
    build=f"""CAST(to_json({{
        'uuid': {_c("EventOriginalUid")},
        'published': {_c("TimeGenerated")},
        'eventType': {_c("EventOriginalType")},
        'displayMessage': {_c("EventMessage")},
        'actor': {{'id': {_c("OriginalUserId")}, 'type': {_c("OriginalUserType")},
                   'alternateId': {_c("OriginalActorAlternateId")}}},
        'client': {{
            'ipAddress': {_c("SrcIpAddr")},
            'userAgent': {{'rawUserAgent': {_c("HttpUserAgent")}}},
            'geographicalContext': {{'city': {_c("SrcGeoCity")}, 'country': {_c("SrcGeoCountry")}}}
        }},
        'outcome': {{'result': {_c("OriginalOutcomeResult")},
                     'reason': {_c("EventOriginalResultDetails")}}},
        'securityContext': {{
            'asNumber': try_cast(try_cast(env.SecurityContextAsNumber AS DOUBLE) AS BIGINT),
            'asOrg': {_c("SecurityContextAsOrg")},
            'isProxy': try_cast(env.SecurityContextIsProxy AS BOOLEAN)
        }},
        'authenticationContext': {{'externalSessionId': {_c("ActorSessionId")},
                                   'credentialType': {_c("LogonMethod")}}},
        'target': {shippers.dynamic("env.OriginalTarget")}
    }}) AS VARCHAR)""",
    why=f"""CASE WHEN {_c("TimeGenerated")} IS NULL THEN 'missing TimeGenerated'
        WHEN try_cast(env.TimeGenerated AS TIMESTAMPTZ) IS NULL THEN 'unparseable TimeGenerated'
        WHEN {_c("EventOriginalType")} IS NULL THEN 'missing EventOriginalType' END""",
)

VENDOR = shippers.Vendor(
    time_field="published",
    shapes=(_OKTA_CL, _OKTA_V2),
    markers=('"published_t"', '"eventType_s"', '"EventOriginalType"', '"EventOriginalUid"'),
)


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    u = shippers.unescaped(h)  # inside Splunk's _raw or a HEC string event
    if '"eventType"' in u and '"published"' in u and '"actor"' in u:
        return True
    if '"eventType_s"' in h and ('"published_t"' in h or '"actor_alternateId_s"' in h):
        return True  # Okta_CL
    # OktaV2_CL (EventOriginalType alone is an ASIM column many tables share)
    return '"OriginalActorAlternateId"' in h or (
        '"EventOriginalType"' in h and '"OriginalOutcomeResult"' in h
    )


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096)
    stage, skipped = shippers.stage_json_file(reader, path, head, VENDOR, STRUCTURE, REJECT)
    good = f"FROM {stage} WHERE _reject IS NULL"
    auth = reader.con.sql(
        f"""SELECT
            try_cast(e.published AS TIMESTAMPTZ) AS time, '{NAME}' AS source,
            CASE WHEN e.eventType = 'user.account.lock' THEN 'lock'
                 WHEN e.eventType LIKE '%mfa%' OR e.eventType LIKE '%verify%' THEN 'mfa'
                 ELSE 'logon' END AS activity,
            {identity_columns("e.actor.alternateId")},
            CASE WHEN lower(e.actor.id) = 'unknown' THEN NULL ELSE e.actor.id END AS user_uid,
            e.client.ipAddress AS src_ip,
            e.securityContext.asNumber AS src_asn, e.securityContext.asOrg AS src_as_org,
            e.client.geographicalContext.country AS src_country,
            e.client.geographicalContext.city AS src_city,
            e.client.userAgent.rawUserAgent AS user_agent,
            coalesce(e.target[1].alternateId, 'okta') AS service,
            lower(e.authenticationContext.credentialType) AS auth_protocol,
            -- REASON is 'success' from its first branch only: that test, not REASON again
            CASE WHEN {SUCCEEDED} THEN 'success' ELSE 'failure' END AS status,
            {REASON} AS reason,
            concat_ws('/', e.outcome.result, e.outcome.reason) AS status_code,
            e.displayMessage AS status_detail,
            e.securityContext.isProxy AS is_proxy,
            e.authenticationContext.externalSessionId AS session_uid,
            e.eventType AS event_type,
            e.uuid AS raw_id, raw_offset
        {good} AND e.eventType IN ({_AUTH_LIST})"""
    )
    other = reader.con.sql(
        f"""SELECT
            try_cast(e.published AS TIMESTAMPTZ) AS time, '{NAME}' AS source, 'okta' AS cloud,
            'okta' AS api_service, e.eventType AS api_operation,
            lower(e.actor.alternateId) AS principal, e.actor.type AS principal_type,
            e.client.ipAddress AS src_ip, e.securityContext.asNumber AS src_asn,
            e.client.geographicalContext.country AS src_country,
            e.client.userAgent.rawUserAgent AS user_agent,
            e.target[1].alternateId AS resource, e.target[1].type AS target_type,
            {identity_key("CASE WHEN e.actor.type = 'User' THEN e.actor.alternateId END")}
                AS actor_user,
            {identity_key("list_filter(e.target, lambda t: t.type = 'User')[1].alternateId")}
                AS target_user,
            CASE WHEN {SUCCEEDED} THEN 'success' ELSE 'failure' END AS status,
            e.outcome.reason AS error_code,
            e.uuid AS raw_id, raw_offset
        {good} AND e.eventType NOT IN ({_AUTH_LIST})"""
    )
    return Parsed(
        records=reader.count(stage) + skipped,
        routed={"authentication": auth, "api_activity": other},
        quarantine=reader.quarantine(stage, NAME, path, "e.uuid"),
        skipped=skipped,
    )
