"""Linux ``/var/log/auth.log`` (Debian, Ubuntu) and ``/var/log/secure`` (RHEL family):
the OpenSSH server's sign-in lines as syslog writes them.

Two line layouts are read, both parsed in the engine with ``regexp_extract``:

* classic RFC 3164 — ``Mar  2 10:00:01 bastion1 sshd[1234]: Failed password for …``
* RFC 3339 (rsyslog ``RSYSLOG_FileFormat``, Ubuntu 24.04+, ``journalctl -o short-iso``) —
  ``2026-03-02T10:00:01.123456+00:00 bastion1 sshd[1234]: …``

The program may be ``sshd``, ``sshd-session`` (OpenSSH 9.8+) or ``sshd-auth`` (10.0+).

**Year and time zone of classic lines.** RFC 3164 stamps carry neither.

* Year: ``CROWNWATCH_SYSLOG_YEAR`` when set (used as is for every line); else the
  file's modification year, and one year earlier for lines whose month is after the
  modification month (a file last written in January holds December's lines of the
  previous year).
* Time zone: ``CROWNWATCH_SYSLOG_TZ`` (an IANA name such as ``Europe/Berlin``),
  default ``UTC``. RFC 3339 lines carry their own offset and ignore both settings.

**What becomes a row of ``authentication``** — one row per credential verdict sshd
logs, plus one per connection that ended before reaching one:

==================================================  =================================
sshd line                                           row
==================================================  =================================
``Accepted <method> for X from IP port N ssh2``     success; auth_protocol = method
``Failed <method> for X from IP port N ssh2``       bad_password
``Failed <method> for invalid user X …``            unknown_user (or the reason the
                                                    connection's earlier line gave)
``Partial <method> for X …`` (first factor ok)      mfa_required
``message repeated N times: [ <one of these>]``     N rows (rsyslog folded N lines)
==================================================  =================================

``auth_protocol`` is the method without its sub-method (``keyboard-interactive/pam``
→ ``keyboard-interactive``); ``gssapi-with-mic``/``gssapi-keyex`` → ``gssapi``.

*Connection context.* Some lines say why a connection cannot succeed before (or
instead of) a verdict: ``Invalid user X from IP`` (unknown_user), ``User X from IP not
allowed because …`` (AllowUsers/DenyUsers/groups/shell → disabled; ``account is
locked`` → locked), ``Account X has expired`` and the ``pam_unix(sshd:account)``
expiry lines (expired), ``Access denied for user X by PAM account configuration``
(other), and ``Failed none for …`` (the client asking which methods exist, not a
credential). sshd then logs the connection's ``Failed`` lines as ``for invalid user``.
Lines of one connection share host and pid, so:

* a ``Failed … for invalid user`` verdict takes the most specific reason any context
  line of its connection gave in the 10 minutes before it (locked > expired >
  disabled > unknown_user), so a user blocked by ``AllowUsers`` counts as disabled,
  not unknown;
* a context line is **not** an attempt of its own when a later context line or
  verdict of the same connection follows within 10 minutes — the attempt is counted
  there. Only the last one of a connection that never reached a verdict (a scanner
  probing user names, a locked account, an expired one) becomes a row. So
  ``Invalid user bob`` + ``Failed password for invalid user bob`` is one attempt, and
  ``Invalid user bob`` + ``Connection closed by invalid user bob`` is one too;
* its ``src_ip`` comes from the line, else from any other line of the connection
  (``Connection closed by … IP port N``).

**Valid lines that are not sign-in attempts** (other programs — CRON, sudo,
systemd-logind…; and sshd's own ``Connection closed``, ``Disconnected from``,
``Received disconnect``, ``Postponed``, session open/close, the
``pam_unix(sshd:auth): authentication failure`` line that duplicates sshd's own
``Failed password`` line, and ``error: maximum authentication attempts exceeded`` which
follows the ``Failed`` line that reached the limit) are *skipped*: counted, not stored.
See :func:`parsed` for how that count reaches the lake.

**Quarantined** (bad input): lines that are not syslog, unparseable stamps (``Feb 30``),
lines over 16 KiB, control characters or invalid UTF-8 (rsyslog escapes control
characters as ``#011`` and sshd escapes them with ``vis(3)``, so raw ones mean the file
is not what it claims), and ``message repeated`` counts above 10,000 (sshd's
MaxAuthTries bounds the real ones, and an absurd count must not become a billion rows).

``service`` is the host name; ``user`` is lower-cased; ``session_uid`` is
``host sshd[pid]`` (one connection); ``status_detail`` the sshd message verbatim.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import duckdb

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader
from crownwatch.tables.authentication import identity_columns
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "sshd"

YEAR_ENV = "CROWNWATCH_SYSLOG_YEAR"
TZ_ENV = "CROWNWATCH_SYSLOG_TZ"

MAX_LINE = 16384
MAX_REPEAT = 10_000
CONNECTION_SECONDS = 600

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_PROG = r"([A-Za-z0-9_./-][^\[\]: ]*)(?:\[(\d+)\])?"
CLASSIC = rf"^({_MONTHS}) +(\d{{1,2}}) (\d\d:\d\d:\d\d) (\S+) {_PROG}: ?(.*)$"
RFC3339 = (
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (\S+) "
    + _PROG
    + r": ?(.*)$"
)
_HEADER = re.compile(CLASSIC + "|" + RFC3339)
SSHD_PROGRAMS = ("sshd", "sshd-session", "sshd-auth")

_CONTROL = r"[\x00-\x08\x0B-\x1F\x7F\x{FFFD}]"
_REPEATED = r"^message repeated (\d+) times: \[ ?(.*)\]$"
VERDICT = r"^(Accepted|Failed|Partial) (\S+) for (invalid user )?(.*) from (\S+) port (\d+) ssh2(?:: .*)?$"
INVALID_USER = r"^Invalid user (.*) from (\S+?)(?: port (\d+))?$"
NOT_ALLOWED = r"^User (.*?)(?: from (\S+))? not allowed because (.*)$"
ACCOUNT_EXPIRED = r"^Account (.*) has expired$"
PASSWORD_EXPIRED = r"^User (.*) password has expired"
PAM_ACCOUNT_EXPIRED = r"^pam_unix\(sshd:account\): account (.*) has expired"
PAM_PASSWORD_EXPIRED = r"^pam_unix\(sshd:account\): expired password for user (.*) \("
PAM_DENIED = r"Access denied for user (.*) by PAM account configuration"
# any "<addr> port <n>" in an sshd line: the connection's remote address
LINE_IP = r"^.*[ =]([0-9A-Fa-f:.]*[0-9A-Fa-f]) port \d+"

# context reasons by specificity: the most specific one seen on a connection wins
_RANK = {"other": 1, "unknown_user": 2, "disabled": 3, "expired": 4, "locked": 5}


def sniff(head: str) -> bool:
    for line in head.splitlines()[:5]:
        if line.strip():
            return _HEADER.match(line) is not None
    return False


# -- year and time zone -----------------------------------------------------------


def _year_rule(path: Path) -> tuple[int, int]:
    """``(year, month)``: classic lines of a month after ``month`` belong to
    ``year - 1``. With an explicit year the month is 12, so no line rolls back."""
    raw = os.environ.get(YEAR_ENV, "").strip()
    if raw:
        if not raw.isdigit() or not 1970 <= int(raw) <= 2200:
            raise ValueError(f"{YEAR_ENV}={raw!r} is not a year")
        return int(raw), 12
    mtime = datetime.fromtimestamp(path.stat().st_mtime)
    return mtime.year, mtime.month


def _time_zone(con: duckdb.DuckDBPyConnection) -> str:
    tz = os.environ.get(TZ_ENV, "").strip() or "UTC"
    known = con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz]).fetchall()
    if not known[0][0]:
        raise ValueError(f"{TZ_ENV}={tz!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    return tz


# -- the count the lake cannot see yet ----------------------------------------------


def parsed(records: int, skipped: int, routed: dict, copies: dict, quarantine) -> Parsed:
    """A :class:`Parsed` that reports *skipped* records (valid input no table models,
    such as a CRON line in auth.log) alongside the rows and the quarantine."""
    return Parsed(
        records=records, routed=routed, copies=copies, quarantine=quarantine, skipped=skipped
    )


# -- parsing ----------------------------------------------------------------------

_STAGE = f"""
WITH h AS (
    SELECT raw_offset, text,
        regexp_extract(text, '{CLASSIC}', ['mon', 'day', 'clock', 'host', 'prog', 'pid', 'msg']) AS c,
        regexp_extract(text, '{RFC3339}', ['ts', 'host', 'prog', 'pid', 'msg']) AS r
    FROM {{lines}}
), f AS (
    SELECT raw_offset, text,
        CASE WHEN c.host <> '' THEN c.host ELSE r.host END AS host,
        CASE WHEN c.host <> '' THEN c.prog ELSE r.prog END AS prog,
        nullif(CASE WHEN c.host <> '' THEN c.pid ELSE r.pid END, '') AS pid,
        CASE WHEN c.host <> '' THEN c.msg ELSE r.msg END AS msg0,
        CASE
            WHEN c.host <> '' THEN timezone($tz, try_strptime(concat(
                CASE WHEN (strpos('JanFebMarAprMayJunJulAugSepOctNovDec', c.mon) + 2) // 3 > $ref_month
                     THEN $ref_year - 1 ELSE $ref_year END,
                ' ', c.mon, ' ', c.day, ' ', c.clock), '%Y %b %d %H:%M:%S'))
            WHEN r.host <> '' THEN try_cast(r.ts AS TIMESTAMPTZ)
        END AS ts,
        c.host <> '' OR r.host <> '' AS is_syslog
    FROM h
), m AS (
    SELECT *,
        regexp_extract(msg0, '{_REPEATED}', ['n', 'inner']) AS rp
    FROM f
), x AS (
    SELECT raw_offset, text, host, prog, pid, ts, is_syslog,
        CASE WHEN rp.n <> '' THEN rp.inner ELSE msg0 END AS msg,
        CASE WHEN rp.n <> '' THEN try_cast(rp.n AS BIGINT) ELSE 1 END AS rep
    FROM m
)
SELECT raw_offset, host, prog, pid, ts, msg, rep,
    prog IN ({", ".join(f"'{p}'" for p in SSHD_PROGRAMS)}) AS is_sshd,
    CASE
        WHEN raw_offset < 0 THEN substr(text, 2)
        WHEN length(text) > {MAX_LINE} THEN 'line longer than {MAX_LINE // 1024} KiB: not a syslog record'
        WHEN regexp_matches(text, '{_CONTROL}') THEN 'control characters or invalid UTF-8 in line'
        WHEN NOT is_syslog THEN 'not a syslog line'
        WHEN ts IS NULL THEN 'unparseable syslog timestamp'
        WHEN rep IS NULL OR rep < 1 OR rep > {MAX_REPEAT} THEN 'implausible message repeat count'
    END AS _reject,
    left(text, {RECORD_LIMIT}) AS _record
