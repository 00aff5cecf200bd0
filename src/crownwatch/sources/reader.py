"""Reading raw files into the engine: the shared plumbing under every source.

Every source ends up with a *record table* in DuckDB — ``(raw_offset BIGINT, text
VARCHAR)``, one row per input record — and then a *stage*: the record parsed once
(``json_transform`` into just the fields the source needs) plus a rejection reason.
The source's normalising SELECTs read the stage; the quarantine reads the rejects.

Why this shape: DuckDB's ``read_csv`` splits lines at several hundred MB/s and keeps
their order, so line numbers come for free and one bad line never spoils the file
(``read_json`` would either stop at it or skip it without telling us which it was).
When the fast reader refuses a file (over-long lines, odd bytes, a truncated gzip
member) we fall back to a streaming Python reader that quarantines what it cannot
decode and keeps every good line.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa

from crownwatch.sources import pieces
from crownwatch.sources.base import SourceError
from crownwatch.tables.quarantine import RECORD_LIMIT

GZIP_MAGIC = b"\x1f\x8b"
_BATCH = 200_000
#: the longest line a record may be (DuckDB's ``max_line_size`` on the fast path)
MAX_LINE = 16 << 20
#: DuckDB's CSV read buffer: two of the longest lines. Left to itself DuckDB sizes it
#: from ``max_line_size`` (256 MiB here), and a 446 MB file in two or three buffers
#: gives its threads little to share: counting 10M lines took 3.9 s against 1.8 s.
READ_BUFFER = 2 * MAX_LINE


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def head_text(path: Path, size: int = 4096) -> str:
    """First ``size`` bytes of the decompressed file as text, for sniffing."""
    try:
        with open(path, "rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                fh.seek(0)
                raw = fh.read(size)
            else:
                # a decompressor that returns what it can: a truncated .gz still sniffs
                fh.seek(0)
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                raw = b""
                while len(raw) < size and (chunk := fh.read(65536)):
                    raw += d.decompress(chunk, size - len(raw))
    except (OSError, zlib.error):
        return ""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace")


#: the largest JSON document crownwatch reads whole (DuckDB's ``maximum_object_size``)
DOCUMENT_LIMIT = 1 << 30


def document_buffer(path: Path) -> int:
    """The ``maximum_object_size`` to read ``path`` as one JSON document with.

    DuckDB allocates a read buffer of twice this size up front, whatever the file
    holds, so a fixed 1 GiB asks 2 GiB for a 2 KB CloudTrail file and fails under
    any ``CROWNWATCH_MEMORY_LIMIT`` below that. The buffer is fitted to the file
    instead: its size, or for gzip the uncompressed size in the trailer (ISIZE,
    modulo 4 GiB and only the last member's, hence a hint: :func:`read_document`
    retries at the limit when the hint was short)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(2) == GZIP_MAGIC:
                fh.seek(-4, 2)
                size = int.from_bytes(fh.read(4), "little")
            else:
                size = fh.seek(0, 2)
    except OSError:
        return DOCUMENT_LIMIT
    return min(DOCUMENT_LIMIT, max(16 << 20, size + 1))  # 16 MiB: DuckDB's floor


def read_document(con: duckdb.DuckDBPyConnection, path: Path, sql) -> None:
    """Run ``sql(buffer)``, a statement that reads ``path`` whole with
    ``maximum_object_size=buffer``: first with the buffer fitted to the file, then,
    if that was short (a gzip hint), at :data:`DOCUMENT_LIMIT`.

    Raises :class:`SourceError` when DuckDB cannot read the document — also when the
    buffer it asks for does not fit the memory bound: DuckDB wants twice the document
    (or twice a cut gzip's garbage size hint) up front, and the salvage reader, which
    walks the document record by record, keeps its complete records instead."""
    fitted = document_buffer(path)
    for buffer in dict.fromkeys((fitted, DOCUMENT_LIMIT)):  # one try when fitted is the limit
        try:
            con.execute(sql(buffer))
            return
        except duckdb.OutOfMemoryException as exc:
            raise SourceError(
                f"too large to read as one document within the memory bound: {_first_line(exc)}"
            ) from exc
        except duckdb.Error as exc:
            if buffer < DOCUMENT_LIMIT and "maximum_object_size" in str(exc):
                continue
            raise SourceError(f"not a readable JSON document: {_first_line(exc)}") from exc


PARQUET_MAGIC = b"PAR1"


