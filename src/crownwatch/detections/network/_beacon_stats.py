"""Order statistics and histogram shapes for beacon scoring, by rank, in the engine.

Every figure here is exact and computed alike on DuckDB and Spark: medians and
quartiles are read off ``row_number`` ranks (never ``approx_quantile`` /
``percentile_approx``, which differ between engines), and the histogram figures are
sums of integers. No Python loop per pair.
"""

from __future__ import annotations

import ibis


def _pick(rn: ibis.Value, lo: ibis.Value, hi: ibis.Value) -> ibis.Value:
    """True on the one or two ranks whose mean is a median (``lo == hi`` for odd sizes)."""
    return (rn == lo) | (rn == hi)


def quartiles(t: ibis.Table, keys: list[str], value: str, prefix: str) -> ibis.Table:
    """Per ``keys``: Q1, Q2 (median) and Q3 of ``value`` as the Go ``stats.Quartile``
    RITA calls defines them — the median of the whole list, and the medians of its lower
    and upper halves, the middle element left out of both when the size is odd — plus
    the size ``<prefix>_n``. Medians of even-sized lists average the two middle
    values."""
    w = ibis.window(group_by=[t[k] for k in keys], order_by=[t[value]])
    wn = ibis.window(group_by=[t[k] for k in keys])
    r = t.mutate(_rn=ibis.row_number().over(w), _n=t[value].count().over(wn))
    n = r._n
    half = (n / 2).floor().cast("int64")  # size of each half
    upper0 = n - half  # 0-based start of the upper half
    m_lo = ((half - 1) / 2).floor().cast("int64")
    m_hi = (half / 2).floor().cast("int64")
    q2_lo = ((n - 1) / 2).floor().cast("int64")
    q2_hi = (n / 2).floor().cast("int64")
    v = r[value].cast("float64")
    return r.group_by(keys).aggregate(
        **{
            f"{prefix}_q1": v.mean(where=_pick(r._rn, m_lo, m_hi)),
            f"{prefix}_q2": v.mean(where=_pick(r._rn, q2_lo, q2_hi)),
            f"{prefix}_q3": v.mean(where=_pick(r._rn, upper0 + m_lo, upper0 + m_hi)),
            f"{prefix}_n": r._n.max(),
        }
    )


def median(t: ibis.Table, keys: list[str], value: str, name: str) -> ibis.Table:
    """Per ``keys``: the median of ``value`` (the mean of the two middle values for an
    even count)."""
    w = ibis.window(group_by=[t[k] for k in keys], order_by=[t[value]])
    wn = ibis.window(group_by=[t[k] for k in keys])
    r = t.mutate(_rn=ibis.row_number().over(w), _n=t[value].count().over(wn))
    lo = ((r._n - 1) / 2).floor().cast("int64")
    hi = (r._n / 2).floor().cast("int64")
    return r.group_by(keys).aggregate(
        **{name: r[value].cast("float64").mean(where=_pick(r._rn, lo, hi))}
    )


def spread(t: ibis.Table, keys: list[str], value: str, prefix: str) -> ibis.Table:
    """Quartiles (:func:`quartiles`) and the median absolute deviation about the median
    (``<prefix>_mad``) of ``value`` per ``keys``."""
    q = quartiles(t, keys, value, prefix)
    j = t.join(q, keys)
    dev = j.select(*keys, _dev=(j[value].cast("float64") - j[f"{prefix}_q2"]).abs())
    mad = median(dev, keys, "_dev", f"{prefix}_mad")
    return q.join(mad, keys)


def longest_run(bins: ibis.Table, keys: list[str], nbins: int) -> ibis.Table:
    """Per ``keys``: the longest run of consecutive non-empty bins (``bin`` 0 …
    ``nbins - 1``), counting a run that wraps from the last bin to the first as RITA
    does (``longest_run``). Gaps and islands: ``bin - rank`` is constant along a run."""
    w = ibis.window(group_by=[bins[k] for k in keys], order_by=[bins.bin])
    isl = bins.mutate(_island=bins.bin - ibis.row_number().over(w))
    runs = isl.group_by([*keys, "_island"]).aggregate(
        _len=isl.count(), _first=isl.bin.min(), _last=isl.bin.max()
    )
    per = runs.group_by(keys).aggregate(
        _max=runs._len.max(),
        _head=runs._len.max(where=runs._first == 0),
        _tail=runs._len.max(where=runs._last == nbins - 1),
        _bars=runs._len.sum(),
    )
    wrapped = ibis.ifelse(
        per._head.notnull() & per._tail.notnull() & (per._bars < nbins),
        per._head + per._tail,
        0,
    )
    return per.select(
        *keys, longest_run=ibis.least(ibis.greatest(per._max, wrapped), nbins).cast("int64")
    )


def bimodal_top2(bins: ibis.Table, keys: list[str], sensitivity: float) -> ibis.Table:
    """Per ``keys``: how many non-empty bins fall in the two most common *heights*,
    heights grouped in steps of ``ceil(sensitivity × tallest bin)`` (RITA's bimodal
    fit: a beacon that alternates between two rates still fills two height groups)."""
    wk = ibis.window(group_by=[bins[k] for k in keys])
    b = bins.mutate(_step=(bins.c.max().over(wk) * sensitivity).ceil().cast("int64"))
    b = b.mutate(_h=(b.c / ibis.greatest(b._step, 1)).floor().cast("int64"))
    per = b.group_by([*keys, "_h"]).aggregate(_bars=b.count())
    wr = ibis.window(group_by=[per[k] for k in keys], order_by=[per._bars.desc(), per._h])
    per = per.mutate(_r=ibis.row_number().over(wr))
    top = per.filter(per._r < 2)
    return top.group_by(keys).aggregate(top2=top._bars.sum())
