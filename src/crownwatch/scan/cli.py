"""Command-line front end of ``crownwatch scan``.

Exit codes (the docs/interfaces.md contract): 0 when everything scanned is clean, 1 when anything is
malicious or suspicious, 2 when a file could not be scanned. Precedence: **1 wins over 2** -
a finding is the more urgent news, and a run that both found a poisoned checkpoint and
failed to read another file must not look like a mere read error to a CI gate. So: 1 if any
result is malicious/suspicious, else 2 if any result is an error, else 0.

``--lake DIR`` also stores suspicious and malicious results as findings (ATLAS AML.T0010 /
AML.T0011.000) through ``crownwatch.findings.FindingStore``.
"""

from __future__ import annotations

import sys

from . import scan_paths
from .report import to_json, to_jsonl, write_table


def exit_code(results) -> int:
    verdicts = {r.verdict for r in results}
    if verdicts & {"malicious", "suspicious"}:
        return 1
    if "error" in verdicts:
        return 2
    return 0


def run(
    paths: list[str], fmt: str = "table", lake: str | None = None, workers: int | None = None
) -> int:
    results = scan_paths(list(paths), workers=workers)
    if fmt == "json":
        sys.stdout.write(to_json(results) + "\n")
    elif fmt == "jsonl":
        sys.stdout.write(to_jsonl(results))
    elif fmt == "sarif":
        from crownwatch.outputs.sarif import dumps_sarif

        sys.stdout.write(dumps_sarif(results) + "\n")
    else:
        write_table(results)
    if lake:
        from crownwatch.findings import FindingStore

        from .findings import to_findings

        FindingStore(lake).upsert(to_findings(results))
    return exit_code(results)


USAGE = "usage: python -m crownwatch.scan PATH... [--format table|json|jsonl|sarif] [--lake DIR] [--workers N]"


def main(argv: list[str] | None = None) -> int:
    """Minimal argument parsing (argparse costs more start-up time than a small scan)."""
    args = list(sys.argv[1:] if argv is None else argv)
    opts = {"--format": "table", "--lake": None, "--workers": None}
    paths: list[str] = []
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        key, eq, val = a.partition("=")
        if key in opts:
            if not eq:
                if not args:
                    print(USAGE, file=sys.stderr)
                    return 2
                val = args.pop(0)
            opts[key] = val
        else:
            paths.append(a)
    if not paths or opts["--format"] not in ("table", "json", "jsonl", "sarif"):
        print(USAGE, file=sys.stderr)
        return 2
    workers = int(opts["--workers"]) if opts["--workers"] else None
    return run(paths, opts["--format"], opts["--lake"], workers)
