"""Linux ``/var/log/auth.log`` (Debian, Ubuntu), ``/var/log/secure`` (RHEL family) and
``/var/log/messages``: the OpenSSH server's sign-in lines, and PAM's, as syslog writes
them.

**Line layouts read** (all parsed in the engine with ``regexp_extract``; the first that
fits a line wins, in this order):

=====================  ================================================================
layout                 example
=====================  ================================================================
classic (RFC 3164)     ``Mar  2 10:00:01 bastion1 sshd[1234]: Failed password for …``;
                       also with a leading ``<PRI>``, fractional seconds (``journalctl
                       -o short-precise``) and no host (``Mar  2 10:00:01  sshd[1]: …``,
                       ``Mar  2 10:00:01 sshd[1]: …``)
RFC 3339               ``2026-03-02T10:00:01.123456+00:00 bastion1 sshd[1234]: …``
                       (rsyslog ``RSYSLOG_FileFormat``, Ubuntu 24.04+, ``journalctl -o
                       short-iso``); ``<PRI>`` allowed
RFC 5424               ``<38>1 2026-03-02T10:00:01.003Z bastion1 sshd 1234 - - …``, with
                       or without ``<PRI>``, with structured data ``[id k="v"]``, a BOM
                       before the message is dropped; ``-`` is a nil host or pid
relayed                a relay's own stamp and host, or a bare relay address or name, in
                       front of the original header (``Mar  2 10:00:02 relay01 Mar  2
                       10:00:01 bastion1 sshd[1234]: …``, ``10.0.0.5 <38>Mar  2 …``): the
                       inner (origin) header wins — its host, program and stamp
untagged               a valid stamp and host with a tag that is not ``prog[pid]:``
                       (``syslogd 1.4.1: restart.``, ``-- MARK --``, sysklogd's ``last
                       message repeated N times``): syslog, never sshd's own line
journalctl meta        ``-- Logs begin at … --``, ``-- Boot 5c57… --``, ``-- Reboot --``:
                       valid, skipped
=====================  ================================================================

``journalctl -o json`` exports go through :mod:`crownwatch.sources.journald` and then
the same classification as these lines.

The program is sshd when its tag, without a path and without a parenthesised PAM
module, is ``sshd``, ``sshd-session`` (OpenSSH 9.8+) or ``sshd-auth`` (10.0+): so the
old PAM dialect ``sshd(pam_unix)[19939]:`` is sshd's, with connection ``sshd[19939]``.

**Year of classic lines** (RFC 3164 stamps carry none). Lines are walked in file order
(in SQL: a ``lag`` window over the numbered lines, run only when the file's months
span at least :data:`ROLLOVER_MONTHS`): each time the month *falls* by at least
:data:`ROLLOVER_MONTHS` from the previous classic line (Dec → Jan; not the minutes of
skew a relay adds at a month's edge) the year advances by one, so a log that spans New
Year gets both years. The years are then anchored so the **last** line is not later than
the *reference* — the file's modification time, capped at now — plus one day of slack
for clocks and time zones: the last line gets the latest year that keeps it there. A
copied or downloaded file (new mtime) therefore keeps old lines in the past, and no
line is ever dated in the future of the reference. ``CROWNWATCH_SYSLOG_YEAR`` (or the
CLI's ``--syslog-year``) overrides the anchor: it is the year of the file's first
classic line, and rollovers advance it. Lines with a year of their own (RFC 3339, RFC
5424, journald) ignore all of this.

**Time zone of classic lines**: ``CROWNWATCH_SYSLOG_TZ`` (an IANA name such as
``Europe/Berlin``), default ``UTC``.

**What becomes a row of ``authentication``** — one row per credential verdict, plus one
per connection that ended before reaching one. Lines of one connection share host and
pid (``session_uid`` = ``host prog[pid]``); "near" below means the same connection
within :data:`CONNECTION_SECONDS` before or after:

=======================================================  ================================
line                                                     row
=======================================================  ================================
``Accepted <method> for X from IP port N ssh2``          success; auth_protocol = method
``Failed <method> for X from IP port N ssh2``            bad_password
``Failed <method> for invalid|illegal user X …``         unknown_user (or the reason the
                                                         connection's context gave)
``Partial <method> for X …`` (first factor ok)           mfa_required
``pam_unix(sshd:auth): authentication failure; …         an attempt only where sshd said
rhost=H user=X`` (any ``pam_*`` module; the old          nothing of its own (see *PAM's
``sshd(pam_unix)[pid]: authentication failure; …``)      lines*): bad_password with
                                                         ``user=``; without it PAM did
                                                         not know the name: unknown_user,
                                                         the user from the ``Invalid user
                                                         X`` line that goes with it, else
                                                         NULL
``PAM N more authentication failures; …`` (old:          N attempts, under the same rule
``sshd(pam_unix)[pid]: N more authentication
failures; …``)
``error: PAM: Authentication failure for X from H``      sshd's own keyboard-interactive
(``… for illegal user X``; ``User not known to the       report: bad_password
underlying authentication module …``)                    (unknown_user for an illegal
                                                         user), when no ``Failed`` line of
                                                         its connection is near
``session opened for user X by (uid=0)`` of sshd         success, when no ``Accepted``
(``pam_unix(sshd:session)`` or old                       line is near: old
``sshd(pam_unix)``)                                      ``/var/log/messages`` has no
                                                         ``Accepted`` lines, yet a session
                                                         opened only after the credential
                                                         was accepted (auth_protocol NULL)
``message repeated N times: [ <one of these>]`` and      N rows (rsyslog and sysklogd
sysklogd's ``last message repeated N times`` (the line   folded N identical lines); see
before it, repeated)                                     *Repeats* below
=======================================================  ================================

``auth_protocol`` is the method without its sub-method (``keyboard-interactive/pam``
→ ``keyboard-interactive``); ``gssapi-with-mic``/``gssapi-keyex`` → ``gssapi``.

*Addresses.* ``src_ip`` holds IP addresses only. PAM's ``rhost=`` (and sshd's ``from``
with ``UseDNS yes``) may be a host name (``220-135-151-1.hinet-ip.hinet.net``): then the
row takes the address another line of the connection gave (``Connection closed by …
IP port N``), else NULL, and the name goes to ``src_host`` (it also stays visible in
``status_detail``, the message verbatim). The identity detections take ``src_host`` as
the source of an address-less attempt, so a guesser known only by name is still one
source.

*PAM's lines.* pam_unix logs the first failure of a connection and, at its end,
summarises the rest (six ``Failed password`` lines end in ``PAM 5 more authentication
failures``), while sshd logs every failure itself: beside sshd's lines PAM's would count
each guess twice. So a PAM failure or summary is an attempt only when (1) no sshd verdict
and no ``error: PAM:`` line of its connection is near, (2) no ``error: PAM:`` line of the
same host and client address (``rhost``) is within :data:`PAM_PAIR_SECONDS` — for
keyboard-interactive sshd runs PAM in a child process, so PAM's lines carry the child's
pid and sshd's the parent's — and (3) it is not a second module of one PAM stack
(pam_unix, then pam_sss) failing the same attempt in the same second. Where it counts —
an old ``/var/log/messages`` that holds only PAM's lines, a client that hung up in the
middle of a keyboard-interactive exchange — it is the only record of the guess, and the
``Invalid user``/closing lines of the parent within :data:`PAM_PAIR_SECONDS` from that
address are that same attempt, not more. Pairing by address can fold two simultaneous
connections of one client into one attempt (an undercount by one, never a double count);
a host-name ``rhost`` pairs by pid only. Each file is read on its own: a host whose PAM
lines went to ``messages`` and sshd's to ``secure`` counts each guess in both files.

*Connection context.* Some lines say why a connection cannot succeed before (or
instead of) a verdict: ``Invalid user X from IP`` (also the older ``Illegal user``) and
PAM's ``check pass; user unknown`` (unknown_user), ``User X from IP not allowed because
…`` (AllowUsers/DenyUsers/groups/shell → disabled; ``account is locked`` → locked),
``Account X has expired`` and the ``pam_unix(sshd:account)`` expiry lines (expired),
``Access denied for user X by PAM account configuration`` (other), and ``Failed none for
…`` (the client asking which methods exist, not a credential). So:

* a ``Failed … for invalid user`` verdict, and a counted PAM failure, take the most
  specific reason any context line of its connection gave in the 10 minutes before it
  (locked > expired > disabled > unknown_user), so a user blocked by ``AllowUsers``
  counts as disabled, not unknown;
* a context line is an attempt of its own only when nothing near it is one (no verdict,
  PAM failure or session; no PAM failure from its address within
  :data:`PAM_PAIR_SECONDS`) and no later context line of the connection follows within
  10 minutes. So ``Invalid user bob`` + ``Failed password for invalid user bob``
  is one attempt, ``Invalid user bob`` + ``Connection closed by invalid user bob`` is
  one too, and a scanner probing user names, a locked or an expired account each count
  once per connection;
* sshd's closing lines — ``Connection closed by|Disconnected from|Disconnecting
  invalid|authenticating user X IP port N``, ``error: maximum authentication attempts
  exceeded for …`` — are the end of a connection whose attempts were logged above; a
  closing line becomes a row only when **nothing else** near it was logged (filtered or
  partial logs): unknown_user for ``invalid user``, else other (an existing account
  whose attempt reached no verdict line, e.g. rejected keys);
* ``src_ip`` comes from the line, else from any other line of the connection.

*Repeats.* ``message repeated N times: [ line]`` (rsyslog) and ``last message repeated N
times`` (sysklogd: the line before it in the file, repeated N more times) stand for N
events: the record itself is one row and the N-1 others are *extra rows*
(:attr:`Parsed.copies`), outside the one-row-per-record sum — the lake reports them as
``extra_rows``, so ``read = routed rows + skipped + quarantined`` and ``rows =
routed rows + extra rows`` both hold visibly. ``PAM N more authentication failures``,
when counted, is N rows the same way. Counts above :data:`MAX_REPEAT` are quarantined
(sshd's MaxAuthTries bounds the real ones, and an absurd count must not become a
billion rows); a sysklogd repeat of a quarantined line is quarantined too.

**Valid lines that are not sign-in attempts** (other programs — CRON, sudo, su,
systemd-logind, kernel, ``syslogd 1.4.1: restart.``, ``-- MARK --``…; and sshd's own
``Received disconnect``, ``Postponed``, session close, the PAM and closing lines the
rules above fold into their connection's attempt) are *skipped*: counted, not stored.

**Quarantined** (bad input), each with its reason: lines that are not syslog,
unparseable stamps (``Feb 30``), lines over 16 KiB, control characters or invalid
UTF-8 (rsyslog escapes control characters as ``#011`` and sshd escapes them with
``vis(3)``, so raw ones mean the file is not what it claims), implausible repeat
counts.

``service`` is the host name; ``user`` is the identity key (lower-cased);
``status_code`` names the line kind (``Failed password``, ``PAM authentication
failure``, ``Invalid user``…); ``status_detail`` is the message verbatim.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
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
#: how close sshd's ``error: PAM: …`` line and the PAM child's own line of one attempt are
PAM_PAIR_SECONDS = 10
#: a fall of at least this many months from one classic line to the next is New Year
ROLLOVER_MONTHS = 6
#: how far past the reference (mtime, capped at now) the last line may be
FUTURE_SLACK = timedelta(days=1)

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_PRI = r"(?:<\d{1,3}>)?"
_CLOCK = r"\d\d:\d\d:\d\d(?:\.\d{1,6})?"
_CLASSIC_TS = rf"(?:{_MONTHS}) +\d{{1,2}} {_CLOCK}"
_ISO_TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)"
# groups: mon, day, clock (classic) | iso
_STAMP = rf"(?:({_MONTHS}) +(\d{{1,2}}) ({_CLOCK})|({_ISO_TS}))"
_PROG = r"([A-Za-z0-9_./-][^\[\]: ]*)(?:\[(\d+)\])?"
# groups: mon, day, clock, iso, host, prog, pid, msg
_TAGGED = rf"{_PRI}{_STAMP} (\S*) {_PROG}: ?(.*)$"
HEADER = "^" + _TAGGED
RELAYED = rf"^{_PRI}(?:(?:{_CLASSIC_TS}|{_ISO_TS}) )?\S+ {_TAGGED}"
# groups: ts, host, app, procid, msg (MSGID and STRUCTURED-DATA are not kept)
RFC5424 = rf"^{_PRI}1 (\S+) (\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$"
RELAYED5424 = rf"^{_PRI}(?:(?:{_CLASSIC_TS}|{_ISO_TS}) )?\S+ " + RFC5424[1:]
# groups: mon, day, clock, iso, host, msg
UNTAGGED = rf"^{_PRI}{_STAMP} (\S+)(?: (.*))?$"
# an untagged line's "host" that is really a tag: a line written without a host
HOSTLESS_TAG = r"^([A-Za-z0-9_./-][^\[\]: ]*)\[(\d+)\]:$"
JOURNAL_META = r"^-- .*--$"
_LAYOUTS = (HEADER, RFC5424, RELAYED, RELAYED5424, UNTAGGED)
_LAYOUT_RES = tuple(re.compile(p) for p in _LAYOUTS)
_META_RE = re.compile(JOURNAL_META)
SSHD_PROGRAMS = ("sshd", "sshd-session", "sshd-auth")
_FIELDS = "['mon', 'day', 'clock', 'iso', 'host', 'prog', 'pid', 'msg']"

CONTROL = r"[\x00-\x08\x0B-\x1F\x7F\x{FFFD}]"
_REPEATED = r"^message repeated (\d+) times: \[ ?(.*)\]$"
_LAST_REPEATED = r"^last message repeated (\d+) times?$"
_DATE_FORMATS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f']"

VERDICT = (
    r"^(Accepted|Failed|Partial) (\S+) for ((?:invalid|illegal) user )?(.*) from (\S+) "
    r"port (\d+) ssh[12](?:: .*)?$"
)
INVALID_USER = r"^(?:Invalid|Illegal) user (.*) from (\S+?)(?: port (\d+))?$"
NOT_ALLOWED = r"^User (.*?)(?: from (\S+))? not allowed because (.*)$"
ACCOUNT_EXPIRED = r"^Account (.*) has expired$"
PASSWORD_EXPIRED = r"^User (.*) password has expired"
PAM_ACCOUNT_EXPIRED = r"^pam_unix\(sshd:account\): account (.*) has expired"
PAM_PASSWORD_EXPIRED = r"^pam_unix\(sshd:account\): expired password for user (.*) \("
PAM_DENIED = r"Access denied for user (.*) by PAM account configuration"
CHECK_PASS = r"^(?:pam_unix\(sshd:auth\): )?check pass; user unknown$"
# pam_unix's own line: the first failure of a connection (rhost= may be a host name)
PAM_FAILURE = (
    r"^(?:pam_[a-z0-9_]+\(sshd:auth\): )?(authentication failure); .*?rhost=(\S*)"
    r"(?:\s+user=(.*?))?\s*$"
)
# ... and its summary of the connection's other failures, at the end
PAM_MORE = r"^(?:PAM )?(\d+) more authentication failures?; .*?rhost=(\S*)(?:\s+user=(.*?))?\s*$"
PAM_MORE_N = r"^(?:PAM )?(\d+) more authentication failures?;"
# sshd's auth-pam.c for keyboard-interactive: "PAM: <pam_strerror> for [invalid user ]X from H"
PAM_ERROR = r"^error: PAM: (.+?) for ((?:invalid|illegal) user )?(.*) from (\S+)$"
SESSION = (
    r"^(?:pam_[a-z0-9_]+\(sshd:session\): )?session opened for user (\S+?)(?:\(uid=\d+\))? by "
)
CLOSED = (
    r"^(?:Connection closed by|Connection reset by|Disconnected from|Disconnecting) "
    r"(invalid|authenticating) user (.*) (\S+) port \d+(?:[: ].*)?$"
)
MAXTRIES = (
    r"^error: maximum authentication attempts exceeded for (invalid user )?(.*) from (\S+) "
    r"port \d+ ssh2(?: \[preauth\])?$"
)
# any "<addr> port <n>" in an sshd line: the connection's remote address (the last one:
# sshd appends it, so a user name that imitates it cannot move it)
LINE_IP = r"^.*[ =]([0-9A-Fa-f:.]*[0-9A-Fa-f]) port \d+"
# LINE_IP read backwards: the first match in the reversed line is the last one in the
# line, the very address LINE_IP captures (an address holds no space or '=', so the
# one before it bounds it), found without the leading ".*" that made RE2 run its slow
# capturing engine over every byte: 0.7 s against 2.5 s on 2M lines. ASCII lines only:
# DuckDB's reverse() keeps a character's combining marks after it ("7\u0301" stays
# "7\u0301"), which the reversed pattern would not read as the original does
LINE_IP_REVERSED = r"\d+ trop ([0-9A-Fa-f][0-9A-Fa-f:.]*)[ =]"
# older lines without a port
LINE_IP_BARE = (
    r"^(?:Connection (?:closed|reset) by|Received disconnect from|Disconnected from) "
    r"([0-9A-Fa-f:.]*[0-9A-Fa-f])(?:[: ]|$)"
)
IP_LITERAL = r"(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"

# context reasons by specificity: the most specific one seen on a connection wins
_RANK = {"other": 1, "unknown_user": 2, "disabled": 3, "expired": 4, "locked": 5}

SSHD_IN = "(" + ", ".join(f"'{p}'" for p in SSHD_PROGRAMS) + ")"


def _ip(x: str) -> str:
    """SQL: ``x`` when it is an IP address literal, else NULL (a host name)."""
    return f"CASE WHEN regexp_full_match({x}, '{IP_LITERAL}') THEN {x} END"


def program(tag_sql: str) -> str:
    """SQL: a syslog tag's program — without a path and without a parenthesised
    PAM module (``/usr/sbin/sshd`` and ``sshd(pam_unix)`` are ``sshd``)."""
    return f"nullif(regexp_extract({tag_sql}, '^(?:.*/)?([^/(]*)', 1), '')"


def sniff(head: str) -> bool:
    """The first line that is not blank and not journalctl's ``-- … --`` is syslog."""
    for line in head.splitlines():
        if line.strip() and not _META_RE.match(line):
            return any(p.match(line) for p in _LAYOUT_RES)
    return False


