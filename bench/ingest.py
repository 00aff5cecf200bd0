"""Ingest benchmark, every source (issue 15): ``crownwatch ingest`` as the command a
user runs, beside a same-fields DuckDB floor, for each source of the
bench table.

    python -m bench ingest                           # every source, 1M records, 3 pairs
    python -m bench ingest --records 200000 --runs 5 --only okta s3_access
    python -m bench ingest --record                  # also write bench/INGEST_RESULTS.md

Method
------

*Data.* One real-layout data set per source, generated once and cached under
``/work/main/bench/out/ingest/`` (``--out`` to move it):

================ ==================================================================
source           layout and generator
================ ==================================================================
okta             System Log JSON lines, ``simulate.bulk`` (``fmt="okta"``)
entra            Graph ``signIn`` JSON lines (the fixture ``graph_signins.jsonl``)
entra_audit      diagnostic-settings ``AuditLogs`` records, JSON lines as a storage account
                 archives them (the records of the fixture ``diagnostic_auditlogs.json``)
cloudtrail       bare events one per line (CloudTrail Lake / CloudWatch Logs export),
                 records of the fixtures ``console_signins.json`` and
                 ``s3_and_management.json``
cloudtrail_files the same records as an S3 trail delivers them: 500 gzip documents
                 ``{"Records": [...]}`` in a folder, whatever the record count (the
                 floor reads every file of the folder in one ``read_json``)
sshd             ``/var/log/auth.log`` (RFC 3164), ``simulate.bulk`` (``fmt="linux_auth"``)
windows          Winlogbeat ECS JSON lines (the fixture ``winlogbeat.ndjson``)
s3_access        S3 server access logs, 8 files in a folder, ``simulate.storage.write_bulk``
gcs              Cloud Audit Log entries, JSON lines (``simulate.storage`` data_access)
azure            StorageBlobLogs diagnostic records, JSON lines (``simulate.storage``)
gateway          LLM gateway requests, JSON lines, ``simulate.inference.generate_inference_bulk``
zeek_conn        Zeek ``conn.log``, TSV with its ``#`` header (the default fields), written
                 by DuckDB (:func:`make_zeek_conn`)
vpc_flow         VPC Flow Logs, default v2 format with its S3 header line, written by DuckDB
                 (:func:`make_vpc_flow`)
github           GitHub audit-log stream JSON lines, the events of the fixture
                 ``audit_stream.jsonl`` repeated with epoch-ms times, ids and addresses per
                 row (:func:`make_github`)
osquery          ``osqueryd.results.log``: differential ``added`` lines (USB devices, Windows
                 programs, macOS apps), snapshots (3 USB devices, ``system_info``) and a
                 ``processes`` line (skipped), records of ``crownwatch.testing.osquery`` with
                 their host and time varied by DuckDB (:func:`make_osquery`)
jamf             Jamf Pro ``computers-inventory`` results as JSON lines (a sync job's form), the
                 fixture ``computers_inventory.json``'s two Macs with 3 and 1 applications
intune           the Intune All devices export (``DevicesWithInventory`` CSV, 43 quoted
                 columns), written by DuckDB (:func:`make_intune`)
hr_roster        a Workday worker report (``testing.hr`` columns, LF line ends, each home
                 address a quoted two-line value, managers by name), written by DuckDB
                 (:func:`make_hr_roster`)
================ ==================================================================

Sources without a bulk generator repeat their fixture records (real layouts) through a
DuckDB ``COPY``, every ISO time, IPv4 address and UUID in a record replaced per row
(times spread over 14 days, ids from a hash of the row number, addresses from a pool of
5,000), so no two records are alike and each day partition is filled as in real use.
Sizes: ``--records`` (default 1,000,000) for every source, except that a source whose
records are long is cut to stay under ``--max-mb`` (2,000 MB) — the table says how
many records each file has.

*Floor.* Bare DuckDB in one process (``python -c``, default threads: the same two as
crownwatch's), reading exactly the fields the source's parser reads, typed as the source
types them, into one zstd Parquet file — no quarantine, no provenance, no dedup, no
normalisation, no day partitions:

* JSON sources: ``read_json(format='newline_delimited', columns=<the source's own
  STRUCTURE>)`` (Okta ``STRUCTURE``, Entra ``GRAPH``, CloudTrail ``STRUCTURE``, Windows
  ``STRUCTURE``, GCS ``STRUCTURE``, Azure ``DIAG_STRUCTURE``, gateway ``STRUCTURE``, Entra
  audit ``entra_audit.STRUCTURE``, GitHub ``github_audit.STRUCTURE``) with
  the record's time cast to ``TIMESTAMPTZ`` (GitHub's epoch-ms ``@timestamp`` converted);
  osquery's ``STRUCTURE`` the same way, its epoch ``unixTime`` through ``to_timestamp``;
* S3 access: ``read_csv`` splitting the 27 space-separated, quoted fields (the bracketed
  time is two), the time parsed, status and byte counts typed;
* sshd: the lines (``read_csv``), the syslog header (stamp, host, program, pid, message)
  and the OpenSSH verdict (result, method, user, address, port) cut out with
  ``regexp_extract``, the time parsed and the numbers typed;
* Zeek conn: ``read_csv`` splitting the tab-separated fields (``comment='#'`` for the
  header, ``nullstr='-'``), the fields the source reads typed as it types them (epoch
  ``ts`` to a time, ports INTEGER, duration DOUBLE, counts BIGINT, T/F booleans);
* VPC flow: ``read_csv`` splitting the 14 space-separated fields under the header,
  ``-`` as NULL, start/end to times and the numbers typed;
* Jamf: ``read_json`` with the source's ``STRUCTURE`` (applications as a nested list,
  not unnested into rows), ``general.lastContactTime`` cast to ``TIMESTAMPTZ``;
* Intune: ``read_csv`` of the export (header, quoted fields), the ten columns the source
  reads, check-in and enrolment times cast;
* HR roster: ``read_csv`` of the report's 18 quoted columns (multi-line values included),
  the dates parsed, the e-mail lower-cased, and the four private values normalised and
  hashed with ``sha256(salt || '|' || value)`` as the source does.

*crownwatch.* ``crownwatch ingest <file or folder> --lake <fresh dir>``: the installed
console script a user runs, with no setting (the default memory bound), a whole process
(start-up, sniffing, the content key, quarantine, provenance, day partitions, manifest),
its default output (the summary table) to /dev/null. The lake is emptied before every run.
Both commands run with bytecode caches allowed (``PYTHONDONTWRITEBYTECODE`` removed, as
after a normal install: :func:`bench._util.user_env`); the warm-up writes them.

*Timing.* Per source one untimed warm-up of each, then ``--runs`` pairs run alternately
(floor, crownwatch, floor, crownwatch …); the ratio is ``floor s / crownwatch s`` of each
pair (= crownwatch's throughput as a fraction of the floor's), the table gives the median
ratio and the median times. Peak RSS is each process's own (``os.wait4``), median.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench._util import crownwatch_script, print_table, run_process, user_env
from crownwatch.sources import (
    cloudtrail,
    entra,
    entra_audit,
    gcs_audit,
    github_audit,
    jamf,
    llm_gateway,
    okta,
    osquery,
    vpc_flow,
    windows_security,
)
from crownwatch.sources.azure_blob import DIAG_STRUCTURE
from crownwatch.sources.reader import _duck_type
from crownwatch.testing.hr import WORKDAY_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path("/work/main/bench/out/ingest")
RESULTS = Path(__file__).parent / "INGEST_RESULTS.md"
FIXTURES = ROOT / "tests" / "fixtures"
SPAN_S = 14 * 86400
START = 1772323200  # 2026-03-01T00:00:00Z


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# -- data sets ----------------------------------------------------------------------------

_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_IP = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _template(line: str) -> str:
    """A record with its times, IPv4 addresses and UUIDs as placeholders (\\x02T/I/U)."""
    line = _TS.sub("\x02T", line)
    line = _UUID.sub("\x02U", line)
    return _IP.sub("\x02I", line)


def repeat_templates(path: Path, records: list[str], n: int) -> None:
    """``n`` JSON lines cycling over ``records``, each with its own time (spread over 14
    days, in order), UUIDs and addresses — written by DuckDB, no Python per row."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    tmpl = [_template(r) for r in records]
    k = len(tmpl)
    con.execute(
        f"""COPY (
            WITH r AS (SELECT i, hash(i, 11) AS h, md5(i::VARCHAR) AS m FROM range({n}) t(i))
            SELECT replace(replace(replace($tl[1 + i % {k}],
                chr(2) || 'T', strftime(to_timestamp({START} + i * {SPAN_S}.0 / {n}
                                        + (h % 1000) / 1000.0), '%Y-%m-%dT%H:%M:%S.%gZ')),
                chr(2) || 'U', substr(m, 1, 8) || '-' || substr(m, 9, 4) || '-4' ||
                               substr(m, 14, 3) || '-8' || substr(m, 18, 3) || '-' || substr(m, 21, 12)),
                chr(2) || 'I', (11 + (h >> 8) % 5000 % 200)::VARCHAR || '.'
                               || ((h >> 8) % 5000 // 200 * 7 % 256)::VARCHAR || '.'
                               || ((h >> 8) % 5000 % 97)::VARCHAR || '.'
                               || (1 + (h >> 8) % 5000 % 250)::VARCHAR) AS line
            FROM r
        ) TO {_q(str(path))} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')""",
        {"tl": tmpl},
    )
    con.close()


