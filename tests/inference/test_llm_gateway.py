"""The LLM-gateway JSON-lines source (docs/interfaces.md): parsing, prompt features, hostile input.

Records follow the layout in docs/interfaces.md ("LLM gateway log") field for field."""

from __future__ import annotations

import gzip
import json

import duckdb
import pyarrow as pa
import pytest

from crownwatch.sources import llm_gateway, sniff
from crownwatch.sources.llm_gateway import simhash_arrow


def _rec(**kw):
    base = {
        "timestamp": "2026-03-01T10:00:00.123Z",
        "request_id": "req_1",
        "account_id": "acct_1",
        "api_key_id": "key_1",
        "org_id": "org_1",
        "billing_id": "pm_1",
        "source_ip": "198.51.100.7",
        "user_agent": "python-httpx/0.27",
        "model": "model-large-2026-02",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hi"},
        ],
        "max_tokens": 4096,
        "temperature": 0.7,
        "n": 1,
        "input_tokens": 812,
        "output_tokens": 2048,
        "status": 200,
    }
    base.update(kw)
    return base


def _rows(lake, table="llm_request"):
    files = lake.table_files(table)
    if not files:
        return []
    con = duckdb.connect()
    return (
        con.sql(f"SELECT * FROM read_parquet({[str(f) for f in files]})")
        .to_arrow_table()
        .to_pylist()
    )


def _write(path, lines):
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def test_sniffs_gateway_layout(tmp_path):
    p = _write(tmp_path / "gw.jsonl", [_rec()])
    assert sniff(p) is llm_gateway


def test_parses_every_field_and_nullable_ones(tmp_path, lake):
    lines = [
        _rec(),
        {
            k: v
            for k, v in _rec(request_id="req_2").items()
            if k not in ("org_id", "billing_id", "max_tokens", "temperature")
        },
        _rec(request_id="req_3", org_id=None, billing_id=None, max_tokens=None, temperature=None),
        _rec(request_id="req_4", tls_fingerprint="t13d1516h2_8daaf6152771_e5627efa2ab1"),
    ]
    res = lake.ingest([_write(tmp_path / "gw.jsonl", lines)])[0]
    assert (res.read, res.routed_rows, res.quarantined) == (4, 4, 0)
    rows = {r["request_id"]: r for r in _rows(lake)}
    r1 = rows["req_1"]
    assert r1["source"] == "llm_gateway" and r1["account_id"] == "acct_1"
    assert r1["src_ip"] == "198.51.100.7" and r1["gen_ai_request_model"] == "model-large-2026-02"
    assert (r1["gen_ai_request_max_tokens"], r1["gen_ai_request_temperature"]) == (4096, 0.7)
    assert (r1["gen_ai_usage_input_tokens"], r1["gen_ai_usage_output_tokens"]) == (812, 2048)
    assert (r1["n_messages"], r1["n_user_turns"], r1["raw_offset"]) == (2, 1, 1)
    assert r1["time"].isoformat() == "2026-03-01T10:00:00.123000+00:00"
    for rid in ("req_2", "req_3"):
        assert rows[rid]["billing_id"] is None and rows[rid]["gen_ai_request_max_tokens"] is None
    # the client's TLS fingerprint where the gateway logs it (JA4 here), NULL elsewhere
    assert rows["req_4"]["tls_fingerprint"] == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert r1["tls_fingerprint"] is None


def test_prompt_features_and_bounded_sample(tmp_path, lake):
    cot = (
        "You are an expert mathematician. Solve the following problem. Think step by step "
        "and show your complete reasoning. Problem: find x with x^2 - 5x + 6 = 0 " + "pad " * 100
    )
    lines = [
        _rec(request_id="cot", messages=[{"role": "user", "content": cot}]),
        _rec(
            request_id="rubric",
            messages=[
                {
                    "role": "user",
                    "content": "Grade the following response against this rubric (correctness 1-10). Response: 42",
                }
            ],
        ),
        _rec(
            request_id="agent",
            tools=[{"type": "function", "function": {"name": "bash"}}],
            messages=[{"role": "user", "content": "fix the failing build"}],
        ),
        _rec(
            request_id="chat",
            messages=[
                {"role": "user", "content": "Give me a recipe for banana bread"},
                {"role": "assistant", "content": "Sure…"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "mail me at jo@example.com, card 4111111111111111"}
                    ],
                },
            ],
        ),
        _rec(
            request_id="cot2",
            messages=[{"role": "user", "content": cot.replace("x^2 - 5x + 6", "x^2 - 71x + 13")}],
        ),
    ]
    lake.ingest([_write(tmp_path / "gw.jsonl", lines)])
    rows = {r["request_id"]: r for r in _rows(lake)}
    assert (
        rows["cot"]["elicit_cot"] and rows["cot"]["cap_math"] and not rows["cot"]["elicit_rubric"]
    )
    assert rows["rubric"]["elicit_rubric"] and rows["rubric"]["prompt_topic"] == "evaluation"
    assert rows["agent"]["cap_agentic"] and rows["agent"]["has_tools"]
    chat = rows["chat"]
    assert not chat["elicit_cot"] and not chat["cap_code"]
    assert (chat["n_messages"], chat["n_user_turns"]) == (3, 2)
    # the last user turn (OpenAI content parts) is what is sketched and sampled, masked
    assert chat["prompt_sample"] == "mail me at <email>, card <num>"
    assert len(rows["cot"]["prompt_sample"]) == 200
    # same template, other numbers: same masked head and tail, near-identical SimHash
    assert rows["cot"]["prompt_skeleton"] == rows["cot2"]["prompt_skeleton"]
    assert rows["cot"]["prompt_skeleton_tail"] == rows["cot2"]["prompt_skeleton_tail"]
    assert rows["cot"]["prompt_skeleton"] != rows["chat"]["prompt_skeleton"]
    ham = bin((rows["cot"]["prompt_simhash"] ^ rows["cot2"]["prompt_simhash"]) & (2**64 - 1)).count(
        "1"
    )
    far = bin((rows["cot"]["prompt_simhash"] ^ rows["chat"]["prompt_simhash"]) & (2**64 - 1)).count(
        "1"
    )
    assert ham <= 8 < far
    # the exact hash tells the two apart where the sketches do not
    assert rows["cot"]["prompt_hash"] != rows["cot2"]["prompt_hash"]
    assert all(isinstance(r["prompt_hash"], int) for r in rows.values())


