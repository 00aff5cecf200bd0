"""Windows Security event log: the sign-in events 4624, 4625, 4648, 4768, 4771, 4776.

**Shapes** (sniffed from content; one stage, one mapping):

* native ``.evtx`` — read by the maintained ``evtx`` package (pyevtx-rs), whose
  ``records_json()`` yields each record as the JSON ``evtx_dump`` prints;
* XML — ``wevtutil qe Security /f:xml``, ``Get-WinEvent … .ToXml()`` and Splunk's
  ``XmlWinEventLog`` (the same ``<Event xmlns='http://schemas.microsoft.com/win/2004/
  08/events/event'>`` element, usually with a ``<RenderingInfo>``, which is ignored;
  either attribute quoting): one event per line, run together, spanning lines, or
  wrapped in an ``<Events>`` root;
* JSON lines or a JSON array of:

  - ``evtx_dump -o jsonl`` records (``{"Event": {"System": …, "EventData": …}}``);
  - Winlogbeat / Elastic Agent documents (``winlog.event_id`` — a string or a
    number —, ``winlog.event_data``, ``winlog.computer_name``, ``winlog.record_id``,
    ``winlog.channel``, ``@timestamp``, ``host.name``), bare or as an Elasticsearch
    hit (``{"_index": …, "_source": {…}}``, one level). ECS's ``event.code`` is not
    read (it repeats ``winlog.event_id``; DuckDB cannot stage it beside evtx_dump's
    ``Event``, struct fields being case-insensitive): a document without
    ``winlog.event_id`` is quarantined;
  - NXLog ``im_msvistalog`` + ``to_json()``: flat — ``EventTime``, ``Hostname``,
    ``EventID``, ``SourceName``, ``Channel``, ``RecordNumber`` and every EventData
    field at the top level;
  - Log Analytics / Sentinel ``SecurityEvent`` rows (``TimeGenerated``, ``EventID``,
    ``Computer``, ``Channel``, the EventData fields the table has columns for —
    ``TargetUserName``, ``IpAddress``, ``Status``… — and ``EventData``, the event's
    ``<EventData>`` element as an XML string, which holds the rest: a field is taken
    from its column, else cut out of that string with its five XML entities
    decoded) and ``WindowsEvent`` rows (``EventData`` an object);
    ``raw_id`` is ``EventOriginId`` (SecurityEvent has no record number).

evtx records and XML events are turned into the ``evtx_dump`` JSON in Python (the
evtx parser is the library; XML events are parsed one by one with the standard
library's expat-based ElementTree, after refusing any DTD — Windows never writes one,
and refusing it rules out entity expansion). Everything then goes through the same
``json_transform`` stage and one normalising SQL, which picks each field from
whichever shape the record has.

**Time.** ``TimeCreated/@SystemTime``, ``@timestamp`` and ``TimeGenerated`` are UTC
with a ``Z``. NXLog's ``EventTime`` is, in NXLog CE's ``to_json()``, the *collector's
local time with no zone* (``2026-03-02 10:00:01``): there is nothing in the record to
convert it with, so it is read as UTC — run the agent in UTC, or have it write the
zone (newer ``xm_json`` ``DateFormat`` defaults carry the offset; so does
``$EventTime = strftime($EventTime, '%Y-%m-%dT%H:%M:%S%z')``). Any time written with
an offset is honoured; a bare number (configurations that send
``integer($EventTime)``) is epoch microseconds, milliseconds or seconds by magnitude.

**Mapping** (``reason`` from NTSTATUS, compared as numbers so case and padding do not
matter; when ``Status`` is 0xC000006D "logon failure" or 0xC000006E "account
restriction", the ``SubStatus`` says why — a disabled account logs
0xC000006E/0xC0000072 — and ``status_code`` is ``status/substatus`` verbatim):

====  ============================  ===================================================
id    row                           reason
====  ============================  ===================================================
4624  logon, success                success; ``logon_type`` = LogonType
4625  logon, failure                0xC000006A bad_password · 0xC0000064 unknown_user ·
                                    0xC0000234 locked · 0xC0000072 disabled ·
                                    0xC0000071 (password expired) / 0xC0000193
                                    (account expired) / 0xC0000224 (must change
                                    password) expired · anything else — 0xC000006F
                                    logon hours, 0xC0000070 workstation, 0xC000015B
                                    logon type not granted, 0xC0000133 clock skew,
                                    0xC0000413 authentication firewall… — other;
                                    ``logon_type`` = LogonType
4648  explicit_credentials,         unknown — the attempt, not its verdict (Windows
      status unknown                logs it before the credentials are tried; the
                                    outcome is a 4624/4625 or a DC's event). ``user``
                                    is the account whose credentials were used,
                                    ``actor_user`` the subject (identity key of
                                    SubjectUserName), ``service`` the TargetServerName
                                    — ``localhost`` (or the computer's own name) is the
                                    logging computer, so written as ``Computer`` —,
                                    ``src_ip`` empty (IpAddress is the *target's*);
                                    the logging computer is in ``status_detail`` as
                                    ``computer=``
4768  logon, kerberos               Result 0x0 success · 0x6 unknown_user
                                    (KDC_ERR_C_PRINCIPAL_UNKNOWN: a name that does not
                                    exist is a 4768 failure, never a 4771) · 0x12
                                    locked · 0x17 expired · 0x18 bad_password · else
                                    other; ``status_code`` the code verbatim
4771  logon, failure, kerberos      as 4768 (0x18 is the common case: a wrong
                                    password at pre-authentication)
4776  logon, ntlm                   Status 0x0 success, else as 4625 (no address:
                                    ``Workstation`` goes to ``src_host``)
====  ============================  ===================================================

0x12 KDC_ERR_CLIENT_REVOKED means locked *or* disabled *or* expired — the KDC does not
say which; it maps to ``locked``, the case that matters to spray detection (a spray
that trips lockout keeps counting as credential failures), and the code stays in
``status_code``.

* ``user`` / ``user_raw`` / ``user_domain`` come from ``TargetUserName`` (and
  ``TargetDomainName``) through :func:`crownwatch.tables.authentication.identity_columns`:
  ``alice`` whether the event wrote ``alice``, ``CORP\\alice`` or
  ``alice@CORP.EXAMPLE``, so a 4771 meets the same user's 4624 and Okta sign-in.
* ``src_ip`` is ``IpAddress`` with an IPv4-mapped ``::ffff:`` prefix removed. ``-``
  (Windows' "no address": console, service and many NTLM logons) and empty become
  NULL, so address-less events never look like one shared source; the raw value
  stays in ``status_detail`` as ``ip=-``. Loopback (``::1``, ``127.0.0.1``) is kept:
  it is what RDP through a tunnel or a local proxy looks like.
* ``src_host`` is the client's name, ``WorkstationName`` (4624/4625) or
  ``Workstation`` (4776), lower-cased, without ``\\`` and ``-``: what NTLM and local
  logons say about the machine that tried when they carry no address (the identity
  detections take it as the source of address-less attempts).
* ``service`` is ``Computer`` (the host that logged the event; for 4768/4771/4776 the
  domain controller) except for 4648 (above); ``auth_protocol`` is
  ``AuthenticationPackageName`` lower-cased for 4624/4625 (``ntlm``, ``kerberos``,
  ``negotiate``), ``kerberos`` for 4768/4771, ``ntlm`` for 4776.
* ``logon_type`` is written for 4624/4625 only (the other events have none); it also
  stays in ``status_detail`` as ``logon_type=``.
* ``user_uid`` is ``TargetUserSid``/``TargetSid``, without the NULL SID.
* ``raw_id`` is ``EventRecordID`` (``winlog.record_id``, NXLog's ``RecordNumber``,
  SecurityEvent's ``EventOriginId``); ``raw_offset`` the 0-based record index (evtx,
  JSON arrays) or the 1-based line the record starts on (JSON lines, XML).

**4648s are all kept**, including those whose target is the subject itself (a user's
own saved credentials for ``net use`` or an RDP client: a record of which servers an
account reached) and those whose subject is the computer (``NAME$``, i.e. SYSTEM:
winlogon/svchost logging a person on, the Service Control Manager or Task Scheduler
starting something under its configured account). They are attempts, not verdicts,
so no detection counts them as sign-ins; ``identity.explicit_credential_spray`` sets
both kinds aside itself, and a machine account used for *another* server's
credentials stays visible to it.

**Skipped** (valid records, not sign-ins; counted, not stored — see
``linux_auth.parsed``): every other event id (4611, 4672, 5152…), events of another
channel than Security when the record names one (shippers mix channels, and event
ids are per provider), and successful sign-ins no person typed: 4624 of machine
accounts (``NAME$``), ``SYSTEM``/``LOCAL SERVICE``/``NETWORK SERVICE`` and the
``DWM-n``/``UMFD-n`` virtual accounts, and 4768/4776 successes of machine accounts —
the bulk of a domain controller's log. Their *failures* are kept: a machine account
failing is rare and worth seeing.

**Quarantined**: malformed or truncated XML events, XML with a DTD, malformed JSON,
records that are no Windows event at all, records without an event id or a readable
time, times before 1970 or after 2199 (a broken record's FILETIME zero, a hostile
number), unreadable evtx chunks (the parser gives up a whole chunk; it counts as one
record), and an evtx file shorter than its header says. Splunk's classic
``WinEventLog`` (non-XML, the rendered message as ``key=value`` text) is not read: its
fields would have to be recovered from the localised message text; collect
``XmlWinEventLog`` instead.
"""