# -- year and time zone -----------------------------------------------------------


def _year_override() -> int | None:
    raw = os.environ.get(YEAR_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1970 <= int(raw) <= 2200:
        raise ValueError(f"{YEAR_ENV}={raw!r} is not a year")
    return int(raw)


def reference_time(path: Path) -> datetime:
    """The file's modification time, capped at now (UTC, naive)."""
    now = datetime.now(UTC)
    try:
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        mtime = now
    return min(mtime, now).replace(tzinfo=None)


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


# -- parsing: lines → headers (no year yet) ------------------------------------------

_HEADERS = f"""
WITH d AS (
    SELECT raw_offset, text, regexp_extract(text, '{HEADER}', {_FIELDS}) AS d
    FROM {{lines}}
), p AS (
    -- the other layouts only for the lines the classic header did not fit
    SELECT *, CASE WHEN d.prog = '' THEN
        regexp_extract(text, '{RFC5424}', ['ts', 'host', 'app', 'procid', 'msg']) END AS p5
    FROM d
), r AS (
    SELECT *, CASE WHEN d.prog = '' AND p5.app = '' THEN
        regexp_extract(text, '{RELAYED}', {_FIELDS}) END AS rl
    FROM p
), r5 AS (
    SELECT *, CASE WHEN d.prog = '' AND p5.app = '' AND rl.prog = '' THEN
        regexp_extract(text, '{RELAYED5424}', ['ts', 'host', 'app', 'procid', 'msg']) END AS q5
    FROM r
), u AS (
    SELECT *, CASE WHEN d.prog = '' AND p5.app = '' AND rl.prog = '' AND q5.app = '' THEN
        regexp_extract(text, '{UNTAGGED}', ['mon', 'day', 'clock', 'iso', 'host', 'msg']) END AS un
    FROM r5
), h AS (
    SELECT raw_offset, text,
        CASE WHEN d.prog <> '' THEN 'syslog'
             WHEN p5.app <> '' THEN 'rfc5424'
             WHEN rl.prog <> '' OR q5.app <> '' THEN 'relayed'
             WHEN regexp_full_match(un.host, '{HOSTLESS_TAG}') THEN 'hostless'
             WHEN un.host <> '' THEN 'untagged'
             WHEN regexp_matches(text, '{JOURNAL_META}') THEN 'meta'
        END AS layout,
        CASE WHEN d.prog <> '' THEN d
             WHEN p5.app <> '' THEN struct_pack(mon := '', day := '', clock := '', iso := p5.ts,
                host := p5.host, prog := p5.app, pid := p5.procid,
                msg := ltrim(p5.msg, chr(65279)))
             WHEN rl.prog <> '' THEN rl
             WHEN q5.app <> '' THEN struct_pack(mon := '', day := '', clock := '', iso := q5.ts,
                host := q5.host, prog := q5.app, pid := q5.procid,
                msg := ltrim(q5.msg, chr(65279)))
             WHEN regexp_full_match(un.host, '{HOSTLESS_TAG}') THEN struct_pack(mon := un.mon,
                day := un.day, clock := un.clock, iso := un.iso, host := '',
                prog := regexp_extract(un.host, '{HOSTLESS_TAG}', 1),
                pid := regexp_extract(un.host, '{HOSTLESS_TAG}', 2), msg := coalesce(un.msg, ''))
             WHEN un.host <> '' THEN struct_pack(mon := un.mon, day := un.day, clock := un.clock,
                iso := un.iso, host := un.host, prog := '', pid := '', msg := un.msg)
        END AS x
    FROM u
), f AS (
    SELECT raw_offset, text, layout,
        CASE WHEN x.mon <> '' THEN (strpos('JanFebMarAprMayJunJulAugSepOctNovDec', x.mon) + 2) // 3 END AS mon_n,
        CASE WHEN x.mon <> '' THEN try_cast(x.day AS INTEGER) END AS day,
        CASE WHEN x.mon <> '' THEN x.clock END AS clock,
        CASE WHEN x.iso <> '' THEN try_cast(x.iso AS TIMESTAMPTZ) END AS iso_ts,
        nullif(nullif(x.host, ''), '-') AS host,
        {program("nullif(x.prog, '-')")} AS prog,
        nullif(nullif(x.pid, ''), '-') AS pid,
        x.msg AS msg0,
        CASE WHEN starts_with(x.msg, 'message repeated ') THEN
            regexp_extract(x.msg, '{_REPEATED}', ['n', 'inner']) END AS rp,
        CASE WHEN starts_with(x.msg, 'last message repeated ') THEN
            regexp_extract(x.msg, '{_LAST_REPEATED}', 1) END AS lr
    FROM h
), g AS (
    SELECT raw_offset, text, layout, mon_n, day, clock, iso_ts, host, prog, pid,
        CASE WHEN rp.n <> '' THEN rp.inner ELSE msg0 END AS msg,
        CASE WHEN rp.n <> '' THEN try_cast(rp.n AS BIGINT)
             WHEN lr <> '' THEN try_cast(lr AS BIGINT) ELSE 1 END AS rep,
        coalesce(lr <> '', false) AS lmr
    FROM f
), q AS (
    SELECT *,
        CASE
            WHEN raw_offset < 0 THEN substr(text, 2)
            WHEN length(text) > {MAX_LINE} THEN 'line longer than {MAX_LINE // 1024} KiB: not a syslog record'
            WHEN regexp_matches(text, '{CONTROL}') THEN 'control characters or invalid UTF-8 in line'
            WHEN layout IS NULL THEN 'not a syslog line'
            WHEN rep IS NULL OR rep < 1 OR rep > {MAX_REPEAT} THEN 'implausible message repeat count'
        END AS pre_reject,
        -- a stamp that may not parse once the year is known (Feb 29, Feb 30…)
        CASE WHEN mon_n IS NOT NULL THEN (mon_n = 2 AND day = 29) OR try_strptime(
                concat('2000-', mon_n, '-', day, ' ', clock), {_DATE_FORMATS}) IS NULL
             ELSE layout <> 'meta' AND iso_ts IS NULL END AS ts_doubtful
    FROM g
)
SELECT raw_offset, layout, mon_n, day, clock, iso_ts, host, prog, pid, msg, rep, lmr, pre_reject,
    CASE WHEN pre_reject IS NOT NULL OR lmr OR ts_doubtful THEN left(text, {RECORD_LIMIT}) END AS _record
FROM q
"""

_CLASSIC_OK = "mon_n IS NOT NULL AND pre_reject IS NULL"

# Rollovers: the classic lines whose month fell by ROLLOVER_MONTHS or more from the
# previous classic line, numbered — a line's year is base + the number at or before it.
_ROLLOVERS = f"""
SELECT raw_offset AS off, row_number() OVER (ORDER BY raw_offset) AS n FROM (
    SELECT raw_offset, mon_n, lag(mon_n) OVER (ORDER BY raw_offset) AS prev
    FROM {{hdr}} WHERE {_CLASSIC_OK}
) WHERE prev - mon_n >= {ROLLOVER_MONTHS}
"""

# The latest year (of the nine up to the reference's) in which the last classic line
# is not later than the limit (reference + slack).
_ANCHOR = f"""
WITH last AS (
    SELECT arg_max(struct_pack(m := mon_n, d := day, c := clock), raw_offset) AS l
    FROM {{hdr}}
    WHERE {_CLASSIC_OK}
      AND try_strptime(concat('2000-', mon_n, '-', day, ' ', clock), {_DATE_FORMATS}) IS NOT NULL
)
SELECT max(y) FROM last, range($ref_year - 8, $ref_year + 1) t(y)
WHERE try_strptime(concat(y, '-', l.m, '-', l.d, ' ', l.c), {_DATE_FORMATS}) <= $limit
"""

# sysklogd's "last message repeated N times": the previous line of the file that is
# not one itself (an ASOF join over the few such lines, not a window over the file)
_LAST_REPEATED_SOURCES = """
WITH src AS (
    SELECT l.raw_offset, p.raw_offset AS src
    FROM (SELECT raw_offset FROM {hdr} WHERE lmr) l
    ASOF JOIN (SELECT raw_offset FROM {hdr} WHERE NOT lmr) p ON l.raw_offset > p.raw_offset
)
SELECT src.raw_offset, h.host, h.prog, h.pid, h.msg, h.pre_reject IS NOT NULL AS rejected
FROM src JOIN {hdr} h ON h.raw_offset = src.src
"""

# headers + year (+ what a sysklogd repeat repeats) → the pre-stage FINISH completes
_DATED = f"""
SELECT h.raw_offset,
    CASE WHEN h.lmr THEN p.host ELSE h.host END AS host,
    CASE WHEN h.lmr THEN p.prog ELSE h.prog END AS prog,
    CASE WHEN h.lmr THEN p.pid ELSE h.pid END AS pid,
    CASE WHEN h.mon_n IS NOT NULL THEN timezone($tz, try_strptime(concat(
            $base + {{rolls}}, '-', h.mon_n, '-', h.day, ' ', h.clock), {_DATE_FORMATS}))
         ELSE h.iso_ts END AS ts,
    CASE WHEN h.lmr THEN p.msg ELSE h.msg END AS msg,
    h.rep,
    h.layout = 'meta' AS meta,
    coalesce(h.pre_reject, CASE WHEN h.lmr AND p.rejected THEN 'repeats a line that was quarantined' END)
        AS pre_reject,
    h._record
FROM {{hdr}} h {{joins}}
"""

# The stage every sshd source ends in. Its input ``{pre}`` has
# (raw_offset, host, prog, pid, ts, msg, rep, meta, pre_reject, _record).
FINISH = f"""
WITH v AS (
    SELECT *, coalesce(prog IN {SSHD_IN}, false) AS sshd_prog FROM {{pre}}
), w AS (
    SELECT *,
        -- "PAM N more authentication failures" stands for N attempts (when counted)
        CASE WHEN sshd_prog AND contains(msg, 'more authentication failure') THEN
            try_cast(nullif(regexp_extract(msg, '{PAM_MORE_N}', 1), '') AS BIGINT) END AS more_n
    FROM v
), x AS (
    SELECT *, rep * coalesce(more_n, 1) AS n,
        coalesce(pre_reject, CASE
            WHEN ts IS NULL AND NOT meta THEN 'unparseable syslog timestamp'
            WHEN rep * coalesce(more_n, 1) NOT BETWEEN 1 AND {MAX_REPEAT}
                THEN 'implausible message repeat count'
        END) AS _rej
    FROM w
)
SELECT raw_offset, host, prog, pid, ts, msg, n AS rep, sshd_prog AND _rej IS NULL AS is_sshd,
    _rej AS _reject,
    CASE WHEN _rej IS NOT NULL THEN coalesce(_record, left(msg, {RECORD_LIMIT})) END AS _record
FROM x
"""

# -- classification ---------------------------------------------------------------

# Each sshd line: kind (verdict | pam_error | pam | summary | session | context |
# closing | NULL), code, the user it names, its address, its own reason, and the peer
# (address or name as written) of the lines that pair across processes.
_KINDS = f"""
WITH s AS (
    -- each pattern only on the lines whose first words can fit it (a plain string test
    -- first: most of an auth.log is Accepted and session lines)
    SELECT raw_offset, host, prog, pid, ts, msg, rep,
        CASE WHEN starts_with(msg, 'Accepted ') OR starts_with(msg, 'Failed ')
                OR starts_with(msg, 'Partial ') THEN
            regexp_extract(msg, '{VERDICT}', ['verb', 'method', 'inv', 'user', 'ip']) END AS v,
        CASE WHEN starts_with(msg, 'Invalid user ') OR starts_with(msg, 'Illegal user ') THEN
            regexp_extract(msg, '{INVALID_USER}', ['user', 'ip']) END AS iu,
        CASE WHEN starts_with(msg, 'User ') THEN
            regexp_extract(msg, '{NOT_ALLOWED}', ['user', 'ip', 'why']) END AS na,
        CASE WHEN starts_with(msg, 'Account ') THEN regexp_extract(msg, '{ACCOUNT_EXPIRED}', 1) END AS ae,
        CASE WHEN starts_with(msg, 'User ') THEN regexp_extract(msg, '{PASSWORD_EXPIRED}', 1) END AS pe,
        CASE WHEN starts_with(msg, 'pam_unix(sshd:account)') THEN
            regexp_extract(msg, '{PAM_ACCOUNT_EXPIRED}', 1) END AS pae,
        CASE WHEN starts_with(msg, 'pam_unix(sshd:account)') THEN
            regexp_extract(msg, '{PAM_PASSWORD_EXPIRED}', 1) END AS ppe,
        CASE WHEN contains(msg, 'Access denied for user ') THEN regexp_extract(msg, '{PAM_DENIED}', 1) END AS pd,
        CASE WHEN contains(msg, 'check pass; ') THEN regexp_matches(msg, '{CHECK_PASS}') END AS cp,
        CASE WHEN contains(msg, 'authentication failure; ') THEN
            regexp_extract(msg, '{PAM_FAILURE}', ['hit', 'rhost', 'user']) END AS pf,
        CASE WHEN contains(msg, 'more authentication failure') THEN
            regexp_extract(msg, '{PAM_MORE}', ['n', 'rhost', 'user']) END AS pm,
        CASE WHEN starts_with(msg, 'error: PAM: ') THEN
            regexp_extract(msg, '{PAM_ERROR}', ['what', 'inv', 'user', 'host']) END AS pr,
        CASE WHEN contains(msg, 'session opened for user ') THEN regexp_extract(msg, '{SESSION}', 1) END AS so,
        CASE WHEN (starts_with(msg, 'Connection ') OR starts_with(msg, 'Disconnect'))
                AND contains(msg, ' user ') THEN
            regexp_extract(msg, '{CLOSED}', ['how', 'user', 'ip']) END AS cl,
        CASE WHEN starts_with(msg, 'error: maximum authentication attempts') THEN
            regexp_extract(msg, '{MAXTRIES}', ['inv', 'user', 'ip']) END AS mx,
        CASE WHEN NOT contains(msg, ' port ') THEN NULL
             WHEN strlen(msg) = length(msg) THEN  -- ASCII: reverse() turns every byte round
                nullif(reverse(regexp_extract(reverse(msg), '{LINE_IP_REVERSED}', 1)), '')
             ELSE nullif(regexp_extract(msg, '{LINE_IP}', 1), '') END AS addr1,
        CASE WHEN starts_with(msg, 'Connection ') OR starts_with(msg, 'Received disconnect from ')
                OR starts_with(msg, 'Disconnected from ') THEN
            nullif(regexp_extract(msg, '{LINE_IP_BARE}', 1), '') END AS addr2
    FROM {{stage}} WHERE _reject IS NULL AND is_sshd
), k AS (
    SELECT *,
        CASE
            WHEN v.verb <> '' AND v.method = 'none' THEN 'Failed none'
            WHEN v.verb <> '' THEN v.verb || ' ' || v.method
            WHEN pf.hit <> '' THEN 'PAM authentication failure'
            WHEN pm.n <> '' THEN 'PAM more authentication failures'
            WHEN pr.what <> '' THEN 'PAM error'
            WHEN so <> '' THEN 'Session opened'
            WHEN iu.ip <> '' THEN 'Invalid user'
            WHEN na.why <> '' THEN 'User not allowed'
            WHEN ae <> '' THEN 'Account expired'
            WHEN pe <> '' THEN 'Password expired'
            WHEN pae <> '' THEN 'PAM account expired'
            WHEN ppe <> '' THEN 'PAM password expired'
            WHEN pd <> '' THEN 'PAM account denied'
            WHEN cp THEN 'PAM user unknown'
            WHEN cl.how <> '' THEN 'Closed by ' || cl.how || ' user'
            WHEN mx.ip <> '' THEN 'Maximum authentication attempts'
        END AS code,
        CASE
            WHEN v.verb <> '' AND v.method <> 'none' THEN 'verdict'
            WHEN pr.what <> '' THEN 'pam_error'
            WHEN pf.hit <> '' THEN 'pam'
            WHEN pm.n <> '' THEN 'summary'
            WHEN so <> '' THEN 'session'
            WHEN v.verb <> '' OR iu.ip <> '' OR na.why <> '' OR ae <> '' OR pe <> '' OR pae <> ''
                OR ppe <> '' OR pd <> '' OR cp THEN 'context'
            WHEN cl.how <> '' OR mx.ip <> '' THEN 'closing'
        END AS kind
    FROM s
)
SELECT raw_offset, host, prog, pid, ts, msg, rep, code, kind,
    v.verb AS verb, v.method AS method, v.inv <> '' AS invalid,
    CASE
        WHEN v.verb <> '' THEN v.user
        WHEN pf.hit <> '' THEN nullif(pf.user, '')
        WHEN pm.n <> '' THEN nullif(pm.user, '')
        WHEN pr.what <> '' THEN pr.user
        WHEN so <> '' THEN so
        WHEN iu.ip <> '' THEN iu.user
        WHEN na.why <> '' THEN na.user
        WHEN cl.how <> '' THEN cl.user
        WHEN mx.ip <> '' THEN mx.user
        ELSE coalesce(nullif(ae, ''), nullif(pe, ''), nullif(pae, ''), nullif(ppe, ''), nullif(pd, ''))
    END AS login,
    CASE
        WHEN v.verb <> '' THEN {_ip("v.ip")}
        WHEN pf.hit <> '' THEN {_ip("pf.rhost")}
        WHEN pm.n <> '' THEN {_ip("pm.rhost")}
        WHEN pr.what <> '' THEN {_ip("pr.host")}
        WHEN iu.ip <> '' THEN {_ip("iu.ip")}
        WHEN na.why <> '' THEN {_ip("na.ip")}
        WHEN cl.how <> '' THEN {_ip("cl.ip")}
        WHEN mx.ip <> '' THEN {_ip("mx.ip")}
    END AS ip,
    -- what the line tells the rest of its connection about the address: a PAM line
    -- only its rhost (its user= is the client's and may imitate "IP port N")
    CASE WHEN pf.hit <> '' THEN {_ip("pf.rhost")}
         WHEN pm.n <> '' THEN {_ip("pm.rhost")}
         WHEN pr.what <> '' THEN {_ip("pr.host")}
         ELSE coalesce({_ip("addr1")}, {_ip("addr2")}) END AS line_ip,
    CASE WHEN v.verb <> '' THEN nullif(v.ip, '')
         WHEN pr.what <> '' THEN nullif(pr.host, '')
         WHEN pf.hit <> '' THEN nullif(pf.rhost, '')
         WHEN pm.n <> '' THEN nullif(pm.rhost, '')
         WHEN iu.ip <> '' THEN iu.ip
         WHEN na.why <> '' THEN nullif(na.ip, '')
         WHEN cl.how <> '' THEN cl.ip
         WHEN mx.ip <> '' THEN mx.ip
    END AS peer,
    CASE
        WHEN v.verb = 'Accepted' THEN 'success'
        WHEN v.verb = 'Partial' THEN 'mfa_required'
        WHEN v.verb <> '' AND v.inv <> '' THEN 'unknown_user'
        WHEN v.verb <> '' AND v.method = 'none' THEN 'other'
        WHEN v.verb <> '' THEN 'bad_password'
        WHEN pf.hit <> '' THEN CASE WHEN pf.user <> '' THEN 'bad_password' ELSE 'unknown_user' END
        WHEN pm.n <> '' THEN CASE WHEN pm.user <> '' THEN 'bad_password' ELSE 'unknown_user' END
        WHEN pr.what <> '' THEN CASE
            WHEN pr.inv <> '' OR pr.what ILIKE '%not known%' THEN 'unknown_user'
            WHEN pr.what ILIKE 'authentication failure%' THEN 'bad_password'
            ELSE 'other' END
        WHEN so <> '' THEN 'success'
        WHEN iu.ip <> '' THEN 'unknown_user'
        WHEN na.why = 'account is locked' THEN 'locked'
        WHEN na.why <> '' THEN 'disabled'
        WHEN code LIKE '%expired' THEN 'expired'
        WHEN cp THEN 'unknown_user'
        WHEN cl.how = 'invalid' OR mx.inv <> '' THEN 'unknown_user'
        WHEN code IS NOT NULL THEN 'other'
    END AS own_reason
FROM k
"""

_RANK_SQL = "CASE own_reason " + " ".join(f"WHEN '{r}' THEN {n}" for r, n in _RANK.items()) + " END"
_W = CONNECTION_SECONDS

# Connection context: windows over (host, program, pid) — one sshd connection — and,
# for PAM's lines, over (host, peer): sshd runs PAM for keyboard-interactive in a child
# process whose pid is not the one sshd's own lines carry.
_CONTEXT = f"""
WITH e AS (
    SELECT *, epoch(ts) AS es,
        concat(coalesce(host, '-'), ' ', prog, '[', coalesce(pid, '?' || raw_offset::VARCHAR), ']') AS conn,
        CASE WHEN kind = 'context' THEN {_RANK_SQL} END AS ctx_rank
    FROM {{kinds}}
    WHERE kind IS NOT NULL OR line_ip IS NOT NULL
), pair AS (
    -- across processes: only the few lines the pairing is about
    SELECT raw_offset,
        count(*) FILTER (WHERE kind = 'pam_error') OVER near_peer AS n_pam_error_peer,
        count(*) FILTER (WHERE kind IN ('pam', 'summary')) OVER near_peer AS n_pam_peer,
        arg_max(login, es) FILTER (WHERE kind = 'context' AND login IS NOT NULL)
            OVER before_peer AS peer_login
    FROM e
    WHERE peer IS NOT NULL AND kind IN ('pam_error', 'pam', 'summary', 'context', 'closing')
    WINDOW near_peer AS (PARTITION BY host, peer ORDER BY es
            RANGE BETWEEN {PAM_PAIR_SECONDS} PRECEDING AND {PAM_PAIR_SECONDS} FOLLOWING),
        before_peer AS (PARTITION BY host, peer ORDER BY es
            RANGE BETWEEN {PAM_PAIR_SECONDS} PRECEDING AND CURRENT ROW)
), seq AS (
    -- the previous / next line of the same kind in the connection
    SELECT raw_offset,
        lag(es) OVER same_kind AS prev_es,
        lead(es) OVER same_kind AS next_es
    FROM e
    WHERE kind IN ('pam', 'context', 'closing')
    WINDOW same_kind AS (PARTITION BY conn, kind ORDER BY es, raw_offset)
), w AS (
    SELECT *,
        max(line_ip) OVER near AS conn_ip,
        count(*) FILTER (WHERE kind = 'verdict') OVER near AS n_verdict,
        count(*) FILTER (WHERE kind IN ('verdict', 'pam_error')) OVER near AS n_sshd,
        count(*) FILTER (WHERE verb = 'Accepted') OVER near AS n_accepted,
        count(*) FILTER (WHERE kind IN ('verdict', 'pam_error', 'pam', 'summary', 'session'))
            OVER near AS n_attempt,
        count(*) FILTER (WHERE kind IS NOT NULL AND kind <> 'closing') OVER near AS n_said,
        arg_max(own_reason, ctx_rank) OVER before AS ctx_reason,
        max(ctx_rank) OVER before AS ctx_max,
        arg_max(login, ctx_rank) FILTER (WHERE login IS NOT NULL) OVER before AS ctx_login
    FROM e
    WINDOW near AS (PARTITION BY conn ORDER BY es RANGE BETWEEN {_W} PRECEDING AND {_W} FOLLOWING),
        before AS (PARTITION BY conn ORDER BY es RANGE BETWEEN {_W} PRECEDING AND CURRENT ROW)
), j AS (
    SELECT w.*, pair.* EXCLUDE (raw_offset), seq.* EXCLUDE (raw_offset)
    FROM w LEFT JOIN pair USING (raw_offset) LEFT JOIN seq USING (raw_offset)
    WHERE w.kind IS NOT NULL
)
SELECT *,
    CASE
        WHEN kind = 'verdict' AND invalid AND ctx_max >= 2 THEN ctx_reason
        WHEN kind IN ('pam_error', 'pam', 'summary', 'context') AND ctx_max >= 2 THEN ctx_reason
        ELSE own_reason
    END AS reason,
    CASE WHEN kind IN ('pam', 'summary') THEN coalesce(login, ctx_login, peer_login) ELSE login END
        AS who,
    CASE WHEN kind IN ('verdict', 'pam_error', 'pam', 'summary') THEN rep ELSE 1 END AS n_rows
FROM j
WHERE kind = 'verdict'
   OR (kind = 'pam_error' AND n_verdict = 0)
   -- PAM's own lines: only when sshd said nothing of its own (and, for a failure, not
   -- the second module of one PAM stack failing the same attempt in the same second)
   OR (kind IN ('pam', 'summary') AND n_sshd = 0 AND coalesce(n_pam_error_peer, 0) = 0
       AND NOT (kind = 'pam' AND coalesce(es - prev_es <= 1, false)))
   OR (kind = 'session' AND n_accepted = 0)
   OR (kind = 'context' AND n_attempt = 0 AND coalesce(n_pam_peer, 0) = 0
       AND (next_es IS NULL OR next_es - es > {_W}))
   OR (kind = 'closing' AND n_said = 0 AND coalesce(n_pam_peer, 0) = 0
       AND (next_es IS NULL OR next_es - es > {_W}))
"""


_AUTH_COLUMNS = f"""
    ts AS time, '{NAME}' AS source, 'logon' AS activity,
    {identity_columns("who")},
    coalesce(ip, conn_ip) AS src_ip,
    -- a PAM rhost that is a name, not an address (old servers resolved clients)
    CASE WHEN coalesce(ip, conn_ip) IS NULL THEN nullif(lower(peer), '') END AS src_host,
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
    tz = _time_zone(con)
    override = _year_override()
    hdr = reader.name("sshd_lines")
    create = f"CREATE OR REPLACE TEMP TABLE {hdr} AS "
    try:
        con.execute(create + _HEADERS.replace("{lines}", reader.lines(path)))
    except duckdb.Error:
        # the fast reader refused the file (invalid UTF-8, a truncated gzip…)
        con.execute(create + _HEADERS.replace("{lines}", reader.materialise_lines(path)))

    joins, rolls, base = _years(reader, hdr, path, override)
    ((repeats,),) = con.execute(f"SELECT count(*) FROM {hdr} WHERE lmr").fetchall()
    if repeats:
        lmr = reader.name("sshd_lmr")
        con.execute(f"CREATE TEMP TABLE {lmr} AS " + _LAST_REPEATED_SOURCES.replace("{hdr}", hdr))
        joins += f" LEFT JOIN {lmr} p ON p.raw_offset = h.raw_offset"
    else:
        joins += (
            " LEFT JOIN (SELECT NULL::BIGINT AS raw_offset, NULL AS host, NULL AS prog,"
            " NULL AS pid, NULL AS msg, NULL::BOOLEAN AS rejected) p ON false"
        )
    dated = _DATED.replace("{hdr}", hdr).replace("{joins}", joins).replace("{rolls}", rolls)
    stage = reader.name("sshd_stage")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS " + FINISH.replace("{pre}", f"({dated})"),
        {"tz": tz, "base": base},
    )
    con.execute(f"DROP TABLE {hdr}")
    return attempts(reader, stage, path, NAME)


def _years(reader: Reader, hdr: str, path: Path, override: int | None) -> tuple[str, str, int]:
    """``(join, rolls, base)``: the SQL join that brings each line its count of
    rollovers before it, that count as an expression, and the year of the first
    classic line — see the module docstring."""
    con = reader.con
    ((classic, lo, hi),) = con.execute(
        f"SELECT count(*), min(mon_n), max(mon_n) FROM {hdr} WHERE {_CLASSIC_OK}"
    ).fetchall()
    if not classic:
        return "", "0", override or 1970
    join, rolls, rollovers = "", "0", 0
    if hi - lo >= ROLLOVER_MONTHS:  # else no month can fall that far
        roll = reader.name("sshd_rollovers")
        con.execute(f"CREATE TEMP TABLE {roll} AS " + _ROLLOVERS.replace("{hdr}", hdr))
        rollovers = reader.count(roll)
        if rollovers:
            join = f" ASOF LEFT JOIN {roll} rc ON h.raw_offset >= rc.off"
            rolls = "coalesce(rc.n, 0)"
    if override is not None:
        return join, rolls, override
    ref = reference_time(path)
    ((last_year,),) = con.execute(
        _ANCHOR.replace("{hdr}", hdr),
        {"ref_year": ref.year, "limit": ref + FUTURE_SLACK},
    ).fetchall()
    return join, rolls, (last_year or ref.year) - rollovers


def attempts(reader: Reader, stage: str, path: Path, source: str) -> Parsed:
    """The sign-in attempts of a :data:`FINISH` stage as a :class:`Parsed`: shared by
    the syslog files and journald's JSON."""
    con = reader.con
    kinds = reader.name("sshd_kinds")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {kinds} AS " + _KINDS.replace("{stage}", stage))
    found = reader.name("sshd_attempts")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {found} AS " + _CONTEXT.replace("{kinds}", kinds))

    ((records, valid),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _reject IS NULL) FROM {stage}"
    ).fetchall()
    rows = reader.count(found)

    auth = con.sql(f"SELECT {_AUTH_COLUMNS} FROM {found}")
    # a line that stands for N events (message repeated, PAM N more) is one row of
    # its own and N-1 extra rows of the same raw line, outside the record sum
    repeats = con.sql(
        f"""SELECT {_AUTH_COLUMNS} FROM (
                SELECT *, unnest(range(1, n_rows)) AS _k FROM {found} WHERE n_rows > 1
            )"""
    )
    quarantine = reader.quarantine(stage, source, path)
    return parsed(
        records=records,
        skipped=valid - rows,
        routed={"authentication": auth},
        copies={"authentication": repeats},
        quarantine=quarantine,
    )