def test_exact_prompt_hash_repeats_only_for_the_same_text(tmp_path, lake):
    ask = "Implement a trie in Rust for a chess engine, without recursion."
    lines = [
        _rec(request_id=f"r{i}", messages=[{"role": "user", "content": c}])
        for i, c in enumerate((ask, ask, ask + " ", ask.replace("Rust", "Go")))
    ] + [_rec(request_id="sys", messages=[{"role": "system", "content": "be brief"}])]
    lake.ingest([_write(tmp_path / "gw.jsonl", lines)])
    h = {r["request_id"]: r["prompt_hash"] for r in _rows(lake)}
    assert h["r0"] == h["r1"] and len({h["r0"], h["r2"], h["r3"]}) == 3
    assert h["sys"] is None  # no user turn, nothing to hash


def test_hostile_input_is_quarantined_and_counted(tmp_path, lake):
    good = [_rec(request_id=f"g{i}") for i in range(3)]
    lines = [
        good[0],
        "{not json",
        "[1, 2, 3]",
        _rec(request_id="no_ts", timestamp=None),
        _rec(request_id="bad_ts", timestamp="yesterday-ish"),
        _rec(request_id="far_ts", timestamp="9999-01-01T00:00:00Z"),
        {k: v for k, v in _rec(request_id="anon").items() if k not in ("account_id", "api_key_id")},
        good[1],
        # wrong types and absurd numbers are tolerated, not fatal: they become NULL
        _rec(request_id="types", max_tokens="lots", temperature=[1], n=1e40, messages="hi"),
        '{"timestamp": "2026-03-01T10:00:00Z", "account_id": "acct_x", "messages": ['
        + "[" * 5000
        + "]",
        good[2],
        "",
    ]
    p = _write(tmp_path / "gw.jsonl", lines)
    res = lake.ingest([p])[0]
    assert res.source == "llm_gateway"
    assert res.read == 11 and res.read == res.routed_rows + res.quarantined
    assert res.routed_rows == 4 and res.note is None
    rows = {r["request_id"]: r for r in _rows(lake)}
    assert set(rows) == {"g0", "g1", "g2", "types"}
    assert (
        rows["types"]["gen_ai_request_max_tokens"] is None and rows["types"]["n_messages"] is None
    )
    reasons = {r["raw_offset"]: r["reason"] for r in _rows(lake, "quarantine")}
    assert reasons == {
        2: "malformed JSON",
        3: "JSON record is not an object",
        4: "missing timestamp",
        5: "unparseable timestamp",
        6: "timestamp out of range",
        7: "missing account_id and api_key_id",
        10: "malformed JSON",
    }


def test_invalid_utf8_and_gzip_fall_back_without_loss(tmp_path, lake):
    body = (
        (json.dumps(_rec(request_id="a")) + "\n").encode()
        + b'{"timestamp": "\xff\xfe"}\n'
        + (json.dumps(_rec(request_id="b")) + "\n").encode()
    )
    p = tmp_path / "gw.jsonl.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(body)
    res = lake.ingest([p])[0]
    assert (res.read, res.routed_rows, res.quarantined) == (3, 2, 1)