from __future__ import annotations

import gzip
import json
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.linux_auth import parsed
from crownwatch.sources.reader import Reader, _first_line, head_text, is_gzip
from crownwatch.tables.authentication import identity_columns
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "windows"

EVTX_MAGIC = b"ElfFile\x00"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SIGN_IN_EVENTS = (4624, 4625, 4648, 4768, 4771, 4776)

_BATCH = 50_000
_MAX_XML_EVENT = 1 << 20  # a Security event is a few KiB; 1 MiB is not one


def sniff_bytes(magic: bytes) -> bool:
    return magic.startswith(EVTX_MAGIC)


def sniff(head: str) -> bool:
    if head.startswith("ElfFile\x00"):  # a gzip-compressed .evtx
        return True
    h = head.lstrip()
    if h.startswith("<"):
        return "<Event" in h and EVENT_NS in h
    if h[:1] not in "[{":
        return False
    if '"Event"' in h and '"System"' in h and '"EventID"' in h:
        return True  # evtx_dump
    if '"winlog"' in h or ('"@timestamp"' in h and '"Microsoft-Windows-Security-Auditing"' in h):
        return True  # Winlogbeat / Elastic Agent, bare or as an Elasticsearch hit
    if '"SourceName"' in h and '"EventID"' in h and ('"EventTime"' in h or '"Hostname"' in h):
        return True  # NXLog im_msvistalog
    # Log Analytics SecurityEvent / WindowsEvent rows (EventID may come after a long
    # EventData, past the sniffed head; EventSourceName and Channel come before it)
    return (
        '"TimeGenerated"' in h
        and '"Computer"' in h
        and ('"EventID"' in h or '"EventSourceName"' in h or '"Channel"' in h)
    )


