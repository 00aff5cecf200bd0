"""Engine: a table the lake does not hold is an empty table of the right schema, so a
detection that reads another family's table (crown-jewel access after an identity
finding) runs on any lake."""

from __future__ import annotations

from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.tables import SCHEMAS


def test_missing_table_is_empty_with_its_schema(tmp_path):
    eng = Engine(Lake(tmp_path / "lake"))
    t = eng.table("authentication")
    assert list(t.columns) == [f.name for f in SCHEMAS["authentication"]]
    assert eng.execute(t.filter(t.status == "failure")) == []


def test_memory_limit_setting(monkeypatch):
    import pytest

    from crownwatch.lake import memory_limit

    monkeypatch.delenv("CROWNWATCH_MEMORY_LIMIT", raising=False)
    assert memory_limit() == "1536MB"  # bounded without a setting
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "none")
    assert memory_limit() is None
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "512MiB")
    assert memory_limit() == "512MiB"
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "3GB'; DROP TABLE x; --")
    with pytest.raises(ValueError):
        memory_limit()


def test_ingest_under_a_memory_limit(tmp_path, monkeypatch):
    from crownwatch.testing.okta import OFFICE, T0, success, write

    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "256MB")
    path = write(tmp_path / "okta.jsonl", success(T0, "a.user", OFFICE))
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([path])
    assert res.read == res.routed_rows > 0 and res.quarantined == 0


def test_a_run_keeps_long_intermediates_as_parquet_with_integers_intact(tmp_path):
    """``shared(..., on_disk=True)`` results live in the lake's scratch folder for the
    run, not in memory; a sum of int64 stays an integer (DuckDB's HUGEINT would be
    written as DOUBLE), and the files are gone when the run ends."""
    import ibis

    from crownwatch.detect import _RUN, run_detections, shared

    lake = Lake(tmp_path / "lake")
    eng = Engine(lake)
    t = ibis.memtable({"k": ["a", "a", "b"], "n": [2**40, 2**40, 1]})
    seen = {}

    class Probe:
        engine = eng
        cache: dict = {}

    token = _RUN.set(Probe())
    try:
        kept = shared("test.sums", lambda: t.group_by("k").aggregate(total=t.n.sum()), on_disk=True)
        shared("test.small", lambda: t.filter(t.k == "b"))  # a temp table: no file
        seen["files"] = sorted(p.name for p in (lake.root / ".spill").rglob("*.parquet"))
        rows = sorted(eng.execute(kept), key=lambda r: r["k"])
    finally:
        _RUN.reset(token)
        eng.end_run()
    assert seen["files"] == ["1.parquet"]
    assert rows == [{"k": "a", "total": 2**41}, {"k": "b", "total": 1}]
    assert all(type(r["total"]) is int for r in rows)
    assert not list((lake.root / ".spill").rglob("*.parquet"))
    kept_names = eng.backend.raw_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_cw_run_%'"
    ).fetchall()
    assert kept_names == []  # the temp table's memory is freed too
    run_detections(eng, {}, only=["exfiltration"])  # ends its run too
    assert not list((lake.root / ".spill").rglob("*.parquet"))


def test_an_intermediate_too_long_for_memory_goes_to_disk(tmp_path, monkeypatch):
    """One a detection keeps in memory moves to the scratch folder when it has more
    rows than MEMORY_ROWS — the same rows, integers intact, the temp table dropped."""
    import ibis

    from crownwatch import engine as engine_mod
    from crownwatch.detect import _RUN, shared

    monkeypatch.setattr(engine_mod, "MEMORY_ROWS", 2)
    lake = Lake(tmp_path / "lake")
    eng = Engine(lake)
    t = ibis.memtable({"k": ["a", "a", "b", "c"], "n": [2**40, 2**40, 1, 5]})

    class Probe:
        engine = eng
        cache: dict = {}

    token = _RUN.set(Probe())
    try:
        long = shared("test.long", lambda: t.group_by("k").aggregate(total=t.n.sum()))
        short = shared("test.short", lambda: t.filter(t.k == "b"))
        files = sorted(p.name for p in (lake.root / ".spill").rglob("*.parquet"))
        temp = eng.backend.raw_sql(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_cw_run_%'"
        ).fetchall()
        rows = sorted(eng.execute(long), key=lambda r: r["k"])
        assert eng.execute(short) == [{"k": "b", "n": 1}]
    finally:
        _RUN.reset(token)
        eng.end_run()
    assert files == ["1.parquet"] and temp == [("_cw_run_2",)]  # the short one stays
    assert rows == [{"k": "a", "total": 2**41}, {"k": "b", "total": 1}, {"k": "c", "total": 5}]
    assert all(type(r["total"]) is int for r in rows)
    assert not list((lake.root / ".spill").rglob("*.parquet"))


def test_detections_run_under_the_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("CROWNWATCH_MEMORY_LIMIT", "300MB")
    eng = Engine(Lake(tmp_path / "lake"))
    (limit,) = eng.backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()
    assert limit.replace(" ", "").upper() in {"286.1MIB", "300MB"}, limit


def test_detections_are_bounded_without_a_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("CROWNWATCH_MEMORY_LIMIT", raising=False)
    eng = Engine(Lake(tmp_path / "lake"))
    (limit,) = eng.backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()
    assert limit.replace(" ", "").upper() in {"1.4GIB", "1536MB", "1.5GIB"}, limit


def test_an_equal_statement_is_compiled_once_for_every_lake(tmp_path, monkeypatch):
    """The SQL of an expression is kept for the process: an equal expression built on
    another lake's engine is not compiled again, one that differs in a literal is; and
    what is kept holds no engine's connection open."""
    import gc
    import weakref

    from ibis.backends.duckdb import Backend

    from crownwatch import engine as engine_mod
    from crownwatch.testing.okta import OFFICE, T0, success, write

    compiled = []
    ibis_compile = Backend.compile

    def counting(self, expr, **kw):
        compiled.append(1)  # not the expression: it would hold its connection
        return ibis_compile(self, expr, **kw)

    monkeypatch.setattr(Backend, "compile", counting)
    monkeypatch.setattr(engine_mod, "_COMPILED", type(engine_mod._COMPILED)())

    def users_named(root, user: str):
        lake = Lake(root)
        lake.ingest([write(root.parent / f"{root.name}.jsonl", success(T0, "a.user", OFFICE))])
        eng = Engine(lake)
        t = eng.table("authentication")
        rows = eng.execute(
            t.filter((t.user == user) & t.src_ip.notnull()).select("user").distinct()
        )
        return eng, rows

    first, rows = users_named(tmp_path / "one", "a.user")
    assert rows == [{"user": "a.user"}] and len(compiled) == 1
    assert users_named(tmp_path / "two", "a.user")[1] == [{"user": "a.user"}]
    assert len(compiled) == 1  # the second lake's equal statement: not compiled again
    assert users_named(tmp_path / "three", "b.user")[1] == []
    assert len(compiled) == 2  # another literal, another statement

    gone = weakref.ref(first.backend)
    del first
    gc.collect()
    assert gone() is None and len(engine_mod._COMPILED) == 2
