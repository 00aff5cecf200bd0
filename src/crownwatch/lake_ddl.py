"""Table definitions of the lake for other engines: Athena, Spark SQL and DuckDB.

The lake is plain Hive-partitioned Parquet (``<tables>/<table>/day=YYYY-MM-DD/*.parquet``,
see :mod:`crownwatch.lake`), so any engine can read it in place once it is told the
tables' columns. The columns and their types come from the tables' Arrow schemas
(:data:`crownwatch.tables.SCHEMAS`) — the schema every Parquet file is written to — and
are spelled in each dialect's own type syntax:

=================  ==================  ====================  ======================
Arrow              Athena (Hive DDL)   Spark SQL             DuckDB
=================  ==================  ====================  ======================
string             string              STRING                VARCHAR
int32 / int64      int / bigint        INT / BIGINT          INTEGER / BIGINT
float64            double              DOUBLE                DOUBLE
bool               boolean             BOOLEAN               BOOLEAN
timestamp, UTC     timestamp           TIMESTAMP             TIMESTAMPTZ
timestamp, no tz   timestamp           TIMESTAMP_NTZ         TIMESTAMP
decimal(p, s)      decimal(p,s)        DECIMAL(p,s)          DECIMAL(p,s)
list<T>            array<T>            ARRAY<T>              T[]
struct<a: T>       struct<a:T>         STRUCT<`a`: T>        STRUCT("a" T)
map<K, V>          map<K,V>            MAP<K, V>             MAP(K, V)
=================  ==================  ====================  ======================

A type a dialect cannot read correctly (an unsigned 64-bit integer on Athena, a
nanosecond timestamp on Spark) is refused with :class:`DdlError` rather than guessed.
``day``, the partition, is a string everywhere (``YYYY-MM-DD``), as the folder names
are: DuckDB would otherwise infer a DATE and Spark a date-typed partition.

Identifiers are quoted in every statement (``user``, ``time`` and ``status`` are
reserved somewhere), and the location is checked and escaped as a string literal of
the dialect: Hive and Spark read ``\\'`` in a literal, DuckDB reads ``''`` (Spark would
read ``'a''b'`` as two adjacent literals, ``ab``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

DIALECTS = ("athena", "spark", "duckdb")

#: the partition column every table is split by (the folder ``day=YYYY-MM-DD``)
PARTITION = "day"


class DdlError(ValueError):
    """A table definition that cannot be written: an unknown dialect, a location the
    dialect cannot hold, a type it cannot read."""


# -- identifiers ----------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote(name: str, dialect: str) -> str:
    """``name`` as a quoted identifier: backticks for Hive/Athena and Spark (a backtick
    doubled), double quotes for DuckDB (a double quote doubled)."""
    if dialect == "duckdb":
        return '"' + name.replace('"', '""') + '"'
    return "`" + name.replace("`", "``") + "`"


def _field_name(name: str, dialect: str) -> str:
    """A struct field's name inside a type: Hive's type grammar takes a bare name where
    it can (``struct<a:int>``) and a quoted one otherwise."""
    if dialect == "athena" and _PLAIN.match(name):
        return name
    return quote(name, dialect)


# -- types ----------------------------------------------------------------------------

_ATHENA = {
    pa.string(): "string",
    pa.large_string(): "string",
    pa.int8(): "tinyint",
    pa.int16(): "smallint",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.float32(): "float",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.binary(): "binary",
    pa.large_binary(): "binary",
}
_SPARK = {
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.binary(): "BINARY",
    pa.large_binary(): "BINARY",
}
_DUCKDB = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint8(): "UTINYINT",
    pa.uint16(): "USMALLINT",
    pa.uint32(): "UINTEGER",
    pa.uint64(): "UBIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.binary(): "BLOB",
    pa.large_binary(): "BLOB",
}
_SCALARS = {"athena": _ATHENA, "spark": _SPARK, "duckdb": _DUCKDB}

#: Athena's and Spark's DECIMAL holds at most 38 digits
_MAX_DECIMAL = 38


def column_type(t: pa.DataType, dialect: str) -> str:
    """The dialect's spelling of Arrow type ``t`` (nested types recursively)."""
    if dialect not in DIALECTS:
        raise DdlError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if pa.types.is_dictionary(t):  # stored as its values
        return column_type(t.value_type, dialect)
    if pa.types.is_timestamp(t):
        return _timestamp(t, dialect)
    if pa.types.is_decimal(t):
        if dialect != "duckdb" and t.precision > _MAX_DECIMAL:
            raise DdlError(f"{t}: {dialect} holds at most {_MAX_DECIMAL} decimal digits")
        sep = "," if dialect == "athena" else ", "
        name = "decimal" if dialect == "athena" else "DECIMAL"
        return f"{name}({t.precision}{sep}{t.scale})"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = column_type(t.value_type, dialect)
        return {"athena": f"array<{inner}>", "spark": f"ARRAY<{inner}>"}.get(dialect, inner + "[]")
    if pa.types.is_map(t):
        k, v = column_type(t.key_type, dialect), column_type(t.item_type, dialect)
        return {"athena": f"map<{k},{v}>", "spark": f"MAP<{k}, {v}>"}.get(dialect, f"MAP({k}, {v})")
    if pa.types.is_struct(t):
        return _struct(t, dialect)
    try:
        return _SCALARS[dialect][t]
    except KeyError:
        raise DdlError(f"{t}: no {dialect} type reads it as it is stored") from None


