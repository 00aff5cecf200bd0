"""Zeek logs: ``conn.log`` into ``network_activity``; ``ssl.log``, ``http.log`` and
``dns.log`` into ``network_names`` (the names destinations went by).

Both layouts Zeek writes are read, by content:

* **TSV** (``LogAscii``'s default): a header of ``#separator \\x09``,
  ``#set_separator``, ``#empty_field``, ``#unset_field``, ``#path``, ``#open``,
  ``#fields``, ``#types``, the records, ``#close``. Columns are taken **by the
  ``#fields`` header**, never by position: sites add fields (``community_id``,
  ``orig_l2_addr``, ``vlan``…) and plugins reorder them. ``-`` (the unset field) is
  NULL, ``(empty)`` an empty string or set. A file of several logs run together
  (``cat``, ``zcat conn.*.log.gz``) is read block by block, each by its own header;
  see :mod:`crownwatch.sources.zeek_tsv`.
* **JSON** (``LogAscii::use_json=T``): one object per line with the same field names
  (``"id.orig_h"``…), unset fields left out, ``ts`` as epoch seconds or ISO 8601
  (``LogAscii::json_timestamps``); with ``_path`` when several logs share a stream.
  As shipped: the Filebeat ``zeek`` module's ECS documents (``zeek.session_id``,
  ``source.ip``, ``zeek.connection.state``, ``zeek.ssl.server_name``,
  ``zeek.dns.query``/``answers``, ``url.domain``…, ``@timestamp`` the time), a
  Filebeat ``log`` input or Logstash event whose ``message`` is the Zeek line,
  Logstash documents of the parsed record, Elasticsearch hits, Splunk HEC and search
  exports (``bro:conn:json``); see :mod:`crownwatch.sources.zeek_json`.

Rotated (``conn.2026-03-01-00-00-00.log.gz``) and gzipped files are read the same;
the name never decides anything.

A record is quarantined, with the rest of its file kept, when its ``ts`` is missing
or not a time, a port is not a number from 0 to 65535, an address is not an IP
address, or (TSV) the line has fewer or more fields than its ``#fields`` header names.
Records of other logs (``files``, ``weird``, ``x509``…), ``ssl``/``http`` records
without a name and ``dns`` records without an A/AAAA answer are *skipped*: valid, but
nothing the tables model. Header lines are not records; a ``#`` line that is no Zeek
header directive is quarantined.

The mapping to the tables is in :mod:`crownwatch.tables.network_activity` and
:mod:`crownwatch.tables.network_names`.
"""

from __future__ import annotations

import re
from pathlib import Path

from crownwatch.sources import shippers
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, _sql_str, head_text
from crownwatch.tables.network_activity import protocol_name_sql
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "zeek"

#: the Zeek logs a table models, by ``#path`` / ``_path``
KINDS = ("conn", "ssl", "http", "dns")

# The record every layout is turned into (one row per input record), as
# ``name: DuckDB type``; each layout's module builds a SELECT of exactly these.
UNIFIED = {
    "raw_offset": "BIGINT",
    "kind": "VARCHAR",
    "ts": "TIMESTAMPTZ",
    "uid": "VARCHAR",
    "orig_h": "VARCHAR",
    "orig_p": "INTEGER",
    "resp_h": "VARCHAR",
    "resp_p": "INTEGER",
    "proto": "VARCHAR",
    "ip_proto": "INTEGER",
    "service": "VARCHAR",
    "duration": "DOUBLE",
    "orig_bytes": "BIGINT",
    "resp_bytes": "BIGINT",
    "conn_state": "VARCHAR",
    "local_orig": "BOOLEAN",
    "local_resp": "BOOLEAN",
    "history": "VARCHAR",
    "orig_pkts": "BIGINT",
    "resp_pkts": "BIGINT",
    "community_id": "VARCHAR",
    "name": "VARCHAR",
    "answers": "VARCHAR[]",
    "ttls": "VARCHAR[]",
    "_reject": "VARCHAR",
    "_record": "VARCHAR",
}

_TSV_HEAD = re.compile(r"^#separator \S+\n(?:#[^\n]*\n)*?#(?:fields|path)[^\n]", re.M)


def sniff(head: str) -> bool:
    h = head.lstrip("\ufeff")
    if h.startswith("#separator "):
        return bool(_TSV_HEAD.match(h))
    h = h.lstrip()
    if h[:1] not in "[{":
        return False
    u = shippers.unescaped(h)  # inside Splunk's _raw, a Filebeat or Logstash message
    if '"id.orig_h"' in u and '"ts"' in u and '"uid"' in u:
        return True
    # the Filebeat zeek module's ECS documents (the Zeek field names are gone)
    return bool(re.search(r'"dataset"\s*:\s*"zeek\.', u)) and '"session_id"' in u


