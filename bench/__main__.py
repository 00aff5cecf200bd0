"""Dispatch ``python -m bench <name> …`` to ``bench/<name>.py:main(argv)``."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("identity", "storage", "inference", "scan", "ingest", "scale", "families")
#: not part of ``all``: the 100M row alone is hours of generating and ingesting; the
#: families bench needs a big lake built first
ONLY_BY_NAME = ("scale", "families")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench {{{'|'.join(BENCHES)}|all}} [options]")
        return 0
    name, rest = argv[0], argv[1:]
    names = tuple(b for b in BENCHES if b not in ONLY_BY_NAME) if name == "all" else (name,)
    rc = 0
    for n in names:
        if n not in BENCHES:
            print(f"unknown benchmark {n!r}; choose from {', '.join(BENCHES)}")
            return 2
        try:
            mod = importlib.import_module(f"bench.{n}")
        except ModuleNotFoundError as exc:
            print(f"bench {n}: not available ({exc})")
            continue
        rc = mod.main(rest) or rc
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
