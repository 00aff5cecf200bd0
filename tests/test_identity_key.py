"""The identity key is one rule in three places — the SQL every source writes its
``user`` with, :func:`user_key` for configuration and truth, and the enrichment's
regex both engines run — and they must agree on any name a log can hold."""

from __future__ import annotations

import duckdb
import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from crownwatch.enrichment.identities import _key
from crownwatch.tables.authentication import identity_columns, user_key

NAMES = st.text(alphabet=st.sampled_from("aB@\\-. \n\t\u00e9x"), max_size=12)
CASES = [
    ("CORP\\Alice", "alice", "corp"),
    ("alice@corp.example", "alice", "corp.example"),
    ("ALICE@CORP.EXAMPLE", "alice", "corp.example"),
    ("a\\b\\c@d@e", "c", "a"),
    ("line\nbreak\\bob@x", "bob", "line\nbreak"),
    ("-", None, None),
    ("  ", None, None),
    ("@nobody", None, "nobody"),
]


def _sql(con, names: list[str]) -> list[tuple]:
    rel = con.sql(
        f"SELECT {identity_columns('n')} FROM unnest($names) WITH ORDINALITY AS t(n, i) ORDER BY i",
        params={"names": names},
    )
    return [(r[0], r[2]) for r in rel.fetchall()]


def test_the_documented_forms():
    con = duckdb.connect()
    assert _sql(con, [c[0] for c in CASES]) == [(k, d) for _, k, d in CASES]
    assert [user_key(c[0]) for c in CASES] == [k for _, k, _ in CASES]


@settings(max_examples=25, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=200))
def test_sql_python_and_enrichment_agree(names):
    con = duckdb.connect()
    sql_keys = [k for k, _ in _sql(con, names)]
    assert sql_keys == [user_key(n) for n in names]
    # the enrichment's regex, on both engines' dialect of it (here DuckDB's RE2), on
    # names that need no trimming
    plain = [n for n in names if n == n.strip(" ") and n not in ("", "-")]
    if plain:
        ib = ibis.duckdb.from_connection(con)
        t = ibis.memtable({"n": plain})
        got = ib.to_pyarrow(t.select(k=_key(t.n))).column("k").to_pylist()
        assert got == [user_key(n) for n in plain]