def parse(reader: Reader, path: Path) -> Parsed:
    from crownwatch.sources import zeek_json, zeek_tsv

    head = head_text(path, 65536)
    if head.lstrip("\ufeff").startswith("#separator "):
        return zeek_tsv.parse(reader, path, head)
    return zeek_json.parse(reader, path, head)


# -- shared by the layouts ----------------------------------------------------------------

# An IP address as Zeek and AWS write one: hex digits, dots and colons, at least one
# dot or colon. A regex (RE2): it runs on two columns of every record, and measured at
# 1M records it cost 0.2 s of CPU where ltrim() with the same character set cost 2.0 s.
_ADDRESS = "[0-9A-Fa-f:.]{2,45}"


def is_address(x: str) -> str:
    """SQL: whether text ``x`` (not NULL) has the shape of an IPv4/IPv6 address."""
    return f"(regexp_full_match({x}, '{_ADDRESS}') AND (contains({x}, '.') OR contains({x}, ':')))"


def epoch_or_iso(x: str, number: str | None = None) -> str:
    """SQL: text ``x`` — epoch seconds (``1546981792.481978``) or ISO 8601 — as
    TIMESTAMPTZ, NULL when it is neither (or a number no time can be). ``number``:
    ``try_cast(x AS DOUBLE)`` when the caller has it already."""
    d = number or f"try_cast({x} AS DOUBLE)"
    return (
        f"CASE WHEN {d} BETWEEN -1e11 AND 1e11 THEN to_timestamp({d}) "
        f"WHEN {d} IS NULL THEN try_cast({x} AS TIMESTAMPTZ) END"
    )


def port(x: str) -> str:
    """SQL: text ``x`` as a port, NULL when it is not one (USMALLINT is 0-65535: one
    cast decides both)."""
    return f"CAST(try_cast({x} AS USMALLINT) AS INTEGER)"


