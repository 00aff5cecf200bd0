"""AWS VPC Flow Logs into ``network_activity``.

A flow log record is one line of space-separated fields, ``-`` for a field with no
value. The **default format** is the version 2 fields in this order::

    version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
    2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
    2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA

A **custom format** is any subset of the documented fields in any order — the v3–v5
fields ``vpc-id``, ``subnet-id``, ``instance-id``, ``tcp-flags``, ``type``,
``pkt-srcaddr``, ``pkt-dstaddr``, ``region``, ``az-id``, ``sublocation-type``,
``sublocation-id``, ``pkt-src-aws-service``, ``pkt-dst-aws-service``,
``flow-direction``, ``traffic-path``, the ECS fields of v7, ``reject-reason`` …
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html). Fields are
taken **by name**:

* **Amazon S3** delivery (gzip, one object per interval) starts each file with a
  header line naming the fields, so any format reads itself; files run together
  (``zcat *.log.gz``) are read block by block, each by the header above it.
* **Amazon S3 in Parquet** (the flow log's ``FileFormat`` ``parquet``: one gzip-compressed
  Parquet file per interval, a column per field of the format, named with
  underscores — ``account_id``, ``log_status``, ``pkt_srcaddr`` — and typed as AWS
  documents each field: ``INT_32`` ports and protocol, ``INT_64`` bytes, packets,
  ``start`` and ``end``, ``STRING`` the rest). Recognised by its columns, read by
  them like a header, each row numbered by its place in the file (``raw_offset``,
  1-based); a missing value (NULL or ``-``) is ``-``, a time column written as a
  Parquet timestamp is read as its epoch seconds.
* **CloudWatch Logs** carries no header. Its exports are read as the records of
  ``aws logs get-log-events`` / ``filter-log-events`` (``{"events": [{"timestamp",
  "message", …}]}``), a subscription's ``{"logEvents": […]}``, JSON lines of events,
  and as the shippers deliver them (Logstash and Filebeat ``message``, Elastic Agent
  ``event.original``, Elasticsearch hits, Splunk HEC string events and ``_raw``), and
  ``create-export-task`` text (``<ISO time> <record>`` per line). Their records are read
  in the default format — or in the one ``CROWNWATCH_VPC_FLOW_FORMAT`` names (the flow
  log's ``LogFormat``, ``${version} ${vpc-id} …``, as ``aws ec2 describe-flow-logs``
  prints it), since a custom-format record cannot be read without it.

Mapping: ``start``/``end`` (Unix seconds) → ``time``/``end_time`` (UTC);
``protocol`` (the IANA number) → ``protocol_num`` and its keyword in ``protocol``;
``bytes``/``packets`` → ``bytes_out``/``packets_out`` (a record is one direction);
``ACCEPT``/``REJECT`` → ``action`` ``allowed``/``denied``; ``flow-direction``
``egress``/``ingress`` → ``direction`` ``outbound``/``inbound``; the AWS identifiers
to ``interface_uid``, ``account``, ``region``, ``vpc_uid``, ``subnet_uid``,
``instance_uid``; ``pkt-srcaddr``/``pkt-dstaddr`` and ``pkt-src-aws-service``/
``pkt-dst-aws-service`` to the ``pkt_*`` columns. Other fields are read and not kept.

``NODATA`` (no traffic in the window) and ``SKIPDATA`` (records AWS could not capture)
are *skipped*, and so is a record of a format without ``log-status`` whose addresses
are both ``-``. A record is quarantined when it has more or fewer fields than its
format names, a time or port that is not a number, or an address that is not an IP
address. Header lines are not records.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from crownwatch.sources import shippers, zeek
from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.cloudtrail import read_document
from crownwatch.sources.reader import (
    Reader,
    _first_line,
    _sql_str,
    head_text,
    parquet_columns,
)
from crownwatch.sources.sql_text import trim_set
from crownwatch.tables.network_activity import protocol_name_sql
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "vpc_flow"
FORMAT_ENV = "CROWNWATCH_VPC_FLOW_FORMAT"

DEFAULT = (
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
)
FIELDS = frozenset(
    DEFAULT
    + (
        "vpc-id",
        "subnet-id",
        "instance-id",
        "tcp-flags",
        "type",
        "pkt-srcaddr",
        "pkt-dstaddr",
        "region",
        "az-id",
        "sublocation-type",
        "sublocation-id",
        "pkt-src-aws-service",
        "pkt-dst-aws-service",
        "flow-direction",
        "traffic-path",
        "ecs-cluster-arn",
        "ecs-cluster-name",
        "ecs-container-instance-arn",
        "ecs-container-instance-id",
        "ecs-container-id",
        "ecs-second-container-id",
        "ecs-service-name",
        "ecs-task-definition-arn",
        "ecs-task-arn",
        "ecs-task-id",
        "reject-reason",
        "resource-id",
        "encryption-status",
    )
)

_NAME_TOKEN = re.compile(r"[a-z][a-z0-9-]*")
# a default-format record, optionally behind a CloudWatch export's ISO time
_V2 = (
    r"(?:\d{4}-\d\d-\d\dT[0-9:.]+Z )?\d{1,2} (?:\d{12}|unknown|-) eni-[0-9a-f]+ "
    r"(?:\S+ ){7}\d+ \d+ (?:ACCEPT|REJECT|-) (?:OK|NODATA|SKIPDATA)"
)
_V2_LINE = re.compile(_V2 + r"\s*$")
# ... or inside a JSON event / shipper document
_V2_JSON = re.compile(r'"(?:message|event|_raw|original)"\s*:\s*"' + _V2 + '"')
_STREAM = re.compile(r'"logStream(?:Name)?"\s*:\s*"eni-[0-9a-f]+-(?:all|accept|reject)"')
# a custom-format record (any field order): an interface id and a verdict as tokens
_CUSTOM = r"(?=[^\n\"]*\beni-[0-9a-f]{8,17}\b)(?=[^\n\"]* (?:ACCEPT|REJECT)\b)(?=[^\n\"]* (?:OK|NODATA|SKIPDATA)\b)"
_CUSTOM_LINE = re.compile(_CUSTOM + r"[0-9a-z-]")
_CUSTOM_JSON = re.compile(r'"(?:message|event|_raw|original)"\s*:\s*"' + _CUSTOM)


def header_fields(line: str) -> tuple[str, ...] | None:
    """The fields a header line names, or None when the line is no header."""
    tokens = line.split()
    if len(tokens) < 2 or not all(_NAME_TOKEN.fullmatch(t) for t in tokens):
        return None
    if sum(t in FIELDS for t in tokens) < 2:
        return None
    return tuple(tokens)


def configured_format() -> tuple[str, ...]:
    """The format of records no header names: ``CROWNWATCH_VPC_FLOW_FORMAT``, else the
    default."""
    value = os.environ.get(FORMAT_ENV, "").strip()
    if not value:
        return DEFAULT
    names = re.findall(r"\$\{([a-z0-9-]+)\}", value) or value.split()
    return tuple(names) if names else DEFAULT


def sniff(head: str) -> bool:
    h = head.lstrip("\ufeff").lstrip()
    if h[:1] in "[{":
        u = shippers.unescaped(h)
        return bool(_V2_JSON.search(u) or _STREAM.search(u) or _CUSTOM_JSON.search(u))
    first = h.split("\n", 1)[0].rstrip("\r")
    if header_fields(first) is not None:
        return "srcaddr" in first or "interface-id" in first or "pkt-srcaddr" in first
    return bool(_V2_LINE.match(first) or _CUSTOM_LINE.match(first))


# -- reading a record ------------------------------------------------------------------------


def _select(fields: tuple[str, ...], src: str, sep: str = "' '") -> str:
    """SELECT of the stage over ``src`` — ``raw_offset``, ``line`` (the record's text,
    NULL when the event held none), ``ev_ts`` (the delivery's own time, if any),
    ``why`` (a reason the delivery already gave), ``skip``, ``delivered`` — read in
    the format ``fields``, its fields cut at ``sep`` (SQL).

    Each field is cut out (``v_*``) and typed (``n_*``) once, in a step of its own,
    and the checks and columns read those: written inline, every check and column
    cut and cast its fields again, and the stage took 1.6 s for 1M records where the
    same work done once takes 0.9 s."""
    n = len(fields)
    # only the documented fields become columns: a header's names (and the format a
    # setting gives) are the file's text, never SQL — the others are read and not kept
    idx = {name: i for i, name in enumerate(fields, start=1) if name in FIELDS}

    def v(name: str) -> str:
        return f'"v_{name}"' if name in idx else "NULL::VARCHAR"

    cut = "".join(f", nullif(f[{i}], '-') AS \"v_{name}\"" for name, i in idx.items())
    has_status = "log-status" in idx
    nodata = (
        f"upper({v('log-status')}) IN ('NODATA', 'SKIPDATA')"
        if has_status
        else f"({v('srcaddr')} IS NULL AND {v('dstaddr')} IS NULL)"
    )
    checks = []
    for name in ("start", "end"):
        if name in idx:
            checks.append((f"{v(name)} IS NOT NULL AND n_{name}_ts IS NULL", f"unparseable {name}"))
    checks.append(("_time IS NULL", "missing start"))
    for name in ("srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"):
        if name in idx:
            checks.append(
                (
                    f"{v(name)} IS NOT NULL AND NOT {zeek.is_address(v(name))}",
                    f"{name} is not an IP address",
                )
            )
    for name in ("srcport", "dstport"):
        if name in idx:
            checks.append(
                (
                    f"{v(name)} IS NOT NULL AND n_{name} IS NULL",
                    f"{name} is not a port number (0-65535)",
                )
            )
    if "protocol" in idx:
        checks.append(
            (f"{v('protocol')} IS NOT NULL AND _pnum IS NULL", "protocol is not a number")
        )
    reject = " ".join(f"WHEN {c} THEN {_sql_str(why)}" for c, why in checks)
    return f"""
        WITH s AS (
            SELECT raw_offset, why, skip, delivered, ev_ts, string_split(line, {sep}) AS f,
                   line IS NULL AS _empty
            FROM {src}
        ), c AS (
            SELECT raw_offset, why, skip, delivered, ev_ts, _empty, len(f) AS _width{cut}
            FROM s
        ), n AS (
            SELECT *, try_cast({v("start")} AS BIGINT) AS n_start,
                   try_cast({v("end")} AS BIGINT) AS n_end,
                   {zeek.port(v("srcport"))} AS n_srcport, {zeek.port(v("dstport"))} AS n_dstport,
                   try_cast({v("protocol")} AS INTEGER) AS _pnum
            FROM c
        ), t AS (
            SELECT *, CASE WHEN n_start BETWEEN 0 AND 1e11 THEN to_timestamp(n_start) END AS n_start_ts,
                   CASE WHEN n_end BETWEEN 0 AND 1e11 THEN to_timestamp(n_end) END AS n_end_ts,
                   {nodata} AS _nodata
            FROM n
        ), r AS (
            SELECT *, CASE
                WHEN why IS NOT NULL THEN why
                WHEN skip THEN NULL
                WHEN _empty THEN 'no flow log record in the event'
                WHEN _width <> {n} THEN _width || ' fields where the format names {n}'
                WHEN _nodata THEN NULL
                {reject}
                END AS _reject
            FROM (SELECT *, coalesce(n_start_ts, n_end_ts, ev_ts) AS _time FROM t)
        )
        SELECT raw_offset, _reject,
            (skip OR (_reject IS NULL AND _nodata)) AS _skip,
            CASE WHEN _reject IS NOT NULL THEN left(delivered, {RECORD_LIMIT}) END AS _record,
            _time AS time,
            {v("srcaddr")} AS src_ip, n_srcport AS src_port,
            {v("dstaddr")} AS dst_ip, n_dstport AS dst_port,
            {protocol_name_sql("_pnum")} AS protocol, _pnum AS protocol_num,
            try_cast({v("bytes")} AS BIGINT) AS bytes_out,
            try_cast({v("packets")} AS BIGINT) AS packets_out,
            CASE upper({v("action")}) WHEN 'ACCEPT' THEN 'allowed' WHEN 'REJECT' THEN 'denied' END
                AS action,
            n_end_ts AS end_time,
            CAST(n_end - n_start AS DOUBLE) AS duration_s,
            CASE lower({v("flow-direction")}) WHEN 'egress' THEN 'outbound'
                 WHEN 'ingress' THEN 'inbound' END AS direction,
            try_cast({v("tcp-flags")} AS INTEGER) AS tcp_flags,
            {v("interface-id")} AS interface_uid, {v("account-id")} AS account,
            {v("region")} AS region, {v("vpc-id")} AS vpc_uid, {v("subnet-id")} AS subnet_uid,
            {v("instance-id")} AS instance_uid,
            {v("pkt-srcaddr")} AS pkt_src_ip, {v("pkt-dstaddr")} AS pkt_dst_ip,
            {v("pkt-src-aws-service")} AS pkt_src_service,
            {v("pkt-dst-aws-service")} AS pkt_dst_service
        FROM r"""


ROW_COLUMNS = """time, 'vpc_flow' AS source, src_ip, src_port, dst_ip, dst_port, protocol,
    bytes_out, action, end_time, duration_s, packets_out, protocol_num, direction, tcp_flags,
    interface_uid, account, region, vpc_uid, subnet_uid, instance_uid, pkt_src_ip, pkt_dst_ip,
    pkt_src_service, pkt_dst_service, raw_offset"""


def _parsed(reader: Reader, stage: str, path: Path) -> Parsed:
    con = reader.con
    ((records, skipped),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _skip) FROM {stage}"
    ).fetchall()
    rows = con.sql(f"SELECT {ROW_COLUMNS} FROM {stage} WHERE _reject IS NULL AND NOT _skip")
    quarantine = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason, _record AS record,
                   {_sql_str(str(path))} AS raw_source, raw_offset, NULL AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(
        records=records,
        routed={"network_activity": rows},
        quarantine=quarantine,
        skipped=skipped,
    )


def parse(reader: Reader, path: Path) -> Parsed:
    if (cols := parquet_columns(path, reader.con)) is not None:
        return _parse_parquet(reader, path, cols)
    head = head_text(path, 4096).lstrip("\ufeff").lstrip()
    if head[:1] in "[{":
        return _parse_events(reader, path, head)
    return _parse_text(reader, path)


# -- S3 files and CloudWatch exports as text -----------------------------------------------


# a record line without the blanks and carriage return around it
_TRIMMED = trim_set("text", " \r\t")

# A CloudWatch create-export-task line: the event's ISO time, a space, the record.
_ISO_LEAD = "substr(text, 5, 1) = '-' AND substr(text, 11, 1) = 'T' AND substr(text, 1, 1) BETWEEN '0' AND '9'"


def _parse_text(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    try:
        lines, held = reader.lines(path), False
        candidates = _header_candidates(con, lines)
    except duckdb.Error:
        lines, held = reader.materialise_lines(path), True
        candidates = _header_candidates(con, lines)
    headers = [(off, f) for off, text in candidates if (f := header_fields(text))]
    if len(headers) > 1 and not held:  # one read of the file, not one per block
        table = reader.name("vpc_lines")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {lines}")
        lines = table
    stage = reader.name("vpc")
    blocks = [(0, configured_format()), *headers]
    known = [off for off, _ in headers]
    for i, (lo, fields) in enumerate(blocks):
        hi = blocks[i + 1][0] if i + 1 < len(blocks) else 1 << 62
        src = f"""(SELECT raw_offset,
                CASE WHEN raw_offset < 0 THEN NULL
                     WHEN {_ISO_LEAD} THEN trim(substr(text, strpos(text, ' ') + 1), ' \r\t')
                     ELSE {_TRIMMED} END AS line,
                CASE WHEN {_ISO_LEAD} THEN try_cast(split_part(text, ' ', 1) AS TIMESTAMPTZ) END AS ev_ts,
                CASE WHEN raw_offset < 0 THEN substr(text, 2) END AS why,
                false AS skip, text AS delivered
            FROM {lines}
            WHERE raw_offset > $lo AND raw_offset < $hi AND NOT list_contains($known, raw_offset)
              OR (raw_offset < 0 AND $lo = 0))"""
        verb = "CREATE OR REPLACE TEMP TABLE" if i == 0 else "INSERT INTO"
        tail = "AS" if i == 0 else ""
        con.execute(
            f"{verb} {stage} {tail} {_select(fields, src)}",
            {"lo": lo, "hi": hi, "known": known},
        )
    return _parsed(reader, stage, path)


def _header_candidates(con, lines: str) -> list[tuple[int, str]]:
    # a header names fields: lower-case words, no digit (a record always has one, or
    # is all '-'); the digit test only runs on lines that start with a letter
    return con.execute(
        f"""SELECT raw_offset, text FROM {lines}
            WHERE CASE WHEN ascii(text) BETWEEN 97 AND 122 THEN NOT regexp_matches(text, '[0-9]')
                       ELSE false END
            ORDER BY raw_offset"""
    ).fetchall()


# -- S3 files in Parquet ----------------------------------------------------------------------


def _field(column: str) -> str:
    """The flow log field a Parquet column holds: AWS names ``log-status`` ``log_status``."""
    name = column.strip().lower().replace("_", "-")
    return name if name in FIELDS else column


def sniff_columns(names: list[str]) -> bool:
    # a flow log's columns are fields of its format: a file of thousands of columns is
    # something else, and would make a statement of every one of them
    if len(names) > 2 * len(FIELDS):
        return False
    fields = {_field(n) for n in names}
    return {"srcaddr", "dstaddr"} <= fields and bool({"start", "end"} & fields)


# Parquet cells are joined into a record with a byte no flow log value holds, and the
# record split on it: a value with a space in it stays one field.
_UNIT = "chr(31)"


def _parse_parquet(reader: Reader, path: Path, cols: list[tuple[str, str]]) -> Parsed:
    """A Parquet flow log: each row made the record its columns name, in their order,
    then read as the text is (:func:`_select`) — one set of checks and columns for
    every delivery. The column names are the file's, never SQL: the columns are
    renamed by position (``c1…cN``)."""
    fields = tuple(_field(name) for name, _ in cols)

    def cell(i: int, typ: str) -> str:
        c = f"c{i}"
        if typ.startswith("TIMESTAMP"):
            c = f"CAST(epoch({c}) AS BIGINT)"
        return f"coalesce(nullif(CAST({c} AS VARCHAR), ''), '-')"

    cells = [cell(i, typ) for i, (_, typ) in enumerate(cols, start=1)]
    alias = ", ".join(f"c{i}" for i in range(1, len(cols) + 1))
    src = f"""(SELECT raw_offset, line, NULL::TIMESTAMPTZ AS ev_ts, NULL::VARCHAR AS why,
            false AS skip, replace(line, {_UNIT}, ' ') AS delivered
        FROM (SELECT file_row_number + 1 AS raw_offset,
                     concat_ws({_UNIT}, {", ".join(cells)}) AS line
              FROM read_parquet({_sql_str(str(path))}, file_row_number = true) AS t({alias})))"""
    stage = reader.name("vpc")
    try:
        reader.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage} AS {_select(fields, src, sep=_UNIT)}"
        )
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error as exc:
        raise SourceError(f"not a readable Parquet flow log: {_first_line(exc)}") from exc
    return _parsed(reader, stage, path)


# -- CloudWatch Logs events ------------------------------------------------------------------

VENDOR = shippers.Vendor(time_field=None)


def _parse_events(reader: Reader, path: Path, head: str) -> Parsed:
    key = shippers.document_key(head)
    if key is None and head.startswith("{"):
        # a get-log-events / filter-log-events page or a subscription's payload
        m = re.match(r'\{\s*"(?:[^"\\]|\\.)*"\s*:', head)
        if m and re.search(r'"(?:events|logEvents)"\s*:\s*\[', head) and not _is_event(head):
            key = "logEvents" if '"logEvents"' in head else "events"
    if head.startswith("[") or key:
        records = read_document(reader, path, key)
    else:
        try:
            records = reader.lines(path)
            reader.con.execute(f"SELECT count(*) FROM {records}").fetchall()
        except duckdb.Error:
            records = reader.materialise_lines(path)
    peeled = shippers.peel(records, VENDOR)
    # j: the event as JSON, or NULL (a string event, a broken record): json_extract on
    # text that is not JSON raises, so every extraction reads j
    src = f"""(
        WITH p AS (
            SELECT raw_offset, coalesce(original, text) AS delivered, text, why AS _why, label,
                   coalesce(skip, false) AS _skip,
                   CASE WHEN raw_offset >= 0 AND starts_with(ltrim(text), '{{')
                        THEN (CASE WHEN json_valid(text) THEN text::JSON END) END AS j
            FROM {peeled}
        )
        SELECT raw_offset, delivered,
            CASE WHEN raw_offset < 0 THEN substr(text, 2)
                 WHEN _why IS NOT NULL THEN label || ': ' || _why
                 WHEN _skip THEN NULL
                 WHEN text IS NULL THEN 'malformed JSON'
                 WHEN starts_with(ltrim(text), '{{') AND j IS NULL THEN 'malformed JSON' END AS why,
            _skip OR starts_with(coalesce(j ->> '$.message', ''), 'CWL CONTROL MESSAGE') AS skip,
            CASE WHEN j IS NOT NULL
                 THEN trim(coalesce(j ->> '$.message', j ->> '$.event.original'), ' \r\t')
                 WHEN raw_offset >= 0 AND NOT _skip AND _why IS NULL
                      AND NOT starts_with(ltrim(text), '{{') THEN trim(text, ' \r\t') END AS line,
            CASE WHEN try_cast(j ->> '$.timestamp' AS BIGINT) BETWEEN 0 AND 4102444800000
                 THEN to_timestamp(try_cast(j ->> '$.timestamp' AS BIGINT) / 1000.0) END AS ev_ts
        FROM p)"""
    stage = reader.name("vpc")
    reader.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS {_select(configured_format(), src)}"
    )
    return _parsed(reader, stage, path)


def _is_event(head: str) -> bool:
    """Whether a document starts as one event (a JSON line) rather than a page."""
    return bool(re.match(r'\{\s*"(?:timestamp|message|ingestionTime|logStreamName|eventId)"', head))
