"""Small helpers shared by the benchmarks: timing, memory, table printing."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

OUT = Path(__file__).parent / "out"


@contextmanager
def timer():
    box = {}
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - t0


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Minimum wall time of ``runs`` calls (the least-disturbed run), and the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def print_table(title: str, header: list[str], rows: list[list]) -> str:
    """Print (and return) a GitHub-markdown table, ready to paste into the README."""
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    text = "\n".join(lines)
    print(text, flush=True)
    return text
