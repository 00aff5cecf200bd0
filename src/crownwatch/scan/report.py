"""Output shapes for scan results: terminal table, JSON array (SARIF 2.1.0 is built in
:mod:`crownwatch.outputs.sarif`).

The JSON array is the contract of docs/interfaces.md: one element per file or archive member,
``{"path", "format", "verdict", "issues": [{"severity", "kind", "detail"}]}``.

Everything a scanned file controls - global names, member and file names, directory names,
metadata, details quoting them - is hostile text. In the table it is rendered as inert
``rich.text.Text`` through the project's :func:`crownwatch.inert.safe` rule (no Rich markup,
control and bidi characters replaced), with line breaks and the remaining invisible
direction marks replaced too, since a table cell is one logical line. The command line
writes the table with :func:`write_table` (the same columns as plain aligned lines, the
verdict coloured on a terminal): it needs neither Rich nor its per-cell layout, which took
longer than the scan itself on a folder of small files. JSON and SARIF are
ASCII-only (``ensure_ascii``) and carry no lone surrogates (file names that are not UTF-8,
pickle strings decoded with ``surrogatepass``), so strict parsers accept them whatever the
bytes.
"""

from __future__ import annotations

from .result import ScanResult, severity_rank

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


def clean_json(obj):
    """``obj`` with every string passed through :func:`clean_text` (keys included)."""
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_json(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_json(v) for v in obj]
    return obj


def to_json(results: list[ScanResult]) -> str:
    import json

    return json.dumps(clean_json([r.to_dict() for r in results]), indent=2, ensure_ascii=True)


def to_jsonl(results: list[ScanResult]) -> str:
    """``to_json``'s elements, one compact object per line (empty for no results)."""
    import json

    return "".join(
        json.dumps(d, ensure_ascii=True) + "\n" for d in clean_json([r.to_dict() for r in results])
    )


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


# SGR colours for the verdict column of write_table (never anything but these fixed codes)
VERDICT_SGR = {
    "malicious": "\x1b[1;31m",
    "suspicious": "\x1b[33m",
    "error": "\x1b[35m",
    "clean": "\x1b[32m",
}
HEADER = ("verdict", "format", "path", "top issue")


def _color_wanted(out) -> bool:
    import os

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def table_rows(results: list[ScanResult]) -> list[tuple[str, str, str, str]]:
    """(verdict, format, path, top issue) per result, every field inert and on one line."""
    from crownwatch.inert import inert_str

    rows = []
    for r in results:
        top = ""
        if r.issues:
            worst = max(r.issues, key=lambda i: severity_rank(i.severity))  # first of the worst
            top = f"[{worst.severity}] {worst.kind}: {worst.detail}"
            if len(r.issues) > 1:
                top += f"  (+{len(r.issues) - 1} more)"
        rows.append(
            (
                r.verdict,
                inert_str(clean_text(r.format), one_line=True),
                inert_str(clean_text(r.path), one_line=True),
                inert_str(clean_text(top), one_line=True),
            )
        )
    return rows


def write_table(results: list[ScanResult], out=None, color: bool | None = None) -> None:
    """The scan table as aligned plain lines: a header, one line per file or archive member
    (nothing a file holds can break a line or carry a terminal escape), then the verdict
    counts. ``color`` defaults to: ``out`` is a terminal and ``NO_COLOR`` is not set."""
    import sys

    if out is None:
        out = sys.stdout
    if color is None:
        color = _color_wanted(out)
    rows = table_rows(results)
    vw = max(len(HEADER[0]), *(len(r[0]) for r in rows)) if rows else len(HEADER[0])
    fw = max(len(HEADER[1]), *(len(r[1]) for r in rows)) if rows else len(HEADER[1])
    # a very long path does not push every other row's issue off the screen
    pw = min(max(len(HEADER[2]), *(len(r[2]) for r in rows)) if rows else len(HEADER[2]), 96)
    counts: dict[str, int] = {}
    lines = [
        "crownwatch scan",
        f"{HEADER[0]:<{vw}}  {HEADER[1]:<{fw}}  {HEADER[2]:<{pw}}  {HEADER[3]}",
    ]
    for verdict, fmt, path, top in rows:
        counts[verdict] = counts.get(verdict, 0) + 1
        v = f"{verdict:<{vw}}"
        if color:
            v = f"{VERDICT_SGR.get(verdict, '')}{verdict}\x1b[0m{' ' * (vw - len(verdict))}"
        lines.append(f"{v}  {fmt:<{fw}}  {path:<{pw}}  {top}".rstrip())
    lines.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing scanned")
    text = "\n".join(lines) + "\n"
    try:
        out.write(text)
    except UnicodeEncodeError:  # a terminal or pipe that cannot show every character
        enc = getattr(out, "encoding", None) or "ascii"
        out.write(text.encode(enc, "backslashreplace").decode(enc))
