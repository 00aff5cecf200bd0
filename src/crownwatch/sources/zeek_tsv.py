"""Zeek's TSV logs (``LogAscii``), read by their ``#fields`` header.

::

    #separator \\x09
    #set_separator	,
    #empty_field	(empty)
    #unset_field	-
    #path	conn
    #open	2026-03-02-10-00-00
    #fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	…
    #types	time	string	addr	port	addr	port	enum	string	interval	…
    1772445600.118133	CHhAvVGS1DHFjwGM9	10.20.1.15	51514	198.51.100.24	443	tcp	ssl	0.312…
    #close	2026-03-02-11-00-00

Two ways through a file, one verdict:

* **Fast** — a single log with the standard markers (tab, ``,``, ``(empty)``, ``-``),
  its header at the top and at most a ``#close`` line after it, plain ASCII with no
  blank lines (what Zeek writes): DuckDB's CSV reader splits the tab-separated
  fields straight into columns named by position in ``#fields`` (about three times
  faster than splitting each line in SQL), its row number is the line number (a
  large plain log is read in pieces side by side, :mod:`crownwatch.sources.pieces`),
  and a ``conn`` log goes to the lake with nothing materialised — the quarantine
  reads the file again only when a record was rejected (see ``Parsed``).
  One cheap pass over the bytes first (:func:`_scan`) makes sure the file is such a
  file, so the CSV reader can neither fail half-way nor number lines wrongly, and
  counts the lines before each piece on the way.
* **Line by line** — anything else (several logs run together, other markers,
  stray ``#`` lines, blank lines, bytes that are not ASCII, a cut gzip): the reader's
  line table, each line split on its block's separator (given as a parameter: a
  separator is a log value), every block read by its own header, staged once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from crownwatch.sources import pieces, zeek
from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.reader import (
    MAX_LINE,
    READ_BUFFER,
    Reader,
    _sql_str,
    is_gzip,
    tolerant_chunks,
)
from crownwatch.tables.quarantine import RECORD_LIMIT

STANDARD = ("\t", ",", "(empty)", "-")  # separator, set separator, empty, unset
_DIRECTIVES = (
    "set_separator",
    "empty_field",
    "unset_field",
    "path",
    "open",
    "fields",
    "types",
    "close",
)

# The Zeek fields each unified column is read from, per log kind.
_NAME_FIELD = {"ssl": "server_name", "http": "host", "dns": "query"}


@dataclass(frozen=True)
class Block:
    """One log's header: the records after its ``#fields`` line (up to the next one)
    are read by it."""

    start: int  # line number of the #fields line
    fields: tuple[str, ...]
    path: str | None
    separator: str
    set_separator: str
    empty: str
    unset: str

    @property
    def kind(self) -> str:
        """``conn``/``ssl``/``http``/``dns`` or ``other``: ``#path``, or the fields when
        a header has none."""
        if self.path is not None:
            return self.path if self.path in zeek.KINDS else "other"
        f = set(self.fields)
        if "conn_state" in f or "orig_pkts" in f:
            return "conn"
        if "server_name" in f or "cipher" in f:
            return "ssl"
        if "query" in f and ("qtype" in f or "qtype_name" in f):
            return "dns"
        if "method" in f and "host" in f:
            return "http"
        return "other"

    @property
    def standard(self) -> bool:
        return (self.separator, self.set_separator, self.empty, self.unset) == STANDARD

    def index(self, name: str) -> int | None:
        """1-based position of a field, or None when the log does not have it."""
        try:
            return self.fields.index(name) + 1
        except ValueError:
            return None


def _unescape(value: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def read_header(meta: list[tuple[int, str]]) -> tuple[list[Block], list[int]]:
    """The blocks of a file from its ``#`` lines (``(line number, text)`` in order), and
    the line numbers of those that are header directives (not records)."""
    sep, set_sep, empty, unset, path = *STANDARD, None
    blocks: list[Block] = []
    known: list[int] = []
    for off, text in meta:
        if text.startswith("#separator "):
            sep = _unescape(text[len("#separator ") :].strip()) or sep
            known.append(off)
            continue
        key, _, value = text[1:].partition(sep)
        if key not in _DIRECTIVES:
            continue
        known.append(off)
        if key == "set_separator":
            set_sep = _unescape(value)
        elif key == "empty_field":
            empty = _unescape(value)
        elif key == "unset_field":
            unset = _unescape(value)
        elif key == "path":
            path = value
        elif key == "fields":
            blocks.append(Block(off, tuple(value.split(sep)), path, sep, set_sep, empty, unset))
    return blocks, known


# -- the fields as SQL ------------------------------------------------------------------


class _Columns:
    """SQL for a block's fields: over the CSV reader's ``c1…cN`` (fast) or over ``f``,
    the line split by the separator (line by line, markers as parameters)."""

    def __init__(self, block: Block, fast: bool):
        self.block = block
        self.fast = fast
        self.unset = "'-'" if fast else "$unset"
        self.empty = "'(empty)'" if fast else "$empty"
        self.set_sep = "','" if fast else "$set_sep"

    def cell(self, i: int) -> str:
        return f"c{i}" if self.fast else f"f[{i}]"

    def raw(self, name: str) -> str | None:
        """The field's text, NULL where unset; None when the log has no such field."""
        i = self.block.index(name)
        return None if i is None else f"nullif({self.cell(i)}, {self.unset})"

    def text(self, name: str) -> str:
        r = self.raw(name)
        return (
            "NULL::VARCHAR" if r is None else f"CASE WHEN {r} = {self.empty} THEN '' ELSE {r} END"
        )

    def number(self, name: str, typ: str) -> str:
        r = self.raw(name)
        return f"NULL::{typ}" if r is None else f"try_cast({r} AS {typ})"

    def flag(self, name: str) -> str:
        r = self.raw(name)
        return (
            "NULL::BOOLEAN" if r is None else f"CASE {r} WHEN 'T' THEN true WHEN 'F' THEN false END"
        )

    def values(self, name: str) -> str:
        """A set or vector field as a list (``(empty)``: no element)."""
        r = self.raw(name)
        if r is None:
            return "NULL::VARCHAR[]"
        return f"CASE WHEN {r} = {self.empty} THEN []::VARCHAR[] ELSE string_split({r}, {self.set_sep}) END"

    def shape_checks(self) -> list[tuple[str, str]]:
        n = len(self.block.fields)
        if self.fast:
            return [
                (f"c{n} IS NULL", "truncated record: fewer fields than its #fields header names"),
                (f"c{n + 1} IS NOT NULL", "more fields than its #fields header names"),
            ]
        return [
            (f"len(f) < {n}", "truncated record: fewer fields than its #fields header names"),
            (f"len(f) > {n}", "more fields than its #fields header names"),
        ]


