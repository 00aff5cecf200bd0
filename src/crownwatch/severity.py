"""The severities of a finding and of an incident, least to most severe.

One order for every place that validates, ranks, filters or sorts by severity (the
detection contract, the finding record, the stores, incidents, Sigma rule levels, the
terminal and the workforce summary). The model scanner's results keep their own scale,
which has ``info`` below ``low`` (:mod:`crownwatch.scan.result`)."""

from __future__ import annotations

SEVERITIES = ("low", "medium", "high", "critical")

#: a severity's place in :data:`SEVERITIES` (low 0 … critical 3)
RANK = {s: i for i, s in enumerate(SEVERITIES)}

#: ORDER BY key for a ``severity`` column, most severe first (the stores' listing order)
ORDER_SQL = (
    "CASE severity "
    + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(reversed(SEVERITIES[1:])))
    + f" ELSE {len(SEVERITIES) - 1} END"
)


def at_least(severity: str, floor: str | None) -> bool:
    """Whether ``severity`` is ``floor`` or worse (``--min-severity``; none given: any)."""
    return not floor or RANK[severity] >= RANK[floor]
