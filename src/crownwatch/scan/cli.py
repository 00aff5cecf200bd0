"""Command-line front end of ``crownwatch scan``.

Exit codes (the DESIGN.md contract): 0 when everything scanned is clean, 1 when anything is
malicious or suspicious, 2 when a file could not be scanned. Precedence: **1 wins over 2** -
a finding is the more urgent news, and a run that both found a poisoned checkpoint and
failed to read another file must not look like a mere read error to a CI gate. So: 1 if any
result is malicious/suspicious, else 2 if any result is an error, else 0.

``--lake DIR`` also stores suspicious and malicious results as findings (ATLAS AML.T0010 /
AML.T0011.000) through ``crownwatch.findings.FindingStore``.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import scan_paths
from .report import print_table, to_json, to_sarif


def exit_code(results) -> int:
    verdicts = {r.verdict for r in results}
    if verdicts & {"malicious", "suspicious"}:
        return 1
    if "error" in verdicts:
        return 2
    return 0


def run(paths: list[str], fmt: str = "table", lake: str | None = None, workers: int | None = None) -> int:
    results = scan_paths(list(paths), workers=workers)
    if fmt == "json":
        sys.stdout.write(to_json(results) + "\n")
    elif fmt == "sarif":
        sys.stdout.write(json.dumps(to_sarif(results), indent=2) + "\n")
    else:
        print_table(results)
    if lake:
        from crownwatch.findings import FindingStore

        from .findings import to_findings

        FindingStore(lake).upsert(to_findings(results))
    return exit_code(results)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="crownwatch-scan", description="static scan of model artifacts")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--format", default="table", choices=["table", "json", "sarif"])
    ap.add_argument("--lake", default=None)
    ap.add_argument("--workers", type=int, default=None)
    a = ap.parse_args(argv)
    return run(a.paths, a.format, a.lake, a.workers)