# -- the one stage all the shapes go through ------------------------------------------

_DATA_FIELDS = (
    "TargetUserName",
    "TargetDomainName",
    "TargetUserSid",
    "TargetSid",
    "TargetLogonId",
    "SubjectUserName",
    "SubjectDomainName",
    "LogonType",
    "IpAddress",
    "IpPort",
    "WorkstationName",
    "Workstation",
    "Status",
    "SubStatus",
    "FailureReason",
    "AuthenticationPackageName",
    "LogonProcessName",
    "PackageName",
    "ProcessName",
    "TargetServerName",
    "TargetInfo",
    "ServiceName",
    "PreAuthType",
)
_DATA = {f: "VARCHAR" for f in _DATA_FIELDS}

# Winlogbeat / Elastic Agent (ECS), bare or as the ``_source`` of an Elasticsearch hit.
# (ECS ``event.code`` repeats ``winlog.event_id``; it cannot be staged beside evtx_dump's
# ``Event``: DuckDB struct fields are case-insensitive.)
_ECS = {
    "winlog": {
        "event_id": "VARCHAR",
        "record_id": "VARCHAR",
        "computer_name": "VARCHAR",
        "channel": "VARCHAR",
        "event_data": _DATA,
    },
    "host": {"name": "VARCHAR"},
    "@timestamp": "VARCHAR",
}

