"""OpenTelemetry GenAI spans (OTLP/JSON, as the Collector file exporter writes them)
and LiteLLM ``LiteLLM_SpendLogs`` rows, each with hostile records mixed in.

Span shape and attribute names follow the OTel GenAI semantic conventions
(opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/) and the OTLP JSON
encoding (int64 as strings); the spend-log row follows LiteLLM's
``LiteLLM_SpendLogs`` schema (schema.prisma in BerriAI/litellm)."""

from __future__ import annotations

import json

import duckdb

from crownwatch.simulate.inference import _otel_attr
from crownwatch.sources import litellm, otel_genai, sniff


def _rows(lake, table="llm_request"):
    files = lake.table_files(table)
    con = duckdb.connect()
    return (
        con.sql(f"SELECT * FROM read_parquet({[str(f) for f in files]})")
        .to_arrow_table()
        .to_pylist()
        if files
        else []
    )


def _span(i, attrs, start="1772409600000000000", events=None):
    s = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": f"eee19b7ec3c1b17{i}",
        "name": "chat model-large-2026-02",
        "kind": 3,
        "startTimeUnixNano": start,
        "endTimeUnixNano": start,
        "attributes": attrs,
        "status": {},
    }
    if events:
        s["events"] = events
    return s


def test_otel_genai_spans(tmp_path, lake):
    msgs = [
        {"role": "system", "parts": [{"type": "text", "content": "Be terse."}]},
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Prove that 17 is prime, step by step."}],
        },
    ]
    gen = [
        _otel_attr("gen_ai.operation.name", "chat"),
        _otel_attr("gen_ai.request.model", "model-large-2026-02"),
        _otel_attr("gen_ai.request.max_tokens", 8192),
        _otel_attr("gen_ai.request.temperature", 0.2),
        _otel_attr("gen_ai.usage.input_tokens", 31),
        _otel_attr("gen_ai.usage.output_tokens", 700),
        _otel_attr("gen_ai.response.id", "chatcmpl-1"),
        _otel_attr("user.id", "acct_1"),
        _otel_attr("client.address", "198.51.100.9"),
        _otel_attr("tls.client.ja3", "d4e5b18d6b55c71272893221c96ba240"),
    ]
    old_style = [_otel_attr("gen_ai.request.model", "m"), _otel_attr("enduser.id", "acct_2")]
    ev = [
        {
            "timeUnixNano": "1772409600000000000",
            "name": "gen_ai.user.message",
            "attributes": [_otel_attr("content", "Write a haiku about autumn")],
        }
    ]
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_otel_attr("service.name", "svc")]},
                "scopeSpans": [
                    {
                        "scope": {"name": "openai"},
                        "spans": [
                            _span(0, gen + [_otel_attr("gen_ai.input.messages", json.dumps(msgs))]),
                            _span(1, old_style, events=ev),
                            _span(2, [_otel_attr("http.request.method", "GET")]),
                            _span(3, gen, start="soon"),
                        ],
                    }
                ],
            }
        ]
    }
    p = tmp_path / "traces.json"
    p.write_text(json.dumps(doc) + "\n{broken\n" + json.dumps({"resourceSpans": []}) + "\n")
    assert sniff(p) is otel_genai
    res = lake.ingest([p])[0]
    assert (res.read, res.routed_rows, res.quarantined) == (6, 2, 4)
    rows = {r["account_id"]: r for r in _rows(lake)}
    a = rows["acct_1"]
    assert (a["gen_ai_request_max_tokens"], a["gen_ai_usage_output_tokens"]) == (8192, 700)
    assert a["elicit_cot"] and a["cap_math"] and a["src_ip"] == "198.51.100.9"
    assert a["prompt_sample"] == "Prove that 17 is prime, step by step."
    assert a["time"].isoformat() == "2026-03-02T00:00:00+00:00"
    assert rows["acct_2"]["prompt_topic"] == "writing"
    assert a["tls_fingerprint"] == "d4e5b18d6b55c71272893221c96ba240"
    assert rows["acct_2"]["tls_fingerprint"] is None
    # the exact prompt hash from the spans' content parts, as from the gateway's messages
    assert isinstance(a["prompt_hash"], int) and a["prompt_hash"] != rows["acct_2"]["prompt_hash"]
    reasons = sorted(r["reason"] for r in _rows(lake, "quarantine"))
    assert reasons == [
        "malformed JSON",
        "missing startTimeUnixNano",
        "no spans in resourceSpans",
        "not a GenAI span (no gen_ai.* attributes)",
    ]


def test_litellm_spend_logs(tmp_path, lake):
    row = {
        "request_id": "chatcmpl-1",
        "call_type": "acompletion",
        "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
        "spend": 0.00123,
        "total_tokens": 130,
        "prompt_tokens": 30,
        "completion_tokens": 100,
        "startTime": "2026-03-02T10:00:00.000Z",
        "endTime": "2026-03-02T10:00:02.000Z",
        "model": "gpt-4o",
        "user": "",
        "team_id": "team-a",
        "end_user": "",
        "metadata": {"user_api_key_user_id": "u-42", "user_api_key_org_id": "org-x"},
        "requester_ip_address": "198.51.100.30",
        "status": "success",
        "messages": [
            {"role": "user", "content": "Grade the following response against this rubric: …"}
        ],
    }
    no_prompt = dict(
        row,
        request_id="chatcmpl-2",
        messages={},
        metadata=json.dumps({"user_api_key_user_id": "u-43"}),
    )
    p = tmp_path / "spend.json"
    p.write_text(json.dumps([row, no_prompt, dict(row, request_id="bad", startTime="never"), [1]]))
    assert sniff(p) is litellm
    res = lake.ingest([p])[0]
    assert (res.read, res.routed_rows, res.quarantined) == (4, 2, 2)
    rows = {r["request_id"]: r for r in _rows(lake)}
    r1 = rows["chatcmpl-1"]
    assert (r1["account_id"], r1["org_id"], r1["src_ip"]) == ("u-42", "org-x", "198.51.100.30")
    assert (
        r1["elicit_rubric"]
        and r1["cost_usd"] == 0.00123
        and r1["gen_ai_usage_output_tokens"] == 100
    )
    assert (
        rows["chatcmpl-2"]["account_id"] == "u-43" and rows["chatcmpl-2"]["prompt_sample"] is None
    )
    # a logged prompt has its exact hash; a row that logged none has none
    assert isinstance(r1["prompt_hash"], int) and rows["chatcmpl-2"]["prompt_hash"] is None
