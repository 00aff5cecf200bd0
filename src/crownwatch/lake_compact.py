"""Compaction: a day partition's many small Parquet files rewritten as few large ones.

Ingest writes at least one file per input file, table and day it touches
(``<key>_<n>_<i>.parquet``, :mod:`crownwatch.lake`), so a week of a few hundred log
files is hundreds of files of a few kilobytes. Every engine pays per file — DuckDB and
Spark open and plan each, Athena bills a request per object — so compaction rewrites a
partition's small files into files of up to ``target_bytes`` (all of a day when it is
smaller), rows ordered by time so that each row group's min/max lets an engine skip it.

What it may take. Only files whose rows are committed: the content key in their name
is in the manifest (or they are earlier compaction output). A file whose key is not —
the partial output of a crashed ingest, a file no source recognised — is left as it
is, under its name, because the next ingest of that input deletes it by that name
(``Lake._remove_key``); merged into a compacted file its rows could no longer be told
apart and would be duplicated. Files of other names are left alone too.

How it swaps. The new partition is built beside the lake (``<lake>/.compact/<table>/
day=…/new``: the compacted files, plus hard links to the files it keeps), checked (the
same row count as the files it replaces) and flushed to disk, then exchanged with the
live folder in one ``renameat2(RENAME_EXCHANGE)`` (Linux; ``renamex_np(RENAME_SWAP)`` on
macOS). A reader lists either the old folder or the new one, never a mix; one that
listed the old files just before the swap and opens them after gets "file not found"
(it is never given rows twice or no rows). Where the file system cannot exchange, the
live folder is renamed aside and the new one renamed in: for that instant the day
reads as empty. A crash at any step is repaired by :func:`recover`, which every ingest
and compaction runs first: a staged folder whose live folder exists is debris (an
unfinished new one, or the old one swapped out) and is deleted; a live folder that is
missing is restored from the old one set aside. Rows are never lost or doubled.

The staging folder is outside ``tables/`` on purpose: DuckDB's ``**`` and ``*`` globs
match hidden files and folders, so nothing half-built may live under a table.

Compaction holds the lake's writer lock (:meth:`crownwatch.lake.Lake.writing`), as
ingest does, so no ingest writes into a partition while it is being replaced.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crownwatch.tables import SCHEMAS

#: the size compaction aims each file at (Athena's and Spark's guidance: 128 MB–1 GB)
TARGET_BYTES = 256 * 1024 * 1024

#: ingest compacts a partition once it holds more small files than this
#: (``CROWNWATCH_COMPACT_AFTER``; 0 turns automatic compaction off)
AUTO_AFTER = 8

_KEY_LEN = 24  # the content-key prefix ingest names its files with (Lake._ingest_file)
_COMPACTED = "compacted-"
_STAGE = ".compact"


@dataclass
class PartitionResult:
    table: str
    day: str
    files_before: int
    files_after: int
    rows: int  # rows rewritten (the same before and after)
    bytes_before: int  # of the files rewritten
    bytes_after: int
    seconds: float


@dataclass
class Report:
    partitions: list[PartitionResult] = field(default_factory=list)
    seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        keys = ("files_before", "files_after", "rows", "bytes_before", "bytes_after")
        return {k: sum(getattr(p, k) for p in self.partitions) for k in keys}

    def as_dict(self) -> dict:
        return {
            "partitions": [asdict(p) for p in self.partitions],
            "totals": self.totals(),
            "seconds": round(self.seconds, 3),
        }


def auto_after() -> int:
    """``CROWNWATCH_COMPACT_AFTER`` (small files a partition may hold before ingest
    compacts it), :data:`AUTO_AFTER` when unset; 0 never compacts automatically."""
    value = os.environ.get("CROWNWATCH_COMPACT_AFTER", "").strip()
    if not value:
        return AUTO_AFTER
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"CROWNWATCH_COMPACT_AFTER={value!r}: expected a whole number (0: off)")
    return int(value)


def compact(
    lake,
    *,
    tables: list[str] | None = None,
    min_files: int = 2,
    target_bytes: int = TARGET_BYTES,
) -> Report:
    """Compact every partition of ``tables`` (all) holding at least ``min_files``
    committed small files (under half of ``target_bytes``)."""
    t0 = time.perf_counter()
    report = Report()
    with lake.writing():
        recover(lake)
        committed = {k[:_KEY_LEN] for k in lake.manifest()}
        con = None
        try:
            for table in tables or list(SCHEMAS):
                for part in sorted((lake.tables_dir / table).glob("day=*")):
                    if not part.is_dir() or part.name == "day=_refused":
                        continue
                    bins = _plan(part, committed, target_bytes)
                    if sum(len(b) for b in bins) < max(min_files, 2):
                        continue
                    if con is None:
                        con = lake.connect()
                    report.partitions.append(_compact_partition(lake, con, table, part, bins))
        finally:
            if con is not None:
                con.close()
            recover(lake)  # the staging folder's empty parents
    report.seconds = time.perf_counter() - t0
    return report


def _committed(name: str, committed: set[str]) -> bool:
    if name.startswith(_COMPACTED):
        return True
    return len(name) > _KEY_LEN and name[_KEY_LEN] == "_" and name[:_KEY_LEN] in committed


def _plan(part: Path, committed: set[str], target_bytes: int) -> list[list[Path]]:
    """The partition's committed small files in groups of up to ``target_bytes``;
    only groups of two or more files (one file alone gains nothing from a rewrite)."""
    small = []
    for f in sorted(part.glob("*.parquet")):
        if f.is_file() and not f.is_symlink() and _committed(f.name, committed):
            size = f.stat().st_size
            if size < target_bytes // 2:
                small.append((f, size))
    bins: list[list[Path]] = []
    current: list[Path] = []
    filled = 0
    for f, size in small:
        if current and filled + size > target_bytes:
            bins.append(current)
            current, filled = [], 0
        current.append(f)
        filled += size
    bins.append(current)
    return [b for b in bins if len(b) > 1]


def _num_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _compact_partition(lake, con, table: str, part: Path, bins: list[list[Path]]):
    from crownwatch.lake import _sql_str, duck_type

    t0 = time.perf_counter()
    stage = lake.root / _STAGE / table / part.name
    shutil.rmtree(stage, ignore_errors=True)
    new = stage / "new"
    new.mkdir(parents=True)
    try:
        replaced = {f.name for b in bins for f in b}
        for f in sorted(part.iterdir()):  # everything it does not rewrite, as it is
            if f.name not in replaced:
                _link_or_copy(f, new / f.name)
        schema = SCHEMAS[table]
        written = []
        for group in bins:
            rel = con.read_parquet(
                [str(f) for f in group], union_by_name=True, hive_partitioning=False
            )
            extra = set(rel.columns) - set(schema.names)
            if extra:  # a column this version does not know: never drop data to compact
                raise CompactError(f"{part}: columns {sorted(extra)} are not in the {table} schema")
            cols = [
                f'CAST("{f.name}" AS {duck_type(f.type)}) AS "{f.name}"'
                if f.name in rel.columns
                else f'CAST(NULL AS {duck_type(f.type)}) AS "{f.name}"'
                for f in schema
            ]
            out = new / f"{_COMPACTED}{uuid.uuid4().hex}.parquet"
            rel.create_view("_compacting", replace=True)
            con.execute(
                f"""COPY (SELECT {", ".join(cols)} FROM _compacting
                          ORDER BY "time", raw_source, raw_offset)
                    TO {_sql_str(str(out))} (FORMAT parquet, COMPRESSION zstd)"""
            )
            con.execute("DROP VIEW _compacting")
            written.append(out)
        before, after = _num_rows([f for b in bins for f in b]), _num_rows(written)
        if before != after:  # cannot happen; if it does, the old files stay
            raise CompactError(
                f"{part}: compaction wrote {after} rows of {before}; nothing replaced"
            )
    except BaseException:  # nothing was replaced: the staged files are debris
        shutil.rmtree(stage, ignore_errors=True)
        raise
    bytes_before = sum(f.stat().st_size for b in bins for f in b)
    bytes_after = sum(f.stat().st_size for f in written)
    for f in written:
        _fsync(f)
    _fsync(new)
    _swap(new, part, stage / "old")
    shutil.rmtree(stage, ignore_errors=True)
    _fsync(part.parent)
    return PartitionResult(
        table=table,
        day=part.name.removeprefix("day="),
        files_before=len(replaced),
        files_after=len(written),
        rows=after,
        bytes_before=bytes_before,
        bytes_after=bytes_after,
        seconds=time.perf_counter() - t0,
    )


class CompactError(Exception):
    """A partition compaction refused to replace (its files stay as they were)."""


def recover(lake) -> None:
    """Repair what a compaction interrupted by a crash left (see the module notes).
    Called with the writer lock held, before anything writes a partition."""
    root = lake.root / _STAGE
    if not root.is_dir():
        return
    for stage in sorted(root.glob("*/day=*")):
        live = lake.tables_dir / stage.parent.name / stage.name
        old = stage / "old"
        if not live.exists() and old.is_dir():
            live.parent.mkdir(parents=True, exist_ok=True)
            os.rename(old, live)
            _fsync(live.parent)
        shutil.rmtree(stage)
    shutil.rmtree(root, ignore_errors=True)


# -- the file system ------------------------------------------------------------------


def _swap(new: Path, live: Path, aside: Path) -> None:
    """Put ``new`` where ``live`` is: in one step where the system can exchange two
    folders (``new`` then holds the old files), else in two renames via ``aside``."""
    if _exchange(new, live):
        return
    os.rename(live, aside)
    _fsync(aside.parent)
    os.rename(new, live)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths; False where this system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
            rc = libc.renameat2(
                _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
            )
        elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
            rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
        else:
            return False
    except OSError:  # no C library to load (not a Unix)
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _link_or_copy(src: Path | str, dst: Path | str) -> None:
    """``src`` at ``dst`` as it is — a file hard-linked (copied where links are not
    supported), a link as a link, a folder with its contents."""
    src, dst = Path(src), Path(dst)
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # a file system without hard links
        shutil.copy2(src, dst, follow_symlinks=False)
        _fsync(dst)


def _fsync(path: Path) -> None:
    """Flush a file or a folder's entries to disk (best effort where a system cannot
    open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
