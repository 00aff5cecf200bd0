"""GitHub Enterprise audit log (Git events included) into ``repo_activity``, as GitHub
writes it and as shippers deliver it:

* **streamed** JSON lines — what audit-log streaming writes to S3, Azure Blob Storage,
  Google Cloud Storage (gzip'd objects of one event per line) and Event Hubs: flat
  objects with ``@timestamp`` (epoch milliseconds), ``_document_id``, ``action``
  (``git.clone``, ``repo.download_zip``, ``personal_access_token.create`` …),
  ``actor``, ``actor_id``, ``actor_ip``, ``actor_location`` (``{"country_code": "US"}``),
  ``user_agent``, ``business``, ``org``, ``repo`` (``org/name``), ``repository``,
  ``repository_public`` / ``public_repo``, ``visibility``, ``programmatic_access_type``,
  ``hashed_token``, ``token_id``, ``transport_protocol_name``, ``user`` …;
* the **REST API** answer of ``GET /orgs/{org}/audit-log`` and
  ``GET /enterprises/{enterprise}/audit-log`` — a JSON array of the same objects
  (older answers and exports carry only ``created_at``, also epoch milliseconds);
* the same events inside **Splunk HEC** events (``github_audit`` /
  ``github:enterprise:audit`` sourcetypes) and search exports, **Elasticsearch** hits,
  Elastic Agent documents that kept ``event.original``
  (:mod:`crownwatch.sources.shippers`), and **Filebeat** documents whose ``message``
  holds the line as read from the bucket (Filebeat's own ``@timestamp`` is an ISO
  string beside it — GitHub's is a number, which is how the two are told apart).

Every valid event is a row: the table keeps all actions. Columns (see
:mod:`crownwatch.tables.repo_activity`): ``actor`` and ``target_user`` (the ``user``
field: the collaborator added, the member whose key it is) are identity keys — a
GitHub login lower-cased — ``org`` and ``repo`` lower case, ``repo`` always
``org/name`` (an event that gives only the name gets its ``org`` in front);
``repo_visibility`` is ``visibility`` when the event has it, else ``public`` when
``repository_public``/``public_repo`` is true — false says only "not public"
(private *or* internal), so it stays NULL; ``transport`` is
``transport_protocol_name`` (or ``http``/``ssh`` from the numeric
``transport_protocol``); ``token_id`` is NULL where GitHub wrote ``0`` (no token id:
a GitHub App token, an SSH key); ``actor_user`` is the identity key of
``external_identity_nameid`` — the SAML/SCIM identity (an e-mail) an organisation
with SSO links to the login, how a login joins the person on the roster and in the
sign-in logs; empty strings are NULL.

Quarantined, with the reason: a record that is not a JSON object, one with no usable
time (neither ``@timestamp`` nor ``created_at``, or one that is no time), one without
an ``action``, and one whose ``actor_ip`` is not an IP address (a missing or empty
``actor_ip`` is fine: GitHub omits it unless IP disclosure is on).
"""

from __future__ import annotations

import re
from pathlib import Path

from crownwatch.sources import shippers
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, head_text
from crownwatch.tables.authentication import identity_key

NAME = "github"

STRUCTURE = {
    "@timestamp": "VARCHAR",
    "created_at": "VARCHAR",
    "_document_id": "VARCHAR",
    "action": "VARCHAR",
    "actor": "VARCHAR",
    "actor_id": "VARCHAR",
    "actor_ip": "VARCHAR",
    "actor_location": {"country_code": "VARCHAR"},
    "user_agent": "VARCHAR",
    "business": "VARCHAR",
    "org": "VARCHAR",
    "repo": "VARCHAR",
    "repository": "VARCHAR",
    "visibility": "VARCHAR",
    "repository_public": "VARCHAR",
    "public_repo": "VARCHAR",
    "programmatic_access_type": "VARCHAR",
    "token_id": "VARCHAR",
    "hashed_token": "VARCHAR",
    "transport_protocol_name": "VARCHAR",
    "transport_protocol": "VARCHAR",
    "user": "VARCHAR",
    "external_identity_nameid": "VARCHAR",
}


def _text(x: str) -> str:
    """SQL: a string field, NULL when empty (GitHub writes ``"user": ""``)."""
    return f"nullif(trim({x}), '')"


def epoch_ms_or_iso(x: str) -> str:
    """SQL: text ``x`` — epoch milliseconds as GitHub writes them (``1713596671828``,
    or ``"1624445969188.000000"`` after a forwarder) or an ISO time (exports that
    rewrote it) — as TIMESTAMPTZ; NULL when it is neither or no time at all."""
    d = f"try_cast({x} AS DOUBLE)"
    return (
        f"CASE WHEN {d} BETWEEN -1e14 AND 1e14 "
        f"THEN timezone('UTC', epoch_ms(CAST(round({d}) AS BIGINT))) "
        f"WHEN {d} IS NULL THEN try_cast({x} AS TIMESTAMPTZ) END"
    )


_TS = _text('e."@timestamp"')
_CREATED = _text("e.created_at")
TIME = f"coalesce({epoch_ms_or_iso(_TS)}, {epoch_ms_or_iso(_CREATED)})"

# IPv4 with octets 0-255, or the characters of an IPv6 address with at least two colons
_IPV4 = r"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV6 = r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(:" + _IPV4 + r")?"
_IP = _text("e.actor_ip")
IS_IP = f"(regexp_full_match({_IP}, '{_IPV4}') OR regexp_full_match({_IP}, '{_IPV6}'))"

