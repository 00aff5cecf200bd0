"""LLM gateway request log — the plain JSON-lines layout of docs/interfaces.md, one request
per line (``timestamp``, ``request_id``, ``account_id``, ``api_key_id``, ``org_id``,
``billing_id``, ``source_ip``, ``user_agent``, ``model``, ``messages``, ``max_tokens``,
``temperature``, ``n``, ``input_tokens``, ``output_tokens``, ``status``).

Also read when present (extensions a provider's gateway commonly adds):
``account_created_at`` (when the account was opened — the hydra detection links
accounts opened together), ``source_asn``, ``tools`` (declared tool/function
schemas), ``response_id``. ``org_id``, ``billing_id``, ``max_tokens`` and
``temperature`` may be null or absent; numbers of the wrong type become NULL.

**What prompt text is kept.** These logs hold customer data, so the lake keeps
*features and sketches* of the prompt, computed in DuckDB at ingest, and a bounded
sample — never the conversation:

* ``prompt_simhash`` — 64-bit SimHash of the last user turn (first 64 whitespace
  tokens, lower-cased; token hashes in DuckDB, bit counting in a vectorised numpy
  UDF over Arrow arrays). Near-identical prompts land within a few bits.
* ``prompt_skeleton`` / ``prompt_skeleton_tail`` — hashes of the first / last 64
  characters of the last user turn, lower-cased, with literals masked (each run of
  digits or quote marks, each run of whitespace, becomes one space). A
  data-generation template has a fixed head or tail around a varying slot, so one
  of the two repeats.
* ``prompt_hash`` — hash of the whole last user turn, exactly: "the same prompt sent
  twice" (SimHash equality is coarser — prompts that share a long scaffold and differ
  in a few words collide).
* ``system_hash`` — hash of the system prompt.
* ``elicit_cot`` (asks for step-by-step / full reasoning / chain of thought),
  ``elicit_rubric`` (asks to grade, judge, score or compare answers), ``cap_code``,
  ``cap_math``, ``cap_agentic`` (the capability the prompt exercises; ``cap_agentic``
  also when tools are declared) and ``prompt_topic`` (a coarse label) — RE2
  regular expressions over the system prompt and the first 3,000 characters of the
  last user turn.
* ``prompt_sample`` — the first 200 characters of the last user turn, with
  e-mail addresses and digit runs of six or more masked, for evidence.
* counts: ``n_messages``, ``n_user_turns``, ``prompt_chars``.

Hashes use DuckDB's ``hash()``; compare sketches only between data ingested with
the same DuckDB major version and the same masking (:func:`_mask`; a lake
ingested under an earlier masking — digit runs as ``0`` — is re-ingested before its
skeletons are compared with new ones).

**Reading.** Passes over the file, none of which holds the records in memory.
A large plain file is first cut into pieces and its lines counted, in parallel
(:mod:`crownwatch.sources.pieces`). The *routed* pass reads the numbered lines —
the pieces side by side — parses each in full, leaves out the records it rejects
and computes the prompt features. Only when it wrote fewer rows than there are
records does a *quarantine* pass parse the file once more, with the same parse and
verdict, and keep the rejects — a clean file is read twice, a dirty one three times.
When the fast reader refuses the file
(invalid UTF-8, an over-long line, a truncated gzip member) the forgiving Python
line reader of :mod:`crownwatch.sources.reader` takes over. Quarantined: malformed JSON, non-object
records, a missing or unparseable ``timestamp``, a record with neither
``account_id`` nor ``api_key_id``.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from crownwatch.sources.base import Parsed
from crownwatch.sources.reader import Reader, _sql_str
from crownwatch.sources.sql_text import prefix
from crownwatch.tables.quarantine import RECORD_LIMIT

NAME = "llm_gateway"

SAMPLE_CHARS = 200
SIMHASH_TOKENS = 64

# -- prompt features, shared by every llm_request source -----------------------------

COT_RE = (
    r"(?i)step[- ]by[- ]step|chain[- ]of[- ]thought|let'?s think|<think(ing)?>|"
    r"show (all |your |the |me )?(full |complete |entire |detailed |whole )?"
    r"(reasoning|working|work|thinking|thought process|derivation|chain of thought)|"
    r"(explain|walk me through|write out) (your|the) (full |complete )?(reasoning|thinking|thought)|"
    r"reasoning (process|trace|steps)|internal (reasoning|monologue)|think (carefully|aloud)"
)
RUBRIC_RE = (
    r"(?i)\brubric\b|\bgrade (the|this|these|each|following)|"
    r"\bscore (the|this|these|each) (response|answer|output|completion)|"
    r"act as an? (expert |impartial )?(judge|grader|evaluator)|"
    r"which (of these|of the two|response|answer)[a-z ]{0,20} (is )?better|"
    r"preference (score|label)|reward model|rate (the|this|each) (response|answer)"
)
CODE_RE = (
    r"(?i)```|\bdef [a-z_]+\(|\bfunction\b|\bpython\b|typescript|javascript|\bjava\b|golang|"
    r"\brust\b|c\+\+|\bsql\b|\bbash\b|unit tests?|refactor|compil(e|er)|stack ?trace|"
    r"programming|\bcode\b|\bimplement\b|\bapi\b|regex|segfault|exception"
)
MATH_RE = (
    r"(?i)\bprove\b|theorem|lemma|integral|derivative|equation|solve for|\bx\^|"
    r"probability|matrix|olympiad|\\frac|divisible|prime numbers?|average speed|"
    r"\bsolve\b[^.]{0,40}\d"
)
AGENT_RE = (
    r"(?i)you have access to (the following )?tools|access to tools|tool[_ ]?calls?|"
    r"function[_ ]call|autonomous agent|\bagent\b|multi-step (plan|solution)|"
    r"\bobservation:|\baction:|web_search|browse the web|execute (the )?(command|code)"
)
TOPICS = (
    ("translation", r"(?i)translat|how do you say"),
    ("cooking", r"(?i)recipe|cook|bake|\bdish\b|ingredient|oven"),
    ("travel", r"(?i)\btrip\b|travel|visit|flight|hotel|itinerar"),
    (
        "writing",
        r"(?i)\bwrite\b|draft|e-?mail|letter|story|poem|haiku|essay|post|copy|speech|toast",
    ),
    (
        "study",
        r"(?i)explain|summari[sz]e|exam|quiz|learn|history|science|biology|physics|chemistry",
    ),
    ("health", r"(?i)pain|sleep|health|diet|exercise|stress|workout"),
    (
        "work",
        r"(?i)customer|sales|budget|meeting|\bteam\b|okr|report|ticket|invoice|agenda|project",
    ),
)


def _text(content: str) -> str:
    """Message content as text: a plain string, or the text of OpenAI-style parts
    (``[{"type": "text", "text": …}]``) / OTel GenAI parts (``{"content": …}``)."""
    return (
        f"CASE WHEN left(ltrim({content}), 1) = '[' AND json_valid({content}) "
        f"THEN array_to_string(list_concat(json_extract_string({content}, '$[*].text'), "
        f"json_extract_string({content}, '$[*].content')), ' ') ELSE {content} END"
    )


def _mask(s: str) -> str:
    """Literals masked for the skeleton hashes: each run of digits or quotes, each run
    of two or more whitespace characters and each tab or line break becomes one space.

    One regular expression whose matches are few: DuckDB's ``translate`` plus the
    ``replace`` rounds that squeezed runs cost three times as much per row (3.2 s
    against 1.1 s per million prompt heads on one thread), and a pattern matching
    every single space replaces far more often than it needs to."""
    return f"""regexp_replace(lower({s}), '[0-9"`]+|\\s\\s+|[\\t\\n\\r]', ' ', 'g')"""


# Inputs the prompt features share, computed once per record (see with_features).
_PREP = ("_f_joined", "_f_both", "_f_ul", "_f_mask", "_f_any", "_f_sample")

# Any of the classifiers at all, in one pass: most prompts match none, and for them
# the five patterns need not run (1.1 s → 0.5 s per million prompts on one thread).
_ANY_CLASS = "(?i)" + "|".join(
    f"(?:{rx.removeprefix('(?i)')})" for rx in (COT_RE, RUBRIC_RE, CODE_RE, MATH_RE, AGENT_RE)
)


def _classified(rx: str) -> str:
    """Whether ``_f_both`` matches ``rx``, run only where :data:`_ANY_CLASS` matched."""
    return f"CASE WHEN _f_any THEN regexp_matches(_f_both, '{rx.replace(chr(39), chr(39) * 2)}') ELSE false END"


# The columns with_features adds.
FEATURES = ", ".join(
    (
        "prompt_simhash",
        "prompt_skeleton",
        "prompt_skeleton_tail",
        "prompt_hash",
        "system_hash",
        "prompt_sample",
        "elicit_cot",
        "elicit_rubric",
        "cap_code",
        "cap_math",
        "cap_agentic",
        "has_tools",
        "prompt_topic",
    )
)
_MASK_WINDOW = 96  # characters of the head / tail masked for the skeleton hashes
_BOTH_LIMIT = 5000


def with_features(src: str, u: str, sys: str, tools: str) -> str:
    """Subquery: every column of ``src`` plus the prompt features, computed from the
    last user turn ``u``, the system prompt ``sys`` (both VARCHAR, may be NULL) and
    ``tools`` (BOOLEAN: the request declared tools). Used by every llm_request
    source.

    Three levels so that nothing is computed twice per record: the shared inputs
    (system prompt + user turn, the user turn's head, its masked form when the whole
    turn fits the skeleton window) first, then the classifiers, then the topic —
    which reuses the classifiers instead of running their regexes again."""
    # u and sys are columns, read again by the prefix tests (sql_text.prefix); the
    # joined text is a column of a step before, for the same reason
    joined = f"coalesce({sys}, '') || ' ' || coalesce({prefix(u, 3000)}, '')"
    both = prefix("_f_joined", _BOTH_LIMIT)
    ul = f"coalesce({prefix(u, 500)}, '')"
    topic = " ".join(f"WHEN regexp_matches(_f_ul, '{rx}') THEN '{name}'" for name, rx in TOPICS)
    # regexp_matches(_f_ul, X) can only hold where regexp_matches(_f_both, X) does
    # when _f_ul is all of the user turn and _f_both holds all of it (then _f_ul is
    # a substring of _f_both, preceded by a space or the start and followed by the
    # end, which no word boundary tells apart); otherwise the regex runs again.
    whole = f"(length({u}) <= 500 AND length(_f_both) < {_BOTH_LIMIT})"
    head = f"coalesce(_f_mask, {_mask(f'left({u}, {_MASK_WINDOW})')})"
    tail = f"coalesce(_f_mask, {_mask(f'right({u}, {_MASK_WINDOW})')})"
    return f"""(WITH _fj AS (
            SELECT *, {joined} AS _f_joined FROM {src}
        ), _f0 AS (
            SELECT *, {both} AS _f_both, {ul} AS _f_ul,
                   -- left(u, 96) and right(u, 96) are both u: mask it once
                   CASE WHEN length({u}) <= {_MASK_WINDOW} THEN {_mask(u)} END AS _f_mask
            FROM _fj
        ), _f0a AS (
            SELECT *, regexp_matches(_f_both, '{_ANY_CLASS.replace("'", "''")}') AS _f_any FROM _f0
        ), _f1 AS (
            SELECT *,
                {_classified(COT_RE)} AS elicit_cot,
                {_classified(RUBRIC_RE)} AS elicit_rubric,
                {_classified(CODE_RE)} AS cap_code,
                {_classified(MATH_RE)} AS cap_math,
                coalesce({tools}, false) OR {_classified(AGENT_RE)} AS cap_agentic,
                coalesce({tools}, false) AS has_tools,
                {_email_masked(prefix(u, SAMPLE_CHARS * 2))} AS _f_sample
            FROM _f0a
        )
        SELECT * EXCLUDE ({", ".join(_PREP)}),
            CASE WHEN {u} IS NOT NULL THEN cw_simhash(list_transform(
                string_split(lower({prefix(u, 1000)}), ' ')[:{SIMHASH_TOKENS}], lambda x: hash(x))) END
                AS prompt_simhash,
            CASE WHEN {u} IS NOT NULL THEN (hash(left({head}, 64)) >> 1)::BIGINT END AS prompt_skeleton,
            CASE WHEN {u} IS NOT NULL THEN (hash(right({tail}, 64)) >> 1)::BIGINT END
                AS prompt_skeleton_tail,
            CASE WHEN {u} IS NOT NULL THEN (hash({u}) >> 1)::BIGINT END AS prompt_hash,
            CASE WHEN {sys} IS NOT NULL THEN (hash({sys}) >> 1)::BIGINT END AS system_hash,
            left({_digits_masked("_f_sample")}, {SAMPLE_CHARS}) AS prompt_sample,
            CASE WHEN {u} IS NULL THEN NULL
                 WHEN cap_agentic THEN 'agentic'
                 WHEN elicit_rubric THEN 'evaluation'
                 WHEN (cap_code OR NOT {whole}) AND regexp_matches(_f_ul, '{CODE_RE}') THEN 'code'
                 WHEN (cap_math OR NOT {whole}) AND regexp_matches(_f_ul, '{MATH_RE}') THEN 'math'
                 {topic}
                 ELSE 'chat' END AS prompt_topic
        FROM _f1)"""


def _email_masked(s: str) -> str:
    """E-mail addresses → ``<email>``; the regex only runs where there is an ``@``."""
    email = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"
    return f"CASE WHEN contains({s}, '@') THEN regexp_replace({s}, '{email}', '<email>', 'g') ELSE {s} END"


def _digits_masked(s: str) -> str:
    """Digit runs of six or more → ``<num>``; the replacement only runs where a run
    of six exists (a plain match is far cheaper than a replacement)."""
    return (
        f"CASE WHEN regexp_matches({s}, '[0-9]{{6}}') "
        f"THEN regexp_replace({s}, '[0-9]{{6,}}', '<num>', 'g') ELSE {s} END"
    )


_ONES = np.uint64(0x0101010101010101)


_HIGH = np.uint64(0x8080808080808080)


def simhash_arrow(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """64-bit SimHash of each list of token hashes (``list<uint64>`` → ``int64``):
    bit *b* is set when more than half of the tokens have bit *b* set.

    Vectorised over the whole Arrow batch, no per-row Python and no per-bit loop:
    ``(h >> s) & 0x0101…`` puts bit ``8k+s`` of every hash in byte *k*, so one
    ``reduceat`` per shift *s* counts eight bit positions for every document at
    once (eight one-byte counters per uint64). The majority test is done in the same
    lanes: adding ``127 - len//2`` to each byte sets its top bit exactly when the
    count exceeds ``len/2``, and the eight lanes' top bits are shifted into place.
    Lists of up to 254 tokens (the byte counters must not carry); longer lists fall
    back to counting bit by bit. Empty or NULL lists give NULL."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    offs = col.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    vals = col.values.to_numpy(zero_copy_only=False)[offs[0] : offs[-1]].astype(
        np.uint64, copy=False
    )
    o = offs - offs[0]
    lens = np.diff(o)
    n = len(lens)
    nz = lens > 0
    # a zero sentinel keeps every start a valid index and adds nothing to any sum
    v = np.concatenate([vals, np.zeros(1, np.uint64)])
    starts = o[:-1]
    if n and lens.max() > 254:
        out = _simhash_counts(v, starts, lens, nz)
    else:
        bias = (np.uint64(127) - (lens // 2).astype(np.uint64)) * _ONES
        out = np.zeros(n, np.uint64)
        for s in range(8):
            lane = np.add.reduceat((v >> np.uint64(s)) & _ONES, starts)
            # top bit of byte k set <=> count(bit 8k+s) > len/2; move it to bit 8k+s
            out |= ((lane + bias) & _HIGH) >> np.uint64(7 - s)
        out = out.view(np.int64)
    mask = ~nz | np.asarray(col.is_null(), dtype=bool)
    return pa.array(out, pa.int64(), mask=mask)


def _simhash_counts(
    v: np.ndarray, starts: np.ndarray, lens: np.ndarray, nz: np.ndarray
) -> np.ndarray:
    """SimHash by explicit per-bit counts (any list length)."""
    n = len(lens)
    keep = np.zeros((n, 64), bool)
    for b in range(64):
        c = np.add.reduceat((v >> np.uint64(b)) & np.uint64(1), starts).astype(np.int64)
        c[~nz] = 0
        keep[:, b] = c * 2 > lens
    return np.packbits(keep, axis=1, bitorder="little").view(np.int64).ravel()


#: connections cw_simhash is registered on: asking DuckDB instead (``duckdb_functions()``
#: lists every function it has) took ~40 ms a file
_REGISTERED: weakref.WeakSet = weakref.WeakSet()


def ensure_udf(con: duckdb.DuckDBPyConnection) -> None:
    """Register ``cw_simhash`` on this connection (once)."""
    if con in _REGISTERED:
        return
    from duckdb.sqltypes import BIGINT, UBIGINT

    # registered on this connection already by other code: DuckDB refuses a second one
    with contextlib.suppress(duckdb.NotImplementedException):
        con.create_function(
            "cw_simhash",
            simhash_arrow,
            [duckdb.list_type(UBIGINT)],
            BIGINT,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
    _REGISTERED.add(con)


# -- reading records ------------------------------------------------------------------


def stream_lines(reader: Reader, path: Path) -> tuple[str, int]:
    """``(record_source_sql, records)``: the file's non-blank lines as a FROM-clause
    source of ``(raw_offset, text)`` read straight from disk — a large plain file on
    every core (:meth:`Reader.lines`) — or, when DuckDB's fast reader refuses the
    file (bad bytes, an over-long line, a cut gzip), the forgiving reader's temp
    table (numbered, scanned in parallel)."""
    sql = reader.lines(path)
    try:
        return sql, reader.records(path)
    except duckdb.Error:
        name = reader.materialise_lines(path)
        return name, reader.count(name)


def parsed_records(records: str, structure: dict, reject_sql: str, ts: str | None = None) -> str:
    """Subquery: each record parsed once into ``e`` with its ``_reject`` reason (NULL
    when good), the parsed timestamp ``_ts`` (from the text expression ``ts`` over
    ``e``) and the raw ``text`` for quarantine.

    ``try(json_transform(…))`` parses once; ``json_valid`` only runs on the records
    that failed, to tell malformed JSON from a non-object."""
    spec = json.dumps(structure).replace("'", "''")
    ts_expr = ts_sql(ts) if ts else "NULL::TIMESTAMPTZ"
    return f"""(WITH p AS (
            SELECT raw_offset, text,
                   CASE WHEN left(ltrim(text), 1) = '{{' THEN try(json_transform(text, '{spec}')) END AS e
            FROM {records}
        ), q AS (
            SELECT raw_offset, text, e, {ts_expr} AS _ts FROM p
        )
        SELECT raw_offset, e, _ts,
               CASE WHEN raw_offset < 0 THEN substr(text, 2)
                    WHEN e IS NULL AND NOT json_valid(text) THEN 'malformed JSON'
                    WHEN e IS NULL THEN 'JSON record is not an object'
                    ELSE ({reject_sql}) END AS _reject,
               text
        FROM q)"""


def rejected(
    reader: Reader,
    records: str,
    structure: dict,
    reject_sql: str,
    ts: str,
    source: str,
    path: Path,
    raw_id_sql: str = "NULL",
):
    """The quarantine relation: the records of ``records`` that :func:`parsed_records`
    with the same ``structure`` and ``reject_sql`` rejects, with the reason, the
    bounded text and the record's id (``raw_id_sql`` over ``e``).

    It parses every record again: the lake runs it only when the routed tables come
    up short (see ``Parsed``). It is the routed query's own parse and verdict, so a record is
    quarantined exactly when the routed query leaves it out."""
    good = parsed_records(records, structure, reject_sql, ts)
    return reader.con.sql(
        f"""SELECT now() AS time, '{source}' AS source, _reject AS reason,
                   left(text, {RECORD_LIMIT}) AS record, {_sql_str(str(path))} AS raw_source,
                   raw_offset, {raw_id_sql} AS raw_id
            FROM {good} WHERE _reject IS NOT NULL"""
    )


def ts_sql(s: str) -> str:
    """ISO-8601 text or epoch seconds / milliseconds / nanoseconds → TIMESTAMPTZ."""
    return f"""coalesce(try_cast({s} AS TIMESTAMPTZ), CASE
        WHEN regexp_full_match({s}, '[0-9]{{18,19}}') THEN make_timestamp(try_cast({s} AS BIGINT) // 1000)
        WHEN regexp_full_match({s}, '[0-9]{{12,13}}(\\.[0-9]+)?') THEN to_timestamp(try_cast({s} AS DOUBLE) / 1000)
        WHEN regexp_full_match({s}, '[0-9]{{9,10}}(\\.[0-9]+)?') THEN to_timestamp(try_cast({s} AS DOUBLE))
        END)"""


def ts_reject(s: str) -> str:
    """Reject reason given the raw timestamp text ``s`` and the parsed ``_ts``."""
    return f"""CASE WHEN {s} IS NULL THEN 'missing timestamp'
        WHEN _ts IS NULL THEN 'unparseable timestamp'
        WHEN _ts < TIMESTAMPTZ '1990-01-01' OR _ts > TIMESTAMPTZ '2200-01-01'
            THEN 'timestamp out of range' END"""


# -- this format -------------------------------------------------------------------------

STRUCTURE = {
    "timestamp": "VARCHAR",
    "request_id": "VARCHAR",
    "account_id": "VARCHAR",
    "api_key_id": "VARCHAR",
    "org_id": "VARCHAR",
    "billing_id": "VARCHAR",
    "source_ip": "VARCHAR",
    "source_asn": "BIGINT",
    "user_agent": "VARCHAR",
    "model": "VARCHAR",
    "messages": [{"role": "VARCHAR", "content": "VARCHAR"}],
    "tools": "JSON",
    "max_tokens": "BIGINT",
    "temperature": "DOUBLE",
    "n": "BIGINT",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "status": "BIGINT",
    "response_id": "VARCHAR",
    "account_created_at": "VARCHAR",
    "tls_fingerprint": "VARCHAR",
}

REJECT = f"""CASE
    WHEN ({ts_reject("e.timestamp")}) IS NOT NULL THEN ({ts_reject("e.timestamp")})
    WHEN e.account_id IS NULL AND e.api_key_id IS NULL THEN 'missing account_id and api_key_id'
END"""


def sniff(head: str) -> bool:
    h = head.lstrip()
    return (
        h[:1] == "{"
        and '"messages"' in h
        and '"timestamp"' in h
        and ('"account_id"' in h or '"api_key_id"' in h)
    )


def parse(reader: Reader, path: Path) -> Parsed:
    ensure_udf(reader.con)
    records, n = stream_lines(reader, path)
    good = parsed_records(records, STRUCTURE, REJECT, "e.timestamp")
    base = f"""(WITH g AS (
            SELECT raw_offset, e, _ts FROM {good} WHERE _reject IS NULL
        ), m AS (
            SELECT raw_offset, e, _ts,
                   list_filter(e.messages, lambda x: x.role = 'user') AS _users,
                   list_filter(e.messages, lambda x: x.role IN ('system', 'developer')) AS _systems
            FROM g
        )
        SELECT raw_offset, e, _ts, n_messages, n_user_turns, prompt_chars,
               {prefix("_u_text", 4000)} AS _u, {prefix("_sys_text", 2000)} AS _sys, _tools
        FROM (
            SELECT raw_offset, e, _ts, len(e.messages) AS n_messages, len(_users) AS n_user_turns,
                   list_sum(list_transform(e.messages, lambda x: length(coalesce(x.content, ''))))
                       AS prompt_chars,
                   {_text("_users[-1].content")} AS _u_text,
                   {_text("_systems[1].content")} AS _sys_text,
                   (e.tools IS NOT NULL AND json_array_length(e.tools) > 0) AS _tools
            FROM m))"""
    rel = reader.con.sql(
        f"""SELECT _ts AS time, '{NAME}' AS source,
               e.request_id, coalesce(e.account_id, e.api_key_id) AS account_id,
               e.api_key_id, e.org_id, e.billing_id, e.source_ip AS src_ip,
               e.source_asn AS src_asn, e.user_agent,
               e.model AS gen_ai_request_model, e.max_tokens AS gen_ai_request_max_tokens,
               e.temperature AS gen_ai_request_temperature,
               coalesce(e.n, 1) AS gen_ai_request_choice_count,
               e.input_tokens AS gen_ai_usage_input_tokens,
               e.output_tokens AS gen_ai_usage_output_tokens, e.status,
               n_messages, n_user_turns, prompt_chars, {FEATURES},
               'chat' AS gen_ai_operation_name, e.response_id AS gen_ai_response_id,
               try_cast(e.account_created_at AS TIMESTAMPTZ) AS account_created,
               nullif(trim(e.tls_fingerprint), '') AS tls_fingerprint,
               e.request_id AS raw_id, raw_offset
        FROM {with_features(base, "_u", "_sys", "_tools")}"""
    )
    return Parsed(
        records=n,
        routed={"llm_request": rel},
        quarantine=rejected(
            reader, records, STRUCTURE, REJECT, "e.timestamp", NAME, path, "e.request_id"
        ),
    )
