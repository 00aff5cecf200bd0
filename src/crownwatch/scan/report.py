"""Output shapes for scan results: terminal table (rich), JSON array, SARIF 2.1.0.

The JSON array is the contract of docs/interfaces.md: one element per file or archive member,
``{"path", "format", "verdict", "issues": [{"severity", "kind", "detail"}]}``. SARIF has one
rule per issue kind (so code-scanning UIs group them) and one result per issue; ``info``
issues are left out of SARIF (they are notes about the file, not problems).

Everything a scanned file controls - global names, member and file names, directory names,
metadata, details quoting them - is hostile text. In the table it is rendered as inert
``rich.text.Text`` through the project's :func:`crownwatch.inert.safe` rule (no Rich markup,
control and bidi characters replaced), with line breaks and the remaining invisible
direction marks replaced too, since a table cell is one logical line. JSON and SARIF are
ASCII-only (``ensure_ascii``) and carry no lone surrogates (file names that are not UTF-8,
pickle strings decoded with ``surrogatepass``), so strict parsers accept them whatever the
bytes; SARIF's ``artifactLocation.uri`` is a percent-encoded URI reference.
"""

from __future__ import annotations

import json
from urllib.parse import quote

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


def clean_text(value) -> str:
    """A string that encodes as UTF-8 whatever it holds: lone surrogates become ``\\udcXX``."""
    s = str(value)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def inert(value):
    """Hostile text as one line of inert Rich ``Text``."""
    from crownwatch.inert import safe  # Rich only when a table is printed

    return safe(clean_text(value), one_line=True)


def _clean(obj):
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {_clean(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def to_json(results: list[ScanResult]) -> str:
    return json.dumps(_clean([r.to_dict() for r in results]), indent=2, ensure_ascii=True)


def dumps_sarif(results: list[ScanResult]) -> str:
    return json.dumps(_clean(to_sarif(results)), indent=2, ensure_ascii=True)


def _uri(path: str) -> str:
    return quote(clean_text(path).replace("\\", "/"), safe="/:._-~")


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
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(file_part)}}}],
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
    from rich.text import Text

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
        top = Text()
        if issues:
            top = inert(f"[{issues[0].severity}] {issues[0].kind}: {issues[0].detail}")
            if len(issues) > 1:
                top.append(f"  (+{len(issues) - 1} more)")
        table.add_row(Text(v, style=VERDICT_STYLE.get(v, "")), inert(r.format), inert(r.path), top)
    console.print(table)
    console.print(
        Text(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing scanned")
    )