def _jsonl(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln.strip()]


def _valid(lines: list[str], time_key: str, required: str | None = None) -> list[str]:
    """The fixture records a source ingests: JSON objects with an ISO time (and the
    ``required`` ``a.b`` field) — fixtures also hold the broken records the tests
    quarantine."""
    out = []
    for ln in lines:
        try:
            rec = json.loads(ln)
        except ValueError:
            continue
        if not isinstance(rec, dict) or not _TS.fullmatch(str(rec.get(time_key))):
            continue
        v = rec
        for part in (required or "").split(".") if required else []:
            v = v.get(part) if isinstance(v, dict) else None
        if v not in (None, ""):
            out.append(ln)
    return out


def _ct_records() -> list[str]:
    out = []
    for name in ("console_signins.json", "s3_and_management.json"):
        doc = json.loads((FIXTURES / "cloudtrail" / name).read_text())
        out += [json.dumps(r, separators=(",", ":")) for r in doc["Records"]]
    return out


def _entra_audit_records() -> list[str]:
    doc = json.loads((FIXTURES / "entra" / "diagnostic_auditlogs.json").read_text())
    return [json.dumps(r, separators=(",", ":")) for r in doc["records"]]


def _storage_records(sub: str, out: Path) -> list[str]:
    """Records of the storage simulator's own layout (GCS audit entries, Azure
    StorageBlobLogs), generated once beside the data sets."""
    sim = out / "storage_sim"
    if not sim.exists():
        from crownwatch.simulate.storage import generate_storage

        tmp = out / "storage_sim.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        generate_storage(tmp)
        tmp.rename(sim)
    lines = _jsonl(sim / sub)
    step = max(1, len(lines) // 64)
    return lines[::step][:64]


def _from_main_cache(name: str, dest: Path) -> bool:
    """Reuse a file the identity benchmark already generated with the same generator."""
    src = Path("/work/main/bench/out") / name
    if src.exists():
        try:
            os.link(src, dest)
        except OSError:
            return False
        return True
    return False


def make_okta(path: Path, n: int, out: Path) -> None:
    from crownwatch.simulate.bulk import generate_identity_bulk

    if not _from_main_cache(f"okta_v2_{n}.jsonl", path):
        generate_identity_bulk(path, n, seed=42, fmt="okta")


def make_sshd(path: Path, n: int, out: Path) -> None:
    from crownwatch.simulate.bulk import generate_identity_bulk

    generate_identity_bulk(path, n, seed=42, fmt="linux_auth")


def make_s3(path: Path, n: int, out: Path) -> None:
    from crownwatch.simulate.storage import write_bulk

    write_bulk(path, n, seed=42)


def make_gateway(path: Path, n: int, out: Path) -> None:
    from crownwatch.simulate.inference import generate_inference_bulk

    generate_inference_bulk(path, n)


#: how many files a trail delivers the cloudtrail_files data set in, whatever its size
DELIVERY_FILES = 500


def make_cloudtrail_files(path: Path, n: int, out: Path) -> None:
    """The cloudtrail data set's records as a trail delivers them to S3: gzip JSON
    documents ``{"Records": [...]}``, one per account, region and five minutes — here
    :data:`DELIVERY_FILES` of them, the records dealt out in order. Small files are what
    an S3 trail is made of; each costs ingest a file's fixed work (sniffing, planning
    the statements, the writes) beside its records."""
    import gzip
    import itertools

    lines = dataset(next(s for s in SOURCES if s.name == "cloudtrail"), n, out)
    path.mkdir()
    per = -(-n // DELIVERY_FILES)
    with open(lines, encoding="utf-8") as fh:
        for i in itertools.count():
            chunk = [line.rstrip("\n") for line in itertools.islice(fh, per)]
            if not chunk:
                break
            name = f"123456789012_CloudTrail_us-east-1_20260301T{i // 12:04d}{i % 12 * 5:02d}Z_{i:05d}.json.gz"
            with gzip.open(path / name, "wt", encoding="utf-8", compresslevel=1) as g:
                g.write('{"Records":[' + ",".join(chunk) + "]}")


# Zeek's conn.log header, default fields (Zeek 6/7 without policy scripts)
ZEEK_CONN_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
ZEEK_CONN_TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
]


def _with_header(path: Path, header: str, body_sql: str, footer: str = "") -> None:
    """``header``, then the lines DuckDB writes for ``body_sql`` (one VARCHAR column),
    then ``footer``: the body is written by DuckDB's COPY, no Python per record."""
    body = path.with_name(path.name + ".body")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""COPY ({body_sql}) TO {_q(str(body))}
            (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"""
    )
    con.close()
    with open(path, "wb") as out:
        out.write(header.encode())
        with open(body, "rb") as fh:
            shutil.copyfileobj(fh, out, 1 << 24)
        out.write(footer.encode())
    body.unlink()


def zeek_conn_header() -> str:
    """The ``#`` header Zeek writes above a TSV ``conn.log`` (default fields)."""
    tab = "\t"
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tconn\n#open\t2026-03-01-00-00-00\n"
        f"#fields\t{tab.join(ZEEK_CONN_FIELDS)}\n#types\t{tab.join(ZEEK_CONN_TYPES)}\n"
    )


def make_zeek_conn(path: Path, n: int, out: Path) -> None:
    """A sensor's conn.log over 14 days: 1,000 internal hosts (10.x), 5,000 outside
    addresses, a fifth DNS to the resolver (lateral), web and TLS outbound, a tenth
    unanswered (S0, unset duration and bytes), some rejected."""
    header = zeek_conn_header()
    body = f"""
        WITH r AS (SELECT i, hash(i, 7) AS h FROM range({n}) t(i)),
        k AS (SELECT i, h, (h >> 30) % 5 = 0 AS dns, (h >> 26) % 10 = 0 AS s0,
                     (h >> 25) % 13 = 0 AS rej, (h >> 28) % 3 = 0 AS web FROM r)
        SELECT concat_ws(chr(9),
            printf('%.6f', {START} + i * {SPAN_S}.0 / {n} + (h % 1000000) / 1e6),
            'C' || substr(md5(i::VARCHAR), 1, 17),
            '10.' || (h % 4)::VARCHAR || '.' || ((h >> 4) % 250)::VARCHAR || '.'
                || ((h >> 12) % 250 + 1)::VARCHAR,
            (32768 + (h >> 20) % 28000)::VARCHAR,
            CASE WHEN dns THEN '10.0.0.2' ELSE ((h >> 33) % 5000 // 25 + 11)::VARCHAR || '.'
                || ((h >> 33) % 25 * 9)::VARCHAR || '.' || ((h >> 41) % 256)::VARCHAR || '.'
                || ((h >> 33) % 250 + 1)::VARCHAR END,
            CASE WHEN dns THEN '53' WHEN web THEN '80' ELSE '443' END,
            CASE WHEN dns THEN 'udp' ELSE 'tcp' END,
            CASE WHEN s0 OR rej THEN '-' WHEN dns THEN 'dns' WHEN web THEN 'http' ELSE 'ssl' END,
            CASE WHEN s0 THEN '-' ELSE printf('%.6f', (h % 100000) / 1000.0) END,
            CASE WHEN s0 THEN '-' WHEN rej THEN '0' ELSE ((h >> 10) % 5000)::VARCHAR END,
            CASE WHEN s0 THEN '-' WHEN rej THEN '0' ELSE ((h >> 14) % 90000)::VARCHAR END,
            CASE WHEN s0 THEN 'S0' WHEN rej THEN 'REJ' ELSE 'SF' END,
            'T', CASE WHEN dns THEN 'T' ELSE 'F' END, '0',
            CASE WHEN s0 THEN 'S' WHEN rej THEN 'Sr' WHEN dns THEN 'Dd' ELSE 'ShADadFf' END,
            ((h >> 5) % 40 + 1)::VARCHAR, ((h >> 6) % 9000)::VARCHAR,
            CASE WHEN s0 THEN '0' ELSE ((h >> 7) % 60 + 1)::VARCHAR END,
            CASE WHEN s0 THEN '0' ELSE ((h >> 8) % 90000)::VARCHAR END,
            '(empty)') AS line
        FROM k"""
    _with_header(path, header, body, "#close\t2026-03-15-00-00-00\n")


VPC_FIELDS = list(vpc_flow.DEFAULT)


def make_vpc_flow(path: Path, n: int, out: Path) -> None:
    """Default-format records under their S3 header: 200 interfaces of one account,
    TCP and UDP both ways, a twentieth rejected, one in a hundred NODATA."""
    body = f"""
        WITH r AS (SELECT i, hash(i, 13) AS h FROM range({n}) t(i)),
        k AS (SELECT i, h, (h >> 40) % 100 = 0 AS nodata,
                     ({START} + i * {SPAN_S} // {n})::BIGINT AS t0 FROM r)
        SELECT CASE WHEN nodata THEN concat_ws(' ', '2', '123456789012',
                    'eni-' || lpad(printf('%x', (h >> 3) % 200), 17, '0'),
                    '-', '-', '-', '-', '-', '-', '-', t0::VARCHAR, (t0 + 60)::VARCHAR, '-', 'NODATA')
            ELSE concat_ws(' ', '2', '123456789012',
                'eni-' || lpad(printf('%x', (h >> 3) % 200), 17, '0'),
                '10.' || (h % 4)::VARCHAR || '.' || ((h >> 4) % 250)::VARCHAR || '.'
                    || ((h >> 12) % 250 + 1)::VARCHAR,
                ((h >> 33) % 200 + 11)::VARCHAR || '.' || ((h >> 41) % 256)::VARCHAR || '.'
                    || ((h >> 49) % 256)::VARCHAR || '.' || ((h >> 57) % 250 + 1)::VARCHAR,
                (32768 + (h >> 20) % 28000)::VARCHAR,
                CASE WHEN (h >> 30) % 4 = 0 THEN '53' ELSE '443' END,
                CASE WHEN (h >> 30) % 4 = 0 THEN '17' ELSE '6' END,
                ((h >> 5) % 400 + 1)::VARCHAR, ((h >> 6) % 900000 + 40)::VARCHAR,
                t0::VARCHAR, (t0 + 1 + (h >> 9) % 59)::VARCHAR,
                CASE WHEN (h >> 29) % 20 = 0 THEN 'REJECT' ELSE 'ACCEPT' END, 'OK') END AS line
        FROM k"""
    _with_header(path, " ".join(VPC_FIELDS) + "\n", body)


def make_github(path: Path, n: int, out: Path) -> None:
    """The fixture's streamed events (Git events, downloads, token and key creation,
    collaborator changes) cycled ``n`` times, each with its own epoch-ms time (14 days,
    in order), ``_document_id`` and IPv4 address — written by DuckDB."""
    lines = _jsonl(FIXTURES / "github" / "audit_stream.jsonl")
    tmpl = []
    for ln in lines:
        ln = re.sub(r'("(?:@timestamp|created_at)":)\d+', "\\1\x02T", ln)
        ln = re.sub(r'("_document_id":")[^"]*', "\\1\x02D", ln)
        tmpl.append(_IP.sub("\x02I", ln))
    k = len(tmpl)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""COPY (
            WITH r AS (SELECT i, hash(i, 13) AS h FROM range({n}) t(i))
            SELECT replace(replace(replace($tl[1 + i % {k}],
                chr(2) || 'T', ({START}000 + i * {SPAN_S}000 // {n} + h % 1000)::VARCHAR),
                chr(2) || 'D', substr(to_base64(unhex(md5(i::VARCHAR))), 1, 22)),
                chr(2) || 'I', (11 + (h >> 8) % 5000 % 200)::VARCHAR || '.'
                               || ((h >> 8) % 5000 // 200 * 7 % 256)::VARCHAR || '.'
                               || ((h >> 8) % 5000 % 97)::VARCHAR || '.'
                               || (1 + (h >> 8) % 5000 % 250)::VARCHAR) AS line
            FROM r
        ) TO {_q(str(path))} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')""",
        {"tl": tmpl},
    )
    con.close()


def make_osquery(path: Path, n: int, out: Path) -> None:
    """A fleet's results log over 14 days: 2,000 hosts, each line one of ten record
    templates, host names and times filled in by DuckDB."""
    from datetime import UTC, datetime

    from crownwatch.testing import osquery as oq

    t = datetime(2026, 3, 1, tzinfo=UTC)
    h = "@@host@@"  # json.dumps would escape a control character
    recs = [
        oq.usb_added(t, h, "1d6b", "0104", vendor="Linux Foundation", model="Composite Gadget"),
        oq.usb_added(t, h, "046d", "c52b", vendor="Logitech, Inc.", model="Unifying Receiver"),
        oq.usb_added(t, h, "1050", "0407", vendor="Yubico", model="YubiKey OTP+FIDO+CCID"),
        oq.program_added(t, h, "AnyDesk", version="ad 8.0.8", publisher="AnyDesk Software GmbH"),
        oq.program_added(t, h, "Slack", version="4.38.125", publisher="Slack Technologies Inc."),
        oq.program_added(t, h, "Zoom", version="6.0.2", publisher="Zoom Video Communications"),
        oq.program_added(t, h, "RustDesk", version="1.3.2", publisher="", platform="darwin"),
        oq.snapshot(
            t,
            h,
            "usb_devices",
            [
                oq.usb_row("05ac", "8007", vendor="Apple Inc.", model="Root Hub Simulation"),
                oq.usb_row("1d6b", "0104", vendor="TinyPilot", model="Composite Gadget"),
                oq.usb_row("1050", "0407", vendor="Yubico", model="YubiKey"),
            ],
        ),
        oq.snapshot(t, h, "system_info", [oq.system_info_row(h, "PF3ABCDE")]),
        {
            **oq.usb_added(t, h, "0", "0"),
            "name": "processes",
            "columns": {"name": "sshd", "path": "/usr/sbin/sshd", "pid": "812", "uid": "0"},
        },
    ]
    t0 = int(t.timestamp())
    cal = oq.calendar_time(t)
    tmpl = [
        oq.jsonl([r])
        .strip()
        .replace(str(t0), "\x02T")
        .replace(cal, "\x02C")
        .replace(oq.host_uuid(h), "\x02U")
        for r in recs
    ]
    k = len(tmpl)
    body = f"""
        WITH r AS (
            SELECT i, 'lt-' || lpad((hash(i, 7) % 2000)::VARCHAR, 4, '0') AS host,
                   {START} + i * {SPAN_S} // {n} AS unix FROM range({n}) t(i)
        ), c AS (SELECT *, to_timestamp(unix) AS ts FROM r)
        SELECT replace(replace(replace(replace($tl[1 + i % {k}],
            chr(2) || 'T', unix::VARCHAR),
            chr(2) || 'C', strftime(ts, '%a %b ') || lpad(day(ts)::VARCHAR, 2, ' ')
                           || strftime(ts, ' %H:%M:%S %Y UTC')),
            chr(2) || 'U', upper(md5(host)[1:8] || '-' || md5(host)[9:12] || '-5'
                                 || md5(host)[14:16] || '-8' || md5(host)[18:20] || '-'
                                 || md5(host)[21:32])),
            '@@host@@', host) AS line
        FROM c"""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"""COPY ({body}) TO {_q(str(path))}
            (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')""",
        {"tl": tmpl},
    )
    con.close()


def _jamf_records(out: Path) -> list[str]:
    doc = json.loads((FIXTURES / "jamf" / "computers_inventory.json").read_text())
    # the two Macs whose times are all ISO with "Z" (the templates re-time those)
    return [json.dumps(r, separators=(",", ":")) for r in doc["results"][0:3:2]]


INTUNE_HEADER = (
    (FIXTURES / "intune" / "devices_with_inventory.csv")
    .read_text(encoding="utf-8-sig")
    .split("\n", 1)[0]
    .rstrip("\r")
)


def make_intune(path: Path, n: int, out: Path) -> None:
    """The All devices export of ``n`` devices: a fifth Macs, a tenth personal, check-ins
    over 14 days in the export's ``2026-03-04 09:12:33.0000000`` form."""
    mac = "h % 5 = 0"
    uuid = (
        "substr(m, 1, 8) || '-' || substr(m, 9, 4) || '-4' || substr(m, 14, 3) || '-8'"
        " || substr(m, 18, 3) || '-' || substr(m, 21, 12)"
    )
    values = {
        "Device ID": uuid,
        "Device name": "'NW-LT-' || lpad(i::VARCHAR, 7, '0')",
        "Enrollment date": f"strftime(to_timestamp({START} - 17280000 + h % 10000000),"
        " '%Y-%m-%d %H:%M:%S') || '.0000000'",
        "Last check-in": f"strftime(to_timestamp({START} + i * {SPAN_S}.0 / {n}),"
        " '%Y-%m-%d %H:%M:%S') || '.0000000'",
        "Microsoft Entra Device ID": uuid.replace("m,", "md5(m),"),
        "OS version": f"CASE WHEN {mac} THEN '14.4.1' ELSE '10.0.22631.3447' END",
        "Microsoft Entra registered": "'Yes'",
        "Serial number": "upper(substr(m, 5, 10))",
        "Manufacturer": f"CASE WHEN {mac} THEN 'Apple' ELSE 'Dell Inc.' END",
        "Model": f"CASE WHEN {mac} THEN 'MacBookPro18,3' ELSE 'Latitude 7440' END",
        "EAS activated": "'No'",
        "Primary user UPN": "'user' || (h % 20000)::VARCHAR || '@northwind-ai.com'",
        "Primary user email address": "'user' || (h % 20000)::VARCHAR || '@northwind-ai.com'",
        "Compliance": "'Compliant'",
        "Managed by": "'Intune'",
        "Ownership": "CASE WHEN h % 10 = 0 THEN 'Personal' ELSE 'Corporate' END",
        "OS": f"CASE WHEN {mac} THEN 'macOS' ELSE 'Windows' END",
    }
    names = INTUNE_HEADER.strip('"').split('","')
    cols = ", ".join(values.get(c, "''") for c in names)
    body = f"""
        WITH r AS (SELECT i, hash(i, 17) AS h, md5(i::VARCHAR) AS m FROM range({n}) t(i))
        SELECT '"' || concat_ws('","', {cols}) || '"' AS line FROM r"""
    _with_header(path, "\ufeff" + INTUNE_HEADER + "\n", body)


HR_COLUMNS = list(WORKDAY_COLUMNS)


def make_hr_roster(path: Path, n: int, out: Path, emails: str | None = None) -> None:
    """A Workday worker report of ``n`` workers: a seventh contingent (contractors of
    40 firms), a fifth remote, a tenth terminated, every eighth a manager named by the
    seven after, phones, home e-mails, addresses and accounts drawn from pools so that
    some are shared (as the workforce detections look for). ``emails``: a SELECT of
    ``(i, email)`` naming the workers instead (``n`` is then ignored)."""
    body = path.with_name(path.name + ".body")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    workers = (
        emails or f"SELECT i, 'worker' || i || '@northwind-ai.com' AS email FROM range({n}) t(i)"
    )
    con.execute(
        f"""COPY (
            WITH r AS (SELECT i, email, hash(i, 17) AS h FROM ({workers}))
            SELECT (100000 + i)::VARCHAR, 'Worker ' || i, email,
                strftime(DATE '2015-01-01' + (h % 4000)::INTEGER, '%m/%d/%Y'),
                CASE WHEN h % 10 = 0
                     THEN strftime(DATE '2026-01-01' + (h % 300)::INTEGER, '%m/%d/%Y') END,
                CASE WHEN h % 7 = 0 THEN 'Contingent Worker' ELSE 'Employee' END,
                CASE WHEN h % 7 = 0 THEN NULL WHEN h % 23 = 0 THEN 'Intern' ELSE 'Regular' END,
                CASE WHEN h % 7 = 0 THEN 'Contractor' END,
                CASE WHEN h % 7 = 0 THEN 'Firm ' || (h % 40) END,
                'Org ' || (h % 200), 'Worker ' || (i // 8 * 8),
                CASE WHEN h % 5 = 0 THEN 'Remote - US' ELSE 'Austin, TX' END,
                'United States of America', 'America/Chicago',
                '+1 (512) 555-' || lpad((h % 10000)::VARCHAR, 4, '0'),
                'p' || (h % 500000) || '@mail.example',
                ((h >> 8) % 9000)::VARCHAR || ' Elm St' || chr(10) || 'Austin, TX 787'
                    || lpad(((h >> 20) % 100)::VARCHAR, 2, '0'),
                lpad(((h >> 4) % 1000000000)::VARCHAR, 12, '0')
            FROM r
        ) TO {_q(str(body))} (FORMAT csv, HEADER false)"""
    )
    con.close()
    with open(path, "wb") as fh:
        fh.write(",".join(HR_COLUMNS).encode() + b"\n")
        with open(body, "rb") as rows:
            shutil.copyfileobj(rows, fh, 1 << 24)
    body.unlink()


def _templated(records: Callable[[Path], list[str]], time_key: str, required: str | None = None):
    def make(path: Path, n: int, out: Path) -> None:
        repeat_templates(path, _valid(records(out), time_key, required), n)

    return make


# -- floors -------------------------------------------------------------------------------


def _columns(structure: dict) -> str:
    return "{" + ", ".join(f"{_q(k)}: {_q(_duck_type(v))}" for k, v in structure.items()) + "}"


def json_floor(structure: dict, time_col: str) -> Callable[[str, str], str]:
    def sql(src: str, out: str) -> str:
        t = '"' + time_col + '"'
        return f"""COPY (SELECT * REPLACE (try_cast({t} AS TIMESTAMPTZ) AS {t})
            FROM read_json({_q(src)}, format='newline_delimited', columns={_columns(structure)},
                           maximum_object_size=16777216))
            TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""

    return sql


def cloudtrail_files_floor(src: str, out: str) -> str:
    """The trail's documents read with the same fields as one-record-per-line
    CloudTrail (its ``STRUCTURE``), every file of the folder in one read."""
    records = (
        "STRUCT("
        + ", ".join(f'"{k}" {_duck_type(v)}' for k, v in cloudtrail.STRUCTURE.items())
        + ")[]"
    )
    return f"""COPY (SELECT r.* REPLACE (try_cast(r.eventTime AS TIMESTAMPTZ) AS eventTime)
        FROM (SELECT unnest(Records) AS r FROM read_json({_q(src + "/*.json.gz")},
              columns={{'Records': {_q(records)}}}, maximum_object_size=268435456)))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


_S3_TYPED = {
    "c2": "try_strptime(c2 || ' ' || c3, '[%d/%b/%Y:%H:%M:%S %z]') AS time",
    "c9": "try_cast(c9 AS INTEGER) AS http_status",
    "c11": "try_cast(c11 AS BIGINT) AS bytes_sent",
    "c12": "try_cast(c12 AS BIGINT) AS object_size",
    "c13": "try_cast(c13 AS BIGINT) AS total_time",
    "c14": "try_cast(c14 AS BIGINT) AS turnaround",
}


def github_floor(src: str, out: str) -> str:
    return f"""COPY (SELECT * REPLACE (
            to_timestamp(try_cast("@timestamp" AS DOUBLE) / 1000) AS "@timestamp")
        FROM read_json({_q(src)}, format='newline_delimited',
                       columns={_columns(github_audit.STRUCTURE)}, maximum_object_size=16777216))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def osquery_floor(src: str, out: str) -> str:
    return f"""COPY (SELECT * REPLACE (to_timestamp(try_cast(unixTime AS DOUBLE)) AS unixTime)
        FROM read_json({_q(src)}, format='newline_delimited', columns={_columns(osquery.STRUCTURE)},
                       maximum_object_size=16777216))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def s3_floor(src: str, out: str) -> str:
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(27)) + "}"
    select = ", ".join(_S3_TYPED.get(f"c{i}", f"c{i}") for i in range(27) if i != 3)
    return f"""COPY (SELECT {select}
        FROM read_csv({_q(src + "/*")}, columns={cols}, header=false, delim=' ', quote='"',
                      escape='\\', auto_detect=false, null_padding=true, strict_mode=false))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


_SYSLOG = r"^([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9:]{8}) (\S+) ([^\[: ]+)\[([0-9]+)\]: (.*)$"
_VERDICT = r"^(Accepted|Failed) (\S+) for (?:invalid user )?(\S+) from (\S+) port ([0-9]+)"


def sshd_floor(src: str, out: str) -> str:
    return f"""COPY (
        WITH l AS (
            SELECT ordinality AS line_no,
                   regexp_extract(line, '{_SYSLOG}',
                                  ['mon', 'day', 'clock', 'host', 'prog', 'pid', 'msg']) AS h
            FROM read_csv({_q(src)}, columns={{'line': 'VARCHAR'}}, header=false, delim='\x01',
                          quote='', escape='', auto_detect=false) WITH ORDINALITY
        ), v AS (
            SELECT line_no, h,
                   regexp_extract(h.msg, '{_VERDICT}', ['verb', 'method', 'user', 'ip', 'port']) AS v
            FROM l
        )
        SELECT line_no,
               try_strptime('2026 ' || h.mon || ' ' || h.day || ' ' || h.clock,
                            '%Y %b %d %H:%M:%S') AS time,
               h.host, h.prog, try_cast(h.pid AS INTEGER) AS pid, h.msg,
               nullif(v.verb, '') AS verb, nullif(v.method, '') AS method,
               nullif(v.user, '') AS "user", nullif(v.ip, '') AS ip,
               try_cast(v.port AS INTEGER) AS port
        FROM v) TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def zeek_floor(src: str, out: str) -> str:
    cols = "{" + ", ".join(f"{_q(c)}: 'VARCHAR'" for c in ZEEK_CONN_FIELDS) + "}"
    return f"""COPY (
        SELECT to_timestamp(try_cast(ts AS DOUBLE)) AS time, uid,
            "id.orig_h" AS orig_h, try_cast("id.orig_p" AS INTEGER) AS orig_p,
            "id.resp_h" AS resp_h, try_cast("id.resp_p" AS INTEGER) AS resp_p,
            proto, service, try_cast(duration AS DOUBLE) AS duration,
            try_cast(orig_bytes AS BIGINT) AS orig_bytes, try_cast(resp_bytes AS BIGINT) AS resp_bytes,
            conn_state, local_orig = 'T' AS local_orig, local_resp = 'T' AS local_resp, history,
            try_cast(orig_pkts AS BIGINT) AS orig_pkts, try_cast(resp_pkts AS BIGINT) AS resp_pkts
        FROM read_csv({_q(src)}, columns={cols}, header=false, delim='\t', quote='', escape='',
                      comment='#', nullstr='-', auto_detect=false))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def vpc_floor(src: str, out: str) -> str:
    cols = "{" + ", ".join(f"{_q(c)}: 'VARCHAR'" for c in VPC_FIELDS) + "}"
    return f"""COPY (
        SELECT "account-id" AS account, "interface-id" AS interface, srcaddr, dstaddr,
            try_cast(srcport AS INTEGER) AS srcport, try_cast(dstport AS INTEGER) AS dstport,
            try_cast(protocol AS INTEGER) AS protocol, try_cast(packets AS BIGINT) AS packets,
            try_cast(bytes AS BIGINT) AS bytes, to_timestamp(try_cast(start AS BIGINT)) AS start,
            to_timestamp(try_cast("end" AS BIGINT)) AS "end", action, "log-status" AS status
        FROM read_csv({_q(src)}, columns={cols}, header=true, delim=' ', quote='', escape='',
                      nullstr='-', auto_detect=false))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def jamf_floor(src: str, out: str) -> str:
    return f"""COPY (SELECT *, try_cast(general.lastContactTime AS TIMESTAMPTZ) AS time
        FROM read_json({_q(src)}, format='newline_delimited', columns={_columns(jamf.STRUCTURE)},
                       maximum_object_size=16777216))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


def intune_floor(src: str, out: str) -> str:
    return f"""COPY (
        SELECT "Device ID" AS id, "Device name" AS name, "Serial number" AS serial,
            try_cast("Last check-in" AS TIMESTAMPTZ) AS time,
            try_cast("Enrollment date" AS TIMESTAMPTZ) AS enrolled, "OS" AS os,
            "OS version" AS os_version, "Primary user UPN" AS upn,
            "Primary user email address" AS email, "Ownership" AS ownership
        FROM read_csv({_q(src)}, header=true, all_varchar=true, quote='"', delim=','))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


HR_SALT = "bench-salt"


def hr_floor(src: str, out: str) -> str:
    cols = "{" + ", ".join(f"{_q(c)}: 'VARCHAR'" for c in HR_COLUMNS) + "}"
    salt = _q(HR_SALT + "|")

    def hashed(norm: str) -> str:
        return f"CASE WHEN nullif({norm}, '') IS NOT NULL THEN sha256({salt} || {norm}) END"

    phone = (
        "CASE WHEN starts_with(\"Phone - Personal\", '+') THEN '+' ELSE '' END"
        " || regexp_replace(\"Phone - Personal\", '[^0-9]', '', 'g')"
    )
    address = "trim(regexp_replace(lower(\"Primary Home Address\"), '[\\s[:punct:]]+', ' ', 'g'))"
    payroll = (
        "upper(regexp_replace(\"Payment Election - Account Number\", '[^A-Za-z0-9]', '', 'g'))"
    )
    return f"""COPY (
        SELECT "Employee ID" AS employee_id, lower("Email - Work") AS email, "Worker" AS name,
            try_strptime("Hire Date", '%m/%d/%Y')::DATE AS start_date,
            try_strptime("Termination Date", '%m/%d/%Y')::DATE AS end_date,
            "Worker Type", "Employee Type", "Contingent Worker Type",
            "Contingent Worker Supplier" AS firm, "Supervisory Organization" AS department,
            "Manager" AS manager, "Location" AS location,
            "Location Address - Country" AS country, "Time Zone" AS timezone,
            {hashed(phone)} AS phone_hash,
            {hashed('lower("Email - Home")')} AS personal_email_hash,
            {hashed(payroll)} AS payroll_hash, {hashed(address)} AS address_hash
        FROM read_csv({_q(src)}, columns={cols}, header=true, delim=',', quote='"', escape='"',
                      auto_detect=false))
        TO {_q(out)} (FORMAT parquet, COMPRESSION zstd)"""


# -- the sources --------------------------------------------------------------------------


@dataclass
class Source:
    name: str  # as in the bench table
    file: str  # data set name pattern, {n} = records
    make: Callable[[Path, int, Path], None]
    floor: Callable[[str, str], str]
    avg_bytes: int  # rough record size, to keep a data set under --max-mb


SOURCES = [
    Source("okta", "okta_{n}.jsonl", make_okta, json_floor(okta.STRUCTURE, "published"), 1760),
    Source(
        "entra",
        "entra_graph_v2_{n}.jsonl",
        _templated(
            lambda out: _jsonl(FIXTURES / "entra" / "graph_signins.jsonl"),
            "createdDateTime",
            "status.errorCode",
        ),
        json_floor(entra.GRAPH, "createdDateTime"),
        1900,
    ),
    Source(
        "entra_audit",
        "entra_auditlogs_{n}.json",
        # the batch's audit records (its sign-in and its record without a result are
        # left out: the data set is one category, as a storage account archives it)
        _templated(lambda out: _entra_audit_records(), "time", "properties.result"),
        json_floor(entra_audit.STRUCTURE, "time"),
        2100,
    ),
    Source(
        "cloudtrail",
        "cloudtrail_{n}.jsonl",
        _templated(lambda out: _ct_records(), "eventTime"),
        json_floor(cloudtrail.STRUCTURE, "eventTime"),
        1500,
    ),
    Source(
        "cloudtrail_files",
        "cloudtrail_files_{n}",
        make_cloudtrail_files,
        cloudtrail_files_floor,
        1500,
    ),
    Source("sshd", "auth_{n}.log", make_sshd, sshd_floor, 120),
    Source(
        "windows",
        "winlogbeat_{n}.ndjson",
        _templated(lambda out: _jsonl(FIXTURES / "windows" / "winlogbeat.ndjson"), "@timestamp"),
        json_floor(windows_security.STRUCTURE, "@timestamp"),
        1700,
    ),
    Source("s3_access", "s3access_{n}", make_s3, s3_floor, 420),
    Source(
        "gcs",
        "gcs_audit_{n}.jsonl",
        _templated(lambda out: _storage_records("gcp/data_access/storage.jsonl", out), "timestamp"),
        json_floor(gcs_audit.STRUCTURE, "timestamp"),
        1200,
    ),
    Source(
        "azure",
        "azure_blob_{n}.json",
        _templated(lambda out: _storage_records("azure/StorageBlobLogs/PT1H.json", out), "time"),
        json_floor(DIAG_STRUCTURE, "time"),
        1500,
    ),
    Source(
        "gateway",
        "gateway_{n}.jsonl",
        make_gateway,
        json_floor(llm_gateway.STRUCTURE, "timestamp"),
        700,
    ),
    Source("zeek_conn", "zeek_conn_{n}.log", make_zeek_conn, zeek_floor, 135),
    Source("vpc_flow", "vpcflow_{n}.log", make_vpc_flow, vpc_floor, 110),
    Source("github", "github_audit_{n}.jsonl", make_github, github_floor, 620),
    Source("osquery", "osquery_results_{n}.log", make_osquery, osquery_floor, 900),
    Source(
        "jamf",
        "jamf_inventory_{n}.jsonl",
        lambda path, n, out: repeat_templates(path, _jamf_records(out), n),
        jamf_floor,
        2600,
    ),
    Source("intune", "intune_devices_{n}.csv", make_intune, intune_floor, 560),
    Source("hr_roster", "hr_roster_{n}.csv", make_hr_roster, hr_floor, 330),
]


def dataset(src: Source, n: int, out: Path) -> Path:
    path = out / src.file.format(n=n)
    if not path.exists():
        print(f"generating {n:,} {src.name} records → {path}", flush=True)
        tmp = path.with_name(path.name + ".tmp")
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()
        t0 = time.perf_counter()
        src.make(tmp, n, out)
        tmp.rename(path)
        print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir()) / 1e6
    return path.stat().st_size / 1e6


