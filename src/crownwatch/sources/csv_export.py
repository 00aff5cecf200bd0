"""CSV exports read by their header line: the reports admin consoles write (Intune's
device and discovered-apps exports, Jamf Pro's Advanced Search export), where columns
are named by the first line and may come in any order, quoted or not.

Why not ``read_csv``: a record must keep its line number (provenance), a broken line
must be quarantined with its text while the rest of the file is kept, and every line
must be counted. So the file is split into lines like every other text source
(:meth:`Reader.lines`) and each line is split into fields in SQL, RFC 4180 quoting
(``"a, b"``, ``""`` for a quote inside). Most lines take a plain ``string_split``: a
line with no quote at all on ``,``, a line quoted field by field (Intune quotes every
field) whose fields hold no quote on ``","`` — exact, since a quote inside a field
would be doubled and so show. Only the rest take the RFC 4180 grammar as a regex
(``regexp_extract_all`` was eight times the cost of the whole read). A line that is not a well-formed CSV row, or that has another number of
fields than the header names, is quarantined with that reason. A quoted field that
spans lines is not read (no console export writes one for these columns: names,
serials, versions); its pieces are quarantined, never silently joined.

The header is parsed once in Python from the file's head: it is the file's shape, not
a record, and only the *positions* of the columns it names reach the SQL (integers
chosen here), never its text.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crownwatch.sources.reader import Reader, head_text
from crownwatch.sources.sql_text import inner, rtrim_set
from crownwatch.tables.quarantine import RECORD_LIMIT

# A line as a row of fields: each field preceded by the comma the line is prefixed with.
_FIELD = r',("(?:[^"]|"")*"|[^,"]*)'
_ROW = r'(?:,(?:"(?:[^"]|"")*"|[^,"]*))*'


@dataclass(frozen=True)
class Header:
    line: int  # 1-based line number of the header (blank lines before it count)
    names: tuple[str, ...]

    def find(self, *aliases: str) -> int | None:
        """1-based position of the first column named like one of ``aliases``
        (case and surrounding spaces ignored), or None."""
        folded = [n.strip().lower() for n in self.names]
        for alias in aliases:
            if alias.lower() in folded:
                return folded.index(alias.lower()) + 1
        return None


def header_names(head: str) -> list[str]:
    """The column names on the first non-blank line of ``head`` (for sniffing)."""
    for line in head.lstrip("\ufeff").splitlines():
        if line.strip():
            try:
                return [n.strip() for n in next(csv.reader([line]))]
            except (csv.Error, StopIteration):
                return []
    return []


def read_header(path: Path) -> Header | None:
    head = head_text(path, 1 << 16).lstrip("\ufeff")
    for n, line in enumerate(head.split("\n"), start=1):
        if line.strip():
            names = header_names(line)
            return Header(n, tuple(names)) if names else None
    return None


def stage(
    reader: Reader,
    path: Path,
    header: Header,
    columns: dict[str, tuple[str, ...]],
    reject_sql: str,
) -> tuple[str, int]:
    """The file's rows as a stage table: ``raw_offset`` (line number), one VARCHAR
    column per key of ``columns`` (the first header column named like one of its
    aliases; NULL where the header has none or the field is blank), ``_reject`` and
    ``_record``. ``reject_sql`` is a CASE over those columns giving the reason a
    well-formed row is refused. Lines that repeat the header (exports run together)
    are skipped. Returns ``(stage, skipped)``."""
    name = reader.name("csv")
    width = len(header.names)
    picks = []
    for col, aliases in columns.items():
        i = header.find(*aliases)
        value = f"nullif(trim(f[{i}]), '')" if i else "NULL::VARCHAR"
        picks.append(f'{value} AS "{col}"')

    def build(lines: str) -> None:
        reader.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {name} AS
            WITH l AS (
                SELECT raw_offset, {rtrim_set("text", chr(13))} AS text FROM {lines}
                WHERE raw_offset <> {header.line}
            ), q AS (
                SELECT raw_offset, text,
                    CASE WHEN strlen(text) >= 2 AND starts_with(text, '"') AND ends_with(text, '"')
                         THEN {inner("text")} END AS quoted
                FROM l
            ), s AS (
                SELECT raw_offset, text,
                    CASE WHEN raw_offset <= 0 THEN NULL
                         WHEN NOT contains(text, '"') THEN string_split(text, ',')
                         WHEN NOT contains(replace(quoted, '","', ''), '"')
                             THEN string_split(quoted, '","')
                         WHEN regexp_full_match(',' || text, '{_ROW}')
                         THEN list_transform(regexp_extract_all(',' || text, '{_FIELD}', 1),
                              lambda x: CASE WHEN starts_with(x, '"')
                                        THEN replace(x[2:-2], '""', '"') ELSE x END) END AS f
                FROM q
            ), p AS (
                SELECT raw_offset, text, f, len(f) AS width,
                    CASE WHEN trim(f[1]) = $names[1]
                         THEN list_transform(f, lambda x: trim(x)) = $names END AS again{"".join(", " + p for p in picks)}
                FROM s
            ), r AS (
                SELECT *,
                    CASE WHEN raw_offset < 0 THEN substr(text, 2)
                         WHEN f IS NULL THEN 'not a CSV row (unbalanced quotes)'
                         WHEN again THEN NULL
                         WHEN width <> {width}
                             THEN width || ' fields where the header names {width}'
                         ELSE ({reject_sql}) END AS _reject
                FROM p
            )
            SELECT * EXCLUDE (text, f, width, again),
                CASE WHEN _reject IS NOT NULL THEN left(text, {RECORD_LIMIT}) END AS _record,
                coalesce(again, false) AS _skip
            FROM r""",
            {"names": list(header.names)},
        )

    try:
        build(reader.lines(path))
    except duckdb.Error:
        # odd bytes or a truncated gzip: the forgiving reader keeps every good line
        build(reader.materialise_lines(path))
    ((skipped,),) = reader.con.execute(f"SELECT count(*) FROM {name} WHERE _skip").fetchall()
    if skipped:
        reader.con.execute(f"DELETE FROM {name} WHERE _skip")
    return name, skipped
