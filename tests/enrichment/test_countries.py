"""One country spelling: Python, DuckDB SQL (ingest) and Ibis (the view) agree."""

from __future__ import annotations

import ibis
import iso3166
import pyarrow as pa

from crownwatch.enrichment.countries import (
    ALIASES,
    alias_table,
    country_code,
    iso_country,
)

CASES = {
    "United States": "US",
    "United States of America": "US",
    "USA": "US",
    "usa": "US",
    "US": "US",
    "us": "US",
    " Us ": "US",
    "Russia": "RU",
    "Russian Federation": "RU",
    "Korea, Republic of": "KR",
    "South Korea": "KR",
    "KOREA (REPUBLIC OF)": "KR",
    "North Korea": "KP",
    "Iran": "IR",
    "Iran, Islamic Republic of": "IR",
    "Viet Nam": "VN",
    "Vietnam": "VN",
    "Taiwan": "TW",
    "Taiwan, Province of China": "TW",
    "United Kingdom": "GB",
    "UK": "GB",
    "GB": "GB",
    "gb": "GB",
    "GBR": "GB",
    "The Netherlands": "NL",
    "Netherlands (the)": "NL",
    "Bahamas, The": "BS",
    "Bosnia & Herzegovina": "BA",
    "St. Kitts & Nevis": "KN",
    "Curaçao": "CW",
    "Côte d'Ivoire": "CI",
    "Ivory Coast": "CI",
    "Türkiye": "TR",
    "Turkey": "TR",
    "DR Congo": "CD",
    "Congo Republic": "CG",
    "Hong Kong": "HK",
    "Czechia": "CZ",
    "Kosovo": "XK",
    "840": "US",
    "DEU": "DE",
    # not countries: NULL, never a new one
    "EU": None,
    "ZZ": None,
    "A1": None,
    "Narnia": None,
    "": None,
    "The": None,
    "'; DROP TABLE x; --": None,
}


def test_python_rule():
    for value, code in CASES.items():
        assert country_code(value) == code, value
    assert country_code(None) is None


def test_every_iso_name_and_alias_maps_to_its_code():
    for c in iso3166.countries:
        for v in (c.name, c.apolitical_name, c.alpha2, c.alpha3, c.alpha2.lower()):
            assert country_code(v) == c.alpha2, v
    for code, names in ALIASES.items():
        for n in names:
            assert country_code(n) == code, n


def test_no_alias_claims_two_countries():
    table = alias_table()  # raises on a conflict
    assert len(table) > 1000 and set(table.values()) >= {"US", "GB", "KR", "TW"}


def _values() -> list[str | None]:
    return [*CASES, None, *ALIASES["US"], *ALIASES["CD"]]


def test_ibis_view_matches_python_and_keeps_rows_and_columns():
    values = _values()
    t = ibis.memtable(
        pa.table(
            {
                "n": pa.array(range(len(values)), pa.int64()),
                "src_country": pa.array(values, pa.string()),
                "other": pa.array(["x"] * len(values), pa.string()),
            }
        )
    )
    out = iso_country(t)
    assert out.columns == t.columns
    rows = ibis.duckdb.connect().to_pyarrow(out.order_by("n")).to_pylist()
    assert [r["n"] for r in rows] == list(range(len(values)))
    for r in rows:
        assert r["src_country"] == country_code(values[r["n"]]), values[r["n"]]
        assert r["other"] == "x"
