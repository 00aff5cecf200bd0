"""Countries as ISO 3166-1 alpha-2 codes, whatever spelling a source wrote.

Okta writes ``United States``, Entra ``US``, a GeoIP database ``US`` or
``United States``, an analyst ``USA`` — a "new country" test across sources must
compare one spelling. Every spelling goes through one table of aliases: the ISO
names, alpha-2, alpha-3 and numeric codes (from the ``iso3166`` package) plus the
common English names vendors use (``Russia``, ``South Korea``, ``Iran``,
``Vietnam``, ``Taiwan``, ``UK``, ``Ivory Coast``, ``DR Congo``…). Anything not in
the table becomes NULL: an unknown country is no country, never a new one.

**Matching.** A value that already is an upper-case code (``US``) is looked up as it
stands; any other value is first reduced to a *key* — lower-cased, accents folded
(``Curaçao`` → ``curacao``), every run of other characters made one space, trimmed —
so ``Korea, Republic of``, ``korea republic of`` and ``KOREA (REPUBLIC OF)`` agree.
Keys are also listed without ``the`` (``The Netherlands``, ``Bahamas, The``) and
without ``and`` (``Bosnia & Herzegovina``).

Two forms of the same rule, which the tests hold equal (the tables keep what the log
wrote; the view every detection reads gives the code, so lakes ingested earlier need
no rewrite):

* :func:`country_code` — Python, for configuration values and database records;
* :func:`iso_country` — Ibis, for the enrichment view on any engine (each distinct
  spelling looked up in the alias table, a small memtable, and joined back).

No log value ever becomes SQL text: the SQL is built from the constants below.
"""

from __future__ import annotations

import re
from functools import cache

import ibis
import iso3166
import pyarrow as pa

# Accented letters folded to their base letter (one character each, so the same
# ``translate`` runs in Python, DuckDB and Spark).
_ACCENTED = (
    "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżžæœ"
)
_PLAIN = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzzao"
assert len(_ACCENTED) == len(_PLAIN)
_FOLD = str.maketrans(_ACCENTED, _PLAIN)
_SEP = re.compile(r"[^a-z0-9]+")
_CODE = re.compile(r"^[A-Z]{2}$")

