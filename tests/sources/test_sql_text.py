"""The guarded trims and the inner cut (crownwatch.sources.sql_text) give exactly what
DuckDB's own ``trim``/``rtrim`` and ``x[2:-2]`` give, on every awkward value."""

from __future__ import annotations

import duckdb
import pytest

from crownwatch.sources.sql_text import inner, prefix, rtrim_set, trim_set, trim_short, trim_spaces

VALUES = [
    "",
    " ",
    "\r",
    "\t \r",
    "plain",
    " lead",
    "trail ",
    "trail\r",
    "\r\r\rmany\r\r",
    " \t both \r",
    "inner \r space stays",
    "é naïve ünïcödé \r",
    "\tlead tab",
    "日本語\r",
    "e\u0301e\u0301e\u0301 combining accents, each one grapheme of two code points",
    "👩‍👩‍👧 a family: one grapheme",
    "x",
    "\n\nnewlines\n",
    "-dash-",
    "]bracket]",
    "^caret^",
    "back\\slash\\",
    "'quote'",
    "  two leading, two trailing  ",
    " a - b - ",
    '""',
    '"a"',
    '"é,ü"',
    None,
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE v (i INTEGER, x VARCHAR)")
    c.executemany("INSERT INTO v VALUES (?, ?)", list(enumerate(VALUES)))
    yield c
    c.close()


@pytest.mark.parametrize("chars", [" \r\t", "\r", " \t\r\n", "-]^\\'", "]"])
def test_trim_set_is_trim(con, chars):
    literal = " || ".join(f"chr({ord(c)})" for c in chars)
    got = con.execute(
        f"SELECT i, {trim_set('x', chars)}, trim(x, {literal}), "
        f"{rtrim_set('x', chars)}, rtrim(x, {literal}), {trim_short('x', chars)} FROM v ORDER BY i"
    ).fetchall()
    for i, ours, duck, rours, rduck, short in got:
        assert ours == duck, (VALUES[i], chars)
        assert rours == rduck, (VALUES[i], chars)
        assert short == duck, (VALUES[i], chars)
    # the guard is not vacuous: some values were trimmed
    assert any(ours != VALUES[i] for i, ours, *_ in got if VALUES[i] is not None)


def test_inner_is_slice(con):
    got = con.execute(
        f"SELECT i, {inner('x')}, x[2:-2] FROM v WHERE strlen(x) >= 2 ORDER BY i"
    ).fetchall()
    assert len(got) > 10
    for i, ours, duck in got:
        assert ours == duck, VALUES[i]


def test_trim_spaces_is_trim(con):
    got = con.execute(f"SELECT i, {trim_spaces('x')}, trim(x) FROM v ORDER BY i").fetchall()
    for i, ours, duck in got:
        assert ours == duck, VALUES[i]


@pytest.mark.parametrize("n", [0, 1, 2, 5, 12])
def test_prefix_is_left(con, n):
    got = con.execute(f"SELECT i, {prefix('x', n)}, left(x, {n}) FROM v ORDER BY i").fetchall()
    for i, ours, duck in got:
        assert ours == duck, (VALUES[i], n)
