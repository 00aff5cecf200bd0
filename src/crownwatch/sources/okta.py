"""Okta System Log — JSON lines (exports, SIEM forwarders) and the JSON array that
``GET /api/v1/logs`` returns.

Sign-in events go to ``authentication``; every other System Log event (admin and
lifecycle activity) goes to ``api_activity`` so no record is dropped.

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

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_columns

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

REASON = """CASE
    WHEN upper(e.outcome.result) IN ('SUCCESS', 'ALLOW') THEN 'success'
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


def sniff(head: str) -> bool:
    h = head.lstrip()
    return h[:1] in "[{" and '"eventType"' in h and '"published"' in h and '"actor"' in h


def parse(reader: Reader, path: Path) -> Parsed:
    is_array = head_text(path, 64).lstrip().startswith("[")
    if is_array:
        stage = reader.stage_json(reader.json_document(path, None), STRUCTURE, REJECT)
    else:
        stage = reader.stage_json_lines(path, STRUCTURE, REJECT)
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
            CASE WHEN ({REASON}) = 'success' THEN 'success' ELSE 'failure' END AS status,
            {REASON} AS reason,
            concat_ws('/', e.outcome.result, e.outcome.reason) AS status_code,
            e.displayMessage AS status_detail,
            e.securityContext.isProxy AS is_proxy,
            e.authenticationContext.externalSessionId AS session_uid,
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
            e.target[1].alternateId AS resource,
            CASE WHEN upper(e.outcome.result) IN ('SUCCESS', 'ALLOW') THEN 'success'
                 ELSE 'failure' END AS status,
            e.outcome.reason AS error_code,
            e.uuid AS raw_id, raw_offset
        {good} AND e.eventType NOT IN ({_AUTH_LIST})"""
    )
    return Parsed(
        records=reader.count(stage),
        routed={"authentication": auth, "api_activity": other},
        quarantine=reader.quarantine(stage, NAME, path, "e.uuid"),
    )