def _timestamp(t: pa.TimestampType, dialect: str) -> str:
    """An instant (a timestamp with a time zone: Parquet's isAdjustedToUTC) or a
    wall-clock time (none)."""
    if dialect == "duckdb":  # what DuckDB reads a Parquet timestamp as (s and ms: as us)
        ns = "_NS" if t.unit == "ns" else ""
        return ("TIMESTAMPTZ" if t.tz else "TIMESTAMP") + ns
    if t.unit == "ns":  # Spark and Athena's Hive tables stop at microseconds
        raise DdlError(f"{t}: {dialect} does not read nanosecond Parquet timestamps")
    if dialect == "athena":
        return "timestamp"
    return "TIMESTAMP" if t.tz else "TIMESTAMP_NTZ"


def _struct(t: pa.StructType, dialect: str) -> str:
    fields = [t.field(i) for i in range(t.num_fields)]
    if dialect == "athena":
        inner = ",".join(
            f"{_field_name(f.name, dialect)}:{column_type(f.type, dialect)}" for f in fields
        )
        return f"struct<{inner}>"
    if dialect == "spark":
        inner = ", ".join(
            f"{quote(f.name, dialect)}: {column_type(f.type, dialect)}" for f in fields
        )
        return f"STRUCT<{inner}>"
    inner = ", ".join(f"{quote(f.name, dialect)} {column_type(f.type, dialect)}" for f in fields)
    return f"STRUCT({inner})"


def types(schema: pa.Schema, dialect: str) -> dict[str, str]:
    """``{column: type}`` of a table in ``dialect``, in the schema's order."""
    return {f.name: column_type(f.type, dialect) for f in schema}


# -- locations ------------------------------------------------------------------------

# controls, and the bidi controls that would make a printed script read differently
# from what runs (the set crownwatch.inert replaces), and Unicode line breaks
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def _literal(text: str, dialect: str) -> str:
    """``text`` as a string literal of the dialect."""
    if _CONTROL.search(text):
        raise DdlError(f"{text!r}: a location cannot hold control or bidi characters")
    if dialect == "duckdb":
        return "'" + text.replace("'", "''") + "'"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_location(base: str, table: str) -> str:
    """The folder of ``table`` under the lake's tables folder ``base``, with the
    trailing slash Athena wants of a LOCATION."""
    return base.rstrip("/") + "/" + table + "/"


def check_location(base: str, dialect: str) -> None:
    """Athena reads tables from S3 only, and its location literal gets no escaping."""
    if dialect == "athena" and not re.match(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/|\Z)", base):
        raise DdlError(
            f"{base!r}: Athena reads tables from S3; give --location s3://BUCKET/PREFIX "
            "(the folder the lake's tables/ folder was copied to)"
        )
    if dialect == "athena" and re.search(r"['\\\s]", base):
        raise DdlError(f"{base!r}: quotes, backslashes and spaces are not S3 key text Athena takes")
    _literal(base, dialect)  # raises on control characters


# -- statements -----------------------------------------------------------------------
# Comments hold no semicolon: tools that split a script into statements split on it.


def create_table(
    table: str, schema: pa.Schema, dialect: str, base: str, first_day: str | None = None
) -> str:
    """One table's definition (statements ending with ``;``), located at ``base``,
    the URI of the lake's tables folder (``<base>/<table>/day=…/``). ``first_day``
    starts Athena's projected day range (the lake's earliest day for the table)."""
    check_location(base, dialect)
    build: Callable[..., str] = {"athena": _athena, "spark": _spark, "duckdb": _duckdb}[dialect]
    return build(table, schema, table_location(base, table), first_day)


