"""``crownwatch lake compact`` and ``crownwatch lake ddl`` — the lake as files other
engines read (docs/interfaces.md, "The lake for other engines").

Only Typer is imported here: the lake, DuckDB and PyArrow load inside the commands
(``crownwatch --help`` start-up, tests/test_cli_startup.py). Exit codes: 0 done, 2 a
usage or input error (no lake, an unknown table, a location the dialect cannot take).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer

from crownwatch.cli_options import LakeOpt, QuietOpt

lake_app = typer.Typer(
    help="The lake's Parquet tables: compact their files, and define them for Athena, "
    "Spark and DuckDB.",
    no_args_is_help=True,
)

_TableOpt = typer.Option(None, "--table", help="Only this table \\[default: every table]")


class Dialect(StrEnum):
    athena = "athena"
    spark = "spark"
    duckdb = "duckdb"


class Fmt(StrEnum):
    table = "table"
    json = "json"


def _fail(message: str) -> NoReturn:
    """Print ``message`` (which may quote a path the user gave) as inert text; exit 2."""
    from crownwatch.inert import inert_str

    print(f"error: {inert_str(message)}", file=sys.stderr)
    raise typer.Exit(2)


def _existing_lake(lake: Path | None):
    from crownwatch.lake import Lake, default_lake

    lk = Lake(lake if lake is not None else default_lake())
    if not lk.root.is_dir():
        _fail(f"no lake at {lk.root} (ingest or hunt creates it; --lake DIR to choose one)")
    return lk


def _tables(table: str | None):
    from crownwatch.tables import SCHEMAS

    if table is None:
        return dict(SCHEMAS)
    if table not in SCHEMAS:
        _fail(f"unknown table {table!r}; choose one of {', '.join(SCHEMAS)}")
    return {table: SCHEMAS[table]}


@lake_app.command("compact")
def compact(
    lake: Path | None = LakeOpt,
    table: str | None = _TableOpt,
    target_mb: int = typer.Option(
        256, "--target-mb", min=1, help="Size to aim each compacted file at, in MB"
    ),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    quiet: bool = QuietOpt,
):
    """Rewrite each day's small Parquet files into few large ones (atomically; ingest
    does it by itself once a day holds more than $CROWNWATCH_COMPACT_AFTER=8 small files).

    What was compacted is the result, on stdout; the summary (files and MB before and
    after, the time taken, or that there was nothing to do) goes to stderr in either
    format."""
    import json

    import duckdb

    from crownwatch.lake import LakeError
    from crownwatch.lake_compact import CompactError
    from crownwatch.lake_compact import compact as run

    lk = _existing_lake(lake)
    tables = list(_tables(table))
    try:
        report = run(lk, tables=tables, target_bytes=target_mb * 1024 * 1024)
    except (LakeError, CompactError, OSError, duckdb.Error) as exc:
        _fail(f"compaction stopped, the lake is as it was: {exc}")
    if fmt == Fmt.json:
        print(json.dumps(report.as_dict(), indent=2))
    elif report.partitions:
        print(f"{'table':<18} {'days':>5} {'files':>15} {'rows':>12} {'MB':>19}")
        for name in tables:
            parts = [p for p in report.partitions if p.table == name]
            if parts:
                files = (
                    f"{sum(p.files_before for p in parts)} -> {sum(p.files_after for p in parts)}"
                )
                mb = (
                    f"{sum(p.bytes_before for p in parts) / 1e6:.1f} -> "
                    f"{sum(p.bytes_after for p in parts) / 1e6:.1f}"
                )
                rows = sum(p.rows for p in parts)
                print(f"{name:<18} {len(parts):>5} {files:>15} {rows:>12} {mb:>19}")
    if not quiet:
        _summary(report)


def _summary(report) -> None:
    """The run in one line, on stderr (``--quiet`` leaves it out)."""
    parts = report.partitions
    if not parts:
        print("nothing to compact: no day holds two or more small files", file=sys.stderr)
        return
    t = report.totals()
    print(
        f"compacted {t['files_before']} files into {t['files_after']} "
        f"({t['bytes_before'] / 1e6:.1f} -> {t['bytes_after'] / 1e6:.1f} MB) "
        f"in {len(parts)} day partition(s), {report.seconds:.1f} s",
        file=sys.stderr,
    )


@lake_app.command("ddl")
def ddl(
    dialect: Dialect = typer.Option(..., "--dialect", help="athena | spark | duckdb"),
    table: str | None = _TableOpt,
    location: str | None = typer.Option(
        None,
        "--location",
        help="URI of the folder holding the tables (<location>/<table>/day=…/) "
        "\\[default: the lake's own tables/ folder; required for athena: s3://BUCKET/PREFIX]",
    ),
    lake: Path | None = LakeOpt,
):
    """Print CREATE TABLE (Athena, Spark SQL) or CREATE VIEW (DuckDB) statements that
    read the lake's Parquet tables in place, typed from the tables' schemas."""
    from crownwatch.lake_ddl import DdlError, lake_ddl

    lk = _existing_lake(lake)
    schemas = _tables(table)
    if location is None:
        if dialect == Dialect.athena:
            _fail(
                "athena reads from S3: copy the lake's tables/ folder there and give "
                "--location s3://BUCKET/PREFIX"
            )
        tables_dir = lk.tables_dir.resolve().as_posix()
        # Hadoop takes a path as written after file:// (as_uri's %-escapes would be
        # read as literal characters)
        location = "file://" + tables_dir if dialect == Dialect.spark else tables_dir
    first_days = {}
    for name in schemas:
        days = sorted(
            p.name.removeprefix("day=")
            for p in (lk.tables_dir / name).glob("day=*")
            if p.name != "day=_refused"
        )
        if days:
            first_days[name] = days[0]
    try:
        sys.stdout.write(lake_ddl(schemas, dialect.value, location, first_days))
    except DdlError as exc:
        _fail(str(exc))