def parquet_columns(
    path: Path, con: duckdb.DuckDBPyConnection | None = None
) -> list[tuple[str, str]] | None:
    """``(name, DuckDB type)`` of each column of Parquet file ``path``, in the file's
    order — read from its footer alone — or None when it is no readable Parquet file
    (a cut upload, a crafted footer). ``con``: the connection to ask (default: a
    throwaway one, for sniffing before any reader exists)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != PARQUET_MAGIC:
                return None
        own = con is None
        con = duckdb.connect() if own else con
        try:
            cols = con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($p))",
                {"p": str(path)},
            ).fetchall()
        finally:
            if own:
                con.close()
    except (OSError, duckdb.Error):
        return None
    return [(str(n), str(t)) for n, t in cols]


def _read_lines(src: str, compression: str) -> str:
    """DuckDB's CSV reader splitting ``src`` (a SQL literal) into lines, one column.

    \\x01 never occurs unescaped in JSON and almost never in syslog; a line that
    holds one is cut there and, being broken, ends up quarantined. Blank lines are
    rows too (NULL), so the reader's row number is the line number."""
    return f"""read_csv({src}, columns={{'line': 'VARCHAR'}}, header=false, delim='\x01',
        quote='', escape='', auto_detect=false, strict_mode=false, null_padding=true,
        compression='{compression}', max_line_size={MAX_LINE},
        buffer_size={READ_BUFFER})"""


# A line that starts with a visible character is not blank: trim() only runs on the
# others (it was a third of a bare numbered read).
_NOT_BLANK = "line IS NOT NULL AND (ascii(line) > 32 OR trim(line) <> '')"


def _sql_str(value: str) -> str:
    """A SQL string literal for a *file path we chose or the user passed*.

    DuckDB table functions need a literal path; log values never come here."""
    return "'" + value.replace("'", "''") + "'"