# -- running ------------------------------------------------------------------------------

_FLOOR_PY = (
    "import sys, duckdb; c = duckdb.connect(); "
    "c.execute(\"SET TimeZone = 'UTC'\"); c.execute('SET enable_progress_bar = false'); "
    "c.execute(sys.argv[1])"
)


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole process."""
    r = run_process(cmd, env)
    return r["s"], r["rss_mib"]


def crownwatch_cmd(path: Path, lake: Path) -> list[str]:
    """The installed console script, as a user runs it."""
    return [str(crownwatch_script()), "ingest", str(path), "--lake", str(lake)]


def crownwatch_env() -> dict:
    """As a user runs it (:func:`bench._util.user_env`)."""
    return user_env()


def lake_counts(lake: Path) -> dict:
    read = rows = quarantined = skipped = 0
    for line in (lake / "manifest.jsonl").read_text().splitlines():
        r = json.loads(line)
        read += r["read"]
        rows += r["routed_rows"]
        quarantined += r["quarantined"]
        skipped += r["skipped"]
    return {"read": read, "rows": rows, "quarantined": quarantined, "skipped": skipped}


def measure(src: Source, path: Path, runs: int, work: Path) -> dict:
    out_parquet = work / "floor.parquet"
    lake = work / "lake"
    floor_cmd = [sys.executable, "-c", _FLOOR_PY, src.floor(str(path), str(out_parquet))]
    cw_cmd = crownwatch_cmd(path, lake)
    env = crownwatch_env()

    def floor_once():
        out_parquet.unlink(missing_ok=True)
        return run(floor_cmd, env)

    def cw_once():
        shutil.rmtree(lake, ignore_errors=True)
        return run(cw_cmd, env)

    floor_once()  # warm-up: the page cache, Python's own bytecode caches
    cw_once()
    fl, cw = [], []
    for _ in range(runs):
        fl.append(floor_once())
        cw.append(cw_once())
        print(
            f"  {src.name}: floor {fl[-1][0]:.2f} s, crownwatch {cw[-1][0]:.2f} s "
            f"({fl[-1][0] / cw[-1][0]:.2f})",
            flush=True,
        )
    counts = lake_counts(lake)
    return {
        "floor_s": statistics.median(t for t, _ in fl),
        "cw_s": statistics.median(t for t, _ in cw),
        "ratio": statistics.median(f[0] / c[0] for f, c in zip(fl, cw, strict=True)),
        "floor_rss": statistics.median(r for _, r in fl),
        "cw_rss": statistics.median(r for _, r in cw),
        **counts,
    }


HEADER = [
    "source",
    "records",
    "MB",
    "floor s",
    "crownwatch s",
    "crownwatch / floor throughput",
    "floor peak RSS MiB",
    "crownwatch peak RSS MiB",
    "rows / quarantined / skipped",
]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench ingest")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--max-mb", type=int, default=2000, help="cap on a data set's size")
    ap.add_argument(
        "--runs", type=int, default=3, help="alternating pairs per source (0: only generate)"
    )
    ap.add_argument("--only", nargs="*", help="sources to run (default: all)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data set cache")
    ap.add_argument("--record", action="store_true", help=f"append the table to {RESULTS.name}")
    args = ap.parse_args(argv)
    chosen = [s for s in SOURCES if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for src in chosen:
        n = min(args.records, args.max_mb * 1_000_000 // src.avg_bytes)
        path = dataset(src, n, args.out)
        if args.runs < 1:
            continue
        work = Path(tempfile.mkdtemp(dir=args.out, prefix="work-"))
        try:
            m = measure(src, path, args.runs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows.append(
            [
                src.name,
                f"{m['read']:,}",
                f"{size_mb(path):,.0f}",
                f"{m['floor_s']:.2f}",
                f"{m['cw_s']:.2f}",
                f"**{m['ratio']:.2f}**" if m["ratio"] < 0.7 else f"{m['ratio']:.2f}",
                f"{m['floor_rss']:,.0f}",
                f"{m['cw_rss']:,.0f}",
                f"{m['rows']:,} / {m['quarantined']:,} / {m['skipped']:,}",
            ]
        )
    if not rows:
        return 0
    text = print_table(
        f"Ingest, every source: crownwatch ingest vs a same-fields DuckDB floor "
        f"(medians of {args.runs} alternating pairs)",
        HEADER,
        rows,
    )
    if args.record:
        with open(RESULTS, "a") as fh:
            fh.write(f"\n{time.strftime('%Y-%m-%d %H:%M')}\n\n{text}\n")
    return 0