def _unified(block: Block, fast: bool, records: str) -> str:
    """SELECT of :data:`zeek.UNIFIED` over the block's records (a FROM source with
    ``raw_offset`` and, fast, ``c1…cN+1`` / line by line, ``text`` and ``f``).

    Each checked field is parsed once, in the first layer, and both the verdict and
    the value read that (a parse per use was a fifth of the fast path's time)."""
    c = _Columns(block, fast)
    kind = block.kind
    ids = {"id.orig_h": "_oh", "id.orig_p": "_op", "id.resp_h": "_rh", "id.resp_p": "_rp"}
    raw = {"ts": "_ts_text"} if c.raw("ts") else {}
    raw |= {name: col for name, col in ids.items() if c.raw(name)}
    typed = {"ts": "_ts", "id.orig_p": "_op_n", "id.resp_p": "_rp_n"}
    rules = c.shape_checks() + zeek.checks(raw, typed)
    if not fast:
        rules = [
            ("raw_offset < 0", None),
            ("starts_with(text, '#')", "not a Zeek header line"),
            *rules,
        ]
    reject = (
        "CASE "
        + " ".join(
            f"WHEN {cond} THEN {'substr(text, 2)' if why is None else _sql_str(why)}"
            for cond, why in rules
        )
        + " END"
    )
    if fast:
        n = len(block.fields)
        text = "concat_ws(chr(9), " + ", ".join(f"c{i}" for i in range(1, n + 2)) + ")"
    else:
        text = "text"
    name_field = _NAME_FIELD.get(kind)

    def cell(name: str, typ: str = "VARCHAR") -> str:
        return c.raw(name) or f"NULL::{typ}"

    return f"""(
        WITH v AS (
            SELECT *, {cell("ts")} AS _ts_text, try_cast({cell("ts")} AS DOUBLE) AS _ts_num,
                {cell("id.orig_h")} AS _oh, {cell("id.orig_p")} AS _op,
                {cell("id.resp_h")} AS _rh, {cell("id.resp_p")} AS _rp
            FROM {records}
        ), w AS (
            SELECT *, {zeek.epoch_or_iso("_ts_text", "_ts_num")} AS _ts,
                {zeek.port("_op")} AS _op_n, {zeek.port("_rp")} AS _rp_n
            FROM v
        ), r AS (
            SELECT *, {reject} AS _reject FROM w
        )
        SELECT raw_offset, '{kind}' AS kind, _ts AS ts,
            {c.text("uid")} AS uid,
            _oh AS orig_h, _op_n AS orig_p, _rh AS resp_h, _rp_n AS resp_p,
            {c.text("proto")} AS proto, {c.number("ip_proto", "INTEGER")} AS ip_proto,
            {c.text("service")} AS service, {c.number("duration", "DOUBLE")} AS duration,
            {c.number("orig_bytes", "BIGINT")} AS orig_bytes,
            {c.number("resp_bytes", "BIGINT")} AS resp_bytes,
            {c.text("conn_state")} AS conn_state,
            {c.flag("local_orig")} AS local_orig, {c.flag("local_resp")} AS local_resp,
            {c.text("history")} AS history,
            {c.number("orig_pkts", "BIGINT")} AS orig_pkts,
            {c.number("resp_pkts", "BIGINT")} AS resp_pkts,
            {c.text("community_id")} AS community_id,
            {c.text(name_field) if name_field else "NULL::VARCHAR"} AS name,
            {c.values("answers") if kind == "dns" else "NULL::VARCHAR[]"} AS answers,
            {c.values("TTLs") if kind == "dns" else "NULL::VARCHAR[]"} AS ttls,
            _reject,
            CASE WHEN _reject IS NOT NULL THEN left({text}, {RECORD_LIMIT}) END AS _record
        FROM r
    )"""


