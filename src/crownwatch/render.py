"""Terminal output. Log values are attacker-controlled: they are always rendered as
plain ``Text`` through :func:`crownwatch.inert.safe` (never parsed as Rich markup,
control and bidi characters replaced)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from crownwatch.inert import print_error, safe
from crownwatch.lake import FileResult, Lake, iter_files
from crownwatch.severity import RANK, SEVERITIES

SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan"}

#: rows a findings or incidents table shows at most. Rich lays every row out before it
#: prints the first: the 10,580 findings of a 10M-event workforce run took 5.5 s to lay
#: out (about 20 s to a terminal), and nobody reads a table that long. The JSON formats
#: list them all.
TABLE_ROWS = 200
_MOST_SEVERE_FIRST = tuple(reversed(SEVERITIES))


def _most_severe(rows: list[dict], limit: int) -> tuple[list[dict], list[dict]]:
    """``(shown, hidden)``: the ``limit`` most severe rows, in their given order, and
    the others."""
    if len(rows) <= limit:
        return rows, []
    keep = sorted(range(len(rows)), key=lambda i: (-RANK.get(rows[i]["severity"], -1), i))
    chosen = set(keep[:limit])
    return (
        [r for i, r in enumerate(rows) if i in chosen],
        [r for i, r in enumerate(rows) if i not in chosen],
    )


def _not_shown(hidden: list[dict], what: str, console: Console) -> None:
    if not hidden:
        return
    counts = defaultdict(int)
    for r in hidden:
        counts[r["severity"]] += 1
    by = ", ".join(
        f"{counts[s]:,} {s}"
        for s in [*_MOST_SEVERE_FIRST, *sorted(set(counts) - set(_MOST_SEVERE_FIRST))]
        if counts[s]
    )
    # plain Text: nothing in it is read as Rich markup
    console.print(
        Text(
            f"… and {len(hidden):,} more {what} not shown ({by}): "
            f"`crownwatch {what} --format json` (with this --lake) lists them all, "
            "--min-severity narrows the table."
        )
    )


def ingest_with_progress(
    lake: Lake, paths: list[Path], console: Console, quiet: bool
) -> list[FileResult]:
    files = list(iter_files(paths))
    if quiet or not files:
        return lake.ingest(files)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as prog:
        task = prog.add_task("", total=len(files))

        def tick(path: Path, res: FileResult) -> None:
            prog.update(task, advance=1, description=safe(path.name).plain[:60])

        return lake.ingest(files, on_file=tick)


def ingest_failures(results: list[FileResult], console: Console) -> None:
    """A line per file that could not be ingested, with the reason — an error, printed
    also under ``--quiet``."""
    for r in results:
        if r.status == "failed":
            _failed(r, console)


def _failed(r: FileResult, console: Console) -> None:
    # nothing of the file is in the lake; the next run tries it again
    print_error(console, "failed", f"{r.path}: {r.note}")


def ingest_summary(results: list[FileResult], console: Console) -> None:
    by_source: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    tables: set[str] = set()
    for r in results:
        s = by_source[r.source or "(unrecognised)"]
        s["files"] += 1
        s["duplicates"] += r.status == "duplicate"
        s["read"] += r.read
        s["quarantined"] += r.quarantined
        s["skipped"] += r.skipped
        s["extra rows"] += r.extra_rows
        for t, n in r.rows.items():
            s[t] += n
            tables.add(t)
    table = Table(title="Ingest", title_justify="left")
    extra = any(s["extra rows"] for s in by_source.values())
    cols = [
        "files",
        "duplicates",
        "read",
        *sorted(tables),
        *(["extra rows"] if extra else []),
        "skipped",
        "quarantined",
    ]
    table.add_column("source")
    for c in cols:
        table.add_column(c, justify="right")
    for src in sorted(by_source):
        table.add_row(safe(src), *[f"{by_source[src][c]:,}" for c in cols])
    console.print(table)
    if extra:
        # the count identity, visibly: read + extra rows = table rows + skipped + quarantined
        console.print(
            "extra rows: rows that stand for no record of their own (the N-1 more events of a "
            "'(last) message repeated N times' line or of PAM's 'N more authentication "
            "failures'; a CloudTrail ConsoleLogin written as an API call and a sign-in). "
            "read + extra rows = table rows + skipped + quarantined.",
            style="dim",
        )
    for r in results:
        if r.status == "failed":
            _failed(r, console)
        elif r.note and r.status != "duplicate":
            console.print(Text("note: ", style="yellow") + safe(f"{r.path}: {r.note}"))


def detect_with_progress(
    engine, config, only, console: Console, quiet: bool, run, errors=None
) -> list[dict]:
    errors = errors if errors is not None else []
    try:
        return _detect(engine, config, only, console, quiet, run, errors)
    finally:
        for e in errors:
            print_error(console, "detection failed", f"{e.detection}: {e.message}")


def _detect(engine, config, only, console, quiet, run, errors) -> list[dict]:
    if quiet:
        return run(engine, config, only, out_errors=errors)
    from crownwatch.detect import selected

    dets = selected(config, only)
    with Progress(
        TextColumn("[bold]detect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as prog:
        task = prog.add_task("", total=len(dets))

        def tick(det, n):
            prog.update(task, advance=1, description=det.id)

        return run(engine, config, only, on_detection=tick, out_errors=errors)


def findings_table(findings: list[dict], console: Console) -> None:
    """Three columns so it reads on an 80-column terminal: severity, what, detail."""
    if not findings:
        console.print("No findings.")
        return
    shown, hidden = _most_severe(findings, TABLE_ROWS)
    title = f"{len(findings):,} findings" + (f", the {len(shown)} most severe" if hidden else "")
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("detection / id", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=1)
    for f in shown:
        what = safe(f["title"])
        what.append("\n")
        what.append_text(safe(f"{f['first_seen']} → {f['last_seen']} · {', '.join(f['attack'])}"))
        what.stylize("dim", len(safe(f["title"])) + 1)
        table.add_row(
            Text(f["severity"], style=SEV_STYLE.get(f["severity"], "")),
            safe(f["detection"]) + Text("\n") + Text(safe(f["id"]).plain, style="dim"),
            what,
        )
    console.print(table)
    _not_shown(hidden, "findings", console)


def incidents_table(incidents: list[dict], console: Console) -> None:
    """Severity, id and stages, then the incident's summary paragraph."""
    if not incidents:
        console.print("No incidents.")
        return
    shown, hidden = _most_severe(incidents, TABLE_ROWS)
    title = f"{len(incidents):,} incidents" + (f", the {len(shown)} most severe" if hidden else "")
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("incident", no_wrap=True)
    table.add_column("what happened", overflow="fold", ratio=1)
    for inc in shown:
        what = safe(inc["title"])
        what.stylize("bold")
        what.append("\n")
        what.append_text(safe(inc["summary"]))
        if inc.get("resembles"):
            r = inc["resembles"][0]
            what.append("\n")
            what.append_text(safe(f"resembles: {r['wording']} ({r['confidence']:.2f})"))
        table.add_row(
            Text(inc["severity"], style=SEV_STYLE.get(inc["severity"], "")),
            safe(inc["id"])
            + Text("\n")
            + Text(safe(f"{len(inc['findings'])} findings · {inc['status']}").plain, style="dim"),
            what,
        )
    console.print(table)
    _not_shown(hidden, "incidents", console)


def workforce_table(rows: list[dict], console: Console) -> None:
    """Per person: how many signals, the worst, and each signal's title."""
    if not rows:
        console.print("No workforce or trusted-outsider signals.")
        return
    table = Table(
        title=f"{len(rows)} people with workforce or trusted-outsider signals (signals, not verdicts)",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("person", no_wrap=True)
    table.add_column("signals", justify="right")
    table.add_column("what was seen", overflow="fold", ratio=1)
    for r in rows:
        who = safe(r["person"])
        roster = r.get("roster") or {}
        if roster:
            facts = [roster.get("employment_type"), roster.get("location")]
            if roster.get("start_date"):
                facts.append("since " + str(roster["start_date"]))
            who.append("\n")
            who.append_text(Text(safe(" · ".join(str(x) for x in facts if x)).plain, style="dim"))
        what = Text()
        for i, f in enumerate(r["findings"]):
            if i:
                what.append("\n")
            what.append(f["severity"], style=SEV_STYLE.get(f["severity"], ""))
            what.append(" ")
            what.append_text(safe(f["title"]))
            what.append_text(Text(safe(f"  ({f['id']})").plain, style="dim"))
        table.add_row(who, str(r["signals"]), what)
    console.print(table)
