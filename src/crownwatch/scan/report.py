"""Output shapes for scan results: terminal table (rich), JSON array, SARIF 2.1.0.

The JSON array is the contract from DESIGN.md: one element per file or archive member,
``{"path", "format", "verdict", "issues": [{"severity", "kind", "detail"}]}``. SARIF has one
rule per issue kind (so code-scanning UIs group them) and one result per issue; ``info``
issues are left out of SARIF (they are notes about the file, not problems).
"""

from __future__ import annotations

import json

from .result import ScanResult, severity_rank

SARIF_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
VERDICT_STYLE = {
    "malicious": "bold red",
    "suspicious": "yellow",
    "error": "magenta",
    "clean": "green",
}


def to_json(results: list[ScanResult]) -> str:
    return json.dumps([r.to_dict() for r in results], indent=2)


def to_sarif(results: list[ScanResult]) -> dict:
    from .. import __version__

    rules: dict[str, dict] = {}
    out = []
    for r in results:
        for i in r.issues:
            if i.severity == "info":
                continue
            rule = rules.setdefault(
                i.kind,
                {
                    "id": i.kind,
                    "name": i.kind.replace(".", "_"),
                    "shortDescription": {"text": i.kind.replace(".", ": ").replace("_", " ")},
                    "defaultConfiguration": {"level": SARIF_LEVEL[i.severity]},
                    "properties": {"security-severity": "0"},
                },
            )
            sev_score = {"critical": "9.8", "high": "8.0", "medium": "5.0", "low": "2.0"}[
                i.severity
            ]
            if float(sev_score) > float(rule["properties"]["security-severity"]):
                rule["properties"]["security-severity"] = sev_score
                rule["defaultConfiguration"]["level"] = SARIF_LEVEL[i.severity]
            file_part, _, member = r.path.partition("!")
            res = {
                "ruleId": i.kind,
                "level": SARIF_LEVEL[i.severity],
                "message": {"text": i.detail},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": file_part}}}],
                "properties": {"severity": i.severity, "verdict": r.verdict, "format": r.format},
            }
            if member:
                res["locations"][0]["logicalLocations"] = [{"name": member, "kind": "member"}]
            out.append(res)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "crownwatch-scan",
                        "version": __version__,
                        "informationUri": "https://github.com/crownwatch/crownwatch",
                        "rules": list(rules.values()),
                    }
                },
                "results": out,
            }
        ],
    }


def print_table(results: list[ScanResult], console=None) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console() if sys.stdout.isatty() else Console(width=200, file=sys.stdout)
    table = Table(title="crownwatch scan", show_lines=False)
    table.add_column("verdict")
    table.add_column("format")
    table.add_column("path", overflow="fold")
    table.add_column("top issue", overflow="fold")
    counts: dict[str, int] = {}
    for r in results:
        v = r.verdict
        counts[v] = counts.get(v, 0) + 1
        issues = sorted(r.issues, key=lambda i: -severity_rank(i.severity))
        top = ""
        if issues:
            top = f"[{issues[0].severity}] {issues[0].kind}: {issues[0].detail}"
            if len(issues) > 1:
                top += f"  (+{len(issues) - 1} more)"
        table.add_row(f"[{VERDICT_STYLE[v]}]{v}[/]", r.format, r.path, top)
    console.print(table)
    console.print(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing scanned")