# Names vendors and people use that are not ISO's, by alpha-2. (ISO's own names and
# codes come from the iso3166 package.)
ALIASES: dict[str, tuple[str, ...]] = {
    "US": ("United States", "USA", "U.S.", "U.S.A.", "America", "United States (US)"),
    "GB": (
        "United Kingdom",
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "RU": ("Russia", "Russian Federation (the)"),
    "KR": ("South Korea", "Korea", "Republic of Korea", "Korea (South)", "Korea South"),
    "KP": ("North Korea", "DPRK", "Korea (North)", "Korea North"),
    "IR": ("Iran", "Islamic Republic of Iran"),
    "VN": ("Vietnam",),
    "TW": ("Taiwan", "Republic of China", "Chinese Taipei"),
    "CN": ("China", "People's Republic of China", "PRC", "Mainland China"),
    "HK": ("Hong Kong", "Hong Kong SAR", "Hong Kong SAR China", "Hong Kong (China)"),
    "MO": ("Macao", "Macau", "Macao SAR", "Macao SAR China"),
    "SY": ("Syria",),
    "LA": ("Laos", "Lao PDR"),
    "MD": ("Moldova",),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "TZ": ("Tanzania",),
    "CZ": ("Czech Republic",),
    "CI": ("Ivory Coast",),
    "CD": (
        "DR Congo",
        "DRC",
        "Democratic Republic of the Congo",
        "Congo (Kinshasa)",
        "Congo-Kinshasa",
        "Congo, Democratic Republic",
        "Congo, The Democratic Republic of the",
    ),
    "CG": (
        "Congo Republic",
        "Republic of the Congo",
        "Congo (Brazzaville)",
        "Congo-Brazzaville",
    ),
    "MK": ("Macedonia", "Republic of North Macedonia", "FYROM"),
    "PS": ("Palestine", "Palestinian Territory", "Palestinian Territories", "State of Palestine"),
    "SZ": ("Swaziland",),
    "TR": ("Turkey", "Turkiye"),
    "NL": ("Holland", "Netherlands (Kingdom of the)"),
    "FM": ("Micronesia", "Federated States of Micronesia"),
    "VA": ("Vatican", "Vatican City", "Vatican City State"),
    "BQ": ("Bonaire", "Caribbean Netherlands", "Bonaire, Sint Eustatius, and Saba"),
    "SX": ("Sint Maarten",),
    "MF": ("Saint Martin", "St Martin"),
    "BL": ("Saint Barthelemy", "St Barthelemy"),
    "KN": ("St Kitts and Nevis", "Saint Kitts and Nevis"),
    "LC": ("St Lucia",),
    "VC": ("St Vincent and Grenadines", "Saint Vincent and the Grenadines", "St Vincent"),
    "PM": ("St Pierre and Miquelon",),
    "SH": ("St Helena", "Saint Helena"),
    "VI": ("U.S. Virgin Islands", "US Virgin Islands", "Virgin Islands (U.S.)"),
    "VG": ("British Virgin Islands", "Virgin Islands (British)"),
    "UM": ("U.S. Outlying Islands", "US Outlying Islands"),
    "FK": ("Falkland Islands", "Falklands"),
    "CV": ("Cape Verde",),
    "BN": ("Brunei",),
    "MM": ("Burma", "Myanmar (Burma)"),
    "TL": ("East Timor",),
    "XK": ("Republic of Kosovo",),
    "AX": ("Aland", "Aland Islands"),
    "RE": ("Reunion",),
    "CW": ("Curacao",),
    "BA": ("Bosnia", "Bosnia-Herzegovina"),
    "AE": ("UAE", "U.A.E.", "Emirates"),
    "IE": ("Republic of Ireland",),
    "CK": ("Cook Islands",),
    "PN": ("Pitcairn Islands",),
    "GS": ("South Georgia and South Sandwich Islands",),
    "HM": ("Heard and McDonald Islands",),
    "WF": ("Wallis and Futuna Islands",),
    "SJ": ("Svalbard", "Svalbard and Jan Mayen Islands"),
    "IO": ("British Indian Ocean Territory (the)",),
    "SS": ("South Sudan",),
}


def country_key(value: str) -> str:
    """The matching key of a spelling (see the module notes)."""
    return _SEP.sub(" ", value.lower().translate(_FOLD)).strip()


def _variants(key: str) -> set[str]:
    out = {key}
    for k in list(out):
        if k.startswith("the "):
            out.add(k[4:])
        if k.endswith(" the"):
            out.add(k[:-4])
    for k in list(out):
        if " and " in k:
            out.add(k.replace(" and ", " "))
        if k.startswith("saint "):
            out.add("st " + k[6:])
    for k in list(out):
        if not k.isdigit() and len(k) > 3:  # names, not codes: "the netherlands"
            out.update({"the " + k, k + " the"})
    return {k for k in out if k}


@cache
def alias_table() -> dict[str, str]:
    """Every key (and raw upper-case code) → alpha-2. Raises if two countries claim
    one key (a guard for edits to :data:`ALIASES`)."""
    out: dict[str, str] = {}

    def put(key: str, code: str) -> None:
        if out.setdefault(key, code) != code:
            raise ValueError(f"country alias {key!r} maps to both {out[key]} and {code}")

    for c in iso3166.countries:
        code = c.alpha2
        put(code, code)
        names = {c.name, c.apolitical_name, c.alpha2, c.alpha3, c.numeric}
        names.update(ALIASES.get(code, ()))
        for n in names:
            for k in _variants(country_key(n)):
                put(k, code)
    put("UK", "GB")  # reserved by ISO for the United Kingdom, and what people write
    unknown = set(ALIASES) - set(out.values())
    if unknown:
        raise ValueError(f"ALIASES names codes ISO 3166 lacks: {sorted(unknown)}")
    return out


def country_code(value: str | None) -> str | None:
    """``value`` (a name or code in any spelling) as ISO 3166-1 alpha-2, or None."""
    if value is None:
        return None
    value = value.strip()
    table = alias_table()
    if _CODE.match(value):
        return table.get(value)
    return table.get(country_key(value))


# -- Ibis ---------------------------------------------------------------------------------


def country_key_expr(value: ibis.StringValue) -> ibis.StringValue:
    """The lookup key of ``value`` in the engine: the value itself when it is an
    upper-case code, else :func:`country_key`'s normalisation."""
    v = value.strip()
    norm = v.lower().translate(_ACCENTED, _PLAIN).re_replace("[^a-z0-9]+", " ").strip()
    return ibis.ifelse(v.re_search("^[A-Z]{2}$"), v, norm)


def alias_arrow() -> pa.Table:
    """``(_cc_key, _cc_code)``: the alias table as Arrow."""
    items = sorted(alias_table().items())
    return pa.table(
        {"_cc_key": [k for k, _ in items], "_cc_code": [v for _, v in items]},
        schema=pa.schema([("_cc_key", pa.string()), ("_cc_code", pa.string())]),
    )


def alias_memtable() -> ibis.Table:
    """The alias table as a small in-memory table. (The enrichment view reads it from
    a Parquet file instead: Spark does not register an in-memory table inside an
    expression that is cached, which the detections' shared intermediates are.)"""
    return ibis.memtable(alias_arrow())


def country_codes(
    t: ibis.Table, column: str = "src_country", aliases: ibis.Table | None = None
) -> ibis.Table:
    """``(_cc_raw, _cc_code)``: each distinct spelling in ``t[column]`` with its
    alpha-2 code (NULL where unknown) — a few rows where ``t`` has millions.
    ``aliases``: the alias table (``_cc_key``, ``_cc_code``) as the engine should read
    it; by default an in-memory table."""
    vals = t.select(_cc_raw=t[column]).distinct()
    vals = vals.mutate(_cc_probe=country_key_expr(vals._cc_raw))
    a = aliases if aliases is not None else alias_memtable()
    return vals.left_join(a, vals._cc_probe == a._cc_key).select("_cc_raw", "_cc_code")


def apply_codes(t: ibis.Table, codes: ibis.Table, column: str = "src_country") -> ibis.Table:
    """``t`` with ``column`` replaced by its code from :func:`country_codes` — every
    other column, the column order and the row count unchanged (a left join on a
    unique key)."""
    cols = t.columns
    j = t.left_join(codes, t[column] == codes._cc_raw)
    return j.select(*[j._cc_code.name(c) if c == column else j[c] for c in cols])


def iso_country(
    t: ibis.Table, column: str = "src_country", aliases: ibis.Table | None = None
) -> ibis.Table:
    """``t`` with ``column`` replaced by its alpha-2 code (NULL where unknown); every
    other column, the column order and the row count unchanged.

    The spellings are few where the rows are many: the key is computed for each
    *distinct* value, looked up, and joined back on the value itself — 0.16 s per
    million rows on DuckDB, where normalising every row took 1.7 s. (The enrichment
    view keeps :func:`country_codes` for the run and joins it: one small table, not a
    distinct over the table at each read.)"""
    return apply_codes(t, country_codes(t, column, aliases), column)