class Reader:
    """Owns one DuckDB connection and the temp tables for the file being parsed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lake_root: Path | None = None):
        self.con = con
        #: the lake being written, for sources that need what lives with it (the
        #: hash salt of :mod:`crownwatch.lake_secret`); None outside a lake
        self.lake_root = lake_root
        self._n = itertools.count()
        self._splits: dict[Path, pieces.Split | None] = {}

    def name(self, prefix: str) -> str:
        """A fresh temp-table name for this file (dropped by :meth:`drop_temp`)."""
        return f"{prefix}_{next(self._n)}"

    # -- record tables ---------------------------------------------------------------

    def lines(self, path: Path) -> str:
        """Non-blank lines of a text file (gzip or not) as ``(raw_offset, text)``.

        Returns a FROM-clause source, not a table: the fast path streams the file
        through DuckDB's CSV reader straight into whatever consumes it, so the raw
        text is never held in memory, and a large plain file is read on every core
        (:meth:`numbered`). ``raw_offset`` is the 1-based line number in the
        decompressed file. Consumers call :meth:`materialise_lines` when the fast
        path fails."""
        compression = "gzip" if is_gzip(path) else "none"
        return self.numbered(
            path,
            lambda src, number: (
                f"""SELECT {number} AS raw_offset, line AS text
                FROM {_read_lines(src, compression)} WITH ORDINALITY WHERE {_NOT_BLANK}"""
            ),
        )

    def numbered(self, path: Path, select: Callable[[str, str], str]) -> str:
        """A FROM-clause source of ``select(source, number)`` — a SELECT that reads
        the file ``source`` (a SQL literal) ``WITH ORDINALITY`` and gives each row
        the line number ``number`` (SQL over ``ordinality``) — run over the pieces of
        a large plain file side by side (:mod:`crownwatch.sources.pieces`), or over
        the whole file."""
        found = self.split(path)
        if found is None:
            return f"({select(_sql_str(str(path)), 'ordinality')})"
        return (
            "("
            + " UNION ALL ".join(
                f"({select(_sql_str(url), f'({base} + ordinality)')})"
                for url, base in zip(found.urls, found.bases, strict=True)
            )
            + ")"
        )

    def split(self, path: Path) -> pieces.Split | None:
        """``path`` cut into pieces and counted (once per file), or None when it is
        read whole (gzip, small, or refused by the line reader)."""
        if path not in self._splits:
            self._splits[path] = None
            if not is_gzip(path):
                self._splits[path] = pieces.split(
                    self.con,
                    path,
                    # count(*) alone: a test on each line's text would double the pass
                    lambda url: f"SELECT count(*) FROM {_read_lines(_sql_str(url), 'none')}",
                )
        return self._splits[path]

    def use_split(self, path: Path, found: pieces.Split) -> None:
        """Read ``path`` in the pieces ``found`` (counted by the caller) from now on."""
        if (old := self._splits.get(path)) is not None:
            pieces.release(old)
        self._splits[path] = found

    def records(self, path: Path) -> int:
        """How many non-blank lines :meth:`lines` gives (raises ``duckdb.Error``
        when the fast reader refuses the file)."""
        return self.count(self.lines(path))

    def materialise_lines(self, path: Path) -> str:
        """The forgiving slow path of :meth:`lines`, as a temp table."""
        name = self.name("lines")
        self._lines_python(path, name)
        return name

    def _lines_python(self, path: Path, name: str) -> None:
        """Slow, forgiving line reader: survives truncated gzip and invalid UTF-8.

        A line longer than :data:`MAX_LINE` (a megabyte-long attacker record, a
        gigabyte of NULs at the end of a gzip) is not kept in memory: it becomes one
        marker record that the stage quarantines ("line N is longer than …"), and
        reading goes on at the next newline."""
        offsets: list[int] = []
        texts: list[str] = []
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (raw_offset BIGINT, text VARCHAR)")

        def flush() -> None:
            if offsets:
                batch = pa.table({"raw_offset": pa.array(offsets, pa.int64()), "text": texts})
                self.con.register("_batch", batch)
                self.con.execute(f"INSERT INTO {name} SELECT * FROM _batch")
                self.con.unregister("_batch")
                offsets.clear()
                texts.clear()

        def keep(n: int, raw: bytes | None, length: int) -> None:
            if raw is None:
                # A stand-in the stages quarantine with this reason: a negative offset
                # and a NUL-led text mark one (-1 a break in the file, -N line N).
                offsets.append(-n)
                texts.append(
                    f"\x00line {n} is {length:,} bytes, longer than the "
                    f"{MAX_LINE >> 20} MiB a record may be: not read"
                )
            elif raw.strip():
                # invalid UTF-8 stays visible (U+FFFD) and then fails the format's checks
                offsets.append(n)
                texts.append(raw.rstrip(b"\r").decode("utf-8", errors="replace"))

        n = 0
        pending = bytearray()
        skipping = 0  # > 0: inside an over-long line, this many bytes so far
        broken: str | None = None
        try:
            for chunk in tolerant_chunks(path):
                pos = 0
                while pos < len(chunk):
                    nl = chunk.find(b"\n", pos)
                    end = len(chunk) if nl < 0 else nl
                    if skipping:
                        skipping += end - pos
                    elif len(pending) + end - pos > MAX_LINE:
                        skipping = len(pending) + end - pos
                        pending.clear()
                    else:
                        pending += chunk[pos:end]
                    if nl < 0:
                        break
                    n += 1
                    keep(n, None if skipping else bytes(pending), skipping)
                    pending.clear()
                    skipping = 0
                    pos = nl + 1
                if len(offsets) >= _BATCH:
                    flush()
        except (OSError, EOFError, zlib.error) as exc:
            broken = str(exc)
        if pending.strip() or skipping:
            n += 1
            keep(n, None if skipping else bytes(pending), skipping)
        flush()
        if broken:
            self.con.execute(
                f"INSERT INTO {name} VALUES (?, ?)",
                [-1, f"\x00file truncated or corrupt after line {n}: {broken}"],
            )

    def json_document(self, path: Path, records_at: str | None) -> str:
        """Records of one JSON document as ``(raw_offset, text)``.

        ``records_at`` is the key of the array that holds the records
        (``Records`` for CloudTrail, ``value`` for Graph) or None for a top-level array.
        ``raw_offset`` is the 0-based index in that array.

        The array is streamed in bounded pieces where its shape allows
        (:mod:`crownwatch.sources.json_array`); otherwise the document is read whole."""
        name = self.name("doc")
        if self._stream_array(path, records_at, name):
            return name
        compression = "gzip" if is_gzip(path) else "none"
        pointer = "$" if records_at is None else "$." + records_at
        read_document(
            self.con,
            path,
            lambda buffer: (
                f"""CREATE OR REPLACE TEMP TABLE {name} AS
            WITH d AS (
                SELECT from_json(json_extract(json, '{pointer}'), '["JSON"]') AS recs
                FROM read_json_objects({_sql_str(str(path))}, format='unstructured',
                    compression='{compression}', maximum_object_size={buffer})
            )
            SELECT generate_subscripts(recs, 1) - 1 AS raw_offset,
                   unnest(recs)::VARCHAR AS text
            FROM d"""
            ),
        )
        return name

    def _stream_array(self, path: Path, records_at: str | None, name: str) -> bool:
        """Read the records array into table ``name`` element by element; False (and
        nothing left behind) when the document's shape or content does not allow it."""
        from crownwatch.sources.json_array import cut_array

        if records_at is None:
            array, scratch = path, None
        else:
            ((spill,),) = self.con.execute("SELECT current_setting('temp_directory')").fetchall()
            folder = Path(spill) if spill else None
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            array = scratch = cut_array(path, records_at, folder)
            if array is None:
                return False
        try:
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {name} AS
                SELECT ordinality - 1 AS raw_offset, json::VARCHAR AS text
                FROM read_json_objects($path, format='array', compression=$compression)
                    WITH ORDINALITY""",
                {
                    "path": str(array),
                    "compression": "gzip" if scratch is None and is_gzip(path) else "none",
                },
            )
            return True
        except duckdb.OutOfMemoryException:
            raise
        except (duckdb.Error, UnicodeDecodeError):
            # UnicodeDecodeError: DuckDB's message quoting the file's invalid bytes
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            return False
        finally:
            if scratch is not None:
                scratch.unlink(missing_ok=True)

    # -- staging ---------------------------------------------------------------------

    def stage_json_lines(self, path: Path, structure: dict, reject_sql: str) -> str:
        """The stage of a JSON-lines file (see :meth:`stage_json`), by the fastest
        path that keeps every record and its line number.

        1. *Clean file*: DuckDB's ``read_json`` parses straight into ``structure``
           in parallel — about twice as fast as splitting lines and running
           ``json_transform`` over each. It refuses the whole file at the first
           malformed line or mistyped field, it cannot keep the raw text of a
           record our own checks reject, and it skips blank lines without saying
           where they were (so its record numbers are line numbers only if the
           file has none: the newlines are counted to make sure). Any of these
           sends the file down path 2 instead — a dirty file pays for both, a
           clean one (the common case) for one.
        2. *Line by line*: ``read_csv`` splits lines, ``try(json_transform)``
           parses each, and every bad record is kept for the quarantine with its
           text — or, when even the line splitter refuses the file, the forgiving
           Python reader.

        ``raw_offset`` is the 1-based line number either way."""
        fast = self._stage_json_clean(path, structure, reject_sql)
        if fast is not None:
            return fast
        try:
            stage = self.stage_json(self.lines(path), structure, reject_sql)
            if self._reached_the_end(path, stage):
                return stage
            self.con.execute(f"DROP TABLE {stage}")
        except duckdb.Error:
            pass
        return self.stage_json(self.materialise_lines(path), structure, reject_sql)

    def _reached_the_end(self, path: Path, stage: str) -> bool:
        """Whether the line splitter read the whole file: its last record must be the
        file's last non-blank line. (DuckDB's CSV reader refuses a line over its
        ``max_line_size`` — but a last line of a gigabyte, such as NULs padding a
        gzip, it has been seen to drop without a word.)"""
        counted = _line_count(path)
        if counted is None:
            return False
        ((last,),) = self.con.execute(f"SELECT max(raw_offset) FROM {stage}").fetchall()
        return (last or 0) == counted[1]

    def _stage_json_clean(self, path: Path, structure: dict, reject_sql: str) -> str | None:
        """Path 1 of :meth:`stage_json_lines`: the stage's name, or None (nothing
        left behind) when the file is not clean."""
        name = self.name("stage")
        columns = (
            "{"
            + ", ".join(f"{_sql_str(k)}: {_sql_str(_duck_type(v))}" for k, v in structure.items())
            + "}"
        )
        fields = ", ".join(f"{_sql_str(k)}: r.{_ident(k)}" for k in structure)
        compression = "gzip" if is_gzip(path) else "none"
        records = self.numbered(
            path,
            lambda src, number: (
                f"""SELECT {number} AS raw_offset, {{{fields}}} AS e
                FROM read_json({src}, format='newline_delimited', columns={columns},
                    compression='{compression}', maximum_object_size=16777216)
                    WITH ORDINALITY AS r"""
            ),
        )
        found = self.split(path)
        # A file read whole has its newlines counted beside the parse (DuckDB releases
        # the GIL; the count alone is ~17 s of a 17.6 GB file, a fifth of the ingest
        # when run before or after it). A file read in pieces was counted already.
        with ThreadPoolExecutor(1) as pool:
            lines = pool.submit(_line_count, path) if found is None else None
            try:
                self.con.execute(
                    f"""CREATE OR REPLACE TEMP TABLE {name} AS
                    SELECT raw_offset, e, ({reject_sql}) AS _reject, NULL::VARCHAR AS _record
                    FROM {records} AS p"""
                )
                ((rejected,),) = self.con.execute(
                    f"SELECT count(*) FROM {name} WHERE _reject IS NOT NULL"
                ).fetchall()
                if lines is not None:
                    counted = lines.result()
                    total = None if counted is None else counted[0]
                else:
                    total = found.lines
                clean = not rejected and total is not None and self.count(name) == total
            except duckdb.Error:
                clean = False
        if not clean:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            return None
        return name

    def stage_json(self, records: str, structure: dict, reject_sql: str) -> str:
        """Parse each record once into ``e`` (a struct of just ``structure``) and
        decide its fate.

        ``records`` is a table or FROM-clause source of ``(raw_offset, text)``.
        ``reject_sql`` is a SQL CASE expression over ``e`` that yields a reason
        string for records to quarantine and NULL for good ones."""
        name = self.name("stage")
        spec = json.dumps(structure).replace("'", "''")
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {name} AS
            WITH p AS (
                -- one parse per record: try() turns malformed JSON into NULL instead
                -- of an error; the cheap checks below only run on rejected records
                SELECT raw_offset, text, try(json_transform(text, '{spec}')) AS e
                FROM {records}
            ), r AS (
                SELECT raw_offset, text, e,
                       CASE WHEN raw_offset < 0 THEN substr(text, 2)
                            WHEN e IS NULL AND NOT json_valid(text) THEN 'malformed JSON'
                            WHEN e IS NULL OR NOT starts_with(ltrim(text), '{{')
                                THEN 'JSON record is not an object'
                            ELSE ({reject_sql}) END AS _reject
                FROM p
            )
            SELECT raw_offset, e, _reject,
                   CASE WHEN _reject IS NOT NULL THEN left(text, {RECORD_LIMIT}) END AS _record
            FROM r"""
        )
        return name

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def quarantine(self, stage: str, source: str, path: Path, raw_id_sql: str = "NULL"):
        """The quarantine relation for a stage's rejected records."""
        return self.con.sql(
            f"""SELECT now() AS time, '{source}' AS source, _reject AS reason, _record AS record,
                       {_sql_str(str(path))} AS raw_source, raw_offset, {raw_id_sql} AS raw_id
                FROM {stage} WHERE _reject IS NOT NULL"""
        )

    def drop_temp(self) -> None:
        for found in self._splits.values():
            if found is not None:
                pieces.release(found)
        self._splits.clear()
        for (name,) in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary"
        ).fetchall():
            self.con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _line_count(path: Path) -> tuple[int, int] | None:
    """``(lines, last)``: the lines in the (decompressed) file, a last line without
    its newline included, and the number of the last line that is not blank; None
    when the file cannot be read to the end."""
    n = 0
    last_line = b"\n"
    last_content = 0
    try:
        for chunk in tolerant_chunks(path, 1 << 24):
            n += chunk.count(b"\n")
            tail = len(chunk.rstrip())
            if tail:
                # the line holding the chunk's last non-blank byte
                last_content = n - chunk.count(b"\n", tail) + 1
            last_line = chunk[-1:]
    except (OSError, EOFError, zlib.error):
        return None
    return n + (last_line != b"\n"), last_content