FROM x
"""

# Each sshd line classified: kind (verdict | context | NULL), user, ip, own reason.
_KINDS = f"""
WITH s AS (
    SELECT raw_offset, host, prog, pid, ts, msg, rep,
        regexp_extract(msg, '{VERDICT}', ['verb', 'method', 'inv', 'user', 'ip']) AS v,
        regexp_extract(msg, '{INVALID_USER}', ['user', 'ip']) AS iu,
        regexp_extract(msg, '{NOT_ALLOWED}', ['user', 'ip', 'why']) AS na,
        regexp_extract(msg, '{ACCOUNT_EXPIRED}', 1) AS ae,
        regexp_extract(msg, '{PASSWORD_EXPIRED}', 1) AS pe,
        regexp_extract(msg, '{PAM_ACCOUNT_EXPIRED}', 1) AS pae,
        regexp_extract(msg, '{PAM_PASSWORD_EXPIRED}', 1) AS ppe,
        regexp_extract(msg, '{PAM_DENIED}', 1) AS pd,
        nullif(regexp_extract(msg, '{LINE_IP}', 1), '') AS line_ip
    FROM {{stage}} WHERE _reject IS NULL AND is_sshd
), k AS (
    SELECT *,
        CASE
            WHEN v.verb <> '' AND v.method = 'none' THEN 'Failed none'
            WHEN v.verb <> '' THEN v.verb || ' ' || v.method
            WHEN iu.ip <> '' THEN 'Invalid user'
            WHEN na.why <> '' THEN 'User not allowed'
            WHEN ae <> '' THEN 'Account expired'
            WHEN pe <> '' THEN 'Password expired'
            WHEN pae <> '' THEN 'PAM account expired'
            WHEN ppe <> '' THEN 'PAM password expired'
            WHEN pd <> '' THEN 'PAM account denied'
        END AS code
    FROM s
)
SELECT raw_offset, host, prog, pid, ts, msg, rep, code, line_ip,
    CASE WHEN code IS NULL THEN NULL
         WHEN v.verb <> '' AND v.method <> 'none' THEN 'verdict' ELSE 'context' END AS kind,
    v.verb AS verb, v.method AS method, v.inv <> '' AS invalid,
    CASE WHEN v.verb <> '' THEN v.user WHEN iu.ip <> '' THEN iu.user WHEN na.why <> '' THEN na.user
         ELSE coalesce(nullif(ae, ''), nullif(pe, ''), nullif(pae, ''), nullif(ppe, ''), nullif(pd, ''))
    END AS login,
    CASE WHEN v.verb <> '' THEN v.ip WHEN iu.ip <> '' THEN iu.ip ELSE nullif(na.ip, '') END AS ip,
    CASE
        WHEN v.verb = 'Accepted' THEN 'success'
        WHEN v.verb = 'Partial' THEN 'mfa_required'
        WHEN v.verb <> '' AND v.inv <> '' THEN 'unknown_user'
        WHEN v.verb <> '' AND v.method = 'none' THEN 'other'
        WHEN v.verb <> '' THEN 'bad_password'
        WHEN iu.ip <> '' THEN 'unknown_user'
        WHEN na.why = 'account is locked' THEN 'locked'
        WHEN na.why <> '' THEN 'disabled'
        WHEN code LIKE '%expired' THEN 'expired'
        WHEN code IS NOT NULL THEN 'other'
    END AS own_reason