def checks(raw: dict[str, str], typed: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """``(condition, reason)`` pairs, in order — the quarantine rules every layout
    shares — over ``raw``, the text of the fields a layout has (``ts``,
    ``id.orig_h``…: SQL, NULL where unset) and ``typed``, the same fields already
    parsed (:func:`epoch_or_iso`, :func:`port`) where the caller holds them."""
    typed = typed or {}
    out = []
    ts = raw.get("ts")
    out.append((f"{ts} IS NULL" if ts else "true", "missing ts"))
    if ts:
        out.append((f"({typed.get('ts') or epoch_or_iso(ts)}) IS NULL", "unparseable ts"))
    for name in ("id.orig_h", "id.resp_h"):
        if x := raw.get(name):
            out.append((f"{x} IS NOT NULL AND NOT {is_address(x)}", f"{name} is not an IP address"))
    for name in ("id.orig_p", "id.resp_p"):
        if x := raw.get(name):
            out.append(
                (
                    f"{x} IS NOT NULL AND ({typed.get(name) or port(x)}) IS NULL",
                    f"{name} is not a port number (0-65535)",
                )
            )
    return out


def name_sql(kind: str, name: str) -> str:
    """SQL: the destination name of a record — lower case, no trailing dot, an HTTP
    Host without its port — or NULL when there is none or it is an IP literal."""
    host = (
        f"CASE WHEN {kind} = 'http' THEN (CASE WHEN starts_with({name}, '[') THEN NULL "
        f"ELSE split_part({name}, ':', 1) END) ELSE {name} END"
    )
    n = f"nullif(lower(rtrim(trim({host}), '.')), '')"
    return (
        f"CASE WHEN contains({n}, ':') OR regexp_full_match({n}, '[0-9.]+') THEN NULL ELSE {n} END"
    )


_IPV4 = r"[0-9]{1,3}(\.[0-9]{1,3}){3}"


def answer_ips(answers: str, ttls: str) -> str:
    """SQL: the A/AAAA answers of a DNS record with their TTLs, as a list of
    ``{ip, ttl}`` (CNAMEs, TXT strings and the like left out)."""
    pairs = f"list_transform({answers}, lambda a, i: {{'ip': trim(a), 'ttl': try_cast({ttls}[i] AS DOUBLE)}})"
    return (
        f"list_filter({pairs}, lambda x: regexp_full_match(x.ip, '{_IPV4}') "
        f"OR (contains(x.ip, ':') AND {is_address('x.ip')}))"
    )


def normalised(unified: str) -> str:
    """A FROM-clause source over a unified stage: every column plus ``pnum`` (the IANA
    protocol number), ``nm`` (the name), ``ips`` (DNS answers) and ``_routed``
    (whether the record becomes a row; the others are skipped)."""
    return f"""(SELECT *, {name_sql("kind", "name")} AS nm,
            CASE WHEN kind = 'dns' THEN {answer_ips("answers", "ttls")} END AS ips,
            coalesce(ip_proto, CASE lower(proto) WHEN 'tcp' THEN 6 WHEN 'udp' THEN 17
                WHEN 'icmp' THEN (CASE WHEN contains(orig_h, ':') THEN 58 ELSE 1 END) END) AS pnum
        FROM {unified})"""


def routed_sql(kind: str) -> str:
    """SQL condition over :func:`normalised`: the record becomes a row."""
    return f"""coalesce(_reject IS NULL AND ({kind} = 'conn'
        OR ({kind} IN ('ssl', 'http') AND nm IS NOT NULL)
        OR ({kind} = 'dns' AND nm IS NOT NULL AND coalesce(len(ips), 0) > 0)), false)"""


CONN_COLUMNS = f"""
    ts AS time, '{NAME}' AS source,
    orig_h AS src_ip, orig_p AS src_port, resp_h AS dst_ip, resp_p AS dst_port,
    CASE WHEN pnum IS NULL THEN lower(proto) ELSE {protocol_name_sql("pnum")} END AS protocol,
    orig_bytes AS bytes_out, resp_bytes AS bytes_in,
    CASE WHEN duration >= 0 AND duration < 1e9
         THEN ts + to_microseconds(CAST(round(duration * 1e6) AS BIGINT)) END AS end_time,
    duration AS duration_s, orig_pkts AS packets_out, resp_pkts AS packets_in,
    pnum AS protocol_num, service AS app_protocol,
    CASE WHEN local_orig AND local_resp THEN 'lateral'
         WHEN local_orig AND NOT local_resp THEN 'outbound'
         WHEN NOT local_orig AND local_resp THEN 'inbound' END AS direction,
    conn_state, history AS conn_history, uid AS connection_uid, community_id,
    uid AS raw_id, raw_offset"""

NAME_COLUMNS = f"""
    ts AS time, '{NAME}' AS source, orig_h AS src_ip, resp_h AS dst_ip, resp_p AS dst_port,
    nm AS name, CASE kind WHEN 'ssl' THEN 'sni' ELSE 'http_host' END AS name_type,
    uid AS connection_uid, NULL::DOUBLE AS ttl_s, uid AS raw_id, raw_offset"""

DNS_COLUMNS = f"""
    ts AS time, '{NAME}' AS source, orig_h AS src_ip, _a.ip AS dst_ip, NULL::INTEGER AS dst_port,
    nm AS name, 'dns' AS name_type, uid AS connection_uid, _a.ttl AS ttl_s,
    uid AS raw_id, raw_offset"""


def relations(reader: Reader, stage: str, path: Path, kinds: set[str] | None = None) -> Parsed:
    """The Parsed of a materialised unified stage (``raw_offset``… ``_record``, see
    :data:`UNIFIED`): conn records to ``network_activity``, names to ``network_names``
    (a DNS record's first address is its row, the others extra rows), the rest
    skipped. ``kinds``: the kinds the stage can hold, when known (a TSV file's
    ``#path``), so that no query runs for a table that would get nothing."""
    con = reader.con
    n = normalised(stage)
    ((records, skipped),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _reject IS NULL AND NOT {routed_sql('kind')}) FROM {n}"
    ).fetchall()
    routed, copies = {}, {}
    if kinds is None or "conn" in kinds:
        routed["network_activity"] = con.sql(
            f"SELECT {CONN_COLUMNS} FROM {n} WHERE _reject IS NULL AND kind = 'conn'"
        )
    if kinds is None or kinds & {"ssl", "http", "dns"}:
        dns = f"""(SELECT *, unnest(ips) AS _a, generate_subscripts(ips, 1) AS _i
                   FROM {n} WHERE {routed_sql("kind")} AND kind = 'dns')"""
        routed["network_names"] = con.sql(
            f"""SELECT {NAME_COLUMNS} FROM {n} WHERE {routed_sql("kind")} AND kind IN ('ssl', 'http')
                UNION ALL SELECT {DNS_COLUMNS} FROM {dns} WHERE _i = 1"""
        )
        copies["network_names"] = con.sql(f"SELECT {DNS_COLUMNS} FROM {dns} WHERE _i > 1")
    quarantine = con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason,
                   left(_record, {RECORD_LIMIT}) AS record,
                   {_sql_str(str(path))} AS raw_source, raw_offset, uid AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(
        records=records, routed=routed, copies=copies, quarantine=quarantine, skipped=skipped
    )
