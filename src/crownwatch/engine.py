"""The engine behind the detections: one Ibis backend over the lake's Parquet tables.

Detections are Ibis expressions, so the same code runs on the embedded default
(DuckDB, no server) and on Apache Spark (``--engine spark``) — and on any other
Ibis backend that can read Parquet (Trino/Athena, BigQuery) where an OCSF data lake
already lives. Python only ever sees the small aggregated result of a detection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from crownwatch.lake import Lake
from crownwatch.tables import SCHEMAS
from crownwatch.window import TimeWindow

ENGINES = ("duckdb", "spark")
#: an intermediate longer than this goes to the run's scratch folder, whatever its
#: detection asked: at 10M events the longest kept in memory has 0.6M rows, at 100M 5.7M
MEMORY_ROWS = 2_000_000
#: compiled statements kept for every DuckDB engine of the process (:func:`_duckdb_backend_class`)
COMPILED_KEPT = 256


class Engine:
    """Tables of one lake on one backend; ``execute`` returns plain Python rows.

    ``window`` (``detect --since/--until``) restricts every event table to the events
    whose ``time`` falls inside it. It is applied here, where a table is opened, so each
    detection, the enrichment views built on the tables and the shared intermediates all
    see the same events on either engine, and no detection has to know about it."""

    def __init__(self, lake: Lake, name: str = "duckdb", window: TimeWindow | None = None):
        if name not in ENGINES:
            raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
        self.lake = lake
        self.name = name
        self.window = window if window is not None and not window.open else None
        self._tables: dict[str, ibis.Table] = {}
        self._scratch: Path | None = None  # this run's intermediates kept on disk
        self._materialised = 0
        self._run_tables: list[tuple[str, str]] = []  # (TABLE | VIEW, name) kept by this run

    @cached_property
    def backend(self):
        # Ibis's fuse_selects stays on (its default), though compiling is ~40 % of the
        # demo lake's detect (13.8 of 35.6 s): off, a sample of 12 detection scenarios ran
        # 13 % faster, but at 10M DuckDB's plans peaked higher — persistence 1.29 -> 1.66
        # GiB, supply chain 0.88 -> 1.29 GiB — in the same time (2026-12-06, the bench's
        # 10M lake, `bench families`)
        if self.name == "duckdb":
            con = _duckdb_backend_class()().connect()
            for setting in [
                *self.lake.duckdb_settings(),
                "SET enable_progress_bar = false",
                # Nothing a detection returns depends on the order rows come out of a
                # scan (results and their arrays are sorted after the engine returns),
                # and keeping that order makes DuckDB buffer what it writes: writing a
                # run's 10M-row intermediate to Parquet peaked at 6.4 GiB with it.
                "SET preserve_insertion_order = false",
            ]:
                con.raw_sql(setting)
            return con
        return ibis.pyspark.connect(spark_session())

    def table(self, name: str) -> ibis.Table:
        """The normalised table ``name``; an empty table of the right schema if the
        lake holds none, so every detection runs on any lake."""
        if name not in self._tables:
            schema = SCHEMAS[name]
            if self.lake.table_files(name):
                # by name: a lake written before a column was added still reads
                # (the column is NULL in its older files)
                merge = (
                    {"union_by_name": True} if self.name == "duckdb" else {"mergeSchema": "true"}
                )
                t = self.backend.read_parquet(self.lake.table_glob(name), table_name=name, **merge)
                # drop hive 'day', fix the order; a column no file has yet is NULL
                t = t.select(
                    *[
                        t[f.name]
                        if f.name in t.columns
                        else ibis.null(ibis.dtype(f.type)).name(f.name)
                        for f in schema
                    ]
                )
                if self.window is not None and "time" in t.columns:
                    # pushed down to the Parquet scan: row groups outside are not read
                    t = t.filter(self.window.predicate(t.time))
            elif self.name == "duckdb":
                # an empty table under the table's own name, not a memtable (whose name
                # is new each time): a detection's statement is then the same on every
                # lake that lacks the table, and its compiled SQL is reused
                self.backend.con.register(name, schema.empty_table())
                t = self.backend.table(name)
            else:
                t = ibis.memtable(schema.empty_table())
            self._tables[name] = t
        return self._tables[name]

    def materialise(self, expr: ibis.Table, on_disk: bool = False) -> ibis.Table:
        """Compute ``expr`` once and keep the result for reuse within this run: on
        Spark a local checkpoint (:meth:`_spark_checkpoint`); on DuckDB a temp table, or with ``on_disk`` a zstd
        Parquet file in the lake's scratch folder (:meth:`end_run` removes it).

        ``on_disk`` is for intermediates as long as the logs: a DuckDB temp table is
        stored uncompressed and stays resident. Measured at 10M S3 access records, the
        exfiltration detections' shared crown-jewel activity (29 columns) held the run
        at a 12.5 GB peak as a temp table; as Parquet it is a 257 MB file, each
        detection reads only its own columns back, and the peak is 6.2 GB at the same
        speed. For small intermediates the temp table is faster: the identity
        detections at 10M took 9.8 s with theirs in memory, 11.2 s on disk. One kept in
        memory that turns out longer than :data:`MEMORY_ROWS` goes to disk all the same.
        (Ibis's ``Table.cache()`` is not used on DuckDB: with DuckDB 2.0 its clean-up
        emits a malformed DROP on garbage collection.)"""
        self._materialised += 1
        name = f"_cw_run_{self._materialised}"
        if self.name != "duckdb":
            return self._spark_checkpoint(expr, name)
        if on_disk:
            return self._to_scratch(self.backend._to_duckdb_relation(expr), expr, name)
        # as Ibis's create_table(obj=expr) does it — a table of the columns' Ibis types
        # (a DuckDB sum is HUGEINT, Ibis's int64), then the rows — but with the
        # statement from compile(), which keeps it for the next lake
        self.backend._run_pre_execute_hooks(expr)  # registers the memtables it reads
        kept = self.backend.create_table(name, schema=expr.schema(), temp=True)
        columns = ", ".join('"' + c.replace('"', '""') + '"' for c in expr.columns)
        self.backend.raw_sql(
            f'INSERT INTO temp.main."{name}" ({columns}) {self.backend.compile(expr)}'
        )
        self._run_tables.append(("TABLE", name))
        ((rows,),) = self.backend.raw_sql(f'SELECT count(*) FROM "{name}"').fetchall()
        if rows <= MEMORY_ROWS:
            return kept
        # Too long to hold for the rest of the run: a temp table's blocks count against
        # the memory bound for as long as it lives, and at 100M sign-in events the
        # identity detections kept three of 5.7M rows each — the statement that then
        # needed memory ran out. Moved to the scratch folder like ``on_disk``.
        self._run_tables.remove(("TABLE", name))
        on_file = self._to_scratch(self.backend.con.table(name), expr, f"{name}_f")
        self.backend.raw_sql(f'DROP TABLE "{name}"')
        return on_file

    def _to_scratch(self, rel, expr: ibis.Table, name: str) -> ibis.Table:
        """``rel`` (the rows of ``expr``) as zstd Parquet in this run's scratch folder,
        read back as ``name``."""
        self._run_tables.append(("VIEW", name))
        if self._scratch is None:
            self.lake.spill_dir.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix="run-", dir=self.lake.spill_dir))
        path = self._scratch / f"{self._materialised}.parquet"
        # int64 columns cast back to BIGINT: DuckDB sums BIGINT to HUGEINT, which its
        # Parquet writer stores as DOUBLE (byte counts in the evidence must stay integers).
        # Ibis drops a cast to the type it already believes, so the cast is DuckDB's;
        # _to_duckdb_relation is the relation Ibis's own to_parquet writes (memtables
        # registered), kept as a relation so the cast can go on top.
        ints = [
            f"CAST({q} AS BIGINT) AS {q}"
            for c, t in expr.schema().items()
            if t.is_int64()
            for q in ['"' + c.replace('"', '""') + '"']
        ]
        if ints:
            rel = rel.project(f"* REPLACE ({', '.join(ints)})")
        rel.to_parquet(str(path), compression="zstd")
        return self.backend.read_parquet(path, table_name=name)

    def _spark_checkpoint(self, expr: ibis.Table, name: str) -> ibis.Table:
        """Spark: compute ``expr`` now and keep its rows as a leaf with no lineage
        (``localCheckpoint``). A ``cache()``d view still carries its whole logical
        plan; a detection that reads three intermediates, each built on others, made
        Spark analyse and print every nested plan at each reference — the identity
        detections over the enriched tables ran out of driver memory building one
        plan string. A checkpoint's plan is one node."""
        backend = self.backend
        backend._run_pre_execute_hooks(expr)  # registers in-memory tables it reads
        df = backend._session.sql(backend.compile(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._run_tables.append(("SPARK", name))
        return backend.table(name)

    def end_run(self) -> None:
        """Drop what :meth:`materialise` kept for the run that just ended. (A process
        killed mid-run leaves its ``run-*`` folder: ``<lake>/.spill`` is scratch, safe
        to delete.)"""
        for kind, name in self._run_tables:  # a temp table's memory, a view's file
            if kind == "SPARK":  # the checkpoint's blocks go when nothing refers to them
                self.backend._session.catalog.dropTempView(name)
            else:
                self.backend.raw_sql(f'DROP {kind} IF EXISTS "{name}"')
        self._run_tables.clear()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def execute(self, expr: ibis.Table) -> list[dict[str, Any]]:
        result: pa.Table = self.backend.to_pyarrow(expr)
        return result.to_pylist()


@cache
def _duckdb_backend_class():
    """Built on first use: Ibis's DuckDB backend is imported by the runs that need it."""
    from ibis.backends.duckdb import Backend

    class DuckDB(Backend):
        """Ibis's DuckDB backend, compiling each distinct statement once per process.

        Turning an Ibis expression into SQL is most of a detection's time on a small
        lake (0.2–0.4 s for the larger identity and persistence statements, which then
        run in milliseconds), and a process that hunts many lakes — the detection
        scenarios, each in a lake of its own; a service sweeping tenants or windows —
        builds the same statements again and again. Compiling is a pure function of the
        expression, and Ibis compares expressions by value: the same operations,
        literals, table names and schemas, on a connection to the same database (every
        in-memory DuckDB is "the same" to Ibis). So the SQL is kept under the
        expression, the :data:`COMPILED_KEPT` most recently used; an expression with
        bound parameters is compiled each time."""

        def compile(self, expr, /, *, limit=None, params=None, pretty=False):
            if params or pretty:
                return super().compile(expr, limit=limit, params=params, pretty=pretty)
            op = expr.op()
            with _COMPILED_LOCK:
                sql = _COMPILED.get((op, limit))
                if sql is not None:
                    _COMPILED.move_to_end((op, limit))
                    return sql
            sql = super().compile(expr, limit=limit)
            with _COMPILED_LOCK:
                _COMPILED[(_detached(op), limit)] = sql
                while len(_COMPILED) > COMPILED_KEPT:
                    _COMPILED.popitem(last=False)
            return sql

    return DuckDB


_COMPILED: OrderedDict[tuple, str] = OrderedDict()
_COMPILED_LOCK = threading.Lock()


class _SameDatabase:
    """A kept expression's stand-in for the connection its tables were read on: equal
    to, and hashing like, any connection to the same database — as Ibis compares
    connections (``db_identity``) — without keeping that one open."""

    __slots__ = ("db_identity",)

    def __init__(self, db_identity: str):
        self.db_identity = db_identity

    def __eq__(self, other) -> bool:
        return getattr(other, "db_identity", None) == self.db_identity

    def __hash__(self) -> int:
        return hash(self.db_identity)


def _detached(op):
    """``op`` with each table's connection replaced by a :class:`_SameDatabase` — equal
    to ``op``, so a later equal expression finds it, but holding no connection."""
    import ibis.expr.operations as ops
    from ibis.common.patterns import pattern

    def detach(_, **__):
        return _.copy(source=_SameDatabase(_.source.db_identity))

    return op.replace(pattern(ops.DatabaseTable) >> detach)


SPARK_LOG4J2 = Path(__file__).with_name("spark_log4j2.properties")


def spark_session():
    """A local Spark session tuned for a laptop-sized run (override with SPARK_MASTER).

    Quiet on the terminal: no console progress bars (they would draw over crownwatch's
    own progress on stderr) and Spark's log at ERROR (:data:`SPARK_LOG4J2`) unless
    ``SPARK_CONF_DIR`` names the user's own logging set-up. Both only take effect when
    this call starts the JVM; neither changes what a query returns."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    if not os.environ.get("SPARK_CONF_DIR"):
        # the driver JVM is started by this call, so the option reaches its command line
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={SPARK_LOG4J2.as_uri()}"
        )
    return (
        builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .appName("crownwatch")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