FROM k
"""

_RANK_SQL = "CASE own_reason " + " ".join(f"WHEN '{r}' THEN {n}" for r, n in _RANK.items()) + " END"

# Connection context: windows over (host, pid) — one sshd connection.
_CONTEXT = f"""
WITH e AS (
    SELECT *, epoch(ts) AS es,
        concat(host, ' ', prog, '[', coalesce(pid, '?' || raw_offset::VARCHAR), ']') AS conn,
        CASE WHEN kind = 'context' THEN {_RANK_SQL} END AS ctx_rank
    FROM {{kinds}}
), w AS (
    SELECT *,
        max(line_ip) OVER (PARTITION BY conn ORDER BY es
            RANGE BETWEEN {CONNECTION_SECONDS} PRECEDING AND {CONNECTION_SECONDS} FOLLOWING) AS conn_ip,
        arg_max(own_reason, ctx_rank) OVER (PARTITION BY conn ORDER BY es
            RANGE BETWEEN {CONNECTION_SECONDS} PRECEDING AND CURRENT ROW) AS ctx_reason,
        max(ctx_rank) OVER (PARTITION BY conn ORDER BY es
            RANGE BETWEEN {CONNECTION_SECONDS} PRECEDING AND CURRENT ROW) AS ctx_max,
        lead(es) OVER (PARTITION BY conn, kind IS NOT NULL ORDER BY es, raw_offset) AS next_es
    FROM e
)
SELECT *,
    CASE
        WHEN kind = 'verdict' AND invalid AND ctx_max >= 2 THEN ctx_reason
        WHEN kind = 'context' AND ctx_max >= 2 THEN ctx_reason
        ELSE own_reason
    END AS reason
