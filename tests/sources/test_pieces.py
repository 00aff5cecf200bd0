"""A large plain file is read in pieces side by side (crownwatch.sources.pieces): its
rows and their line numbers must be exactly those of the whole file read in one pass."""

from __future__ import annotations

import gzip
import json
import mmap

import pytest

from crownwatch.lake import Lake
from crownwatch.sources import piece_fs, pieces
from crownwatch.sources.reader import Reader, _read_lines

# every way a line can end or be empty that the line reader numbers
AWKWARD = (
    b"first\n\n   \nsecond\r\nthird\r\n\r\nlone\rcarriage\n"
    + b"".join(b"line %d with \x01 a cut\n" % i for i in range(40))
    + b"\t\n"
    + b"".join(b"filler line %d\n" % i for i in range(40))
    + b"no newline at the end"
)


def _lines(con, path) -> list[tuple]:
    reader = Reader(con)
    try:
        return sorted(con.execute(f"SELECT * FROM {reader.lines(path)}").fetchall())
    finally:
        reader.drop_temp()


def test_pieces_number_every_line_as_the_whole_file_does(tmp_path, monkeypatch):
    path = tmp_path / "awkward.log"
    path.write_bytes(AWKWARD)
    con = Lake(tmp_path / "lake").connect()
    whole = _lines(con, path)
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    reader = Reader(con)
    found = reader.split(path)
    assert found is not None and len(found.urls) >= 2
    assert reader.records(path) == len(whole)
    assert _lines(con, path) == whole
    assert whole[-1][1] == "no newline at the end" and len(whole) == 4 + 40 + 40 + 3


def test_cuts_fall_after_a_line_break_and_cover_the_file(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(AWKWARD)
    ranges = pieces.cuts(path, 7)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(AWKWARD)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert all(AWKWARD[end - 1 : end] == b"\n" for _, end in ranges[:-1])


def test_a_long_line_is_stepped_through_not_read_whole(tmp_path, monkeypatch):
    """An attacker's file may be one line of gigabytes: the cut looks for the line's
    end a step at a time (here 7 bytes), and still lands just after it."""
    monkeypatch.setattr(pieces, "_STEP", 7)
    reads = []
    real_open = open

    class Spy:
        def __init__(self, fh):
            self.fh = fh

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def read(self, n=-1):
            reads.append(n)
            return self.fh.read(n)

    monkeypatch.setattr(pieces, "open", lambda p, m: Spy(real_open(p, m)), raising=False)
    path = tmp_path / "long.log"
    path.write_bytes(b"a\n" + b"x" * 500 + b"\n" + b"b\n" * 300)
    ranges = pieces.cuts(path, 4)
    assert ranges[0] == (0, 503) and reads and all(0 < n <= 7 for n in reads)
    assert all(path.read_bytes()[end - 1 : end] == b"\n" for _, end in ranges[:-1])


def test_a_file_of_one_line_is_not_cut(tmp_path):
    path = tmp_path / "one.log"
    path.write_bytes(b"x" * 5000 + b"\n")
    assert pieces.cuts(path, 4) == [(0, 5001)]


def test_small_and_gzip_files_are_read_whole(tmp_path, monkeypatch):
    con = Lake(tmp_path / "lake").connect()
    plain = tmp_path / "a.log"
    plain.write_bytes(AWKWARD)
    assert Reader(con).split(plain) is None  # below MIN_PIECE
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    packed = tmp_path / "a.log.gz"
    packed.write_bytes(gzip.compress(AWKWARD))
    assert Reader(con).split(packed) is None
    assert _lines(con, packed) == _lines(con, plain)


def test_pieces_are_released_with_the_files_temp_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    path = tmp_path / "a.log"
    path.write_bytes(AWKWARD)
    reader = Reader(Lake(tmp_path / "lake").connect())
    found = reader.split(path)
    names = [piece_fs.PieceFS._strip_protocol(u) for u in found.urls]
    assert all(n in piece_fs.PieceFS._ranges for n in names)
    reader.drop_temp()
    assert not any(n in piece_fs.PieceFS._ranges for n in names)


def test_pieces_are_read_only(tmp_path, monkeypatch):
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    path = tmp_path / "a.log"
    path.write_bytes(AWKWARD)
    found = Reader(Lake(tmp_path / "lake").connect()).split(path)
    with pytest.raises(PermissionError):
        piece_fs.PieceFS().open(found.urls[0], "wb")
    with piece_fs.PieceFS().open(found.urls[1], "rb") as fh:
        body = fh.read()
    assert body in AWKWARD and body.endswith(b"\n") and not AWKWARD.startswith(body)


@pytest.mark.parametrize("blank", [False, True])
def test_a_clean_json_lines_file_in_pieces_keeps_its_line_numbers(tmp_path, monkeypatch, blank):
    """The typed JSON read takes pieces too; a blank line it would skip without a word
    makes the count disagree, and the file goes line by line — numbered right either way."""
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    recs = [json.dumps({"id": f"r{i}", "n": i}) for i in range(1, 60)]
    if blank:
        recs.insert(30, "")
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(recs) + "\n")
    reader = Reader(Lake(tmp_path / "lake").connect())
    stage = reader.stage_json_lines(path, {"id": "VARCHAR", "n": "BIGINT"}, "NULL")
    got = reader.con.execute(f"SELECT e.id, raw_offset FROM {stage} ORDER BY raw_offset").fetchall()
    want = [(json.loads(r)["id"], n) for n, r in enumerate(recs, start=1) if r]
    assert got == want
    assert len(reader.split(path).urls) >= 2


