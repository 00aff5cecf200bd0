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


def ref_samples(refs: ibis.ArrayValue) -> dict[str, ibis.Value]:
    """``raw_refs`` and ``raw_refs_total`` for a detection's ``select``: the first
    ``MAX_SAMPLES`` distinct references (``file#line`` or ``file#id``) in the order of
    :func:`crownwatch.detections.base.ref_order` — file, then a numeric line by its
    value, then anything else by its text — and how many distinct ones there were."""
    kept = refs.filter(lambda r: r.notnull() & (r.length() > 0)).unique()

    def key(r: ibis.StringValue) -> ibis.StructValue:
        # \z, not $: Java's $ also matches before a final newline (RE2's does not, and a
        # line ending in one is no number to ref_order)
        where = r.re_extract(r"(?s)([^#]*)\z", 1)
        digits = where.re_search(r"\A[0-9]+\z")
        number = where.re_replace(r"^0+", "")
        return ibis.struct(
            {
                "path": r.re_extract(r"(?s)^(.*)#", 1),
                "text": ibis.ifelse(digits, 0, 1),
                "width": ibis.ifelse(digits, number.length(), 0),
                "where": ibis.ifelse(digits, number, where),
                "ref": r,
            }
        )

    first = kept.map(key).sort()[:MAX_SAMPLES].map(lambda k: k["ref"])
    return {"raw_refs": first, RAW_REFS_TOTAL: kept.length()}
