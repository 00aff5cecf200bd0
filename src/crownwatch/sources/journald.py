"""systemd journal exports: ``journalctl -o json`` — one JSON object per line.

Only sshd's entries become rows, through the classification of
:mod:`crownwatch.sources.linux_auth` (the same connection context, the same reasons);
every other entry is *skipped*. Fields read:

==========================  ===========================================================
field                       use
==========================  ===========================================================
``__REALTIME_TIMESTAMP``    the time: microseconds since the epoch (UTC), as a string
                            (journald's receive time, present in every export)
``_HOSTNAME``               the host (``service``)
``SYSLOG_IDENTIFIER``       the program (``sshd``, ``sshd-session``, ``sshd-auth``),
                            else ``_COMM``
``SYSLOG_PID``, ``_PID``    the connection's pid (the first present)
``MESSAGE``                 the message — a string, or an **array of byte values** when
                            it is not printable UTF-8 (a client-chosen user name, a
                            control character): the bytes are decoded with every byte
                            outside printable ASCII written ``#ooo`` (octal), as rsyslog
                            escapes control characters in text logs — so the attempt is
                            kept, nothing raw reaches a terminal, and no backslash turns
                            part of a user name into a ``DOMAIN\\`` prefix
==========================  ===========================================================

Sniffed from content: the first line is a JSON object with ``"__REALTIME_TIMESTAMP"``
(journalctl writes it second, after ``__CURSOR``); no other format has that key.

**Quarantined**, each with its reason: malformed JSON, an entry without a usable
``__REALTIME_TIMESTAMP``, an sshd entry whose ``MESSAGE`` is ``null`` (journalctl
writes that for fields over 4 KiB unless run with ``--all``), holds several values or
is not text or bytes, is longer than 16 KiB, or carries control characters in a
string; an sshd entry whose ``_HOSTNAME`` or pid carries control characters; and
implausible ``PAM N more`` counts.

Not read: ``-o json-pretty`` and ``-o export`` (multi-line records), ``-o json-seq``.
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources import linux_auth
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader

NAME = "journald"

STRUCTURE = {
    "__REALTIME_TIMESTAMP": "VARCHAR",
    "_HOSTNAME": "VARCHAR",
    "SYSLOG_IDENTIFIER": "VARCHAR",
    "_COMM": "VARCHAR",
    "SYSLOG_PID": "VARCHAR",
    "_PID": "VARCHAR",
    "MESSAGE": "JSON",
}

_PROGRAM = linux_auth.program("coalesce(e.SYSLOG_IDENTIFIER, e._COMM)")
_MICROS = """try(make_timestamp(try_cast(e."__REALTIME_TIMESTAMP" AS BIGINT)))"""
_BYTES = """try(json_transform_strict(e.MESSAGE, '["UTINYINT"]'))"""

REJECT = f"""CASE
    WHEN NOT regexp_full_match(coalesce(e."__REALTIME_TIMESTAMP", ''), '\\d{{1,18}}')
        OR {_MICROS} IS NULL THEN 'journal entry without a valid __REALTIME_TIMESTAMP'
    WHEN NOT coalesce({_PROGRAM} IN {linux_auth.SSHD_IN}, false) THEN NULL
    WHEN regexp_matches(concat(e._HOSTNAME, e.SYSLOG_PID, e._PID), '{linux_auth.CONTROL}')
        THEN 'control characters in _HOSTNAME or PID'
    WHEN e.MESSAGE IS NULL OR json_type(e.MESSAGE) = 'NULL'
        THEN 'sshd entry without MESSAGE (journalctl writes null for a field over 4 KiB unless run with --all)'
    WHEN json_type(e.MESSAGE) = 'VARCHAR' THEN CASE
        WHEN length(e.MESSAGE->>'$') > {linux_auth.MAX_LINE} THEN 'MESSAGE longer than 16 KiB'
        WHEN regexp_matches(e.MESSAGE->>'$', '{linux_auth.CONTROL}')
            THEN 'control characters or invalid UTF-8 in MESSAGE' END
    WHEN json_type(e.MESSAGE) = 'ARRAY' THEN CASE
        WHEN json_array_length(e.MESSAGE) > {linux_auth.MAX_LINE} THEN 'MESSAGE longer than 16 KiB'
        WHEN {_BYTES} IS NULL THEN 'MESSAGE holds several values or is not bytes' END
    ELSE 'MESSAGE is neither text nor bytes'
END"""

# the pre-stage linux_auth.FINISH completes
_PRE = f"""(
    SELECT raw_offset, nullif(e._HOSTNAME, '') AS host, {_PROGRAM} AS prog,
        nullif(coalesce(e.SYSLOG_PID, e._PID), '') AS pid,
        timezone('UTC', {_MICROS}) AS ts,
        CASE WHEN _reject IS NOT NULL OR NOT coalesce({_PROGRAM} IN {linux_auth.SSHD_IN}, false)
                THEN NULL
             WHEN json_type(e.MESSAGE) = 'VARCHAR' THEN e.MESSAGE->>'$'
             ELSE array_to_string(list_transform({_BYTES}, lambda b:
                CASE WHEN b BETWEEN 32 AND 126 THEN chr(b::INTEGER) ELSE printf('#%03o', b) END), '')
        END AS msg,
        1::BIGINT AS rep, false AS meta, _reject AS pre_reject, _record
    FROM {{stage}}
)"""


def sniff(head: str) -> bool:
    for line in head.splitlines():
        if line.strip():
            return line.lstrip().startswith("{") and '"__REALTIME_TIMESTAMP"' in line
    return False


def parse(reader: Reader, path: Path) -> Parsed:
    entries = reader.stage_json_lines(path, STRUCTURE, REJECT)
    stage = reader.name("journald_stage")
    reader.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS "
        + linux_auth.FINISH.replace("{pre}", _PRE.replace("{stage}", entries))
    )
    return linux_auth.attempts(reader, stage, path, NAME)