STRUCTURE = {
    # evtx_dump JSON (and what evtx records and XML events are turned into)
    "Event": {
        "System": {
            "EventID": "JSON",
            "TimeCreated": {"#attributes": {"SystemTime": "VARCHAR"}},
            "EventRecordID": "VARCHAR",
            "Computer": "VARCHAR",
            "Channel": "VARCHAR",
        },
        "EventData": _DATA,
    },
    **_ECS,
    "_source": _ECS,
    # flat rows: NXLog im_msvistalog JSON, Log Analytics SecurityEvent / WindowsEvent
    "EventID": "VARCHAR",
    "EventTime": "VARCHAR",
    "TimeGenerated": "VARCHAR",
    "Hostname": "VARCHAR",
    "Computer": "VARCHAR",
    "Channel": "VARCHAR",
    "RecordNumber": "VARCHAR",
    "EventRecordId": "VARCHAR",
    "EventOriginId": "VARCHAR",
    "EventData": "VARCHAR",  # SecurityEvent: the XML string; WindowsEvent: an object
    **_DATA,
}


def _time(x: str) -> str:
    """A time field as TIMESTAMPTZ: ISO 8601 with its offset as written; without one,
    UTC; a bare number, epoch seconds, milliseconds or microseconds by magnitude
    (NXLog configurations that ``integer($EventTime)``)."""
    return f"""CASE
        WHEN {x} IS NULL THEN NULL
        WHEN regexp_matches({x}, '^\\s*[0-9]+(\\.[0-9]+)?\\s*$') THEN try(CASE
            WHEN try_cast({x} AS DOUBLE) >= 1e14 THEN to_timestamp(try_cast({x} AS DOUBLE) / 1e6)
            WHEN try_cast({x} AS DOUBLE) >= 1e11 THEN to_timestamp(try_cast({x} AS DOUBLE) / 1e3)
            ELSE to_timestamp(try_cast({x} AS DOUBLE)) END)
        WHEN regexp_matches({x}, '([zZ]|[+-][0-9][0-9](:?[0-9][0-9])?)\\s*$')
            THEN try_cast({x} AS TIMESTAMPTZ)
        ELSE timezone('UTC', try_cast({x} AS TIMESTAMP)) END"""


_EVENT_ID = """coalesce(
    try_cast(json_extract_string(e.Event.System.EventID, '$."#text"') AS INTEGER),
    try_cast(json_extract_string(e.Event.System.EventID, '$') AS INTEGER),
    try_cast(e.winlog.event_id AS INTEGER),
    try_cast(e._source.winlog.event_id AS INTEGER),
    try_cast(e.EventID AS INTEGER))"""
_TIME = f"""coalesce(
    {_time('e.Event.System.TimeCreated."#attributes".SystemTime')},
    {_time('e."@timestamp"')},
    {_time('e._source."@timestamp"')},
    {_time("e.TimeGenerated")},
    {_time("e.EventTime")})"""
_RECORD_ID = """coalesce(e.Event.System.EventRecordID, e.winlog.record_id,
    e._source.winlog.record_id, e.RecordNumber, e.EventRecordId, e.EventOriginId)"""
_COMPUTER = """coalesce(e.Event.System.Computer, e.winlog.computer_name,
    e._source.winlog.computer_name, e.Computer, e.Hostname, e.host.name, e._source.host.name)"""
_CHANNEL = "coalesce(e.Event.System.Channel, e.winlog.channel, e._source.winlog.channel, e.Channel)"

REJECT = f"""CASE
    WHEN e.Event IS NULL AND e.winlog IS NULL AND e._source.winlog IS NULL
        AND e.EventID IS NULL AND e.Channel IS NULL AND e.EventData IS NULL
        THEN 'not a Windows event record'
    WHEN {_EVENT_ID} IS NULL THEN 'missing or non-numeric EventID'
    -- the time is parsed once for every record: only a record outside the range (or
    -- with no time) is tested again
    WHEN {_TIME} BETWEEN '1970-01-01 00:00:00+00'::TIMESTAMPTZ
        AND '2199-12-31 23:59:59+00'::TIMESTAMPTZ THEN NULL
    WHEN {_TIME} IS NULL THEN 'missing or unparseable TimeCreated'
    ELSE 'TimeCreated out of range (before 1970 or after 2199)'
END"""


