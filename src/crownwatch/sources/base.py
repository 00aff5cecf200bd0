"""What every source module provides, and what it hands the lake.

A source module is one log format. It exposes:

``NAME``
    short name shown in summaries (``okta``, ``entra_graph``…).
``sniff(head: str) -> bool``
    decide from the first KiB of decompressed text whether the file is this format.
    Content decides, never the file name alone.
``sniff_bytes(magic: bytes) -> bool`` / ``sniff_columns(names: list[str]) -> bool``
    optional, for binary deliveries: the file's first 8 bytes (an ``.evtx``), or
    the column names of a Parquet file, decide instead of its text.
``parse(reader: Reader, path: Path) -> Parsed``
    turn the file into lazy DuckDB relations per normalised table plus a
    quarantine relation. The heavy lifting stays in the engine (``read_json``,
    ``json_transform``, ``regexp_extract``); Python only writes the SQL, which is
    built from constants — log values never become SQL text.

The lake conforms each relation to the table's Arrow schema (missing columns become
NULL, types are cast), so a source selects only the columns it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@dataclass
class Parsed:
    """One input file, parsed.

    ``records`` counts the input records seen (lines that are not blank, array
    elements, events). Every one of them ends up in exactly one ``routed`` table, in
    ``quarantine``, or is *skipped* — valid input no table models (a CRON line in
    auth.log, event 4672 in a Security log), counted but not stored:
    ``records == sum(routed rows) + quarantined + skipped`` — the lake checks it.
    ``copies`` are extra views of routed records (a CloudTrail ``ConsoleLogin`` is
    an API call *and* a sign-in) and do not enter that sum.

    The lake runs ``quarantine`` only when the routed tables come up short of
    ``records - skipped``: so a source may find its rejects by parsing the input
    again (a large file is not worth holding its verdicts for), and a clean file
    costs no quarantine pass at all.
    """

    records: int
    routed: dict[str, duckdb.DuckDBPyRelation]
    copies: dict[str, duckdb.DuckDBPyRelation] = field(default_factory=dict)
    quarantine: duckdb.DuckDBPyRelation | None = None
    skipped: int = 0


class SourceError(Exception):
    """The whole file is unusable as this format (truncated gzip, not JSON at all…).

    The lake quarantines the file as one record with this message as the reason."""
