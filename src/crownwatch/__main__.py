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


def main() -> int | None:
    args = sys.argv[1:]
    if args and args[0] == "scan":
        parsed = parse_scan(args[1:])
        if parsed is not None:
            from crownwatch.scan.cli import run

            return run(*parsed)
    from crownwatch.cli import app

    return app()


if __name__ == "__main__":
    sys.exit(main())