def _duck_type(spec) -> str:
    """A ``json_transform`` structure as the DuckDB type ``read_json`` wants."""
    if isinstance(spec, dict):
        return "STRUCT(" + ", ".join(f"{_ident(k)} {_duck_type(v)}" for k, v in spec.items()) + ")"
    if isinstance(spec, list):
        return _duck_type(spec[0]) + "[]"
    return spec


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tolerant_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """The file's bytes, gunzipped if needed, yielding everything that decompresses
    and raising only at the point where a truncated or corrupt stream stops.

    No chunk is longer than ``size``, decompressed: a log compresses 15:1, and a
    16 MiB read of one came out as 240 MiB at once — beside a bounded DuckDB, the
    line count alone took 0.8 GiB."""
    with open(path, "rb") as fh:
        if fh.read(2) != GZIP_MAGIC:
            fh.seek(0)
            while chunk := fh.read(size):
                yield chunk
            return
        fh.seek(0)
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        fresh = True  # d has seen nothing yet: a member ended where the file may too
        pending = b""
        while True:
            if not pending:
                pending = fh.read(size)
                if not pending:
                    if fresh:
                        return
                    if not d.eof and (rest := d.flush()):
                        yield rest  # what the size cap held back at the very end
                    if not d.eof:
                        raise EOFError("compressed stream ended before its end marker")
                    return
            out = d.decompress(pending, size)
            fresh = False
            pending = d.unconsumed_tail
            if out:
                yield out
            if d.eof:
                # concatenated gzip members (log rotation appends them); past the end
                # marker, unused_data holds all the input left (unconsumed_tail too)
                pending = d.unused_data
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                fresh = True


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
