"""Windows Security event log: the sign-in events 4624, 4625, 4648, 4771 and 4776.

Three shapes of the same events, one mapping:

* native ``.evtx`` — read by the maintained ``evtx`` package (pyevtx-rs), whose
  ``records_json()`` yields each record as the JSON ``evtx_dump`` prints;
* the XML export (``wevtutil qe Security /f:xml``, ``Get-WinEvent … .ToXml()``) —
  ``<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>`` elements,
  one per line, run together, or wrapped in an ``<Events>`` root;
* JSON lines: ``evtx_dump -o jsonl`` (``{"Event": {"System": …, "EventData": …}}``)
  and Winlogbeat/Elastic documents (``winlog.event_id``, ``winlog.event_data``).

evtx records and XML events are turned into the ``evtx_dump`` JSON in Python (the
evtx parser is the library; XML events are parsed one by one with the standard
library's expat-based ElementTree, after refusing any DTD — Windows never writes one,
and refusing it rules out entity expansion). All three then go through the same
``json_transform`` stage and the same normalising SQL.

**Mapping** (``reason`` from NTSTATUS; when ``Status`` is 0xC000006D "logon failure"
or 0xC000006E "account restriction", the ``SubStatus`` says why — a disabled account
logs 0xC000006E/0xC0000072):

====  ==============================  =================================================
id    row                             reason
====  ==============================  =================================================
4624  logon, success                  success
4625  logon, failure                  0xC000006A bad_password · 0xC0000064 unknown_user ·
                                      0xC0000234 locked · 0xC0000072 disabled ·
                                      0xC0000071/0xC0000193/0xC0000224 expired ·
                                      anything else (0xC000006F hours, 0xC0000070
                                      workstation, 0xC000015B logon type…) other
4648  other (explicit credentials),   success; ``user`` is the account whose
      success                         credentials were used, ``service`` the target
                                      server; its network address is the *target's*,
                                      so ``src_ip`` stays empty
4771  logon, failure, kerberos        0x18 bad_password · 0x6 unknown_user ·
                                      0x12 locked (KDC_ERR_CLIENT_REVOKED: locked,
                                      disabled or expired — lockout is the case that
                                      matters to spray detection) · 0x17 expired ·
                                      else other
4776  logon, ntlm                     Status 0x0 success, else as 4625 (no address:
                                      ``Workstation`` goes to ``status_detail``)
====  ==============================  =================================================

* ``user`` is ``TargetUserName`` lower-cased, without a ``DOMAIN\\`` prefix; the domain
  goes to ``status_detail``. Not ``user@domain``: 4771 and 4776 carry no domain,
  and a Kerberos failure must meet the same user's later 4624 for the spray
  detector's recovery test to work.
* ``src_ip`` is ``IpAddress`` with an IPv4-mapped ``::ffff:`` prefix removed. ``-``
  (Windows' "no address": console, service and many NTLM logons) and empty become
  NULL, so address-less events never look like one shared source; the raw value
  stays in ``status_detail`` as ``ip=-``. Loopback (``::1``, ``127.0.0.1``) is kept:
  it is what RDP through a tunnel or a local proxy looks like.
* ``service`` is ``Computer`` (the host that logged the event; for 4771/4776 the
  domain controller); ``auth_protocol`` is ``AuthenticationPackageName`` lower-cased
  for 4624/4625 (``ntlm``, ``kerberos``, ``negotiate``).
* ``raw_id`` is ``EventRecordID``; ``raw_offset`` the 0-based record index (evtx,
  JSON arrays) or the 1-based line the record starts on (JSON lines, XML).

**Skipped** (valid records, not sign-ins; counted, not stored — see
``linux_auth.parsed``): every other event id in a Security log (4611, 4672, 5152…),
and successful 4624 logons of machine accounts (``NAME$``), ``SYSTEM``/``LOCAL
SERVICE``/``NETWORK SERVICE`` and the ``DWM-n``/``UMFD-n`` virtual accounts — the bulk of
a domain controller's log, with no sign-in a person or an attacker typed. Their
*failures* are kept: a machine account failing is rare and worth seeing.

**Quarantined**: malformed or truncated XML events, XML with a DTD, records without
an event id or a parseable ``TimeCreated``, unreadable evtx chunks (the parser gives
up a whole chunk; it counts as one record), and an evtx file shorter than its header
says.
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
from crownwatch.sources.reader import Reader, head_text, is_gzip
from crownwatch.tables.authentication import identity_columns
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "windows"

EVTX_MAGIC = b"ElfFile\x00"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
SIGN_IN_EVENTS = (4624, 4625, 4648, 4771, 4776)

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
    if h.startswith("{"):
        return ('"Event"' in h and '"System"' in h and '"EventID"' in h) or (
            '"winlog"' in h and '"event_id"' in h
        )
    return False


# -- the one stage all three shapes go through ----------------------------------------

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

STRUCTURE = {
    "Event": {
        "System": {
            "EventID": "JSON",
            "TimeCreated": {"#attributes": {"SystemTime": "VARCHAR"}},
            "EventRecordID": "VARCHAR",
            "Computer": "VARCHAR",
        },
        "EventData": _DATA,
    },
    "winlog": {
        "event_id": "VARCHAR",
        "record_id": "VARCHAR",
        "computer_name": "VARCHAR",
        "event_data": _DATA,
    },
    "@timestamp": "VARCHAR",
}

_EVENT_ID = """coalesce(
    try_cast(json_extract_string(e.Event.System.EventID, '$."#text"') AS INTEGER),
    try_cast(json_extract_string(e.Event.System.EventID, '$') AS INTEGER),
    try_cast(e.winlog.event_id AS INTEGER))"""
_TIME = """coalesce(try_cast(e.Event.System.TimeCreated."#attributes".SystemTime AS TIMESTAMPTZ),
    try_cast(e."@timestamp" AS TIMESTAMPTZ))"""

REJECT = f"""CASE
    WHEN e.Event IS NULL AND e.winlog IS NULL THEN 'not a Windows event record'
    WHEN {_EVENT_ID} IS NULL THEN 'missing or non-numeric EventID'
    WHEN {_TIME} IS NULL THEN 'missing or unparseable TimeCreated'