@pytest.mark.parametrize("in_pieces", [False, True])
def test_repeated_lines_each_keep_their_own_line_number(tmp_path, lake, monkeypatch, in_pieces):
    """A line that occurs twice comes out twice, each with its own number — read
    whole, or cut into pieces read side by side, each numbered from its first line."""
    from crownwatch.sources import pieces

    if in_pieces:
        monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    same = _rec(request_id="same")
    lines = [same, _rec(request_id="other"), "", same, "{broken", "{broken", same]
    lines += [_rec(request_id=f"r{i}") for i in range(8, 30)] + ["", "", same]
    p = _write(tmp_path / "gw.jsonl", lines)
    splits = []
    split = pieces.split
    monkeypatch.setattr(pieces, "split", lambda *a: splits.append(split(*a)) or splits[-1])
    res = lake.ingest([p])[0]
    assert (splits[0] is not None and len(splits[0].urls) >= 2) == in_pieces
    assert (res.read, res.routed_rows, res.quarantined) == (29, 27, 2)
    offsets = sorted((r["request_id"], r["raw_offset"]) for r in _rows(lake))
    assert offsets[:6] == [
        ("other", 2),
        ("r10", 10),
        ("r11", 11),
        ("r12", 12),
        ("r13", 13),
        ("r14", 14),
    ]
    assert [o for o in offsets if o[0] == "same"] == [
        ("same", 1),
        ("same", 4),
        ("same", 7),
        ("same", 32),
    ]
    assert sorted(r["raw_offset"] for r in _rows(lake, "quarantine")) == [5, 6]


def test_simhash_matches_reference():
    import random

    rng = random.Random(3)

    def ref(hs):
        c = [0] * 64
        for h in hs:
            for b in range(64):
                c[b] += 1 if h >> b & 1 else -1
        v = sum(1 << b for b in range(64) if c[b] > 0)
        return v - (1 << 64) if v >= 1 << 63 else v

    data = [
        [rng.getrandbits(64) for _ in range(rng.randint(0, 30))] if rng.random() > 0.1 else None
        for _ in range(300)
    ] + [[]]
    got = simhash_arrow(pa.array(data, pa.list_(pa.uint64()))).to_pylist()
    assert got == [ref(x) if x else None for x in data]


def test_classifier_flags_are_each_pattern_on_its_own():
    """The classifiers run only where their combined pattern matches: each flag must
    still be exactly its own pattern's verdict, and the skeleton mask must give one
    hash to prompts that differ only in their literals."""
    prompts = [
        "Explain step by step how to solve for x: 3x + 4 = 19",
        "Act as an impartial judge and grade the following answers",
        "def parse(x): return x  # refactor this python function",
        "Prove the theorem: every prime number above 2 is odd",
        "You have access to the following tools: web_search. Plan a multi-step solution",
        "Write a haiku about autumn leaves",
        "What's the weather like?",
        "STEP-BY-STEP please, and show your full reasoning",
        "",
        "it's a 'quoted' \"string\" with 12 numbers 345",
    ]
    con = duckdb.connect()
    llm_gateway.ensure_udf(con)
    con.execute("CREATE TABLE p (u VARCHAR, s VARCHAR, t BOOLEAN)")
    con.executemany("INSERT INTO p VALUES (?, NULL, false)", [[x] for x in prompts])
    con.execute(
        "INSERT INTO p VALUES ('Template 17: summarise ticket 9912', NULL, false), "
        "('Template  3: summarise ticket 5', NULL, false)"
    )
    got = con.execute(
        f"""SELECT u, elicit_cot, elicit_rubric, cap_code, cap_math, cap_agentic,
                   prompt_skeleton FROM {llm_gateway.with_features("p", "u", "s", "t")}"""
    ).fetchall()
    pats = {
        "elicit_cot": llm_gateway.COT_RE,
        "elicit_rubric": llm_gateway.RUBRIC_RE,
        "cap_code": llm_gateway.CODE_RE,
        "cap_math": llm_gateway.MATH_RE,
        "cap_agentic": llm_gateway.AGENT_RE,
    }
    fired = set()
    for u, *flags, _ in got:
        for (name, rx), flag in zip(pats.items(), flags, strict=True):
            want = con.execute("SELECT regexp_matches(?, ?)", [" " + u, rx]).fetchall()[0][0]
            assert flag == want, (name, u)
            if flag:
                fired.add(name)
    assert fired == set(pats)  # every classifier fired somewhere: the check has teeth
    skel = {u: s for u, *_, s in got}
    assert skel["Template 17: summarise ticket 9912"] == skel["Template  3: summarise ticket 5"]
    assert skel["Write a haiku about autumn leaves"] != skel["What's the weather like?"]


def test_the_simhash_udf_is_registered_once_per_connection():
    # remembered per connection, not looked up in DuckDB's catalog (~40 ms a file): a
    # second call is a no-op, another connection gets its own, and a connection other
    # code registered it on is accepted as it is
    first, second = duckdb.connect(), duckdb.connect()
    for con in (first, first, second):
        llm_gateway.ensure_udf(con)
        assert con.execute("SELECT cw_simhash([1, 1]::UBIGINT[])").fetchall() == [(1,)]
    third = duckdb.connect()
    llm_gateway.ensure_udf(third)
    llm_gateway._REGISTERED.discard(third)
    llm_gateway.ensure_udf(third)  # DuckDB refuses a second registration: not an error
    assert third.execute("SELECT cw_simhash([]::UBIGINT[])").fetchall() == [(None,)]
