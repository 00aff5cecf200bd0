"""The one severity order every store, sort and filter uses."""

import duckdb

from crownwatch.severity import ORDER_SQL, RANK, SEVERITIES, at_least


def test_the_stores_order_lists_the_most_severe_first():
    rows = duckdb.sql(
        f"SELECT severity FROM (VALUES ('low'), ('critical'), ('medium'), ('high')) t(severity) "
        f"ORDER BY {ORDER_SQL}"
    ).fetchall()
    assert [r[0] for r in rows] == list(reversed(SEVERITIES))


def test_rank_and_floor():
    assert [RANK[s] for s in SEVERITIES] == [0, 1, 2, 3]
    assert at_least("high", "medium") and at_least("medium", "medium")
    assert not at_least("low", "medium")
    assert at_least("low", None) and at_least("low", "")