def test_an_engine_error_about_a_piece_names_the_file(tmp_path):
    from crownwatch.lake import _named

    msg = 'IO Error: Maximum line size exceeded in "cwpiece://17" at line 3'
    got = _named(msg, tmp_path / "gw.jsonl", "logs/gw.jsonl")
    assert got == 'IO Error: Maximum line size exceeded in "logs/gw.jsonl" at line 3'


# Real layouts, as vendors and shippers write them (tests/fixtures, each with its
# README): every table a file gives must be the same, row for row and line for line,
# whether the file is read whole or in pieces.
REAL = [
    "okta/system_log.jsonl",
    "entra/graph_signins.jsonl",
    "entra/directory_audits.jsonl",
    "cloudtrail/events.jsonl",
    "github/audit_stream.jsonl",
    "github/malformed.jsonl",
    "shipped/okta_splunk_hec.jsonl",
    "shipped/cloudtrail_logstash.jsonl",
    "linux/auth.log",
    "linux/auth_rfc5424.log",
    "zeek/conn.log",
    "zeek/conn_malformed.log",
    "osquery/osqueryd.results.log",
    "../exfiltration/fixtures/azure_blob_diagnostic.json",  # JSON lines, one time unreadable
]


def _tables(lake: Lake) -> dict[str, list[str]]:
    import duckdb

    out = {}
    for table in sorted(p.name for p in lake.tables_dir.iterdir() if p.is_dir()):
        rel = duckdb.sql(f"SELECT * FROM {lake.table_sql(table)}")
        drop = {"time"} if table == "quarantine" else set()  # now() at ingest
        cols = [c for c in rel.columns if c not in drop and c != "raw_source"]
        out[table] = sorted(repr(r) for r in rel.select(*[f'"{c}"' for c in cols]).fetchall())
    return out


@pytest.mark.parametrize("name", REAL)
def test_a_real_file_in_pieces_gives_every_table_as_read_whole(tmp_path, monkeypatch, name):
    from tests.conftest import FIXTURES

    path = FIXTURES / name
    whole = Lake(tmp_path / "whole")
    whole.ingest([path])
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    splits = []
    for counter in ("split", "counted"):  # counted by a pass of its own, or by a scan
        spy = getattr(pieces, counter)
        monkeypatch.setattr(
            pieces, counter, lambda *a, spy=spy: splits.append(spy(*a)) or splits[-1]
        )
    cut = Lake(tmp_path / "cut")
    cut.ingest([path])
    assert any(s is not None and len(s.urls) >= 2 for s in splits), "not read in pieces"
    got, want = _tables(cut), _tables(whole)
    assert got == want and want


@pytest.mark.parametrize(
    "body",
    [
        AWKWARD.replace(b"\r", b""),  # blank, blank-looking, cut by \x01, no last newline
        b"a\x00b\n\x00\n" * 30 + b"\n\n",  # NULs; the file ends on blank lines
        b'"open quote\n' * 40 + b"#comment\n" * 40,
    ],
)
def test_a_piece_without_a_carriage_return_is_counted_as_the_line_reader_counts_it(tmp_path, body):
    path = tmp_path / "plain.log"
    path.write_bytes(body)
    ranges = pieces.cuts(path, 5)
    assert len(ranges) >= 3
    con = Lake(tmp_path / "lake").connect()
    urls = pieces._register(con, path, ranges)
    by_reader = [
        con.execute(f"SELECT count(*) FROM {_read_lines(repr(url), 'none')}").fetchall()[0][0]
        for url in urls
    ]
    assert pieces.plain_rows(path, ranges, 2) == by_reader
    assert sum(by_reader) == body.count(b"\n") + (not body.endswith(b"\n"))


def test_a_piece_holding_a_carriage_return_is_left_to_the_line_reader(tmp_path, monkeypatch):
    """A lone \\r is a line break to DuckDB and one before a \\n is not: the byte count
    does not guess which, it hands the piece back uncounted."""
    monkeypatch.setattr(pieces, "_WINDOW", mmap.ALLOCATIONGRANULARITY)  # many windows
    body = b"x" * 3 * mmap.ALLOCATIONGRANULARITY + b"\n" + b"a\r\nb\rc\n" + b"y\n" * 5000
    path = tmp_path / "crlf.log"
    path.write_bytes(body)
    ranges = [
        (0, 3 * mmap.ALLOCATIONGRANULARITY + 1),
        (3 * mmap.ALLOCATIONGRANULARITY + 1, len(body)),
    ]
    assert pieces.plain_rows(path, ranges, 2) == [1, None]


def test_a_clean_azure_json_lines_file_is_read_typed_in_pieces(tmp_path, monkeypatch):
    """Azure's storage-account archive (JSON lines) goes the typed, parallel way when
    clean — and gives what the whole file read line by line gives."""
    from tests.conftest import FIXTURES

    lines = (FIXTURES / "../exfiltration/fixtures/azure_blob_diagnostic.json").read_text()
    good = [ln for ln in lines.splitlines() if '"time": "yesterday"' not in ln]
    path = tmp_path / "PT1H.json"
    path.write_text("\n".join(good * 20) + "\n")
    whole = Lake(tmp_path / "whole")
    whole.ingest([path])
    monkeypatch.setattr(pieces, "MIN_PIECE", 64)
    staged = []
    real = Reader._stage_json_clean
    monkeypatch.setattr(
        Reader, "_stage_json_clean", lambda *a: staged.append(real(*a)) or staged[-1]
    )
    cut = Lake(tmp_path / "cut")
    (res,) = cut.ingest([path])
    assert staged and staged[0] is not None, "not read by the typed path"
    assert res.routed_rows == len(good) * 20 and res.quarantined == 0
    assert _tables(cut) == _tables(whole)