def _xml_text(x: str) -> str:
    """The five predefined XML entities of a value cut out of an XML string."""
    for ent, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "''")):
        x = f"replace({x}, '{ent}', '{ch}')"
    return f"replace({x}, '&amp;', '&')"


def _d(field: str) -> str:
    """An EventData field from whichever shape the record has; '' and '-' kept where
    the event wrote them (callers decide), '' of a flat row's empty column is NULL.

    Log Analytics rows carry the fields twice: as columns (``TargetUserName``…, empty
    for the fields the table has no column for) and in ``EventData`` — the event's
    ``<EventData>`` XML as a string (SecurityEvent) or an object (WindowsEvent)."""
    q = f'"{field}"'
    pattern = "<Data Name=[''\"]" + field + "[''\"]\\s*>([^<]*)</Data>"
    from_xml = _xml_text(f"nullif(regexp_extract(e.EventData, '{pattern}', 1), '')")
    embedded = f"""CASE
        WHEN e.EventData IS NULL THEN NULL
        WHEN starts_with(ltrim(e.EventData), '{{') THEN json_extract_string(e.EventData, '$.{q}')
        ELSE {from_xml}
    END"""
    return (
        f"coalesce(e.Event.EventData.{q}, e.winlog.event_data.{q}, "
        f"e._source.winlog.event_data.{q}, nullif(e.{q}, ''), {embedded})"
    )


# NTSTATUS / Kerberos codes compared as numbers: exports differ in case and padding.
_NT = {
    0xC000006A: "bad_password",
    0xC0000064: "unknown_user",
    0xC0000234: "locked",
    0xC0000072: "disabled",
    0xC0000071: "expired",
    0xC0000193: "expired",
    0xC0000224: "expired",
}
_KERBEROS = {0x18: "bad_password", 0x6: "unknown_user", 0x12: "locked", 0x17: "expired"}


def _case(code_sql: str, table: dict[int, str]) -> str:
    whens = " ".join(f"WHEN {k} THEN '{v}'" for k, v in table.items())
    return f"CASE {code_sql} {whens} ELSE 'other' END"


# Successful sign-ins no person typed: machine accounts (NAME$), the service SIDs and
# the DWM-n / UMFD-n virtual accounts. Their failures are kept.
_SKIPPED_ACCOUNTS = """(
    (eid = 4624 AND (
        ends_with("user", '$')
        OR upper(coalesce(tsid, '')) IN ('S-1-5-18', 'S-1-5-19', 'S-1-5-20')
        OR regexp_matches("user", '^(dwm|umfd)-[0-9]+$')))
    OR (eid IN (4768, 4776) AND st = 0 AND ends_with("user", '$'))
)"""

_NORMALISE = f"""
WITH g AS (
    SELECT raw_offset, {_EVENT_ID} AS eid, {_TIME} AS ts, {_RECORD_ID} AS record_id,
        {_COMPUTER} AS computer, {_CHANNEL} AS channel,
        {", ".join(f"{_d(f)} AS d_{f}" for f in _DATA_FIELDS)}
    FROM {{stage}} WHERE _reject IS NULL
), n AS (
    SELECT *,
        nullif(nullif(nullif(coalesce(d_TargetUserSid, d_TargetSid), '-'), 'S-1-0-0'), 'NULL SID') AS tsid,
        nullif(trim(d_IpAddress), '') AS ip_raw,
        lower(trim(d_Status)) AS status_raw, lower(trim(d_SubStatus)) AS substatus_raw,
        try_cast(trim(d_Status) AS BIGINT) AS st,
        try_cast(trim(d_SubStatus) AS BIGINT) AS sub,
        nullif(nullif(trim(d_TargetServerName), '-'), '') AS target_server
    FROM g
), c AS (
    SELECT *,
        -- 0xC000006D (logon failure) and 0xC000006E (account restriction) say why in SubStatus
        CASE WHEN st IN (3221225581, 3221225582) AND coalesce(sub, 0) <> 0 THEN sub ELSE st END AS nt,
        CASE WHEN st IN (3221225581, 3221225582) AND coalesce(sub, 0) <> 0
             THEN concat(status_raw, '/', substatus_raw) ELSE status_raw END AS nt_code
    FROM n
), s AS (
    -- the subject of a 4648 (who typed another account's credentials), as an identity key
    SELECT * EXCLUDE ("user", user_raw, user_domain), "user" AS subject_key
    FROM (SELECT *, {identity_columns("d_SubjectUserName")} FROM c)
), k AS (
    SELECT *, {identity_columns("d_TargetUserName", "d_TargetDomainName")} FROM s
)
SELECT *,
    CASE
        WHEN eid = 4624 THEN 'success'
        WHEN eid = 4648 THEN 'unknown'
        WHEN eid IN (4768, 4776) AND st = 0 THEN 'success'
        WHEN eid IN (4768, 4771) THEN {_case("st", _KERBEROS)}
        ELSE {_case("nt", _NT)}
    END AS reason,
    eid IN ({", ".join(map(str, SIGN_IN_EVENTS))})
        AND coalesce(lower(trim(channel)), 'security') = 'security'
        AND NOT coalesce({_SKIPPED_ACCOUNTS}, false) AS is_sign_in
FROM k
"""

