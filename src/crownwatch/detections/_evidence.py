"""Evidence lists cut in the engine to what a finding keeps of them.

A finding keeps the first :data:`~crownwatch.detections.base.MAX_SAMPLES` distinct
values of an evidence list in sorted order, the first
:data:`~crownwatch.detections.base.MAX_ENTITIES` of an entity list, and the first
``MAX_SAMPLES`` raw records in file and line order with their distinct count
(:func:`crownwatch.detections.base.row_to_finding`). A detection that collects every
event's value into a list — ``transfer_out`` over a copy of a million objects — would
otherwise bring all of them back from the engine to be cut in Python: over 10M
CloudTrail events its 339 findings came back as 2M list entries (589 MB as Arrow, more
again as Python objects) and the family peaked at 2.4 GiB. The helpers here do the same
cut in the engine, so the result is what ``row_to_finding`` would have kept, value for
value, on DuckDB and on Spark (``tests/test_engine_parity_ops.py``).

Use them in a detection's final ``select`` on lists that are evidence only, and collect
such lists with ``collect(distinct=True)``: the engine then holds each distinct value
once per finding instead of once per event (``transfer_out``'s aggregation alone held
1 GB over those 10M events). Not the references: each event is a record of its own, so
they are distinct already, and :func:`ref_samples` drops the odd repeat itself — collected
distinct they cost a hash set as large as the list (``bulk_read`` over a copy of 1M
objects peaked 0.11 GiB higher). With both, the family peaks at 1.82 GiB instead of 2.37,
in 0.71x the time, the same 350 findings field by field (README, Benchmarks). A list
its ``postprocess`` reads whole (to count, link or score) must come back whole.

Where one finding can hold millions of records — a dataset copied object by object, an
org-wide spray, a botnet — take the references with :func:`with_ref_samples` instead,
which joins them to the detection's groups: they stay rows until the engine has picked
the few a finding keeps. A list of them is one allocation as long as the list, which
the memory bound refuses (the crown-jewel chain over a copy of 1M objects asked for a
554 MiB block and failed); :func:`ref_samples` is for groups of thousands (a beacon
pair's day, a login's clones).
"""

from __future__ import annotations

import ibis

from crownwatch.detections.base import MAX_ENTITIES, MAX_SAMPLES, RAW_REFS_TOTAL


def samples(values: ibis.ArrayValue, limit: int = MAX_SAMPLES) -> ibis.ArrayValue:
    """The distinct non-null values of a string or integer list, sorted, the first
    ``limit``: what the finding keeps of it. (Both engines sort strings by code point,
    as Python does; floats and timestamps are rounded or formatted before Python
    compares them, so they are not cut here.)"""
    return values.filter(lambda v: v.notnull()).unique().sort()[:limit]


def entities(values: ibis.ArrayValue) -> ibis.ArrayValue:
    """:func:`samples` for an ``entity_`` list of strings."""
    return samples(values, MAX_ENTITIES)


def _ref_order(r: ibis.StringValue) -> dict[str, ibis.Value]:
    """The sort key of :func:`crownwatch.detections.base.ref_order` for a reference
    ``r``: file, then a numeric line by its value, then anything else by its text."""
    # \z, not $: Java's $ also matches before a final newline (RE2's does not, and a
    # line ending in one is no number to ref_order)
    where = r.re_extract(r"(?s)([^#]*)\z", 1)
    digits = where.re_search(r"\A[0-9]+\z")
    number = where.re_replace(r"^0+", "")
    return {
        "path": r.re_extract(r"(?s)^(.*)#", 1),
        "text": ibis.ifelse(digits, 0, 1),
        "width": ibis.ifelse(digits, number.length(), 0),
        "where": ibis.ifelse(digits, number, where),
    }


def ref_samples(refs: ibis.ArrayValue) -> dict[str, ibis.Value]:
    """``raw_refs`` and ``raw_refs_total`` for a detection's ``select``: the first
    ``MAX_SAMPLES`` distinct references (``file#line`` or ``file#id``) in the order of
    :func:`crownwatch.detections.base.ref_order` — file, then a numeric line by its
    value, then anything else by its text — and how many distinct ones there were."""
    kept = refs.filter(lambda r: r.notnull() & (r.length() > 0)).unique()
    first = kept.map(lambda r: ibis.struct({**_ref_order(r), "ref": r})).sort()[:MAX_SAMPLES]
    return {"raw_refs": first.map(lambda k: k["ref"]), RAW_REFS_TOTAL: kept.length()}


def ref_samples_of(t: ibis.Table, keys: list[str], ref: ibis.StringValue) -> ibis.Table:
    """:func:`ref_samples` per group of ``keys``, from the rows of ``t`` (``ref`` over
    ``t``) rather than from a list of them: ``keys``, ``raw_refs``, ``raw_refs_total``.

    For a finding with millions of records: :func:`ref_samples` needs every reference
    collected into one list first — one allocation as large as the list, which a
    memory bound refuses (the crown-jewel chain over a copy of 1M objects asked for a
    554 MiB block). Here the references stay rows: de-duplicated and counted by
    aggregation, the first ``MAX_SAMPLES`` of each group picked by a window, all of
    which the engine can spill; only those few are collected. A group whose references
    are all empty has no row (it would have an empty list there). Keys are grouped and
    matched as GROUP BY groups them, a NULL with a NULL: :func:`with_ref_samples`."""
    r = t.select(*keys, _ref=ref)
    r = r.filter(r._ref.notnull() & (r._ref.length() > 0)).distinct()
    total = r.group_by(keys).aggregate(**{RAW_REFS_TOTAL: r.count()})
    k = _ref_order(r._ref)
    r = r.mutate(**{f"_k_{n}": v for n, v in k.items()})
    order = [r[f"_k_{n}"] for n in k] + [r._ref]
    r = r.mutate(_n=ibis.row_number().over(group_by=[r[c] for c in keys], order_by=order))
    r = r.filter(r._n < MAX_SAMPLES)
    first = r.group_by(keys).aggregate(_refs=r._ref.collect())
    out = _same_groups(total, first, keys, "inner")
    return out.select(
        *keys, raw_refs=ref_samples(out._refs)["raw_refs"], **{RAW_REFS_TOTAL: out[RAW_REFS_TOTAL]}
    )


def with_ref_samples(
    groups: ibis.Table, t: ibis.Table, keys: list[str], ref: ibis.StringValue
) -> ibis.Table:
    """``groups`` (a detection's rows, one per group of ``keys``) with ``raw_refs`` and
    ``raw_refs_total`` of :func:`ref_samples_of` over its group's rows in ``t``: NULLs
    for a group without references, which ``row_to_finding`` reads as no records."""
    return _same_groups(groups, ref_samples_of(t, keys, ref), keys, "left")


def _same_groups(a: ibis.Table, b: ibis.Table, keys: list[str], how: str) -> ibis.Table:
    """``a`` joined to ``b`` on ``keys``, a NULL key matching a NULL one (``IS NOT
    DISTINCT FROM``, Spark's ``<=>``) as GROUP BY puts them in one group — an
    address-less spray's origin, a workload without a role — with ``b``'s keys dropped."""
    b = b.rename({f"_b_{k}": k for k in keys})
    j = a.join(b, [a[k].identical_to(b[f"_b_{k}"]) for k in keys], how=how)
    return j.drop(*[f"_b_{k}" for k in keys])