FROM w
WHERE kind = 'verdict'
   OR (kind = 'context' AND (next_es IS NULL OR next_es - es > {CONNECTION_SECONDS}))
"""

_AUTH_COLUMNS = f"""
    ts AS time, '{NAME}' AS source, 'logon' AS activity,
    {identity_columns("login")},
    coalesce(ip, conn_ip) AS src_ip,
    host AS service,
    CASE WHEN kind <> 'verdict' THEN NULL
         WHEN method LIKE 'gssapi%' THEN 'gssapi'
         ELSE split_part(method, '/', 1) END AS auth_protocol,
    CASE WHEN reason = 'success' THEN 'success' ELSE 'failure' END AS status,
    reason, code AS status_code, left(msg, 1024) AS status_detail,
    conn AS session_uid, raw_offset
"""


def parse(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    year, month = _year_rule(path)
    tz = _time_zone(con)
    params = {"tz": tz, "ref_year": year, "ref_month": month}
    stage = reader.name("sshd_stage")
    create = f"CREATE OR REPLACE TEMP TABLE {stage} AS "
    try:
        con.execute(create + _STAGE.replace("{lines}", reader.lines(path)), params)
    except duckdb.Error:
        # the fast reader refused the file (invalid UTF-8, a truncated gzip…)
        con.execute(create + _STAGE.replace("{lines}", reader.materialise_lines(path)), params)
    kinds = reader.name("sshd_kinds")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {kinds} AS " + _KINDS.replace("{stage}", stage))
    attempts = reader.name("sshd_attempts")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {attempts} AS " + _CONTEXT.replace("{kinds}", kinds))

    ((records, valid),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _reject IS NULL) FROM {stage}"
    ).fetchall()
    rows = reader.count(attempts)

    auth = con.sql(f"SELECT {_AUTH_COLUMNS} FROM {attempts} ORDER BY raw_offset")
    # rsyslog's "message repeated N times" stands for N-1 more lines: extra rows of
    # the same raw line, outside the one-row-per-record sum
    repeats = con.sql(
        f"""SELECT {_AUTH_COLUMNS} FROM (
                SELECT *, unnest(range(1, rep)) AS _k FROM {attempts} WHERE kind = 'verdict' AND rep > 1
            )"""
    )
    quarantine = reader.quarantine(stage, NAME, path)
    return parsed(
        records=records,
        skipped=valid - rows,
        routed={"authentication": auth},
        copies={"authentication": repeats},
        quarantine=quarantine,
    )
