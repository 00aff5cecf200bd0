"""A time window: ``--since`` / ``--until`` of ``crownwatch findings`` and ``detect``.

Half-open, ``[since, until)``: ``--since 2026-03-01 --until 2026-03-08`` is one week, and
two adjacent windows never both hold the same instant. A bare date is midnight UTC; a
time without an offset is UTC (every time in the lake is UTC); one with an offset
(``Z``, ``+02:00``) is converted to UTC.

Standard library only: the CLI parses the options before it imports anything heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EXAMPLE = "2026-03-01, 2026-03-01T10:00:00Z or 2026-03-01T12:00+02:00"


def parse_time(text: str) -> datetime:
    """``text`` as an aware UTC datetime; ValueError (naming the accepted forms) when it
    is not an ISO-8601 date or date-time."""
    try:
        parsed = datetime.fromisoformat(text.strip())  # a bare date is its midnight
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00
        raise ValueError(f"{text!r} is not an ISO-8601 date or time (e.g. {EXAMPLE})") from None


@dataclass(frozen=True)
class TimeWindow:
    """``since`` inclusive, ``until`` exclusive; either may be open (None)."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self):
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError(
                f"--until {self.until:%Y-%m-%dT%H:%M:%SZ} is not after "
                f"--since {self.since:%Y-%m-%dT%H:%M:%SZ}: the window would be empty"
            )

    @property
    def open(self) -> bool:
        """True when neither end is set (no filtering at all)."""
        return self.since is None and self.until is None

    def holds(self, ts: datetime) -> bool:
        """Whether the instant ``ts`` (aware) is inside the window."""
        return (self.since is None or ts >= self.since) and (self.until is None or ts < self.until)

    def overlaps(self, first_seen: Any, last_seen: Any) -> bool:
        """Whether a finding's ``[first_seen, last_seen]`` (ISO strings as stored) shares
        an instant with the window. A finding without times is in no bounded window."""
        if self.open:
            return True
        try:
            first = parse_time(str(first_seen or last_seen))
            last = parse_time(str(last_seen or first_seen))
        except ValueError:
            return False
        return (self.since is None or last >= self.since) and (
            self.until is None or first < self.until
        )

    def predicate(self, column: Any) -> Any:
        """The window as a boolean Ibis expression over a timestamp ``column`` (None
        when open). Engine-neutral: the same comparison compiles for DuckDB and Spark."""
        conds = []
        if self.since is not None:
            conds.append(column >= self.since)
        if self.until is not None:
            conds.append(column < self.until)
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else conds[0] & conds[1]