# -- the fast way ---------------------------------------------------------------------------


# Lines the fast way takes: well inside the CSV reader's limit (a Zeek record is a few
# hundred bytes), so that it can never refuse the file half-way through the write.
_LONGEST = MAX_LINE // 2


@dataclass(frozen=True)
class _Scanned:
    lines: int  # lines in the file, a last one without its newline included
    meta: int  # lines starting with '#'
    last: bytes  # the last line
    before: tuple[int, ...]  # lines before each of the offsets the scan was given


# NUL; CR, which DuckDB's reader also takes for a line break (its row numbers would
# drift from the lines counted here); and 0x01, where the line reader (reader.lines)
# cuts a line: a log holding one is read line by line, so both ways give one verdict
_REFUSED = (b"\x00", b"\r", b"\x01")
_CHUNK = 1 << 24


def _scan(path: Path, marks: Sequence[int] = ()) -> _Scanned | None:
    """Counts for the fast way, or None when the file is not plain enough for it:
    bytes that are not ASCII (Zeek escapes everything else as ``\\xNN``), NUL, CR or 0x01,
    a blank line, a line longer than the reader takes, a cut or corrupt gzip.

    ``marks`` are byte offsets just after a ``\\n`` (where pieces start): the lines
    before each are counted on the way, so that a file read in pieces needs no
    count pass of its own. The line ends are found once per chunk, vectorised
    (searching for ``\\n\\n`` and ``\\n#`` with bytes methods took 2.7 of the scan's
    4.5 s at 10M records)."""
    lines = meta = 0
    prev = b"\n"
    run = 0  # length of the line being read
    tail = b""
    offset = 0  # of the chunk in the (decompressed) file
    todo = sorted(marks)
    before: list[int] = []
    try:
        for chunk in tolerant_chunks(path, _CHUNK):
            if not chunk.isascii() or any(c in chunk for c in _REFUSED):
                return None
            ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            if (prev == b"\n" and chunk[:1] == b"\n") or bool((np.diff(ends) == 1).any()):
                return None  # a blank line
            while todo and todo[0] <= offset + len(chunk):
                before.append(lines + int(np.searchsorted(ends, todo.pop(0) - offset)))
            lines += len(ends)
            if b"#" in chunk:  # rare past the header: count the '#' lines only then
                meta += chunk.count(b"\n#") + (prev == b"\n" and chunk[:1] == b"#")
            if not len(ends):
                run += len(chunk)
            else:
                if run + int(ends[0]) > _LONGEST:
                    return None
                run = len(chunk) - int(ends[-1]) - 1
            if run > _LONGEST:
                return None
            prev = chunk[-1:]
            offset += len(chunk)
            tail = chunk[-65536:] if len(chunk) >= 65536 else (tail + chunk)[-65536:]
    except (OSError, EOFError, zlib.error):
        return None
    if prev != b"\n":
        lines += 1
    before += [lines] * len(todo)  # marks past the end: every line is before them
    return _Scanned(lines, meta, tail.rstrip(b"\n").rsplit(b"\n", 1)[-1], tuple(before))


