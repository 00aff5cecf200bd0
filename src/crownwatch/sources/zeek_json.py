"""Zeek's JSON logs (``LogAscii::use_json=T``) and the shapes shippers deliver them in.

::

    {"ts":1772445600.118133,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"10.20.1.15","id.orig_p":51514,
     "id.resp_h":"198.51.100.24","id.resp_p":443,"proto":"tcp","service":"ssl",
     "duration":0.312441,"orig_bytes":517,"resp_bytes":4402,"conn_state":"SF",
     "local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf",…}

``ts`` is epoch seconds, or ISO 8601 with ``LogAscii::json_timestamps =
JSON::TS_ISO8601``; fields Zeek left unset are simply absent. Which log a record
belongs to is its ``_path`` (json-streaming-logs, a cluster writing one stream), else
the Filebeat ``event.dataset`` (``zeek.connection``…), else its fields (``conn_state``
is a connection, ``server_name`` TLS, ``query`` DNS, ``method`` HTTP).

Shipped: the records inside Splunk, Elasticsearch and Logstash envelopes are peeled by
:mod:`crownwatch.sources.shippers` (``@timestamp`` stands in for a missing ``ts``); a
Filebeat ``log`` input or Logstash event whose ``message`` holds the Zeek line is read
through that line; the Filebeat ``zeek`` module's ECS documents are read by their ECS
and ``zeek.*`` fields (``source.ip``/``port``/``bytes``/``packets`` — IP-level bytes,
the module drops the payload counts —, ``event.duration`` in nanoseconds,
``zeek.session_id``, ``zeek.connection.state``/``history``/``local_orig``,
``zeek.ssl.server_name`` or ``tls.client.server_name``, ``zeek.dns.query``/
``answers``/``TTLs`` or ``dns.question.name``/``resolved_ip``, ``url.domain``).
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources import shippers, zeek
from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader

_V = "VARCHAR"
_ENDPOINT = {"ip": _V, "address": _V, "port": _V, "bytes": _V, "packets": _V}

# Everything typed as text and cast in SQL: a value of the wrong JSON type is then
# this source's verdict with a reason, not a record the JSON reader refuses.
STRUCTURE = {
    "_path": _V,
    "ts": _V,
    "uid": _V,
    "id.orig_h": _V,
    "id.orig_p": _V,
    "id.resp_h": _V,
    "id.resp_p": _V,
    "id": {"orig_h": _V, "orig_p": _V, "resp_h": _V, "resp_p": _V},
    "proto": _V,
    "ip_proto": _V,
    "service": _V,
    "duration": _V,
    "orig_bytes": _V,
    "resp_bytes": _V,
    "conn_state": _V,
    "local_orig": _V,
    "local_resp": _V,
    "history": _V,
    "orig_pkts": _V,
    "resp_pkts": _V,
    "community_id": _V,
    "server_name": _V,
    "cipher": _V,
    "ssl_history": _V,
    "host": _V,
    "method": _V,
    "trans_depth": _V,
    "query": _V,
    "qtype_name": _V,
    "trans_id": _V,
    "answers": [_V],
    "TTLs": [_V],
    # the Filebeat zeek module's ECS documents
    "@timestamp": _V,
    "source": _ENDPOINT,
    "destination": _ENDPOINT,
    "network": {
        "transport": _V,
        "application": _V,
        "protocol": _V,
        "community_id": _V,
        "iana_number": _V,
    },
    "event": {"dataset": _V, "duration": _V, "id": _V},
    "zeek": {
        "session_id": _V,
        "connection": {"state": _V, "history": _V, "local_orig": _V, "local_resp": _V},
        "ssl": {"server_name": _V},
        "dns": {"query": _V, "answers": [_V], "TTLs": [_V]},
    },
    "url": {"domain": _V},
    "tls": {"client": {"server_name": _V}},
    "dns": {"question": {"name": _V}, "resolved_ip": [_V]},
}

# Each unified field's text, Zeek's own name first, then the nested ``id`` some
# writers use, then ECS.
F = {
    "ts": 'coalesce(e.ts, e."@timestamp")',
    "id.orig_h": 'coalesce(e."id.orig_h", e.id.orig_h, e.source.ip, e.source.address)',
    "id.orig_p": 'coalesce(e."id.orig_p", e.id.orig_p, e.source.port)',
    "id.resp_h": 'coalesce(e."id.resp_h", e.id.resp_h, e.destination.ip, e.destination.address)',
    "id.resp_p": 'coalesce(e."id.resp_p", e.id.resp_p, e.destination.port)',
}

KIND = """CASE
    WHEN e._path IS NOT NULL THEN (CASE WHEN e._path IN ('conn', 'ssl', 'http', 'dns')
                                        THEN e._path ELSE 'other' END)
    WHEN e.event.dataset LIKE 'zeek.%' THEN (CASE e.event.dataset
        WHEN 'zeek.connection' THEN 'conn' WHEN 'zeek.ssl' THEN 'ssl'
        WHEN 'zeek.http' THEN 'http' WHEN 'zeek.dns' THEN 'dns' ELSE 'other' END)
    WHEN e.conn_state IS NOT NULL OR e.orig_pkts IS NOT NULL OR e.history IS NOT NULL THEN 'conn'
    WHEN e.server_name IS NOT NULL OR e.cipher IS NOT NULL OR e.ssl_history IS NOT NULL THEN 'ssl'
    WHEN e.query IS NOT NULL OR e.qtype_name IS NOT NULL OR e.trans_id IS NOT NULL THEN 'dns'
    WHEN e.method IS NOT NULL OR e.trans_depth IS NOT NULL THEN 'http'
    ELSE 'other' END"""

REJECT = "CASE " + " ".join(f"WHEN {c} THEN '{why}'" for c, why in zeek.checks(F)) + " END"


def _flag(x: str) -> str:
    return f"CASE lower({x}) WHEN 'true' THEN true WHEN 't' THEN true WHEN 'false' THEN false WHEN 'f' THEN false END"


_NAME = """CASE kind
    WHEN 'ssl' THEN coalesce(e.server_name, e.zeek.ssl.server_name, e.tls.client.server_name)
    WHEN 'http' THEN coalesce(e.url.domain, CASE WHEN NOT starts_with(e.host, '{') THEN e.host END)
    WHEN 'dns' THEN coalesce(e.query, e.zeek.dns.query, e.dns.question.name) END"""


def unified(stage: str) -> str:
    """The stage's records as :data:`zeek.UNIFIED`."""
    return f"""(SELECT raw_offset, kind,
            {zeek.epoch_or_iso(F["ts"])} AS ts,
            coalesce(e.uid, e.zeek.session_id, e.event.id) AS uid,
            {F["id.orig_h"]} AS orig_h, {zeek.port(F["id.orig_p"])} AS orig_p,
            {F["id.resp_h"]} AS resp_h, {zeek.port(F["id.resp_p"])} AS resp_p,
            coalesce(e.proto, e.network.transport) AS proto,
            try_cast(coalesce(e.ip_proto, e.network.iana_number) AS INTEGER) AS ip_proto,
            coalesce(CASE WHEN NOT starts_with(e.service, '{{') THEN e.service END,
                     e.network.application, e.network.protocol) AS service,
            coalesce(try_cast(e.duration AS DOUBLE), try_cast(e.event.duration AS DOUBLE) / 1e9)
                AS duration,
            try_cast(coalesce(e.orig_bytes, e.source.bytes) AS BIGINT) AS orig_bytes,
            try_cast(coalesce(e.resp_bytes, e.destination.bytes) AS BIGINT) AS resp_bytes,
            coalesce(e.conn_state, e.zeek.connection.state) AS conn_state,
            {_flag("coalesce(e.local_orig, e.zeek.connection.local_orig)")} AS local_orig,
            {_flag("coalesce(e.local_resp, e.zeek.connection.local_resp)")} AS local_resp,
            coalesce(e.history, e.zeek.connection.history) AS history,
            try_cast(coalesce(e.orig_pkts, e.source.packets) AS BIGINT) AS orig_pkts,
            try_cast(coalesce(e.resp_pkts, e.destination.packets) AS BIGINT) AS resp_pkts,
            coalesce(e.community_id, e.network.community_id) AS community_id,
            {_NAME} AS name,
            coalesce(e.answers, e.zeek.dns.answers, e.dns.resolved_ip) AS answers,
            coalesce(e.TTLs, e.zeek.dns.TTLs) AS ttls,
            _reject, _record
        FROM (SELECT *, {KIND} AS kind FROM {stage}))"""


# A Filebeat ``log`` input or a Logstash line event: the Zeek record is the text of
# ``message``.
_MESSAGE = shippers.Shape(
    label="message",
    columns={"message": _V},
    detect="starts_with(ltrim(env.message), '{')",
    build="env.message",
)

VENDOR = shippers.Vendor(time_field="ts", shapes=(_MESSAGE,))


def parse(reader: Reader, path: Path, head: str) -> Parsed:
    stage, skipped = shippers.stage_json_file(reader, path, head, VENDOR, STRUCTURE, REJECT)
    held = reader.name("zeek")
    reader.con.execute(f"CREATE OR REPLACE TEMP TABLE {held} AS SELECT * FROM {unified(stage)}")
    parsed = zeek.relations(reader, held, path)
    parsed.records += skipped
    parsed.skipped += skipped
    return parsed
