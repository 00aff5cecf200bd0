"""Log sources: one module per vendor format, chosen per file by sniffing content.

To add a format, write a module with ``NAME``, ``sniff(head)`` and ``parse(reader,
path)`` (see :mod:`crownwatch.sources.base`) and list it in ``SOURCES`` — more
specific formats first, because the first module whose ``sniff`` says yes wins.
"""

from __future__ import annotations

import importlib
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from crownwatch.sources.reader import PARQUET_MAGIC, head_text, parquet_columns, tolerant_chunks

# Module names under crownwatch.sources, most specific sniff first.
SOURCE_MODULES = (
    "cloudtrail",
    "entra",
    "okta",
    "osquery",
    "windows_security",
    "zeek",
    "vpc_flow",
    "journald",
    "linux_auth",
    "s3_access",
    "gcs_audit",
    "azure_blob",
    "github_audit",
    "llm_gateway",
    "otel_genai",
    "litellm",
    "jamf",
    "intune",
    "hr_roster",
)


def _load() -> list[ModuleType]:
    mods = []
    for name in SOURCE_MODULES:
        try:
            mods.append(importlib.import_module(f"crownwatch.sources.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"crownwatch.sources.{name}":
                raise
    return mods


SOURCES: list[ModuleType] = _load()


# How far sniffing looks when the first 4 KiB say nothing: a first record may be
# made long on purpose (a distiller sets its own 5 KB user agent; one 10 MB line), and
# one record must not be able to hide a whole file.
CONDENSED_WINDOW = 1 << 20  # text read for a condensed head
LINE_WINDOW = 64 << 10  # of each later record, what is sniffed
SCAN_LIMIT = 64 << 20  # bytes walked looking for later records
SCAN_RECORDS = 16  # records tried one by one
_LONG_STRING = re.compile(r'"(?:[^"\\\n]|\\.){256,}(?:"|$)')


def condensed(text: str) -> str:
    """``text`` with every JSON string literal over 256 characters (or cut off by the
    window) shortened to ``"…"``: what a record's *shape* is, whatever its values."""
    return _LONG_STRING.sub('"…"', text)


def sniff(path: Path) -> ModuleType | None:
    """The source module for this file, or None when no format claims it.

    Binary formats (``.evtx``) are recognised by magic bytes inside their module's
    ``sniff_bytes``; Parquet files (a delivery some vendors offer beside text) by
    their column names, read from the footer, in their module's ``sniff_columns``;
    text formats by content, in three steps that stop at the first module that says
    yes:

    1. the first 4 KiB of decompressed text (almost every file);
    2. the first MiB with long string values condensed (:func:`condensed`): a first
       record with a 5 KB user agent still shows its keys;
    3. the following records one at a time (up to ``SCAN_RECORDS`` lines within
       ``SCAN_LIMIT`` bytes, each condensed): a first line of 10 MB, or of junk, does
       not hide the thousands of good records after it — the source then parses
       the whole file and quarantines what is not its format."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    for mod in SOURCES:
        sniff_bytes = getattr(mod, "sniff_bytes", None)
        if sniff_bytes is not None and sniff_bytes(magic):
            return mod
    if magic.startswith(PARQUET_MAGIC):
        return _sniff_columns(path)
    head = head_text(path)
    if not head.strip():
        return None
    for candidate in _heads(path, head):
        for mod in SOURCES:
            if mod.sniff(candidate):
                return mod
    return None


def _sniff_columns(path: Path) -> ModuleType | None:
    """The source whose ``sniff_columns`` claims this Parquet file's column names."""
    cols = parquet_columns(path)
    if cols is None:
        return None
    names = [name for name, _ in cols]
    for mod in SOURCES:
        sniff_columns = getattr(mod, "sniff_columns", None)
        if sniff_columns is not None and sniff_columns(names):
            return mod
    return None


def _heads(path: Path, head: str) -> Iterator[str]:
    yield head
    wide = head_text(path, CONDENSED_WINDOW)
    if len(wide) > len(head) or _LONG_STRING.search(head):
        yield condensed(wide)
    for n, line in enumerate(_later_lines(path)):
        if n >= SCAN_RECORDS:
            return
        if line.strip():
            yield condensed(line)


def _later_lines(path: Path) -> Iterator[str]:
    """The starts (``LINE_WINDOW``) of the file's lines after the first, read in
    chunks so that a 10 MB line costs a scan, not a copy."""
    seen = 0
    start: bytearray | None = None  # None: inside the first line, not yet yielding
    try:
        for chunk in tolerant_chunks(path):
            pos = 0
            while pos < len(chunk):
                nl = chunk.find(b"\n", pos)
                end = len(chunk) if nl < 0 else nl
                if start is not None and len(start) < LINE_WINDOW:
                    start += chunk[pos : min(end, pos + LINE_WINDOW - len(start))]
                if nl < 0:
                    break
                if start is not None:
                    yield start.decode("utf-8", errors="replace")
                start = bytearray()
                pos = nl + 1
            seen += len(chunk)
            if seen >= SCAN_LIMIT:
                return
    except (OSError, EOFError, zlib.error):
        pass
    if start:
        yield start.decode("utf-8", errors="replace")