def _head_meta(head: str) -> list[tuple[int, str]]:
    """The ``#`` lines the file starts with, numbered (1-based)."""
    out = []
    for n, line in enumerate(head.lstrip("\ufeff").split("\n"), start=1):
        if not line.startswith("#"):
            break
        out.append((n, line))
    return out


def _fast_records(reader: Reader, path: Path, n: int) -> str:
    """The file's data lines, split by DuckDB's CSV reader into ``c1…c{n+1}`` (the
    extra column catches a line with more fields than the header names), numbered
    by their line — a large plain log in pieces read side by side
    (:meth:`Reader.numbered`)."""
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, n + 2)) + "}"
    compression = "gzip" if is_gzip(path) else "none"
    return reader.numbered(
        path,
        lambda src, number: (
            f"""SELECT {number} AS raw_offset, * EXCLUDE (ordinality)
            FROM read_csv({src}, columns={cols}, header=false, delim='\t',
                quote='', escape='', auto_detect=false, strict_mode=false, null_padding=true,
                compression='{compression}', max_line_size={MAX_LINE},
                buffer_size={READ_BUFFER}) WITH ORDINALITY
            WHERE NOT starts_with(coalesce(c1, ''), '#')"""
        ),
    )


def _fast_block(reader: Reader, path: Path, head: str) -> tuple[Block, int] | None:
    """The file's one header and its record count, when the fast way can read it; a
    large plain file is cut into pieces, numbered from the scan's own counts."""
    meta = _head_meta(head)
    blocks, known = read_header(meta)
    if len(blocks) != 1 or len(known) != len(meta) or not blocks[0].standard:
        return None
    block = blocks[0]
    if not block.fields or len(set(block.fields)) != len(block.fields):
        return None
    ranges = None if is_gzip(path) else pieces.plan(reader.con, path)
    scanned = _scan(path, [start for start, _ in ranges or ()])
    if scanned is None:
        return None
    header = len(meta)
    if scanned.meta != header and not (
        scanned.meta == header + 1 and scanned.last.startswith(b"#close")
    ):
        return None
    if ranges is not None:
        found = pieces.counted(reader.con, path, ranges, list(scanned.before), scanned.lines)
        reader.use_split(path, found)
    return block, scanned.lines - scanned.meta


