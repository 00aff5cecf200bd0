"""Time as numbers — epoch seconds, hours, days — computed alike on every engine and
cheaply on DuckDB. Every family buckets and subtracts timestamps; they all do it here.

Two engine differences are handled once, in this module:

* Ibis's ``epoch_seconds()`` is a fractional DOUBLE on DuckDB and, on Spark,
  ``UNIX_TIMESTAMP``: whole seconds truncated toward zero (1969-12-31 23:59:59.5 is 0,
  not -1) and typed int32 by Ibis (2038-01-19 03:14:08 came back as -2147483648).
  Inside a Spark detection run :func:`epoch` is ``UNIX_MICROS(ts) / 1e6`` instead: the
  same double DuckDB computes, bit for bit. Anything used as a key, a gap or a bucket
  is still floored to an integer (:func:`epoch_s`).
* On DuckDB, Ibis compiles ``epoch_seconds()`` as ``epoch(CAST(ts AS TIMESTAMP))``:
  a time-zone conversion per row, ten times the cost of the rest of the expression.
  Inside a DuckDB detection run :func:`epoch` calls DuckDB's own ``epoch(TIMESTAMPTZ)``
  instead; outside a run (an expression built by a unit test) the portable Ibis one.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from crownwatch.detections.contract import current_engine

HOUR = 3600
DAY = 86400


@ibis.udf.scalar.builtin(name="epoch")
def _duckdb_epoch(ts: dt.Timestamp(timezone="UTC")) -> dt.float64:
    """DuckDB's ``epoch(TIMESTAMPTZ)``, without Ibis's cast to a naive TIMESTAMP."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:
    """Spark's ``unix_micros(TIMESTAMP)``: microseconds since the epoch, exact."""


def epoch(ts: ibis.Value) -> ibis.Value:
    """Seconds since the epoch, fractional (float64, the same on DuckDB and Spark in a
    run): for ordering, gaps and comparing, not for keys — use :func:`epoch_s` for
    those."""
    engine = current_engine()
    if engine == "duckdb":
        return _duckdb_epoch(ts)
    if engine == "spark":
        return _spark_unix_micros(ts) / 1_000_000
    return ts.epoch_seconds()


def epoch_s(ts: ibis.Value) -> ibis.Value:
    """Whole epoch seconds as int64. ``floor`` rather than truncating the timestamp
    to the second: the same value, but DuckDB's time-zone-aware ``date_trunc`` costs
    seven times as much."""
    return epoch(ts).floor().cast("int64")


def hour_number(ts: ibis.Value) -> ibis.Value:
    """Whole UTC hours since the epoch (an hour bucket), int64."""
    return (epoch(ts) / HOUR).floor().cast("int64")


def day_number(ts: ibis.Value) -> ibis.Value:
    """Whole UTC days since the epoch, int64."""
    return (epoch(ts) / DAY).floor().cast("int64")
