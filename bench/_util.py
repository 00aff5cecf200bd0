"""Small helpers shared by the benchmarks: timing, memory, table printing."""

from __future__ import annotations

import functools
import os
import resource
import subprocess
import sys
import tempfile
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


ENTRY = "crownwatch.__main__"


@functools.cache
def crownwatch_script() -> Path:
    """The ``crownwatch`` console script users run: the one installed next to this Python if it
    calls this checkout's entry point (pyproject.toml ``[project.scripts]``), else the same
    two-line script pip writes for it (an install made before the entry point changed)."""
    installed = Path(sys.executable).parent / "crownwatch"
    if installed.is_file() and f"from {ENTRY} import main" in installed.read_text(errors="replace"):
        return installed
    OUT.mkdir(parents=True, exist_ok=True)
    script = OUT / "crownwatch"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom {ENTRY} import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n"
        "    sys.exit(main())\n"
    )
    script.chmod(0o755)
    print(f"note: {installed} is missing or stale; timing {script} (pip's script)", file=sys.stderr)
    return script


def user_env() -> dict[str, str]:
    """The environment a user runs crownwatch in: no ``CROWNWATCH_MEMORY_LIMIT`` (the
    default memory bound is what is measured), and bytecode caches allowed, as after a
    normal install (pip compiles a wheel's modules; Python caches an editable
    install's on its first run) — a machine exporting ``PYTHONDONTWRITEBYTECODE``
    would otherwise have every run compile crownwatch's modules again, 0.1 s a start."""
    drop = ("CROWNWATCH_MEMORY_LIMIT", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in drop}


def run_process(argv: list[str], env: dict | None = None) -> dict:
    """One whole process: wall seconds (``s``), the kernel's peak RSS of that one process
    (``rss_mib``, from ``wait4``: the benchmark's own memory never counts) and its output.
    Output goes to a file, not a pipe: a pipe nobody reads while waiting fills and
    blocks the child, and ``communicate`` would reap it and lose the ``wait4`` figures."""
    with tempfile.TemporaryFile() as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        out = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} exited {proc.returncode}:\n{out[-2000:]}")
    return {"s": wall, "rss_mib": usage.ru_maxrss / 1024, "out": out}
