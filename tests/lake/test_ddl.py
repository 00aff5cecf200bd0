"""``crownwatch lake ddl``: definitions other engines run to read the lake in place."""

from __future__ import annotations

import re
import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.lake import Lake
from crownwatch.lake_ddl import DdlError, column_type, lake_ddl, quote
from crownwatch.tables import SCHEMAS
from tests.conftest import HAS_SPARK

from .conftest import DAYS

BASE = "s3://crownwatch-lake/prod/tables"

GOLDEN_ATHENA = """\
-- network_activity: Athena finds the days by partition projection over the day=YYYY-MM-DD
-- folders, no MSCK REPAIR TABLE needed. Widen projection.day.range for older
-- logs. Without projection: drop TBLPROPERTIES, run MSCK REPAIR TABLE after uploads.
CREATE EXTERNAL TABLE IF NOT EXISTS `network_activity` (
  `time` timestamp,
  `source` string,
  `src_ip` string,
  `src_port` int,
  `dst_ip` string,
  `dst_port` int,
  `protocol` string,
  `bytes_out` bigint,
  `bytes_in` bigint,
  `action` string,
  `raw_source` string,
  `raw_offset` bigint,
  `raw_id` string
)
PARTITIONED BY (`day` string)
STORED AS PARQUET
LOCATION 's3://crownwatch-lake/prod/tables/network_activity/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy-MM-dd',
  'projection.day.range' = '2026-03-01,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://crownwatch-lake/prod/tables/network_activity/day=${day}/'
);
"""

# Athena's Hive DDL names of the Arrow types the tables use (docs.aws.amazon.com/athena,
# "Data types in Amazon Athena"), written out here rather than taken from the code
ATHENA_NAMES = {
    pa.string(): "string",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamp",
    pa.date32(): "date",
}


