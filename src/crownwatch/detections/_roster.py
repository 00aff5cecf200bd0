"""The HR roster as the detections read it: an export is a snapshot, so a person's
current record is the one in the latest snapshot that lists them (``tables/workforce.py``).
Workforce signals ask per person (identity key), trusted-outsider ones per employee id."""

from __future__ import annotations

import ibis


def latest_rows(w: ibis.Table, by: str) -> ibis.Table:
    """The rows of ``w`` (a ``workforce`` table) from the latest snapshot listing each
    ``by`` value; rows with ``by`` NULL are left out."""
    w = w.filter(w[by].notnull())
    last = w.group_by(l_key=w[by]).aggregate(l_time=w.time.max())
    w = w.join(last, (w[by] == last.l_key) & (w.time == last.l_time))
    return w.drop("l_key", "l_time")