def _columns(schema: pa.Schema, dialect: str, extra: str = "") -> str:
    cols = [f"  {quote(n, dialect)} {t}" for n, t in types(schema, dialect).items()]
    if extra:
        cols.append(f"  {extra}")
    return ",\n".join(cols)


def _athena(table: str, schema: pa.Schema, location: str, first_day: str | None) -> str:
    q = quote(table, "athena")
    start = first_day or "NOW-1YEARS"
    template = location + PARTITION + "=${" + PARTITION + "}/"
    props = [
        ("projection.enabled", "true"),
        (f"projection.{PARTITION}.type", "date"),
        (f"projection.{PARTITION}.format", "yyyy-MM-dd"),
        (f"projection.{PARTITION}.range", f"{start},NOW"),
        (f"projection.{PARTITION}.interval", "1"),
        (f"projection.{PARTITION}.interval.unit", "DAYS"),
        ("storage.location.template", template),
    ]
    tblprops = ",\n".join(f"  {_literal(k, 'athena')} = {_literal(v, 'athena')}" for k, v in props)
    return (
        f"-- {table}: Athena finds the days by partition projection over the day=YYYY-MM-DD\n"
        f"-- folders, no MSCK REPAIR TABLE needed. Widen projection.{PARTITION}.range for older\n"
        f"-- logs. Without projection: drop TBLPROPERTIES, run MSCK REPAIR TABLE after uploads.\n"
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {q} (\n"
        f"{_columns(schema, 'athena')}\n"
        f")\n"
        f"PARTITIONED BY ({quote(PARTITION, 'athena')} string)\n"
        f"STORED AS PARQUET\n"
        f"LOCATION {_literal(location, 'athena')}\n"
        f"TBLPROPERTIES (\n{tblprops}\n);\n"
    )


def _spark(table: str, schema: pa.Schema, location: str, first_day: str | None) -> str:
    q = quote(table, "spark")
    day = quote(PARTITION, "spark")
    # Spark's MSCK fails on a folder that does not exist yet: a table with no days
    # gets it as a comment, to run once it has some
    repair = f"MSCK REPAIR TABLE {q};\n" if first_day else f"-- MSCK REPAIR TABLE {q}\n"
    return (
        f"-- {table}: MSCK REPAIR TABLE registers the day=YYYY-MM-DD folders there now.\n"
        f"-- Run it again after ingesting new days.\n"
        f"CREATE TABLE IF NOT EXISTS {q} (\n"
        f"{_columns(schema, 'spark', day + ' STRING')}\n"
        f")\n"
        f"USING parquet\n"
        f"PARTITIONED BY ({day})\n"
        f"LOCATION {_literal(location, 'spark')};\n"
        f"{repair}"
    )


def _duckdb(table: str, schema: pa.Schema, location: str, first_day: str | None) -> str:
    # The typed empty row comes first so the view has every column with its type even
    # over a lake written before a column existed (UNION ALL BY NAME fills it with NULL).
    q = quote(table, "duckdb")
    typed = ",\n".join(
        f"    CAST(NULL AS {t}) AS {quote(n, 'duckdb')}" for n, t in types(schema, "duckdb").items()
    )
    glob = _literal(location + PARTITION + "=*/*.parquet", "duckdb")
    return (
        f"-- {table}: reads the Parquet files present at query time.\n"
        f"CREATE OR REPLACE VIEW {q} AS\n"
        f"SELECT * FROM (\n  SELECT\n{typed},\n"
        f"    CAST(NULL AS VARCHAR) AS {quote(PARTITION, 'duckdb')}\n  WHERE false\n)\n"
        f"UNION ALL BY NAME\n"
        f"SELECT * FROM read_parquet(\n  {glob},\n"
        f"  hive_partitioning = true, hive_types = {{'{PARTITION}': VARCHAR}}, union_by_name = true\n"
        f");\n"
    )


def lake_ddl(
    schemas: dict[str, pa.Schema],
    dialect: str,
    base: str,
    first_days: dict[str, str] | None = None,
) -> str:
    """Every table of ``schemas`` in ``dialect``, one definition after another.
    ``first_days`` holds each table's earliest day in the lake; a table without one has
    no files yet, and DuckDB, which reads a view's files when it creates the view,
    gets a note for it instead of a view that would fail the whole script."""
    if dialect not in DIALECTS:
        raise DdlError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    first_days = first_days or {}
    out = []
    for t, s in schemas.items():
        if dialect == "duckdb" and t not in first_days:
            check_location(base, dialect)
            out.append(f"-- {t}: no Parquet files in the lake yet (DuckDB cannot view none)\n")
        else:
            out.append(create_table(t, s, dialect, base, first_days.get(t)))
    return "\n".join(out)