_AUTH = f"""SELECT
    ts AS time, '{NAME}' AS source,
    CASE WHEN eid = 4648 THEN 'explicit_credentials' ELSE 'logon' END AS activity,
    "user", user_raw, user_domain,
    tsid AS user_uid,
    CASE WHEN eid = 4648 OR ip_raw = '-' THEN NULL
         WHEN starts_with(lower(ip_raw), '::ffff:') AND contains(ip_raw, '.') THEN substr(ip_raw, 8)
         ELSE ip_raw END AS src_ip,
    -- the client's name (NTLM and local logons carry it where they carry no address);
    -- Windows writes '-' or '' for none and may prefix it with \\
    CASE WHEN eid <> 4648 THEN nullif(nullif(lower(ltrim(trim(
        coalesce(nullif(d_WorkstationName, '-'), nullif(d_Workstation, '-'), '')), '\')), ''), '-')
    END AS src_host,
    -- 4648: the server the credentials were for; 'localhost' (runas, a service or task
    -- started under an account, the OS logging a user on) is the logging computer
    CASE WHEN eid <> 4648 THEN computer
         WHEN target_server IS NULL
              OR lower(target_server) IN ('localhost', '127.0.0.1', '::1')
              OR lower(target_server) = lower(computer)
              OR lower(target_server) = lower(split_part(computer, '.', 1))
         THEN computer
         ELSE target_server END AS service,
    CASE WHEN eid IN (4768, 4771) THEN 'kerberos'
         WHEN eid = 4776 THEN 'ntlm'
         ELSE lower(nullif(nullif(trim(d_AuthenticationPackageName), '-'), '')) END AS auth_protocol,
    CASE WHEN eid IN (4624, 4625) THEN try_cast(trim(d_LogonType) AS INTEGER) END AS logon_type,
    CASE reason WHEN 'success' THEN 'success' WHEN 'unknown' THEN 'unknown' ELSE 'failure' END AS status,
    reason,
    CASE WHEN eid IN (4768, 4771) THEN status_raw WHEN eid = 4648 THEN NULL ELSE nt_code END AS status_code,
    concat_ws(' ', 'event=' || eid,
        'domain=' || nullif(d_TargetDomainName, ''),
        'logon_type=' || d_LogonType,
        'ip=' || ip_raw,
        'workstation=' || nullif(coalesce(d_WorkstationName, d_Workstation), ''),
        'package=' || nullif(trim(coalesce(d_AuthenticationPackageName, d_PackageName)), ''),
        'process=' || nullif(nullif(d_ProcessName, '-'), ''),
        'subject=' || nullif(nullif(d_SubjectUserName, '-'), ''),
        'target_server=' || nullif(d_TargetServerName, ''),
        'service_name=' || nullif(d_ServiceName, ''),
        CASE WHEN eid = 4648 THEN 'computer=' || computer END) AS status_detail,
    nullif(d_TargetLogonId, '') AS session_uid,
    CASE WHEN eid = 4648 THEN subject_key END AS actor_user,
    record_id AS raw_id, raw_offset
FROM {{norm}} WHERE is_sign_in"""