END"""


def _d(field: str) -> str:
    """An EventData field from either shape, '' and '-' kept (callers decide)."""
    return f"coalesce(e.Event.EventData.{field}, e.winlog.event_data.{field})"


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


_SKIPPED_ACCOUNTS = """(
    (eid = 4624 AND (
        ends_with(tuser, '$')
        OR upper(coalesce(tsid, '')) IN ('S-1-5-18', 'S-1-5-19', 'S-1-5-20')
        OR regexp_matches(upper(tuser), '^(DWM|UMFD)-\\d+$')))
)"""

_NORMALISE = f"""
WITH g AS (
    SELECT raw_offset, e, {_EVENT_ID} AS eid, {_TIME} AS ts,
        coalesce(e.Event.System.EventRecordID, e.winlog.record_id) AS record_id,
        coalesce(e.Event.System.Computer, e.winlog.computer_name) AS computer,
        {_d("TargetUserName")} AS tuser_raw,
        nullif(nullif(coalesce({_d("TargetUserSid")}, {_d("TargetSid")}), '-'), 'S-1-0-0') AS tsid,
        nullif({_d("IpAddress")}, '') AS ip_raw,
        lower({_d("Status")}) AS status_raw, lower({_d("SubStatus")}) AS substatus_raw
    FROM {{stage}} WHERE _reject IS NULL
), n AS (
    SELECT *,
        string_split(tuser_raw, '\\')[-1] AS tuser,
        try_cast(status_raw AS BIGINT) AS st,
        try_cast(substatus_raw AS BIGINT) AS sub
    FROM g
), c AS (
    SELECT *,
        -- 0xC000006D (logon failure) and 0xC000006E (account restriction) say why in SubStatus
        CASE WHEN st IN (3221225581, 3221225582) AND coalesce(sub, 0) <> 0 THEN sub ELSE st END AS nt,
        CASE WHEN st IN (3221225581, 3221225582) AND coalesce(sub, 0) <> 0
             THEN concat(status_raw, '/', substatus_raw) ELSE status_raw END AS nt_code
    FROM n
)
SELECT *,
    CASE
        WHEN eid IN (4624, 4648) THEN 'success'
        WHEN eid = 4776 AND st = 0 THEN 'success'
        WHEN eid = 4771 THEN {_case("st", _KERBEROS)}
        ELSE {_case("nt", _NT)}
    END AS reason,
    eid IN ({", ".join(map(str, SIGN_IN_EVENTS))}) AND NOT coalesce({_SKIPPED_ACCOUNTS}, false) AS is_sign_in
FROM c
"""

_AUTH = f"""SELECT
    ts AS time, '{NAME}' AS source,
    CASE WHEN eid = 4648 THEN 'other' ELSE 'logon' END AS activity,
    {identity_columns("tuser_raw", _d("TargetDomainName"))},
    tsid AS user_uid,
    CASE WHEN eid = 4648 OR ip_raw = '-' THEN NULL
         WHEN starts_with(lower(ip_raw), '::ffff:') AND contains(ip_raw, '.') THEN substr(ip_raw, 8)
         ELSE ip_raw END AS src_ip,
    CASE WHEN eid = 4648 THEN coalesce(nullif(nullif({_d("TargetServerName")}, '-'), ''), computer)
         ELSE computer END AS service,
    CASE WHEN eid = 4771 THEN 'kerberos'
         WHEN eid = 4776 THEN 'ntlm'
         ELSE lower(nullif(nullif(trim({_d("AuthenticationPackageName")}), '-'), '')) END AS auth_protocol,
    CASE WHEN reason = 'success' THEN 'success' ELSE 'failure' END AS status,
    reason,
    CASE WHEN eid = 4771 THEN status_raw ELSE nt_code END AS status_code,
    concat_ws(' ', 'event=' || eid,
        'domain=' || nullif({_d("TargetDomainName")}, ''),
        'logon_type=' || {_d("LogonType")},
        'ip=' || ip_raw,
        'workstation=' || nullif(coalesce({_d("WorkstationName")}, {_d("Workstation")}), ''),
        'package=' || nullif(trim(coalesce({_d("AuthenticationPackageName")}, {_d("PackageName")})), ''),
        'process=' || nullif(nullif({_d("ProcessName")}, '-'), ''),
        'subject=' || nullif(nullif({_d("SubjectUserName")}, '-'), ''),
        'target_server=' || nullif(nullif({_d("TargetServerName")}, '-'), ''),
        'service_name=' || nullif({_d("ServiceName")}, '')) AS status_detail,
    nullif({_d("TargetLogonId")}, '') AS session_uid,
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
                    out.reject(None, f"unreadable evtx chunk: {str(exc).splitlines()[0][:300]}", "")
                    errors += 1
                    if errors > 10_000:
                        break
                    continue
                out.add(index, rec["data"])
                index += 1
    except OSError as exc:
        raise SourceError(f"not a readable evtx file: {str(exc).splitlines()[0][:300]}") from exc
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

    auth = con.sql(_AUTH.replace("{norm}", norm) + " ORDER BY raw_offset")
    # raw_source is filled in by the lake
    quarantine_sql = f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason,
            _record AS record, raw_offset,
            coalesce(e.Event.System.EventRecordID, e.winlog.record_id) AS raw_id
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