def run(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["lake", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


# the golden text is of a frozen schema (network_activity's first columns), so the
# test pins the DDL's form, not whatever the table holds today
FROZEN = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("src_ip", pa.string()),
        pa.field("src_port", pa.int32()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("protocol", pa.string()),
        pa.field("bytes_out", pa.int64()),
        pa.field("bytes_in", pa.int64()),
        pa.field("action", pa.string()),
        pa.field("raw_source", pa.string()),
        pa.field("raw_offset", pa.int64()),
        pa.field("raw_id", pa.string()),
    ]
)


def test_athena_golden_text_for_one_table():
    ddl = lake_ddl(
        {"network_activity": FROZEN},
        "athena",
        BASE,
        {"network_activity": "2026-03-01"},
    )
    assert ddl == GOLDEN_ATHENA


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_athena_columns_and_types_of_every_table(table):
    ddl = lake_ddl({table: SCHEMAS[table]}, "athena", BASE, {table: "2026-03-02"})
    body = re.search(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)` \(\n(.*?)\n\)\n", ddl, re.S)
    assert body and body[1] == table
    cols = [re.fullmatch(r"  `(\w+)` (.+?),?", line).groups() for line in body[2].split("\n")]
    assert cols == [(f.name, ATHENA_NAMES[f.type]) for f in SCHEMAS[table]]
    location = f"{BASE}/{table}/"
    assert f"PARTITIONED BY (`day` string)\nSTORED AS PARQUET\nLOCATION '{location}'\n" in ddl
    assert f"'storage.location.template' = '{location}day=${{day}}/'" in ddl
    assert "'projection.day.range' = '2026-03-02,NOW'" in ddl
    assert ddl.count(";") == 1


NESTED = pa.schema(
    [
        pa.field("amount", pa.decimal128(12, 2)),
        pa.field("seen", pa.timestamp("ms")),
        pa.field("on", pa.date32()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("counts", pa.map_(pa.string(), pa.int64())),
        pa.field("who", pa.struct([("name", pa.string()), ("ids", pa.list_(pa.int32()))])),
        pa.field(
            "hops", pa.list_(pa.struct([("ip", pa.string()), ("at", pa.timestamp("us", "UTC"))]))
        ),
    ]
)
EXPECTED = {
    "athena": [
        "decimal(12,2)",
        "timestamp",
        "date",
        "array<string>",
        "map<string,bigint>",
        "struct<name:string,ids:array<int>>",
        "array<struct<ip:string,at:timestamp>>",
    ],
    "spark": [
        "DECIMAL(12, 2)",
        "TIMESTAMP_NTZ",
        "DATE",
        "ARRAY<STRING>",
        "MAP<STRING, BIGINT>",
        "STRUCT<`name`: STRING, `ids`: ARRAY<INT>>",
        "ARRAY<STRUCT<`ip`: STRING, `at`: TIMESTAMP>>",
    ],
    "duckdb": [
        "DECIMAL(12, 2)",
        "TIMESTAMP",
        "DATE",
        "VARCHAR[]",
        "MAP(VARCHAR, BIGINT)",
        'STRUCT("name" VARCHAR, "ids" INTEGER[])',
        'STRUCT("ip" VARCHAR, "at" TIMESTAMPTZ)[]',
    ],
}


@pytest.mark.parametrize("dialect", list(EXPECTED))
def test_nested_decimal_and_time_types_map_per_dialect(dialect):
    assert [column_type(f.type, dialect) for f in NESTED] == EXPECTED[dialect]


def test_the_duckdb_types_are_those_duckdb_reads_the_parquet_as(tmp_path):
    """DuckDB checks its own spellings: a Parquet file of these Arrow types reads back
    with exactly the types the view casts to (no cast that changes a value)."""
    odd = pa.schema(
        [
            ("ns", pa.timestamp("ns")),
            ("ns_utc", pa.timestamp("ns", "UTC")),
            ("s", pa.timestamp("s")),
            ("u64", pa.uint64()),
            ("f32", pa.float32()),
            ("blob", pa.binary()),
        ]
    )
    spelled = EXPECTED["duckdb"] + [column_type(f.type, "duckdb") for f in odd]
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.unify_schemas([NESTED, odd]).empty_table(), path)
    con = duckdb.connect()
    native = con.sql(f"SELECT * FROM read_parquet('{path}')").types
    cast = con.sql("SELECT " + ", ".join(f"CAST(NULL AS {t})" for t in spelled)).types
    assert [str(t) for t in cast] == [str(t) for t in native]


@pytest.mark.parametrize(
    ("t", "dialect", "why"),
    [
        (pa.timestamp("ns", "UTC"), "spark", "nanosecond"),
        (pa.timestamp("ns"), "athena", "nanosecond"),
        (pa.uint64(), "athena", "no athena type"),
        (pa.decimal256(40, 2), "spark", "38 decimal digits"),
        (pa.list_(pa.uint32()), "spark", "no spark type"),
        (pa.string(), "oracle", "unknown dialect"),
    ],
)
def test_a_type_a_dialect_cannot_read_is_refused(t, dialect, why):
    with pytest.raises(DdlError, match=why):
        column_type(t, dialect)


def test_identifiers_and_locations_are_quoted_for_each_dialect():
    assert quote("a`b", "spark") == "`a``b`" and quote("a`b", "athena") == "`a``b`"
    assert quote('a"b', "duckdb") == '"a""b"'
    schema = pa.schema([pa.field("time", pa.timestamp("us", "UTC"))])
    spark = lake_ddl({"t": schema}, "spark", "file:///l/it's\\x", {"t": DAYS[0]})
    assert "LOCATION 'file:///l/it\\'s\\\\x/t/';" in spark
    duck = lake_ddl({"t": schema}, "duckdb", "/l/it's", {"t": DAYS[0]})
    assert "'/l/it''s/t/day=*/*.parquet'" in duck
    for bad in ("/l/a\nDROP TABLE x", "/l/\u202ereversed", "/l/\x1b[31m"):
        with pytest.raises(DdlError, match="control or bidi"):
            lake_ddl({"t": schema}, "duckdb", bad, {"t": DAYS[0]})
    for bad in ("/local/path", "s3://b/it's", "https://example.com/x"):
        with pytest.raises(DdlError):
            lake_ddl({"t": schema}, "athena", bad)


@pytest.fixture
def odd_lake(pristine_lake, tmp_path) -> Lake:
    """The small lake under a path with a space and a quote in it."""
    root = tmp_path / "it's a lake"
    shutil.copytree(pristine_lake, root)
    return Lake(root)


def _counts(lake: Lake) -> dict[str, int]:
    con = duckdb.connect()
    return {
        t: con.execute("SELECT count(*) FROM read_parquet(?)", [lake.table_glob(t)]).fetchall()[0][
            0
        ]
        for t in ("authentication", "api_activity", "quarantine")
    }


def test_the_duckdb_views_read_the_real_lake(odd_lake):
    code, out, _ = run("ddl", "--dialect", "duckdb", "--lake", odd_lake.root)
    assert code == 0
    con = duckdb.connect()
    con.execute(out)
    for table, n in _counts(odd_lake).items():
        assert con.execute(f'SELECT count(*) FROM "{table}"').fetchall() == [(n,)]
        assert con.sql(f'SELECT * FROM "{table}"').columns == [
            *SCHEMAS[table].names,
            "day",
        ]
    kinds = con.execute(
        "SELECT typeof(time), typeof(day), typeof(src_asn), typeof(is_cross_account) "
        "FROM api_activity LIMIT 1"
    ).fetchall()
    assert kinds == [("TIMESTAMP WITH TIME ZONE", "VARCHAR", "BIGINT", "BOOLEAN")]
    assert con.execute("SELECT DISTINCT day FROM api_activity ORDER BY 1").fetchall() == [
        (d,) for d in DAYS
    ]
    # no files yet: a note, not a view that would fail the script
    assert "-- network_activity: no Parquet files" in out and '"network_activity"' not in out
    # a view lists the files when it is queried: a file added later is read
    day = odd_lake.tables_dir / "api_activity" / f"day={DAYS[0]}"
    shutil.copy(next(day.glob("*.parquet")), day / "later.parquet")
    assert con.execute("SELECT count(*) FROM api_activity").fetchall() == [
        (_counts(odd_lake)["api_activity"],)
    ]


def test_cli_errors_exit_2_with_the_reason(tmp_path, pristine_lake):
    code, _, err = run("ddl", "--dialect", "duckdb", "--lake", tmp_path / "none")
    assert code == 2 and "no lake at" in err
    code, _, err = run("ddl", "--dialect", "oracle", "--lake", pristine_lake)
    assert code == 2 and all(d in err for d in ("athena", "spark", "duckdb"))
    code, _, err = run("ddl", "--dialect", "athena", "--lake", pristine_lake)
    assert code == 2 and "--location s3://" in err
    code, _, err = run(
        "ddl", "--dialect", "athena", "--location", "/tmp/x", "--lake", pristine_lake
    )
    assert code == 2 and "S3" in err
    code, _, err = run("ddl", "--dialect", "spark", "--table", "nope", "--lake", pristine_lake)
    assert code == 2 and "authentication" in err
    code, out, _ = run(
        "ddl",
        "--dialect",
        "athena",
        "--table",
        "api_activity",
        "--location",
        BASE + "/",
        "--lake",
        pristine_lake,
    )
    assert code == 0 and out.count("CREATE EXTERNAL TABLE") == 1
    assert f"LOCATION '{BASE}/api_activity/'" in out and f"'{DAYS[0]},NOW'" in out


@pytest.mark.slow  # a Spark session reading the lake through the DDL (~20 s)
@pytest.mark.spark
@pytest.mark.skipif(not HAS_SPARK, reason="needs PySpark and Java")
def test_the_spark_tables_read_the_real_lake(odd_lake, tmp_path):
    from crownwatch.engine import spark_session

    code, out, _ = run("ddl", "--dialect", "spark", "--lake", odd_lake.root)
    assert code == 0
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    # a database of its own, the statements qualified with it: the engine's temp views
    # of the same names shadow unqualified tables in a shared session
    db = "cw_lake_ddl_test"
    spark.sql(f"CREATE DATABASE {db} LOCATION '{tmp_path / 'warehouse'}'")
    try:
        spark.catalog.setCurrentDatabase(db)
        for stmt in out.split(";\n"):
            sql = "\n".join(ln for ln in stmt.splitlines() if not ln.startswith("--")).strip()
            # qualified: an unqualified MSCK resolves a temp view of the same name first
            sql = sql.replace("TABLE IF NOT EXISTS ", f"TABLE IF NOT EXISTS {db}.")
            sql = sql.replace("MSCK REPAIR TABLE ", f"MSCK REPAIR TABLE {db}.")
            if sql:
                spark.sql(sql)
        counts = _counts(odd_lake)
        union = " UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM {db}.{t}" for t in [*counts, "network_activity"]
        )
        got = dict(spark.sql(union).collect())
        assert got == {**counts, "network_activity": 0}
        fields = {
            f.name: f.dataType.simpleString() for f in spark.table(f"{db}.api_activity").schema
        }
        assert fields["time"] == "timestamp" and fields["day"] == "string"
        assert fields["src_asn"] == "bigint" and fields["is_cross_account"] == "boolean"
        days = spark.sql(f"SHOW PARTITIONS {db}.api_activity").collect()  # what MSCK found
        assert sorted(r[0] for r in days) == [f"day={d}" for d in DAYS]
        # Spark's parser takes the Hive spellings Athena's DDL uses, nested ones too
        spellings = EXPECTED["athena"] + EXPECTED["spark"]
        casts = ", ".join(f"CAST(NULL AS {t}) AS c{i}" for i, t in enumerate(spellings))
        spark.sql(f"SELECT {casts}").schema  # noqa: B018 - parsed and analysed, not run
    finally:
        spark.catalog.setCurrentDatabase("default")
        spark.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")
    assert _counts(odd_lake)["api_activity"] > 0  # external tables: dropping keeps the files