def parse(reader: Reader, path: Path, head: str) -> Parsed:
    fast = _fast_block(reader, path, head)
    if fast is None:
        return _line_by_line(reader, path)
    block, records = fast
    n_fields = len(block.fields)
    unified = _unified(block, True, _fast_records(reader, path, n_fields))
    if block.kind == "conn":
        # the common case, at scale: one pass, nothing held
        n = zeek.normalised(unified)
        rows = reader.con.sql(f"SELECT {zeek.CONN_COLUMNS} FROM {n} WHERE _reject IS NULL")
        quarantine = reader.con.sql(
            f"""SELECT now() AS time, '{zeek.NAME}' AS source, _reject AS reason,
                       _record AS record, {_sql_str(str(path))} AS raw_source, raw_offset,
                       uid AS raw_id
                FROM {unified} WHERE _reject IS NOT NULL"""
        )
        return Parsed(
            records=records,
            routed={"network_activity": rows},
            quarantine=quarantine,
        )
    stage = reader.name("zeek")
    reader.con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {unified}")
    return zeek.relations(reader, stage, path, {block.kind})


# -- line by line ---------------------------------------------------------------------------


def _line_by_line(reader: Reader, path: Path) -> Parsed:
    con = reader.con
    try:
        lines, held = reader.lines(path), False
        meta = _meta_lines(con, lines)
    except duckdb.Error:
        lines, held = reader.materialise_lines(path), True
        meta = _meta_lines(con, lines)
    blocks, known = read_header(meta)
    if not blocks:
        raise SourceError("a Zeek TSV log without a #fields header: its columns are unknown")
    if len(blocks) > 1 and not held:  # one read of the file, not one per block
        table = reader.name("zeek_lines")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {lines}")
        lines = table
    stage = reader.name("zeek")
    cols = ", ".join(f'"{k}" {t}' for k, t in zeek.UNIFIED.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} ({cols})")
    # records before the first header (and the reader's markers for unreadable lines)
    con.execute(
        f"""INSERT INTO {stage} (raw_offset, kind, _reject, _record)
            SELECT raw_offset, 'other',
                   CASE WHEN raw_offset < 0 THEN substr(text, 2)
                        WHEN starts_with(text, '#') THEN 'not a Zeek header line'
                        ELSE 'no #fields header before this record' END,
                   left(text, {RECORD_LIMIT})
            FROM {lines} WHERE raw_offset < $hi AND NOT list_contains($known, raw_offset)""",
        {"hi": blocks[0].start, "known": known},
    )
    for block, nxt in zip(blocks, [*blocks[1:], None], strict=True):
        split = f"""(SELECT raw_offset, text, string_split(text, $sep) AS f FROM {lines}
                     WHERE raw_offset > $lo AND raw_offset < $hi
                       AND NOT list_contains($known, raw_offset))"""
        sql = f"INSERT INTO {stage} SELECT * FROM {_unified(block, False, split)}"
        params = {
            "sep": block.separator,
            "set_sep": block.set_separator,
            "empty": block.empty,
            "unset": block.unset,
            "lo": block.start,
            "hi": nxt.start if nxt else (1 << 62),
            "known": known,
        }
        # DuckDB refuses a named parameter the statement does not use
        con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    return zeek.relations(reader, stage, path, {b.kind for b in blocks})


def _meta_lines(con, lines: str) -> list[tuple[int, str]]:
    return con.execute(
        f"SELECT raw_offset, text FROM {lines} WHERE starts_with(text, '#') ORDER BY raw_offset"
    ).fetchall()