# -- turning evtx records and XML events into evtx_dump JSON ---------------------------


class _Records:
    """Collects ``(raw_offset, text)`` records and Python-side rejects into temp
    tables, in bounded batches."""

    def __init__(self, reader: Reader):
        self.reader = reader
        self.records = reader.name("win_records")
        self.rejects = reader.name("win_rejects")
        con = reader.con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.records} (raw_offset BIGINT, text VARCHAR)"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.rejects} (raw_offset BIGINT, reason VARCHAR, record VARCHAR)"
        )
        self._rec: tuple[list, list] = ([], [])
        self._rej: tuple[list, list, list] = ([], [], [])

    def add(self, offset: int, text: str) -> None:
        self._rec[0].append(offset)
        self._rec[1].append(text)
        if len(self._rec[0]) >= _BATCH:
            self.flush()

    def reject(self, offset: int | None, reason: str, record: str) -> None:
        self._rej[0].append(offset)
        self._rej[1].append(reason[:500])
        self._rej[2].append(record[:RECORD_LIMIT])

    def flush(self) -> None:
        con = self.reader.con
        if self._rec[0]:
            batch = pa.table(
                {
                    "raw_offset": pa.array(self._rec[0], pa.int64()),
                    "text": pa.array(self._rec[1], pa.string()),
                }
            )
            con.register("_win_batch", batch)
            con.execute(f"INSERT INTO {self.records} SELECT * FROM _win_batch")
            con.unregister("_win_batch")
            self._rec[0].clear()
            self._rec[1].clear()
        if self._rej[0]:
            batch = pa.table(
                {
                    "raw_offset": pa.array(self._rej[0], pa.int64()),
                    "reason": self._rej[1],
                    "record": self._rej[2],
                }
            )
            con.register("_win_batch", batch)
            con.execute(f"INSERT INTO {self.rejects} SELECT * FROM _win_batch")
            con.unregister("_win_batch")
            for col in self._rej:
                col.clear()


def _read_evtx(path: Path, out: _Records) -> None:
    from evtx import PyEvtxParser

    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as fh:
        header = fh.read(4096)
        if opener is gzip.open:
            size = len(header) + sum(len(b) for b in iter(lambda: fh.read(1 << 20), b""))
        else:
            size = path.stat().st_size
    if len(header) < 44 or not header.startswith(EVTX_MAGIC):
        raise SourceError("not an evtx file: header too short or wrong magic")
    (chunks,) = struct.unpack("<H", header[42:44])
    try:
        with opener(path, "rb") as fh:
            parser = PyEvtxParser(fh if opener is gzip.open else str(path))
            it = parser.records_json()
            index = 0
            errors = 0
            while True:
                try:
                    rec = next(it)
                except StopIteration:
                    break
                except (RuntimeError, OSError, ValueError) as exc:
                    # the parser drops the whole chunk; say which, keep going
                    out.reject(None, f"unreadable evtx chunk: {_first_line(exc)}", "")
                    errors += 1
                    if errors > 10_000:
                        break
                    continue
                out.add(index, rec["data"])
                index += 1
    except (OSError, RuntimeError, ValueError) as exc:
        # the parser refuses the file as a whole (a header whose sizes do not fit the
        # file, an "ElfFile" magic in front of something else)
        raise SourceError(f"not a readable evtx file: {_first_line(exc)}") from exc
    if size < 4096 + chunks * 65536:
        out.reject(
            None,
            f"evtx file truncated: header declares {chunks} chunks, "
            f"file holds {(size - 4096) // 65536}",
            "",
        )


