"""LiteLLM proxy spend logs — ``LiteLLM_SpendLogs`` rows as JSON (the array that
``GET /spend/logs`` returns, or one row per line from an export).

Columns read: ``request_id``, ``call_type``, ``api_key`` (LiteLLM stores the
SHA-256 of the virtual key, never the key), ``spend``, ``total_tokens``,
``prompt_tokens``, ``completion_tokens``, ``startTime``, ``endTime``, ``model``,
``user``, ``team_id``, ``end_user``, ``metadata`` (object or JSON text:
``user_api_key_user_id``, ``user_api_key_team_id``, ``user_api_key_org_id``,
``user_api_key_alias``), ``requester_ip_address``, ``status``, and ``messages``
when the proxy stores prompts (``store_prompts_in_spend_logs``; otherwise ``{}``).

Mapping: account = ``user`` → ``metadata.user_api_key_user_id`` → ``end_user`` →
``team_id`` → the key hash; ``org_id`` = the key's org (else the team);
``billing_id`` is not in spend logs (teams carry budgets, not payment methods).
Prompt text: the features, sketches and masked 200-character sample of
:mod:`crownwatch.sources.llm_gateway`; no other prompt or response text is kept.
Quarantined: malformed JSON, non-objects, missing or unparseable ``startTime``.
"""

from __future__ import annotations

from pathlib import Path

from crownwatch.sources.base import Parsed
from crownwatch.sources.llm_gateway import (
    FEATURES,
    _text,
    ensure_udf,
    parsed_records,
    rejected,
    stream_lines,
    ts_reject,
    with_features,
)
from crownwatch.sources.reader import Reader, head_text

NAME = "litellm"

STRUCTURE = {
    "request_id": "VARCHAR",
    "call_type": "VARCHAR",
    "api_key": "VARCHAR",
    "spend": "DOUBLE",
    "total_tokens": "BIGINT",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "startTime": "VARCHAR",
    "endTime": "VARCHAR",
    "model": "VARCHAR",
    "user": "VARCHAR",
    "team_id": "VARCHAR",
    "end_user": "VARCHAR",
    "metadata": "JSON",
    "requester_ip_address": "VARCHAR",
    "status": "VARCHAR",
    "messages": "JSON",
}
REJECT = (
    f"""CASE WHEN ({ts_reject("e.startTime")}) IS NOT NULL THEN ({ts_reject("e.startTime")}) END"""
)


def sniff(head: str) -> bool:
    h = head.lstrip()
    return h[:1] in "[{" and '"call_type"' in h and '"startTime"' in h and '"request_id"' in h


def _meta(key: str) -> str:
    # metadata is an object, or (older exports) the object as a JSON string
    m = "CASE WHEN json_type(e.metadata) = 'VARCHAR' THEN json(e.metadata ->> '$') ELSE e.metadata END"
    return f"nullif(json_extract_string({m}, '$.{key}'), '')"


def parse(reader: Reader, path: Path) -> Parsed:
    ensure_udf(reader.con)
    if head_text(path, 64).lstrip().startswith("["):
        records = reader.json_document(path, None)
        n = reader.count(records)
    else:
        records, n = stream_lines(reader, path)
    good = parsed_records(records, STRUCTURE, REJECT, "e.startTime")
    msgs = "CASE WHEN json_type(e.messages) = 'VARCHAR' THEN json(e.messages ->> '$') ELSE e.messages END"
    base = f"""(WITH g AS (
            SELECT raw_offset, e, _ts,
                   CASE WHEN json_type({msgs}) = 'ARRAY'
                        THEN from_json({msgs}, '[{{"role": "VARCHAR", "content": "VARCHAR"}}]') END AS m
            FROM {good} WHERE _reject IS NULL
        ), f AS (
            SELECT *, list_filter(m, lambda x: x.role = 'user') AS _users,
                   list_filter(m, lambda x: x.role = 'system') AS _systems FROM g
        )
        SELECT *, left({_text("_users[-1].content")}, 4000) AS _u,
               left({_text("_systems[1].content")}, 2000) AS _sys FROM f)"""
    rel = reader.con.sql(
        f"""SELECT _ts AS time, '{NAME}' AS source, e.request_id,
               coalesce(nullif(e.user, ''), {_meta("user_api_key_user_id")}, nullif(e.end_user, ''),
                        nullif(e.team_id, ''), e.api_key) AS account_id,
               e.api_key AS api_key_id,
               coalesce({_meta("user_api_key_org_id")}, nullif(e.team_id, '')) AS org_id,
               coalesce(nullif(e.requester_ip_address, ''), {_meta("requester_ip_address")}) AS src_ip,
               e.model AS gen_ai_request_model, 1 AS gen_ai_request_choice_count,
               e.prompt_tokens AS gen_ai_usage_input_tokens,
               e.completion_tokens AS gen_ai_usage_output_tokens,
               CASE WHEN lower(e.status) IN ('failure', 'error') THEN 500 ELSE 200 END AS status,
               len(m) AS n_messages, len(_users) AS n_user_turns,
               list_sum(list_transform(m, lambda x: length(coalesce(x.content, '')))) AS prompt_chars,
               {FEATURES},
               e.call_type AS gen_ai_operation_name, e.request_id AS gen_ai_response_id,
               e.spend AS cost_usd, e.request_id AS raw_id, raw_offset
        FROM {with_features(base, "_u", "_sys", "false")}"""
    )
    return Parsed(
        records=n,
        routed={"llm_request": rel},
        quarantine=rejected(
            reader, records, STRUCTURE, REJECT, "e.startTime", NAME, path, "e.request_id"
        ),
    )
