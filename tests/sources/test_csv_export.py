"""CSV exports read by header (crownwatch.sources.csv_export): every way a line may be
quoted splits into the fields Python's own csv module reads from it; a broken or short
row is refused with its reason, a repeated header is skipped."""

from __future__ import annotations

import csv

import duckdb

from crownwatch.sources import csv_export
from crownwatch.sources.reader import Reader

LINES = [
    "a,b,c",  # no quotes: split on commas
    '"a","b, c",""',  # quoted field by field: split on ","
    '"x ""q""","y","z"',  # a doubled quote: the grammar
    '"a"",""b","c","d"',  # a value holding "," itself: must not split there
    'plain,"quoted, comma",',  # quoted only where needed, a blank last field
]


def test_fields_match_pythons_csv_reader(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "One,Two,Three\n" + "\n".join(LINES) + '\n"broken,x,y\n1,2\n"One","Two","Three"\n'
    )
    con = duckdb.connect()
    header = csv_export.read_header(path)
    cols = {"one": ("one",), "two": ("TWO",), "three": ("Three",)}
    stage, skipped = csv_export.stage(Reader(con), path, header, cols, "NULL")
    got = con.execute(
        f"SELECT raw_offset, one, two, three, _reject FROM {stage} ORDER BY 1"
    ).fetchall()
    want = [
        (n, *[v or None for v in next(csv.reader([line]))], None)
        for n, line in enumerate(LINES, start=2)
    ]
    assert got[: len(LINES)] == want
    assert got[len(LINES) :] == [
        (7, None, None, None, "not a CSV row (unbalanced quotes)"),
        (8, "1", "2", None, "2 fields where the header names 3"),
    ]
    assert skipped == 1  # the header again (exports run together): skipped, not a row
