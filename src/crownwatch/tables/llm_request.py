"""``llm_request`` — one inference-API request (OCSF has no class for it yet).

Field names follow the OpenTelemetry GenAI semantic conventions (``gen_ai.*``),
flattened with ``_``. Prompt text is customer data: the table keeps features and
sketches of it plus a bounded sample for evidence, never the whole conversation
(see ``crownwatch.sources.llm_gateway`` and docs/inference.md for the exact policy).

``prompt_simhash``/``prompt_skeleton``/``prompt_skeleton_tail``/``system_hash`` are
64-bit sketches; ``elicit_*``, ``cap_*`` and ``prompt_topic`` are computed from the
prompt at ingest; ``prompt_sample`` is at most 200 characters with e-mail addresses
and long digit runs masked.
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("request_id", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("api_key_id", pa.string()),
        pa.field("org_id", pa.string()),
        pa.field("billing_id", pa.string()),
        pa.field("src_ip", pa.string()),
        pa.field("src_asn", pa.int64()),
        pa.field("user_agent", pa.string()),
        pa.field("gen_ai_request_model", pa.string()),
        pa.field("gen_ai_request_max_tokens", pa.int64()),
        pa.field("gen_ai_request_temperature", pa.float64()),
        pa.field("gen_ai_request_choice_count", pa.int64()),
        pa.field("gen_ai_usage_input_tokens", pa.int64()),
        pa.field("gen_ai_usage_output_tokens", pa.int64()),
        pa.field("status", pa.int64()),
        pa.field("n_messages", pa.int64()),
        pa.field("n_user_turns", pa.int64()),
        pa.field("prompt_chars", pa.int64()),
        pa.field("prompt_simhash", pa.int64()),  # 64-bit SimHash of the last user turn
        pa.field("prompt_skeleton", pa.int64()),  # hash of the prompt with literals masked
        pa.field("prompt_sample", pa.string()),  # first 200 chars of the last user turn
        pa.field("system_hash", pa.int64()),
        # -- added for the inference detections (crownwatch.detections.inference) --
        pa.field("prompt_skeleton_tail", pa.int64()),  # hash of the masked last 64 chars
        pa.field("prompt_topic", pa.string()),  # coarse topic label (code, math, writing…)
        pa.field("elicit_cot", pa.bool_()),  # asks for step-by-step / full reasoning
        pa.field("elicit_rubric", pa.bool_()),  # asks to grade, judge or score answers
        pa.field("cap_code", pa.bool_()),  # capability targeted: programming
        pa.field("cap_math", pa.bool_()),  # capability targeted: maths / formal reasoning
        pa.field("cap_agentic", pa.bool_()),  # capability targeted: tools, agents, planning
        pa.field("has_tools", pa.bool_()),  # the request declared tools / functions
        pa.field("gen_ai_operation_name", pa.string()),  # chat, text_completion, embeddings…
        pa.field("gen_ai_response_id", pa.string()),
        pa.field("account_created", pa.timestamp("us", tz="UTC")),  # when the account opened
        pa.field("cost_usd", pa.float64()),  # spend, where the gateway logs it (LiteLLM)
        # the client's TLS fingerprint (JA3 or JA4) where the gateway logs it: a client
        # stack that does not match its user agent, shared by accounts that share nothing else
        pa.field("tls_fingerprint", pa.string()),
        pa.field("prompt_hash", pa.int64()),  # hash of the whole last user turn (exact repeats)
        *PROVENANCE,
    ]
)