REJECT = f"""CASE
    WHEN {_TS} IS NULL AND {_CREATED} IS NULL THEN 'missing @timestamp'
    WHEN ({TIME}) IS NULL THEN 'unparseable @timestamp'
    WHEN {_text("e.action")} IS NULL THEN 'missing action'
    WHEN {_IP} IS NOT NULL AND NOT {IS_IP} THEN 'actor_ip is not an IP address'
END"""

_ORG = f"lower({_text('e.org')})"
_REPO_RAW = f"coalesce({_text('e.repo')}, {_text('e.repository')})"
REPO = f"""CASE WHEN contains({_REPO_RAW}, '/') OR {_ORG} IS NULL THEN lower({_REPO_RAW})
    ELSE {_ORG} || '/' || lower({_REPO_RAW}) END"""

VISIBILITY = f"""coalesce(lower({_text("e.visibility")}),
    CASE WHEN lower(coalesce(e.repository_public, e.public_repo)) = 'true' THEN 'public' END)"""

TRANSPORT = f"""coalesce(lower({_text("e.transport_protocol_name")}),
    CASE trim(e.transport_protocol) WHEN '1' THEN 'http' WHEN '2' THEN 'ssh' END)"""


# Filebeat (aws-s3, azure-blob-storage, gcs inputs) reading the streamed objects
# without a JSON parser: the line is the ``message`` string, beside Filebeat's own
# ISO ``@timestamp`` (GitHub's own is a number: a GitHub event with a message field
# is not taken for one).
_FILEBEAT = shippers.Shape(
    label="Filebeat message",
    columns={"message": "JSON"},
    detect="""(CASE WHEN json_type(env.message) = 'VARCHAR'
        THEN (CASE WHEN try_cast(env."@timestamp" AS DOUBLE) IS NULL
                   THEN starts_with(ltrim(env.message ->> '$'), '{') ELSE false END)
        ELSE false END)""",
    build="env.message ->> '$'",
)

VENDOR = shippers.Vendor(shapes=(_FILEBEAT,), markers=('"message"',))

_ACTION = re.compile(r'"action"\s*:\s*"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+"')


def sniff(head: str) -> bool:
    h = head.lstrip()
    if h[:1] not in "[{":
        return False
    u = shippers.unescaped(h)  # inside Splunk's _raw, a HEC string event, a message
    if not _ACTION.search(u) or '"actor"' not in u:
        return False
    # GitHub's own fields beside the action: the streamed id, the location object,
    # the enterprise, or an org with GitHub's millisecond times
    if '"_document_id"' in u or '"actor_location"' in u or '"business"' in u:
        return True
    return '"org"' in u and ('"@timestamp"' in u or '"created_at"' in u)


def _looks_wrapped(head: str) -> bool:
    # every GitHub event has its own "@timestamp", which the shippers' markers take
    # for Logstash's: look past it, or every file would be read the slow way
    return shippers.looks_wrapped(head.replace('"@timestamp"', ""), VENDOR)


def _stage(reader: Reader, path: Path, head: str) -> tuple[str, int]:
    """The stage of the file, whichever way it came: an API page (one array), JSON
    lines with shippers' envelopes, or bare streamed lines (the fast typed read)."""
    from crownwatch.sources.cloudtrail import read_document  # imports shippers too

    h = head.lstrip()
    wrapped = _looks_wrapped(head)
    key = shippers.document_key(h)
    if h.startswith("[") or key:
        records = read_document(reader, path, key)
        return shippers.stage_records(reader, records, VENDOR, STRUCTURE, REJECT, wrapped=wrapped)
    if wrapped:
        return shippers.stage_lines(reader, path, VENDOR, STRUCTURE, REJECT, wrapped=True)
    stage = reader.stage_json_lines(path, STRUCTURE, REJECT)
    if _rejects_look_wrapped(reader, stage):
        reader.con.execute(f"DROP TABLE {stage}")
        return shippers.stage_lines(reader, path, VENDOR, STRUCTURE, REJECT, wrapped=True)
    return stage, 0


def _rejects_look_wrapped(reader: Reader, stage: str) -> bool:
    markers = [m for m in shippers.MARKERS + VENDOR.markers if m != '"@timestamp"']
    cond = " OR ".join("contains(_record, ?)" for _ in markers)
    ((n,),) = reader.con.execute(
        f"SELECT count(*) FROM {stage} WHERE _reject IS NOT NULL AND ({cond})", markers
    ).fetchall()
    return n > 0


def parse(reader: Reader, path: Path) -> Parsed:
    head = head_text(path, 4096)
    stage, skipped = _stage(reader, path, head)
    rows = reader.con.sql(
        f"""SELECT
            {TIME} AS time, '{NAME}' AS source,
            {_text("e.action")} AS action,
            {identity_key("e.actor")} AS actor,
            {_text("e.actor_id")} AS actor_id,
            {_IP} AS actor_ip,
            upper({_text("e.actor_location.country_code")}) AS actor_country,
            {_text("e.user_agent")} AS user_agent,
            {_ORG} AS org,
            {REPO} AS repo,
            {VISIBILITY} AS repo_visibility,
            {_text("e.programmatic_access_type")} AS access_type,
            nullif({_text("e.token_id")}, '0') AS token_id,
            {_text("e.hashed_token")} AS hashed_token,
            {TRANSPORT} AS transport,
            {identity_key("e.user")} AS target_user,
            {_text("e.business")} AS business,
            {_text("e._document_id")} AS event_id,
            {identity_key(_text("e.external_identity_nameid"))} AS actor_user,
            {_text("e._document_id")} AS raw_id, raw_offset
        FROM {stage} WHERE _reject IS NULL"""
    )
    return Parsed(
        records=reader.count(stage) + skipped,
        routed={"repo_activity": rows},
        quarantine=reader.quarantine(stage, NAME, path, "e._document_id"),
        skipped=skipped,
    )
