"""The engine behind the detections: one Ibis backend over the lake's Parquet tables.

Detections are Ibis expressions, so the same code runs on the embedded default
(DuckDB, no server) and on Apache Spark (``--engine spark``) — and on any other
Ibis backend that can read Parquet (Trino/Athena, BigQuery) where an OCSF data lake
already lives. Python only ever sees the small aggregated result of a detection.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

import ibis
import pyarrow as pa

from crownwatch.lake import Lake
from crownwatch.sources.reader import _sql_str
from crownwatch.tables import SCHEMAS

ENGINES = ("duckdb", "spark")


class Engine:
    """Tables of one lake on one backend; ``execute`` returns plain Python rows."""

    def __init__(self, lake: Lake, name: str = "duckdb"):
        if name not in ENGINES:
            raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
        self.lake = lake
        self.name = name
        self._tables: dict[str, ibis.Table] = {}

    @cached_property
    def backend(self):
        if self.name == "duckdb":
            con = ibis.duckdb.connect()
            con.raw_sql("SET TimeZone = 'UTC'")
            con.raw_sql("SET enable_progress_bar = false")
            # spill (a big lake's joins) into the lake's scratch folder, not a '.tmp'
            # in whatever directory the analyst ran from
            con.raw_sql(f"SET temp_directory = {_sql_str(str(self.lake.root / '.spill'))}")
            return con
        return ibis.pyspark.connect(spark_session())

    def table(self, name: str) -> ibis.Table:
        """The normalised table ``name``; an empty table of the right schema if the
        lake holds none, so every detection runs on any lake."""
        if name not in self._tables:
            schema = SCHEMAS[name]
            if self.lake.table_files(name):
                t = self.backend.read_parquet(self.lake.table_glob(name), table_name=name)
                t = t.select(*[f.name for f in schema])  # drop hive 'day'; fix the order
            else:
                t = ibis.memtable(schema.empty_table())
            self._tables[name] = t
        return self._tables[name]

    def materialise(self, expr: ibis.Table) -> ibis.Table:
        """Compute ``expr`` once and keep the result in the engine for reuse within
        this run: a DuckDB temp table, a persisted Spark DataFrame.

        (Ibis's own ``Table.cache()`` is not used on DuckDB: with DuckDB 2.0 its
        clean-up emits a malformed DROP on garbage collection.)"""
        if self.name == "duckdb":
            self._materialised = getattr(self, "_materialised", 0) + 1
            return self.backend.create_table(f"_cw_run_{self._materialised}", obj=expr, temp=True)
        return expr.cache()

    def execute(self, expr: ibis.Table) -> list[dict[str, Any]]:
        result: pa.Table = self.backend.to_pyarrow(expr)
        return result.to_pylist()


def spark_session():
    """A local Spark session tuned for a laptop-sized run (override with SPARK_MASTER)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName("crownwatch")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
