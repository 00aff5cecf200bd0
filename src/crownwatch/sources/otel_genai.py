"""OpenTelemetry GenAI client spans, OTLP/JSON trace export
(``ExportTraceServiceRequest``: ``resourceSpans[].scopeSpans[].spans[]``), as the
Collector's file exporter writes it (one request per line) or as one document.

Attributes read (GenAI semantic conventions): ``gen_ai.request.model``,
``gen_ai.request.max_tokens``, ``gen_ai.request.temperature``,
``gen_ai.request.choice.count``, ``gen_ai.usage.input_tokens`` /
``output_tokens``, ``gen_ai.response.id``, ``gen_ai.operation.name``; prompts from
``gen_ai.input.messages`` (current conventions: ``[{"role", "parts": [{"type":
"text", "content"}]}]``), ``gen_ai.system_instructions``, or the older per-message
span events (``gen_ai.user.message`` / ``gen_ai.system.message`` with a ``content``
attribute, ``gen_ai.content.prompt`` with ``gen_ai.prompt``). Identity from
``user.id`` (or the older ``enduser.id``), ``api_key.id`` where a gateway adds it,
``client.address``, ``user_agent.original``; the client's TLS fingerprint from
``tls.client.ja4`` (else ``tls.client.ja3``, the OTel TLS conventions).

Prompt text: the same features, sketches and 200-character masked sample as
:mod:`crownwatch.sources.llm_gateway` (see there); nothing else of it is kept.

An input-messages attribute that is not JSON (cut off by an OTel attribute length
limit, plain text, a bad byte) does not cost the span: its text is read as the prompt.

One record per span. Spans without any ``gen_ai.*`` attribute (HTTP or database
spans in the same export) and spans without a start time are quarantined with that
reason; a line that is not JSON or has no ``resourceSpans`` is one quarantined
record.
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.llm_gateway import FEATURES, _text, ensure_udf, stream_lines, with_features
from crownwatch.sources.reader import Reader, _sql_str, read_document
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "otel_genai"

_ATTRS = '[{"key": "VARCHAR", "value": {"stringValue": "VARCHAR", "intValue": "VARCHAR", "doubleValue": "DOUBLE", "boolValue": "BOOLEAN"}}]'


def _attr(key: str) -> str:
    """Value of span attribute ``key`` as text (OTLP JSON encodes int64 as a string)."""
    m = f"list_filter(attrs, lambda a: a.key = '{key}')[1].value"
    return f"coalesce({m}.stringValue, {m}.intValue, CAST({m}.doubleValue AS VARCHAR), CAST({m}.boolValue AS VARCHAR))"


def sniff(head: str) -> bool:
    h = head.lstrip()
    return h[:1] == "{" and '"resourceSpans"' in h


def parse(reader: Reader, path: Path) -> Parsed:
    ensure_udf(reader.con)
    docs, _ = stream_lines(reader, path)
    first = reader.con.execute(
        f"SELECT json_valid(text) FROM {docs} ORDER BY raw_offset LIMIT 1"
    ).fetchall()
    if first and not first[0][0]:
        # a pretty-printed single document: read it whole
        name = reader.name("doc")
        try:
            read_document(
                reader.con,
                path,
                lambda buffer: (
                    f"""CREATE OR REPLACE TEMP TABLE {name} AS
                SELECT 1::BIGINT AS raw_offset, json::VARCHAR AS text
                FROM read_json_objects({_sql_str(str(path))}, format='auto', maximum_object_size={buffer})"""
                ),
            )
            docs = name
        except SourceError:
            pass  # keep the lines; each becomes a quarantined record
    stage = reader.name("spans")
    reader.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {stage} AS
        WITH d AS (
            SELECT raw_offset AS doc, text, json_valid(text) AS ok FROM {docs}
        ), s AS (
            SELECT doc, unnest(from_json(json_extract(text, '$.resourceSpans[*].scopeSpans[*].spans[*]'),
                                         '["JSON"]')) AS span
            FROM d WHERE ok
        ), n AS (
            SELECT row_number() OVER (ORDER BY doc) - 1 AS raw_offset, doc, span,
                   json_transform(json_extract(span, '$.attributes'), '{_ATTRS}') AS attrs
            FROM s
        )
        SELECT raw_offset, doc, span::VARCHAR AS span, attrs,
               CASE WHEN NOT list_bool_or(list_transform(attrs, lambda a: starts_with(a.key, 'gen_ai.')))
                         OR attrs IS NULL THEN 'not a GenAI span (no gen_ai.* attributes)'
                    WHEN try_cast(json_extract_string(span, '$.startTimeUnixNano') AS BIGINT) IS NULL
                         THEN 'missing startTimeUnixNano' END AS _reject
        FROM n
        UNION ALL
        SELECT NULL, doc, text, NULL,
               CASE WHEN NOT ok THEN 'malformed JSON' ELSE 'no spans in resourceSpans' END
        FROM d WHERE CASE WHEN ok THEN coalesce(len(json_extract(text, '$.resourceSpans[*].scopeSpans[*].spans[*]')), 0) = 0 ELSE true END"""
    )
    inp = "coalesce(" + _attr("gen_ai.input.messages") + ", " + _attr("gen_ai.prompt") + ")"
    rel = reader.con.sql(
        f"""WITH a AS (
            SELECT raw_offset, span, attrs,
                   -- an attribute cut by an OTel length limit, plain text or a bad byte
                   -- is not JSON: the span is kept and the text read as the prompt
                   CASE WHEN json_valid({inp}) THEN try(from_json({inp},
                       '[{{"role": "VARCHAR", "content": "VARCHAR", "parts": "VARCHAR"}}]')) END AS msgs,
                   CASE WHEN NOT json_valid({inp}) THEN {inp} END AS raw_input,
                   (SELECT list(json_extract_string(ev, '$.attributes[0].value.stringValue'))
                    FROM (SELECT unnest(from_json(json_extract(span, '$.events'), '["JSON"]')) AS ev)
                    WHERE json_extract_string(ev, '$.name') IN ('gen_ai.user.message', 'gen_ai.content.prompt'))
                       AS ev_user,
                   (SELECT list(json_extract_string(ev, '$.attributes[0].value.stringValue'))
                    FROM (SELECT unnest(from_json(json_extract(span, '$.events'), '["JSON"]')) AS ev)
                    WHERE json_extract_string(ev, '$.name') = 'gen_ai.system.message') AS ev_sys
            FROM {stage} WHERE _reject IS NULL
        ), b AS (
            SELECT *, list_filter(msgs, lambda m: m.role = 'user') AS _users,
                   list_filter(msgs, lambda m: m.role = 'system') AS _systems
            FROM a
        ), c AS (
            SELECT *,
                   left(coalesce({_text("coalesce(_users[-1].parts, _users[-1].content)")}, ev_user[-1],
                                 raw_input), 4000) AS _u,
                   left(coalesce({_attr("gen_ai.system_instructions")},
                                 {_text("coalesce(_systems[1].parts, _systems[1].content)")}, ev_sys[1]), 2000) AS _sys
            FROM b
        )
        SELECT make_timestamp(try_cast(json_extract_string(span, '$.startTimeUnixNano') AS BIGINT) // 1000) AS time,
               '{NAME}' AS source,
               coalesce({_attr("gen_ai.response.id")}, json_extract_string(span, '$.spanId')) AS request_id,
               coalesce({_attr("user.id")}, {_attr("enduser.id")}) AS account_id,
               {_attr("api_key.id")} AS api_key_id,
               {_attr("client.address")} AS src_ip,
               {_attr("user_agent.original")} AS user_agent,
               {_attr("gen_ai.request.model")} AS gen_ai_request_model,
               try_cast({_attr("gen_ai.request.max_tokens")} AS BIGINT) AS gen_ai_request_max_tokens,
               try_cast({_attr("gen_ai.request.temperature")} AS DOUBLE) AS gen_ai_request_temperature,
               coalesce(try_cast({_attr("gen_ai.request.choice.count")} AS BIGINT), 1) AS gen_ai_request_choice_count,
               try_cast({_attr("gen_ai.usage.input_tokens")} AS BIGINT) AS gen_ai_usage_input_tokens,
               try_cast({_attr("gen_ai.usage.output_tokens")} AS BIGINT) AS gen_ai_usage_output_tokens,
               CASE WHEN json_extract_string(span, '$.status.code') IN ('2', 'STATUS_CODE_ERROR') THEN 500 ELSE 200 END AS status,
               coalesce(len(msgs), len(ev_user)) AS n_messages,
               coalesce(len(_users), len(ev_user)) AS n_user_turns,
               length(_u) AS prompt_chars,
               {FEATURES},
               {_attr("gen_ai.operation.name")} AS gen_ai_operation_name,
               {_attr("gen_ai.response.id")} AS gen_ai_response_id,
               nullif(trim(coalesce({_attr("tls.client.ja4")}, {_attr("tls.client.ja3")})), '')
                   AS tls_fingerprint,
               json_extract_string(span, '$.spanId') AS raw_id, raw_offset
        FROM {with_features("c", "_u", "_sys", "false")}"""
    )
    quarantine = reader.con.sql(
        f"""SELECT now() AS time, '{NAME}' AS source, _reject AS reason,
                   left(span::VARCHAR, {RECORD_LIMIT}) AS record,
                   {_sql_str(str(path))} AS raw_source, coalesce(raw_offset, -doc) AS raw_offset,
                   CASE WHEN json_valid(span) THEN json_extract_string(span, '$.spanId') END AS raw_id
            FROM {stage} WHERE _reject IS NOT NULL"""
    )
    return Parsed(records=reader.count(stage), routed={"llm_request": rel}, quarantine=quarantine)
