"""The lake: normalised tables as Parquet on disk, partitioned by table and day.

Layout (readable by DuckDB, Spark, Athena/Trino and pandas alike)::

    <lake>/tables/<table>/day=YYYY-MM-DD/<file-key>_<n>.parquet
    <lake>/manifest.jsonl      one line per ingested input file
    <lake>/findings.duckdb     the findings store (see crownwatch.findings)
    <lake>/.spill/             DuckDB's scratch space when a job outgrows memory, and the
                               members of an archive being read (transient)
    <lake>/.compact/           a partition being compacted (transient, see lake_compact)
    <lake>/.lock               the writer lock: one ingest or compaction at a time
    <lake>/.secret/hash_salt   the salt private identifiers are hashed under (made on
                               first use, mode 0600: see crownwatch.lake_secret)

``<file-key>`` is the content key of the input file's bytes, so re-ingesting the same
content — under any name — adds nothing, and a crash half-way through a file is
repaired by the next run (its partial Parquet files are replaced). Compaction
(:mod:`crownwatch.lake_compact`; at the end of an ingest once a partition holds more
than ``CROWNWATCH_COMPACT_AFTER`` small files, and ``crownwatch lake compact``) merges
the files of committed inputs into ``compacted-<id>.parquet``; it never takes the files
of an input the manifest does not list, so that repair still finds them by name.

An archive (zip, tar, 7z: :mod:`crownwatch.sources.archives`) is read member by
member, each member ingested as a file of its own under the name
``<archive>!<member>`` with its own content key; the archive's key is recorded once
all its members are, so a crash half-way through an archive is repaired the same way
(the members already done are duplicates next run), and members it refused are
quarantine records of the archive's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import xxhash

from crownwatch import sources
from crownwatch.sources import archives, pieces
from crownwatch.sources.base import Parsed, SourceError
from crownwatch.sources.reader import Reader, _first_line, _sql_str, head_text
from crownwatch.tables import SCHEMAS
from crownwatch.tables.quarantine import RECORD_LIMIT

DEFAULT_LAKE = ".crownwatch"

# the writer locks this process holds: lake root -> [file descriptor, depth]
_LOCKS: dict[Path, list[int]] = {}

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


# Times a log record can have. Anything else — Okta's 'infinity', a BC date, year
# 99999, Windows' FILETIME zero (1601) — is not a time but a broken or hostile value:
# the row is quarantined (one policy for every source) rather than written into a
# day=infinity partition or dragging every time window of the detections with it.
TIME_FLOOR = "1970-01-01"
TIME_CEILING = "2100-01-01"
_POSSIBLE_TIME = (
    f"\"time\" >= TIMESTAMPTZ '{TIME_FLOOR} 00:00:00+00' "
    f"AND \"time\" < TIMESTAMPTZ '{TIME_CEILING} 00:00:00+00'"
)


_REFUSED = "_refused"
_DAY_OR_REFUSED = (
    f"""CASE WHEN {_POSSIBLE_TIME} THEN strftime("time", '%Y-%m-%d') ELSE '{_REFUSED}' END"""
)


def _impossible_times(rel, source: str):
    """Rows written at an impossible time, as quarantine records."""
    return rel.project(
        f"""now() AS time, {_sql_str(source)} AS source,
        'impossible time (outside {TIME_FLOOR} to {TIME_CEILING}): '
            || coalesce(CAST("time" AS VARCHAR), 'none') AS reason,
        'time=' || coalesce(CAST("time" AS VARCHAR), 'none') AS record,
        raw_offset, raw_id"""
    )


class LakeError(Exception):
    """The lake itself cannot be used (not writable, not there): a usage error."""


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    return _DUCK_TYPES[t]


#: DuckDB's memory limit when ``CROWNWATCH_MEMORY_LIMIT`` is unset. The process peaks at
#: this plus what lives outside DuckDB's buffer pool (the interpreter with Ibis and
#: Arrow, a detection's result rows): under 2 GiB for every ingest and detection family
#: at 10M records (README, Benchmarks). Past it DuckDB spills into the lake's scratch
#: folder, which the ingest and detection plans are built to need little of.
DEFAULT_MEMORY_LIMIT = "1536MB"

#: values of ``CROWNWATCH_MEMORY_LIMIT`` that hand the choice back to DuckDB (80 % of RAM)
_UNBOUNDED = ("none", "unlimited", "duckdb")


def memory_limit() -> str | None:
    """DuckDB's memory limit for ingest and detections: ``CROWNWATCH_MEMORY_LIMIT`` (a
    DuckDB size such as ``3GB``), :data:`DEFAULT_MEMORY_LIMIT` when unset, or None —
    DuckDB's own default — for ``none``.

    Bounded by default because crownwatch runs on the analyst's laptop beside
    everything else, and a 10M-event week took 5.5 GiB unbounded for no gain in speed
    that an analyst would notice (README, Benchmarks: the rows with and without)."""
    value = os.environ.get("CROWNWATCH_MEMORY_LIMIT", "").strip()
    if not value:
        return DEFAULT_MEMORY_LIMIT
    if value.lower() in _UNBOUNDED:
        return None
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise ValueError(
            f"CROWNWATCH_MEMORY_LIMIT={value!r}: expected a size such as 3GB or 512MiB, "
            "or 'none' for DuckDB's default"
        )
    return value


def default_lake() -> Path:
    return Path(os.environ.get("CROWNWATCH_LAKE") or DEFAULT_LAKE)


@dataclass
class FileResult:
    """What happened to one input file;
    ``read == routed_rows + quarantined + skipped``, and ``rows`` per table add up to
    ``routed_rows + extra_rows``: rows that stand for no record of their own — the
    N-1 more events of a ``message repeated N times`` line, or a record written to a
    second table (a CloudTrail ``ConsoleLogin`` is an API call and a sign-in)."""

    path: str
    source: str | None
    status: str  # ingested | duplicate | unrecognised | unreadable | failed (retried next run)
    read: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    routed_rows: int = 0
    extra_rows: int = 0
    quarantined: int = 0
    skipped: int = 0
    seconds: float = 0.0
    content_key: str | None = None
    note: str | None = None


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every regular file under the given paths, recursively, in a stable order."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if not f.startswith("."):
                        yield Path(root) / f
        elif p.is_file():
            yield p


def file_key(path: Path) -> str:
    """Content key of a file: XXH3-128 of its bytes (plus its size).

    Used only to recognise a file we already ingested. It runs at ~10 GB/s where
    SHA-256 took a fifth of the whole ingest time; a collision would need an
    attacker who already controls both log files, so nothing is gained by it."""
    h = xxhash.xxh3_128()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
            size += len(chunk)
    return f"{h.hexdigest()}{size:012x}"


class Lake:
    #: how far one archive may make ingest go (member size, budget, ratio, depth, count)
    archive_limits: archives.Limits = archives.Limits()

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_lake()
        self.tables_dir = self.root / "tables"
        self.manifest_path = self.root / "manifest.jsonl"
        #: what the automatic compaction at the end of the last ingest did: a
        #: :class:`crownwatch.lake_compact.Report`, the error it stopped at, or None
        self.compaction = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lake's writer lock (``<lake>/.lock``) — one ingest or compaction at
        a time; another process waits for it. Re-entrant within the process, released
        by the system if the process dies. (No lock where the system has no ``flock``:
        Windows.)"""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not a Unix
            yield
            return
        key = self.root.resolve()
        if key in _LOCKS:
            _LOCKS[key][1] += 1
            try:
                yield
            finally:
                _LOCKS[key][1] -= 1
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LakeError(f"cannot lock the lake at {self.root}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _LOCKS[key] = [fd, 1]
            yield
        finally:
            _LOCKS.pop(key, None)
            os.close(fd)  # and with it the lock

    # -- reading ------------------------------------------------------------------

    def table_files(self, table: str) -> list[Path]:
        return sorted((self.tables_dir / table).glob("day=*/*.parquet"))

    def table_glob(self, table: str) -> str:
        return str(self.tables_dir / table / "day=*" / "*.parquet")

    def table_sql(self, table: str) -> str:
        """DuckDB SQL for ``table``'s rows, to use as a FROM source: every column of
        its schema in order and typed, without the ``day`` folder. Files are read by
        name — a file holds only the columns its source has values for
        (:meth:`_copy`) — and a column no file has is NULL. No files: no rows."""
        typed = ", ".join(
            f'CAST(NULL AS {duck_type(f.type)}) AS "{f.name}"' for f in SCHEMAS[table]
        )
        empty = f"SELECT {typed} WHERE false"
        if not self.table_files(table):
            return f"({empty})"
        return (
            f"({empty} UNION ALL BY NAME SELECT * FROM read_parquet("
            f"{_sql_str(self.table_glob(table))}, union_by_name = true, hive_partitioning = false))"
        )

    def manifest(self) -> dict[str, dict]:
        """``content_key -> record`` of every file ingested. The manifest is a journal
        of one JSON object per line, each written whole with its newline; a line that
        does not decode is a write that was cut off (a crash, a full disk) and is
        ignored: the file it was about is simply ingested again, which replaces
        whatever half of it reached the lake (see ``_remove_key``)."""
        if not self.manifest_path.exists():
            return {}
        out = {}
        with open(self.manifest_path, "rb") as fh:
            for raw in fh:
                try:
                    rec = json.loads(raw)
                    out[rec["content_key"]] = rec
                except (ValueError, KeyError, TypeError):
                    continue
        return out

    # -- ingest -------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        on_file: Callable[[Path, FileResult], None] | None = None,
    ) -> list[FileResult]:
        """Ingest every file under ``paths``: one :class:`FileResult` per file, and for an
        archive one per member (``<archive>!<member>``) followed by the archive's own.
        ``on_file`` is called once per input file, with its last result."""
        try:
            self.tables_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.tables_dir, os.W_OK):
                raise PermissionError(f"{self.tables_dir}: not writable")
        except OSError as exc:
            raise LakeError(f"cannot write the lake at {self.root}: {exc}") from exc
        with self.writing():
            results = self._ingest_locked(paths, on_file)
            self._compact_after_ingest()
        return results

    def _ingest_locked(self, paths, on_file) -> list[FileResult]:
        from crownwatch import lake_compact

        lake_compact.recover(self)  # a compaction a crash interrupted, before writing
        seen = self.manifest()
        archives.clean_scratch(self.spill_dir)
        con = self.connect()
        results = []
        try:
            for path in iter_files(paths):
                try:
                    res = self._ingest_file(con, path, seen)
                except (OSError, duckdb.IOException) as exc:
                    # the lake could not be written (disk full, permissions): nothing of
                    # this file counts as ingested, the next run tries it again, and
                    # the other files go on
                    ck = None
                    with contextlib.suppress(OSError):
                        ck = file_key(path)
                        self._remove_key(ck[:24])
                    res = [
                        FileResult(
                            str(path),
                            None,
                            "failed",
                            content_key=ck,
                            note=f"not ingested, the lake could not be written: {exc}",
                        )
                    ]
                results.extend(res)
                if on_file:
                    on_file(path, res[-1])
        finally:
            con.close()
        return results

    def _compact_after_ingest(self) -> None:
        """Compact the partitions holding more than ``CROWNWATCH_COMPACT_AFTER`` small
        files. Its failure (a full disk) fails no ingest: the rows are in, in their
        small files, and :attr:`compaction` says what stopped it."""
        from crownwatch import lake_compact

        self.compaction = None
        try:
            after = lake_compact.auto_after()
            if after > 0:
                self.compaction = lake_compact.compact(self, min_files=after + 1)
        except (ValueError, OSError, duckdb.Error, lake_compact.CompactError) as exc:
            self.compaction = exc

    @property
    def spill_dir(self) -> Path:
        """Scratch space: DuckDB's spill files, a detection run's on-disk intermediates."""
        return self.root / ".spill"

    def duckdb_settings(self) -> list[str]:
        """What every DuckDB connection on this lake (ingest, detections) is set to:
        UTC, ``CROWNWATCH_MEMORY_LIMIT``, and past the limit spilling into the lake's
        own scratch folder, never a '.tmp' in the analyst's working directory."""
        out = ["SET TimeZone = 'UTC'", f"SET temp_directory = {_sql_str(str(self.spill_dir))}"]
        if (limit := memory_limit()) is not None:  # validated: a number and a unit
            out.append(f"SET memory_limit = '{limit}'")
        return out

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection ingest runs on, with the settings it relies on."""
        con = duckdb.connect()
        for setting in self.duckdb_settings():
            con.execute(setting)
        # Rows need not keep the file's order in the Parquet files (every row carries
        # its line, raw_offset, and readers sort what they show): keeping it made the
        # partitioned writer wait on order across threads — the gateway's 1M-request
        # ingest took 12 % longer with it.
        con.execute("SET preserve_insertion_order = false")
        # Each writer thread buffers this many rows per day partition before flushing
        # (DuckDB's default is 524,288 rows: 4 partitions × 2 threads × wide rows). A
        # buffer still below it when the scan ends is written after the scan, one
        # partition at a time: a million records over 14 days never reached 122,880
        # rows a day per thread, and their write took 1.4 s where one file took 0.7 s.
        # At 16,384 most rows are written while the scan runs on every thread: 0.97 s
        # (Okta sign-ins), 0.72 s against 0.86 s (Zeek), the same bytes on disk; row
        # groups come out at 4k–46k rows.
        con.execute("SET partitioned_write_flush_threshold = 16384")
        con.execute("SET enable_progress_bar = false")
        return con

    def _ingest_file(
        self,
        con,
        path: Path,
        seen: dict[str, dict],
        *,
        name: str | None = None,
        ckey: str | None = None,
        depth: int = 0,
        budget: archives.Budget | None = None,
    ) -> list[FileResult]:
        """Ingest one file: ``path`` is read, ``name`` is what the lake calls it (a
        member's ``<archive>!<member>``; the path itself for a loose file). ``depth``
        and ``budget`` belong to the archive the file came out of, if any."""
        t0 = time.perf_counter()
        name = name or str(path)
        if ckey is None:
            try:
                ckey = file_key(path)
            except OSError as exc:
                return [FileResult(name, None, "unreadable", note=str(exc))]
        if ckey in seen:
            prev = seen[ckey]
            return [
                FileResult(
                    name,
                    prev.get("source"),
                    "duplicate",
                    content_key=ckey,
                    note=f"same content already ingested from {prev.get('path')}",
                )
            ]
        key = ckey[:24]
        self._remove_key(key)
        try:
            kind = archives.sniff(path)
            mod = None if kind else sources.sniff(path)
        except OSError as exc:
            return [FileResult(name, None, "unreadable", note=str(exc))]
        if kind is not None:
            return self._ingest_archive(con, path, name, ckey, kind, seen, depth + 1, budget, t0)
        if mod is None:
            res = self._quarantine_file(
                con, path, key, "unrecognised", "no source recognises this format", name=name
            )
        else:
            reader = Reader(con, self.root)
            try:
                res = self._write_parsed(
                    con, path, key, mod.NAME, mod.parse(reader, path), name=name
                )
            except SourceError as exc:
                res = self._quarantine_file(
                    con, path, key, "ingested", _named(exc, path, name), source=mod.NAME, name=name
                )
            except duckdb.Error as exc:
                # The engine gave up on this file (out of memory, an internal error),
                # not on its content: keep nothing half-written, do not mark it as
                # ingested (the next run tries it again), go on with the other files.
                self._remove_key(key)
                hint = (
                    " — raise or unset CROWNWATCH_MEMORY_LIMIT"
                    if isinstance(exc, duckdb.OutOfMemoryException)
                    else ""
                )
                return [
                    FileResult(
                        name,
                        mod.NAME,
                        "failed",
                        content_key=ckey,
                        seconds=time.perf_counter() - t0,
                        note=_named(
                            f"not ingested, DuckDB failed: {_first_line(exc)}{hint}", path, name
                        ),
                    )
                ]
            finally:
                reader.drop_temp()
        res.content_key = ckey
        res.seconds = time.perf_counter() - t0
        if res.status == "unrecognised":
            # Quarantined (under its key, replaced on a rerun) but not recorded as
            # done: a file nothing could read is read again by the next run.
            return [res]
        self._append_manifest(res)
        seen[ckey] = asdict(res)
        return [res]

    def _ingest_archive(
        self,
        con,
        path: Path,
        name: str,
        ckey: str,
        kind: str,
        seen: dict[str, dict],
        depth: int,
        budget: archives.Budget | None,
        t0: float,
    ) -> list[FileResult]:
        """Each member of the archive as a file of its own (archives inside it too, down
        to ``archive_limits.depth``), then the archive's own result: the members it
        refused, quarantined under the archive's key. The archive enters the manifest
        only when no member failed, so that the next run reads the failed ones again."""
        limits = self.archive_limits
        if budget is None:  # a loose archive: its own budget, shared with what it holds
            budget = archives.Budget(limits, path.stat().st_size)
        results: list[FileResult] = []
        refused: list[tuple[str, str, str | None]] = []  # (raw_source, reason, record)
        hidden = 0
        broken = None
        try:
            with archives.members(path, kind, self.spill_dir, limits, budget) as members:
                for m in members:
                    where = f"{name}!{m.name}" if m.name else name
                    if m.hidden:
                        hidden += 1
                    elif m.refused is not None:
                        refused.append((where, m.refused, m.record))
                    elif m.key not in seen and depth >= limits.depth and archives.sniff(m.path):
                        reason = f"an archive nested deeper than {limits.depth} levels: not opened"
                        refused.append((where, reason, None))
                    else:
                        results += self._ingest_file(
                            con, m.path, seen, name=where, ckey=m.key, depth=depth, budget=budget
                        )
        except OSError as exc:  # the machine, not the archive: no space left, permissions
            broken = f"not ingested, reading the archive failed: {exc}"
        res = FileResult(name, "archive", "ingested", content_key=ckey)
        res.read = len(refused)
        if refused:
            res.quarantined = self._quarantine_members(con, ckey[:24], refused)
        failed = sum(r.status in ("failed", "unreadable") for r in results)
        res.note = _archive_note(kind, results, refused, hidden, failed, broken)
        res.seconds = time.perf_counter() - t0
        if failed or broken:
            res.status = "failed"  # not in the manifest: the next run opens it again
        else:
            self._append_manifest(res)
            seen[ckey] = asdict(res)
        return [*results, res]

    def _quarantine_members(self, con, key: str, refused: list[tuple[str, str, str | None]]) -> int:
        """The members an archive refused, one quarantine record each, in one file."""
        batch = pa.table(
            {
                "source": ["archive"] * len(refused),
                "reason": [r[1] for r in refused],
                "record": [r[2] for r in refused],
                "raw_source": [r[0] for r in refused],
            }
        )
        con.register("_refused", batch)
        try:
            rel = con.sql(
                "SELECT now() AS time, source, reason, record, raw_source,"
                " NULL::BIGINT AS raw_offset, NULL AS raw_id FROM _refused"
            )
            return self._copy(con, rel, "quarantine", None, f"{key}_r")
        finally:
            con.unregister("_refused")

    def _write_parsed(
        self, con, path: Path, key: str, source: str, parsed: Parsed, name: str | None = None
    ) -> FileResult:
        name = name or str(path)
        res = FileResult(name, source, "ingested", read=parsed.records, skipped=parsed.skipped)
        n = 0
        for table, rel in parsed.routed.items():
            count, refused = self._copy_timed(con, rel, table, name, f"{key}_{n}", source)
            n += 1
            res.rows[table] = res.rows.get(table, 0) + count
            res.routed_rows += count
            res.quarantined += refused
        for table, rel in parsed.copies.items():
            # extra views of records already counted: one at an impossible time was
            # refused with its record above, so it is simply not written
            count, _ = self._copy_timed(con, rel, table, name, f"{key}_{n}", None)
            n += 1
            res.rows[table] = res.rows.get(table, 0) + count
            res.extra_rows += count
        # A file whose records are all routed or skipped has nothing to quarantine
        # (each record lands in exactly one place), so its quarantine is not run —
        # one statement less per clean file, however its source finds the rejects.
        short = res.read - res.routed_rows - res.quarantined - res.skipped > 0
        if parsed.quarantine is not None and short:
            res.quarantined += self._copy(con, parsed.quarantine, "quarantine", name, f"{key}_q")
        lost = res.read - res.routed_rows - res.quarantined - res.skipped
        if lost:
            # A source bug must never lose records silently: say so loudly.
            res.note = f"source {source} accounted for {res.read - lost} of {res.read} records"
        return res

    def _quarantine_file(
        self, con, path, key, status, reason, source=None, name: str | None = None
    ) -> FileResult:
        name = name or str(path)
        head = head_text(path, RECORD_LIMIT)
        if status == "unrecognised":
            from crownwatch.sources.private_columns import withhold_private

            # an export nobody could read may still be an HR file: never its values
            head = withhold_private(head) or head
        rel = con.sql(
            "SELECT now() AS time, $source AS source, $reason AS reason, $record AS record,"
            " NULL::BIGINT AS raw_offset, NULL AS raw_id",
            params={"source": source or "unknown", "reason": reason, "record": head},
        )
        # parameters cannot travel into COPY, so materialise the one row first
        con.execute("DROP TABLE IF EXISTS _qfile")
        rel.to_table("_qfile")
        n = self._copy(con, con.table("_qfile"), "quarantine", name, f"{key}_q")
        con.execute("DROP TABLE _qfile")
        return FileResult(name, source, status, read=1, quarantined=n, note=reason)

    def _copy(
        self,
        con,
        rel,
        table: str,
        raw_source: str | Path | None,
        stem: str,
        day: str = """strftime("time", '%Y-%m-%d')""",
    ) -> int:
        """Write ``rel`` as ``table``'s Parquet files ``<stem>_<n>``, conformed to its
        schema; ``raw_source`` names the input of every row (None: ``rel`` has its own);
        ``day`` is the partition expression.

        A schema column ``rel`` does not have is left out of the files, not written as
        NULLs: every reader of the lake reads by name and gives a column a file lacks
        as NULL (the engine, the DDL, compaction, Sigma), as it must for files written
        before a column existed. The partitioned writer copies each row of every
        column into its day's buffer — measured at 10M Zeek records, the 13 columns a
        conn log has no value for took 7 s of the write's 23."""
        schema = SCHEMAS[table]
        view = f"_v_{stem}"
        rel.create_view(view, replace=True)
        # the columns the view was created with, from the catalog: ``rel.columns``
        # would bind the source's statement once more (a small file's ingest is mostly
        # such fixed work)
        cols = {
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                [view],
            ).fetchall()
        }
        select = []
        for f in schema:
            if f.name == "raw_source" and raw_source is not None:
                # the same text on every row, as a one-value ENUM: the buffer holds a
                # byte a row instead of a copy of the path (Parquet gets a string)
                name = _sql_str(str(raw_source))
                select.append(f"CAST({name} AS ENUM({name})) AS raw_source")
            elif f.name in cols:
                select.append(f'CAST("{f.name}" AS {duck_type(f.type)}) AS "{f.name}"')
        out = self.tables_dir / table
        # zstd at level 1, not DuckDB's 3: Parquet's own encodings do most of the work
        # on log columns — 10M Zeek records took 485 MB either way, and 2.3 s less to
        # write (compaction rewrites at the default level)
        ((count,),) = con.execute(
            f"""COPY (SELECT {", ".join(select)}, {day} AS day FROM {view})
                TO {_sql_str(str(out))} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1,
                PARTITION_BY (day), FILENAME_PATTERN '{stem}_{{i}}', OVERWRITE_OR_IGNORE true)"""
        ).fetchall()
        con.execute(f"DROP VIEW {view}")
        return int(count)

    def _copy_timed(
        self, con, rel, table: str, name: str, stem: str, source: str | None
    ) -> tuple[int, int]:
        """:meth:`_copy` for a routed table, in one pass: rows at an impossible time
        (outside :data:`TIME_FLOOR` – :data:`TIME_CEILING`) land in a ``day=_refused``
        partition, which is read back as quarantine records (``source`` given) and
        removed. Returns (rows kept, rows refused)."""
        written = self._copy(con, rel, table, name, stem, day=_DAY_OR_REFUSED)
        refused_dir = self.tables_dir / table / f"day={_REFUSED}"
        files = sorted(refused_dir.glob(f"{stem}_*.parquet"))
        if not files:
            return written, 0
        bad = con.read_parquet([str(f) for f in files], hive_partitioning=False)
        ((n_bad,),) = bad.aggregate("count(*)").fetchall()
        refused = 0
        if source is not None:
            refused = self._copy(
                con, _impossible_times(bad, source), "quarantine", name, f"{stem}t"
            )
        for f in files:
            f.unlink()
        with contextlib.suppress(OSError):
            refused_dir.rmdir()
        return written - n_bad, refused

    def _remove_key(self, key: str) -> None:
        if not self.tables_dir.exists():
            return
        for f in self.tables_dir.glob(f"*/day=*/{key}_*.parquet"):
            f.unlink()

    def _append_manifest(self, res: FileResult) -> None:
        rec = asdict(res)
        rec["ingested_at"] = datetime.now(UTC).isoformat()
        line = (json.dumps(rec) + "\n").encode()
        with open(self.manifest_path, "ab+") as fh:
            # a torn last line (no newline) must not swallow this record
            if fh.tell() and (fh.seek(-1, os.SEEK_END), fh.read(1))[1] != b"\n":
                line = b"\n" + line
            fh.write(line)


def _named(exc: Exception | str, path: Path, name: str) -> str:
    """An error message naming the file as the user knows it: a member's scratch file
    as the member, a piece of a large file (``cwpiece://N``) as the file."""
    return pieces.URL.sub(name, str(exc).replace(str(path), name))


def _archive_note(
    kind: str,
    results: list[FileResult],
    refused: list[tuple[str, str, str | None]],
    hidden: int,
    failed: int,
    broken: str | None,
) -> str | None:
    """What an ingest summary should say about an archive: nothing when every member
    was simply read."""
    parts = []
    if broken:
        parts.append(broken)
    if failed:
        parts.append(f"{failed} member(s) failed; the archive is read again next run")
    if refused:
        where, reason, _ = refused[0]
        more = f" (and {len(refused) - 1} more, see the quarantine)" if len(refused) > 1 else ""
        parts.append(f"{len(refused)} refused — {where}: {reason}{more}")
    if hidden:
        parts.append(f"{hidden} hidden member(s) skipped")
    if not parts:
        return None
    members = sum(1 for r in results if r.source != "archive")
    return f"{kind} archive, {members} member(s) read: " + "; ".join(parts)
