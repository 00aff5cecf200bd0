"""One work and memory budget per scanned top-level file.

Model files are written by the people crownwatch hunts, so what a scan of one file may cost
is bounded as a whole, across every level of nesting, not per container:

* **bytes unpacked** - decompressed or copied out of a container (zip / tar / 7z members,
  gzip / bz2 / xz / zlib streams), summed over all nesting levels. This bounds memory: what a
  scan holds at once is at most what it unpacked. A single object is further capped at
  ``archives.MEMBER_LIMIT``, and a stream that expands beyond ``archives.BOMB_MIN`` at a ratio
  above ``archives.BOMB_RATIO`` is stopped there and reported as a bomb.
* **members examined** - archive members, nested streams and embedded archives looked at
  (a 42.zip-style archive is small but holds a million members).
* **results emitted** - one per file and per archive member; bounds the output.
* **wall time** - checked while walking pickles, parsing GGUF metadata and visiting members.

Exceeding any of them stops the scan of that file (:class:`BudgetExceeded` unwinds through the
format modules, which never catch it) and the file's result says so as an ``error``
(``scan.budget_exceeded``): never a silent clean. Whatever was found before the stop is kept,
so a malicious member seen earlier still makes the file malicious.

The budget of the file being scanned is held in a context variable, so the pickle walker and
the format modules can check it without threading it through every call.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar


class Limits:
    """Immutable limits of one file's scan (a plain class: ``dataclasses`` pulls in
    ``inspect`` and costs the command-line scanner several milliseconds of start-up)."""

    __slots__ = ("unpacked_bytes", "members", "results", "seconds")

    def __init__(
        self,
        unpacked_bytes: int = 1 << 30,  # 1 GiB across all nesting
        members: int = 10_000,
        results: int = 10_000,
        seconds: float = 120.0,
    ):
        for name, value in zip(
            self.__slots__, (unpacked_bytes, members, results, seconds), strict=True
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"Limits is immutable: cannot set {name}")

    def _key(self) -> tuple:
        return (self.unpacked_bytes, self.members, self.results, self.seconds)

    def __eq__(self, other) -> bool:
        return isinstance(other, Limits) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self.__slots__, self._key(), strict=True))
        return f"Limits({fields})"


#: the limits a new :class:`Budget` takes; tests and embedders may replace it
DEFAULT_LIMITS = Limits()


class BudgetExceeded(BaseException):  # noqa: N818 - a signal that unwinds, like SystemExit
    """Raised when a scan exceeds its budget. A ``BaseException`` on purpose: the format modules
    turn ordinary exceptions into per-file issues, and this one must reach the top."""

    def __init__(self, what: str, detail: str):
        super().__init__(detail)
        self.what = what
        self.detail = detail


class Budget:
    __slots__ = ("limits", "unpacked", "members", "results", "started", "deadline", "peak_unpacked")

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or DEFAULT_LIMITS
        self.unpacked = 0
        self.peak_unpacked = 0
        self.members = 0
        self.results = 0
        self.started = time.monotonic()
        self.deadline = self.started + self.limits.seconds

    # -- bytes -------------------------------------------------------------------------------
    def remaining_bytes(self) -> int:
        return max(0, self.limits.unpacked_bytes - self.unpacked)

    def read_limit(self, one_object: int) -> tuple[int, bool]:
        """(most bytes the next unpack may produce, whether the total budget is what limits it).
        Raises when nothing is left."""
        left = self.remaining_bytes()
        if left <= 0:
            self._exceeded_bytes()
        return (left, True) if left < one_object else (one_object, False)

    def spend(self, n: int) -> None:
        self.unpacked += n
        self.peak_unpacked = max(self.peak_unpacked, self.unpacked)
        if self.unpacked > self.limits.unpacked_bytes:
            self._exceeded_bytes()

    def _exceeded_bytes(self):
        raise BudgetExceeded(
            "bytes",
            f"scan stopped: more than {self.limits.unpacked_bytes:,} bytes decompressed or "
            "unpacked from this file across all nesting levels (the scan budget per file); "
            "the rest was not scanned",
        )

    # -- counts ------------------------------------------------------------------------------
    def member(self) -> None:
        self.members += 1
        if self.members > self.limits.members:
            raise BudgetExceeded(
                "members",
                f"scan stopped: more than {self.limits.members:,} archive members and nested "
                "streams in this file (the scan budget per file); the rest was not scanned",
            )
        self.tick()

    def result(self) -> None:
        self.results += 1
        if self.results > self.limits.results:
            raise BudgetExceeded(
                "results",
                f"scan stopped: more than {self.limits.results:,} results from this file (the "
                "scan budget per file); the rest was not scanned",
            )

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(
                "time",
                f"scan stopped: took longer than {self.limits.seconds:g} s (the scan budget per "
                "file); the rest was not scanned",
            )

    def elapsed(self) -> float:
        return time.monotonic() - self.started


_CURRENT: ContextVar[Budget | None] = ContextVar("crownwatch_scan_budget", default=None)


def current() -> Budget | None:
    return _CURRENT.get()


@contextmanager
def active(budget: Budget):
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def tick() -> None:
    """Time check for long loops in format modules; a no-op outside a budgeted scan."""
    b = _CURRENT.get()
    if b is not None:
        b.tick()
