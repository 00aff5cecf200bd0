"""Time as numbers — epoch seconds, hours, days — computed alike on every engine and
cheaply on DuckDB. Every family buckets and subtracts timestamps; they all do it here.

Two engine differences are handled once, in this module:

* Ibis's ``epoch_seconds()`` is a fractional DOUBLE on DuckDB and an integer on Spark,
  so anything used as a key, a gap or a bucket is floored to an integer.
* On DuckDB, Ibis compiles ``epoch_seconds()`` as ``epoch(CAST(ts AS TIMESTAMP))``:
  a time-zone conversion per row, ten times the cost of the rest of the expression.
  Inside a DuckDB detection run :func:`epoch` calls DuckDB's own ``epoch(TIMESTAMPTZ)``
  instead; elsewhere (Spark, or an expression built outside a run) the portable Ibis
  one. The values are identical.
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


def epoch(ts: ibis.Value) -> ibis.Value:
    """Seconds since the epoch (fractional on DuckDB, whole on Spark): for ordering
    and comparing, not for keys — use :func:`epoch_s` for those."""
    return _duckdb_epoch(ts) if current_engine() == "duckdb" else ts.epoch_seconds()


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
