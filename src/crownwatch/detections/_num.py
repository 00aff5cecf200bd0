"""Numbers the detections round into their evidence, rounded alike on every engine.

``ROUND(x, n)`` of a DOUBLE differs between the engines: DuckDB rounds the binary
value (0.15 is 0.1499…, so 0.1), Spark rounds its shortest decimal form half up
(``"0.15"``, so 0.2). ``(9 s / 60).round(1)`` said 0.1 minutes on DuckDB and 0.2 on
Spark. :func:`rounded` scales, rounds to a whole number and scales back: the scaling is
IEEE arithmetic both engines do bit for bit, and rounding a double to a whole number
is the same on both (ties away from zero: a double that is not exactly ``k.5`` never
prints as ``k.5``); the sign of a zero is dropped, which Spark does and DuckDB does
not. ``tests/test_engine_parity_ops.py`` checks it.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.scalar.builtin(name="round")
def _round(x: dt.float64, digits: dt.int32) -> dt.float64:
    """The engine's own ``ROUND(DOUBLE, 0)``, still a DOUBLE: Ibis's ``round(0)`` casts
    to BIGINT, which fails on NaN or infinity on DuckDB."""


def rounded(x: ibis.NumericValue, digits: int) -> ibis.Value:
    """``x`` rounded to ``digits`` decimals (float64), identically on DuckDB and Spark.
    Use it instead of ``.round(digits)`` for any value that reaches a finding."""
    scale = 10**digits
    # + 0.0: -0.0 (DuckDB's ROUND(-0.25, 0)) becomes 0.0, as Spark has it
    return _round(x.cast("float64") * scale, 0) / scale + 0.0