_EVENT_START = re.compile(r"<Event[\s>]")
_EVENT_END = "</Event>"
_DTD = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def _xml_chunks(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, text)`` for each ``<Event …>…`` span, streamed: from one event start to
    the next. Text outside events (``<?xml?>``, ``<Events>``) is not a record."""
    opener = gzip.open if is_gzip(path) else open
    buf = ""
    line = 1  # line number at buf[0]
    with opener(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            eof = not block
            if not eof:
                buf += block.decode("utf-8", errors="replace")
            while True:
                m = _EVENT_START.search(buf)
                if m is None:
                    keep = buf[-16:]
                    line += buf.count("\n", 0, len(buf) - len(keep))
                    buf = keep
                    break
                nxt = _EVENT_START.search(buf, m.end())
                if nxt is None and not eof and len(buf) - m.start() <= _MAX_XML_EVENT:
                    # the event may go on in the next block
                    line += buf.count("\n", 0, m.start())
                    buf = buf[m.start() :]
                    break
                end = nxt.start() if nxt is not None else len(buf)
                start_line = line + buf.count("\n", 0, m.start())
                yield start_line, buf[m.start() : end]
                line = start_line + buf.count("\n", m.start(), end)
                buf = buf[end:]
            if eof:
                break


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_event_json(chunk: str) -> str:
    """One XML event as evtx_dump JSON; raises ValueError with the quarantine reason."""
    end = chunk.rfind(_EVENT_END)
    if end < 0:
        raise ValueError("truncated XML event (no </Event>)")
    body = chunk[: end + len(_EVENT_END)]
    if _DTD.search(body):
        raise ValueError("XML event with a DTD or entity declaration refused")
    if len(body) > _MAX_XML_EVENT:
        raise ValueError("XML event larger than 1 MiB")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML event: {exc}") from None
    system: dict = {}
    data: dict = {}
    for part in root:
        name = _local(part.tag)
        if name == "System":
            for el in part:
                tag = _local(el.tag)
                if tag == "TimeCreated":
                    system["TimeCreated"] = {"#attributes": {"SystemTime": el.get("SystemTime")}}
                elif tag in ("EventID", "EventRecordID", "Computer", "Channel"):
                    system[tag] = (el.text or "").strip()
        elif name == "EventData":
            for el in part:
                if _local(el.tag) == "Data" and el.get("Name"):
                    data[el.get("Name")] = el.text if el.text is not None else ""
    return json.dumps({"Event": {"System": system, "EventData": data}})


def _read_xml(path: Path, out: _Records) -> None:
    for line, chunk in _xml_chunks(path):
        try:
            out.add(line, _xml_event_json(chunk))
        except ValueError as exc:
            out.reject(line, str(exc), chunk)


def parse(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    with open(path, "rb") as fh:
        magic = fh.read(8)
    head = head_text(path, 4096)
    if magic.startswith(EVTX_MAGIC) or head.startswith("ElfFile\x00"):
        kind = "evtx"
    elif head.lstrip().startswith("<"):
        kind = "xml"
    elif head.lstrip().startswith("["):
        kind = "json_array"
    else:
        kind = "jsonl"

    rejects = None
    if kind in ("evtx", "xml"):
        out = _Records(reader)
        (_read_evtx if kind == "evtx" else _read_xml)(path, out)
        out.flush()
        records, rejects = out.records, out.rejects
        stage = reader.stage_json(records, STRUCTURE, REJECT)
    elif kind == "json_array":
        stage = reader.stage_json(reader.json_document(path, None), STRUCTURE, REJECT)
    else:
        stage = reader.stage_json_lines(path, STRUCTURE, REJECT)
    norm = reader.name("win_norm")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {norm} AS " + _NORMALISE.replace("{stage}", stage))
    ((staged, valid, sign_ins),) = con.execute(
        f"""SELECT (SELECT count(*) FROM {stage}), count(*), count(*) FILTER (WHERE is_sign_in)
            FROM {norm}"""
    ).fetchall()

    auth = con.sql(_AUTH.replace("{norm}", norm))
    # raw_source is filled in by the lake
    quarantine_sql = f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason,
            _record AS record, raw_offset,
            {_RECORD_ID} AS raw_id
        FROM {stage} WHERE _reject IS NOT NULL"""
    python_rejects = 0
    if rejects is not None:
        python_rejects = reader.count(rejects)
        quarantine_sql += f""" UNION ALL SELECT now(), '{NAME}', reason, record, raw_offset,
            NULL::VARCHAR FROM {rejects}"""
    quarantine = con.sql(quarantine_sql)
    return parsed(
        records=staged + python_rejects,
        skipped=valid - sign_ins,
        routed={"authentication": auth},
        copies={},
        quarantine=quarantine,
    )
