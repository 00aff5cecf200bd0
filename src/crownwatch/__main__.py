"""Entry point of the ``crownwatch`` console script (and ``python -m crownwatch``).

Every command goes through the Typer app in :mod:`crownwatch.cli`, except the plain forms
of ``crownwatch scan``: Typer costs ~50 ms to import (from 0.29 on, which pyproject.toml
excludes, it also validates each option with pydantic, ~100 ms more), several times what
scanning a folder of small checkpoints takes, and ``scan`` runs in pre-commit hooks and CI
gates over and over. So ``main`` reads
``scan PATH... [--format/-f table|json|jsonl|sarif] [--lake DIR] [--workers N]`` itself and calls
the same :func:`crownwatch.scan.cli.run` as the Typer command. Anything else - ``--help``,
an unknown or malformed option, ``--``, no path, a bad value - goes to Typer, so help texts
and usage errors (exit 2) stay Typer's.
"""

from __future__ import annotations

import sys

_FORMATS = ("table", "json", "jsonl", "sarif")
_OPTS = {"--format": "--format", "-f": "--format", "--lake": "--lake", "--workers": "--workers"}


def parse_scan(args: list[str]) -> tuple[list[str], str, str | None, int | None] | None:
    """``(paths, format, lake, workers)`` for a plain ``scan`` argument list, else None
    (leave it to Typer)."""
    opts: dict[str, str] = {}
    paths: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            paths.append(a)
            continue
        key, eq, val = a.partition("=")
        if key not in _OPTS or (eq and key == "-f"):
            return None
        if not eq:
            if i >= len(args) or args[i].startswith("-"):
                return None  # a missing value, or one that looks like an option: Typer decides
            val = args[i]
            i += 1
        opts[_OPTS[key]] = val
    fmt = opts.get("--format", "table")
    if not paths or fmt not in _FORMATS:
        return None
    workers = None
    if "--workers" in opts:
        w = opts["--workers"].strip()
        if not w.lstrip("+-").isdigit() or not w.isascii():
            return None
        workers = int(w)
    lake = opts.get("--lake")
    if lake is not None:
        if not lake:
            return None
        from pathlib import Path

        lake = str(Path(lake))  # as Typer's Path option hands it on
    return paths, fmt, lake, workers


#: DuckDB allocates through its own jemalloc, set to keep freed pages for a second
#: (``dirty_decay_ms:1000``) and to purge them only when a thread next allocates or
#: frees. A detection's plan frees a hash table and builds the next within that second,
#: and the pages of both are resident together: the identity family over 13.5M
#: sign-ins peaked at 2.0-2.3 GiB of which DuckDB itself accounted for 1.3 GB. With
#: freed pages purged after 50 ms by jemalloc's background thread it peaks at 1.70 GiB,
#: in the same time (paired runs, README Benchmarks). Purging at once
#: (``dirty_decay_ms:0``) peaked as low but doubled the system time (1.19x the wall
#: time). ``crownwatch ingest`` is left as DuckDB ships it: no lower peak there, and no
#: faster (``hunt`` ingests under the setting: 1M Okta events measured 1.03x the time).
#: jemalloc reads this variable once, as DuckDB loads (set after ``import duckdb`` it
#: does nothing) - so it is set before anything imports DuckDB, and never over a value
#: the user chose.
ALLOCATOR_ENV = "DUCKDB_JE_MALLOC_CONF"
ALLOCATOR_CONF = "dirty_decay_ms:50,background_thread:true"
DETECTING = ("detect", "hunt", "demo")


def main() -> int | None:
    args = sys.argv[1:]
    if args and args[0] == "scan":
        parsed = parse_scan(args[1:])
        if parsed is not None:
            from crownwatch.scan.cli import run

            return run(*parsed)
    if args and args[0] in DETECTING:
        import os

        os.environ.setdefault(ALLOCATOR_ENV, ALLOCATOR_CONF)
    from crownwatch.cli import app

    return app()


if __name__ == "__main__":
    sys.exit(main())
