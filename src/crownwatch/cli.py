"""The ``crownwatch`` command line. Thin on purpose: parse, call the library, print.

Exit codes: 0 success (hunt/detect: whatever was found), 1 a detection failed (the
others' findings are still printed and stored), 2 usage or input error;
``scan`` follows docs/interfaces.md (0 clean, 1 malicious/suspicious, 2 unscannable).

Conventions every command keeps (docs/interfaces.md): results on stdout, progress and
summaries on stderr (``--quiet`` silences those, never an error); an option with a fixed
set of values is an enum, so ``--help`` lists the values and a bad one is a usage error
(exit 2) that names them; ``--format jsonl`` is one JSON object per line wherever
``--format json`` prints an array; a command that reads a lake refuses one that is not
there rather than printing an empty result.
"""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from crownwatch import __version__
from crownwatch.cli_options import LakeOpt, QuietOpt
from crownwatch.lake_cli import lake_app
from crownwatch.sigma.cli import app as sigma_app
from crownwatch.window import TimeWindow, parse_time

if TYPE_CHECKING:
    from rich.console import Console

    from crownwatch.lake import Lake

# Start-up: `crownwatch --help` and `crownwatch scan` must not pay for what other commands
# need. Only Typer and this module load up front; the lake, the engine, the detections (and
# with them DuckDB, PyArrow, NumPy, ibis) and Rich's rendering are imported inside the
# command functions that use them. tests/test_cli_startup.py holds the line.

app = typer.Typer(
    help="Find and explain attacks on your AI crown jewels in the logs you already have.",
    no_args_is_help=True,
    # --install-completion / --show-completion; Typer builds them from this module's
    # options without importing any command's dependencies
    add_completion=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lake_app, name="lake")
app.add_typer(sigma_app, name="sigma")
_err: Console | None = None


def _stderr() -> Console:
    """The stderr console, made on first use (Rich's console costs start-up time)."""
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True)
    return _err


def _show_version(value: bool) -> None:
    if value:
        print(f"crownwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit"
    ),
) -> None:
    pass


class Fmt(StrEnum):
    table = "table"
    json = "json"


class RunFmt(StrEnum):
    """hunt, ingest, detect: ``jsonl`` is ``json``'s array, one element per line."""

    table = "table"
    json = "json"
    jsonl = "jsonl"


class FindingsFmt(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    ocsf = "ocsf"
    stix = "stix"


class IncidentsFmt(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    ocsf = "ocsf"
    stix = "stix"


class ScanFmt(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    sarif = "sarif"


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


# The next three repeat tuples of crownwatch.detections.contract / crownwatch.findings /
# crownwatch.enrichment.feeds, which import what the CLI must not load to print --help;
# tests/test_cli_conventions.py checks they agree.
class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class TriageStatus(StrEnum):
    new = "new"
    triaged = "triaged"
    escalated = "escalated"
    false_positive = "false_positive"
    closed = "closed"


class FeedName(StrEnum):
    aws = "aws"
    gcp = "gcp"
    azure = "azure"


class AssetsFmt(StrEnum):
    toml = "toml"
    json = "json"
    table = "table"


ConfigOpt = typer.Option(None, "--config", help="crownwatch.toml with thresholds and assets")
EngineOpt = typer.Option(EngineName.duckdb, "--engine", help="Engine for detections")
OnlyOpt = typer.Option(
    None,
    "--only",
    help="Run only these detections or families (repeatable; `crownwatch detections list`)",
)
MinSeverityOpt = typer.Option(None, "--min-severity", help="Leave out anything less severe")
SyslogYearOpt = typer.Option(
    None,
    "--syslog-year",
    min=1970,
    max=2200,
    help="Year of the first line of classic syslog files, whose stamps have none "
    "\\[default: $CROWNWATCH_SYSLOG_YEAR, else inferred so no line is later than the file]",
)


_TIME_HELP = (
    "ISO-8601 date or time (a bare date is midnight; no offset means UTC), e.g. "
    "2026-03-01 or 2026-03-01T10:00:00+02:00"
)


def _time_option(name: str, what: str):
    return typer.Option(
        None, name, parser=_parse_time, metavar="TIME", help=f"{what}: {_TIME_HELP}"
    )


def _parse_time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _window(since: datetime | None, until: datetime | None) -> TimeWindow | None:
    try:
        window = TimeWindow(since, until)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--until'") from None
    return None if window.open else window


def _syslog_year(year: int | None) -> None:
    """``--syslog-year`` is ``$CROWNWATCH_SYSLOG_YEAR`` for this run (the sshd source
    reads it per file)."""
    if year is not None:
        import os

        from crownwatch.sources.linux_auth import YEAR_ENV

        os.environ[YEAR_ENV] = str(year)


def safe_text(value: object):
    from crownwatch.inert import safe

    return safe(value)


def _stdout() -> Console:
    from rich.console import Console

    return Console()


def _render():
    """crownwatch.render (Rich tables and progress; it imports the lake)."""
    from crownwatch import render

    return render


def _fail(label: str, detail: object, code: int = 2) -> NoReturn:
    """Print ``label: detail`` and exit. ``detail`` may hold anything a user or a log
    wrote (a path with ``[/]`` in it, an id, an exception quoting a record): it is
    printed as inert text, never as markup."""
    from crownwatch.inert import print_error

    print_error(_stderr(), label, detail)
    raise typer.Exit(code)


# What a directory holds once crownwatch has written a lake into it (crownwatch.lake's
# layout, the findings store, feeds update's feeds).
_LAKE_MARKS = ("tables", "manifest.jsonl", "findings.duckdb", "feeds")


def _lake(lake: Path | None, must_exist: bool = False) -> Lake:
    """The lake; with ``must_exist`` (commands that only read one) exit 2 when it is not
    there, or is a directory crownwatch never wrote — an empty result would read as
    "nothing found" when the path was wrong."""
    from crownwatch.lake import Lake, default_lake

    lk = Lake(lake if lake is not None else default_lake())
    if must_exist and not lk.root.is_dir():
        _fail("no lake", f"{lk.root} does not exist (ingest or hunt creates it)")
    if must_exist and not any((lk.root / m).exists() for m in _LAKE_MARKS):
        _fail(
            "no lake",
            f"{lk.root} holds no crownwatch lake (no tables, findings or feeds; "
            "ingest or hunt creates one)",
        )
    return lk


def _unknown_detections(values: list[str], stored_too: bool = False) -> list[str]:
    """The values that name no detection and no family (the part before the dot) of the
    registry; with ``stored_too`` also no finding another command stores: a Sigma rule's
    (``sigma.<rule id>``, ``sigma run``) or the scanner's (``scan.unsafe_artifact``)."""
    from crownwatch.detections import all_detections

    ids = [d.id for d in all_detections()]
    if stored_too:
        from crownwatch.scan.findings import DETECTION as SCAN

        ids.append(SCAN)

    def known(v: str) -> bool:
        if stored_too and (v == "sigma" or (v.startswith("sigma.") and len(v) > 6)):
            return True  # a rule's id is whatever the team's rule file says
        return any(i == v or i.startswith(v + ".") for i in ids)

    return [v for v in values if not known(v)]


def _check_only(only: list[str] | None) -> None:
    """Every ``--only`` value names a detection or a family of them: a typo must not
    turn into a run of nothing that exits 0."""
    unknown = _unknown_detections(only or [])
    if unknown:
        raise typer.BadParameter(
            f"no detection or family {', '.join(map(repr, unknown))}; "
            "`crownwatch detections list` shows the ids (a family is the part before "
            "the dot, e.g. identity)",
            param_hint="'--only'",
        )


def _check_detection(detection: str | None) -> None:
    """``findings --detection`` names a detection, a family, a Sigma rule's findings
    (``sigma.<rule id>``, or ``sigma`` for all of them) or the scanner's: a typo must be
    an error, not an empty list that reads as "nothing found"."""
    if detection is None:
        return
    if _unknown_detections([detection], stored_too=True):
        raise typer.BadParameter(
            f"no detection or family {detection!r}; `crownwatch detections list` shows "
            "the ids (a family is the part before the dot, e.g. identity); a Sigma rule's "
            "findings are sigma.<rule id> (sigma for all), the scanner's "
            "scan.unsafe_artifact",
            param_hint="'--detection'",
        )


def _config(path: Path | None) -> dict:
    from crownwatch.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        _fail("config error", exc)


def _ingest(lake: Lake, paths: list[Path], quiet: bool) -> list:
    from crownwatch import render
    from crownwatch.lake import LakeError

    missing = [p for p in paths if not p.exists()]
    if missing:
        _fail("no such file or directory", ", ".join(map(str, missing)))
    try:
        results = render.ingest_with_progress(lake, paths, _stderr(), quiet=quiet)
    except LakeError as exc:
        _fail("lake error", exc)
    if quiet:
        # an error is printed even under --quiet: a file that could not be ingested
        # must not show only as an exit status (the summary says it otherwise)
        render.ingest_failures(results, _stderr())
    return results


def _ingest_failed(results: list) -> bool:
    """Whether a file could not be ingested (the lake could not be written, the engine
    gave up): the run's exit status says so (2), after everything else was done."""
    return any(r.status == "failed" for r in results)


def _detect(
    lake: Lake,
    config: dict,
    engine: EngineName,
    only: list[str] | None,
    quiet: bool,
    window: TimeWindow | None = None,
) -> tuple[list[dict], list]:
    """Run and store the detections; ``(findings, failed detections)``. The failures
    are this call's own (returned, never kept in the module: the CLI may be invoked
    many times in one process), and the caller exits 1 when there are any."""
    import duckdb

    from crownwatch import render
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine
    from crownwatch.findings import FindingStore, StoreBusy

    eng = Engine(lake, engine.value, window=window)
    errors: list = []
    try:
        findings = render.detect_with_progress(
            eng, config, only, _stderr(), quiet=quiet, run=run_detections, errors=errors
        )
        FindingStore(lake.root).upsert(findings)
        incidents = _derive_incidents(lake, config)
        if not quiet:
            # the findings table is the run's own; the story lives one command away
            n = len(incidents)
            _stderr().print(
                f"{n} incident{'s' if n != 1 else ''} in the lake: `crownwatch incidents`, "
                "`crownwatch report -o report.html`",
                markup=False,
                soft_wrap=True,
            )
    except ValueError as exc:
        _fail("configuration error", exc)
    except (OSError, duckdb.IOException, StoreBusy) as exc:
        _fail("cannot write the lake", exc)
    return findings, errors


def _derive_incidents(lake: Lake, config: dict) -> list[dict]:
    """Re-derive the lake's incidents from every stored finding (after each detect)."""
    from crownwatch.incidents import run

    return run(lake.root, config)


@app.command()
def hunt(
    paths: list[Path] = typer.Argument(
        ..., help="Log files or directories (format sniffed per file; .gz ok)"
    ),
    fmt: RunFmt = typer.Option(RunFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    config: Path | None = ConfigOpt,
    engine: EngineName = EngineOpt,
    only: list[str] | None = OnlyOpt,
    syslog_year: int | None = SyslogYearOpt,
    quiet: bool = QuietOpt,
):
    """Ingest every file under PATHS, run all detections, print the findings."""
    _syslog_year(syslog_year)
    _check_only(only)  # before the ingest, which may take a while
    conf = _config(config)
    lk = _lake(lake)
    results = _ingest(lk, paths, quiet)
    if not quiet:
        _render().ingest_summary(results, _stderr())
    _, failed = _detect(lk, conf, engine, only, quiet)

    _print_findings(_stored(lk), fmt)
    if failed:
        raise typer.Exit(1)
    if _ingest_failed(results):
        raise typer.Exit(2)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Log files or directories"),
    lake: Path | None = LakeOpt,
    fmt: RunFmt = typer.Option(RunFmt.table, "--format", "-f"),
    syslog_year: int | None = SyslogYearOpt,
    quiet: bool = QuietOpt,
):
    """Ingest only; prints per-source counts (read, rows, quarantined)."""
    _syslog_year(syslog_year)
    lk = _lake(lake)
    results = _ingest(lk, paths, quiet)
    if fmt == RunFmt.table:
        _render().ingest_summary(results, _stdout())
    else:
        from dataclasses import asdict

        _print_rows([asdict(r) for r in results], fmt)
    if _ingest_failed(results):
        raise typer.Exit(2)


@app.command()
def detect(
    lake: Path | None = LakeOpt,
    config: Path | None = ConfigOpt,
    engine: EngineName = EngineOpt,
    only: list[str] | None = OnlyOpt,
    fmt: RunFmt = typer.Option(RunFmt.table, "--format", "-f"),
    since: datetime | None = _time_option("--since", "Read only events at or after"),
    until: datetime | None = _time_option("--until", "Read only events before"),
    quiet: bool = QuietOpt,
):
    """Run detections over what is in the lake and store the findings.

    With --since/--until the detections read only the events inside the window (on
    either engine); what they find is stored like any other run's findings."""
    window = _window(since, until)
    _check_only(only)
    lk = _lake(lake, must_exist=True)
    found, failed = _detect(lk, _config(config), engine, only, quiet, window)
    _print_findings(found, fmt)
    if failed:
        raise typer.Exit(1)


@app.command()
def findings(
    fmt: FindingsFmt = typer.Option(FindingsFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    detection: str | None = typer.Option(None, "--detection", help="Only this detection or family"),
    min_severity: Severity | None = MinSeverityOpt,
    since: datetime | None = _time_option("--since", "Only findings still seen at or after"),
    until: datetime | None = _time_option("--until", "Only findings first seen before"),
):
    """List stored findings.

    --since/--until keep the findings whose time range (first_seen to last_seen)
    overlaps the window: an attack that began before --since and went on inside it is
    kept."""
    from crownwatch.findings import to_ocsf

    window = _window(since, until)
    _check_detection(detection)
    lk = _lake(lake, must_exist=True)
    stored = _stored(lk, detection, min_severity)
    if window is not None:
        stored = [f for f in stored if window.overlaps(f["first_seen"], f["last_seen"])]
    if fmt in (FindingsFmt.json, FindingsFmt.jsonl):
        _print_rows(stored, fmt)
    elif fmt == FindingsFmt.ocsf:
        _print_json([to_ocsf(f, __version__) for f in stored])
    elif fmt == FindingsFmt.stix:
        from crownwatch.findings import FindingStore
        from crownwatch.outputs.stix import findings_bundle

        print(findings_bundle(stored, FindingStore(lk.root).versions()))
    else:
        _render().findings_table(stored, _stdout())


@app.command()
def triage(
    finding_id: str = typer.Argument(
        ..., metavar="ID", help="A finding (cw-…) or incident (ci-…) id, or a unique prefix"
    ),
    status: TriageStatus = typer.Option(..., "--status"),
    note: str | None = typer.Option(None, "--note"),
    lake: Path | None = LakeOpt,
):
    """Set the triage status of a finding or an incident (kept across re-runs)."""
    from crownwatch.findings import FindingStore, StoreBusy
    from crownwatch.incidents.store import IncidentStore

    root = _lake(lake, must_exist=True).root
    # incident ids start with "ci-", finding ids with "cw-": no prefix can be both
    is_incident = finding_id.strip().lower().startswith("ci-")
    store = IncidentStore(root) if is_incident else FindingStore(root)
    try:
        ok = store.set_status(finding_id, status.value, note)
    except (ValueError, StoreBusy) as exc:
        _fail("triage", exc)
    if not ok:
        _fail("no incident" if is_incident else "no finding", finding_id)


@app.command()
def incidents(
    fmt: IncidentsFmt = typer.Option(IncidentsFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    min_severity: Severity | None = MinSeverityOpt,
):
    """List the stored incidents: findings grouped into intrusions, in kill-chain order."""
    from crownwatch.findings import StoreBusy
    from crownwatch.incidents.store import IncidentStore

    root = _lake(lake, must_exist=True).root
    try:
        stored = IncidentStore(root).all(min_severity.value if min_severity else None)
    except StoreBusy as exc:
        _fail("incidents", exc)
    if fmt in (IncidentsFmt.json, IncidentsFmt.jsonl):
        _print_rows(stored, fmt)
    elif fmt == IncidentsFmt.ocsf:
        from crownwatch.incidents.export import to_ocsf_incident

        _print_json([to_ocsf_incident(i, __version__) for i in stored])
    elif fmt == IncidentsFmt.stix:
        from crownwatch.findings import FindingStore
        from crownwatch.outputs.stix import incidents_bundle

        print(
            incidents_bundle(
                stored,
                _stored(_lake(lake)),
                IncidentStore(root).versions(),
                FindingStore(root).versions(),
            )
        )
    else:
        _render().incidents_table(stored, _stdout())


@app.command()
def workforce(
    fmt: IncidentsFmt = typer.Option(IncidentsFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
):
    """Per employee: the workforce-integrity and trusted-outsider signals raised, with
    their evidence — a list for a reviewer, never a verdict."""
    from crownwatch.outputs.workforce import roster_of, summarise

    lk = _lake(lake, must_exist=True)
    rows = summarise(_stored(lk), roster_of(lk.root))
    if fmt in (IncidentsFmt.json, IncidentsFmt.jsonl):
        _print_rows(rows, fmt)
    elif fmt in (IncidentsFmt.ocsf, IncidentsFmt.stix):
        _fail(
            "workforce", "--format ocsf/stix: export the findings themselves (crownwatch findings)"
        )
    else:
        _render().workforce_table(rows, _stdout())


@app.command()
def report(
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write"),
    lake: Path | None = LakeOpt,
):
    """Write one self-contained HTML report: incidents, timelines, entity graphs,
    evidence, resemblance, and the ATT&CK/ATLAS coverage of the detections."""
    from crownwatch.outputs.report import write_report

    root = _lake(lake, must_exist=True).root
    try:
        path = write_report(root, out)
    except OSError as exc:
        _fail("cannot write the report", exc)
    _stderr().print(safe_text(f"report: {path}"))


def _stored(lake: Lake, detection: str | None = None, min_severity: Severity | None = None) -> list:
    from crownwatch.findings import FindingStore, StoreBusy

    try:
        return FindingStore(lake.root).all(detection, min_severity.value if min_severity else None)
    except StoreBusy as exc:
        _fail("findings", exc)


@app.command()
def scan(
    paths: list[str] = typer.Argument(..., help="Model files, directories or globs"),
    fmt: ScanFmt = typer.Option(ScanFmt.table, "--format", "-f"),
    lake: Path | None = typer.Option(
        None, "--lake", help="Also store results as findings in this lake"
    ),
    workers: int | None = typer.Option(None, "--workers"),
):
    """Scan model artifacts without loading them. Exit 0 clean, 1 malicious or suspicious, 2 unscannable."""
    from crownwatch.scan.cli import run

    raise typer.Exit(run(paths, fmt.value, str(lake) if lake else None, workers))


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Where to write the simulated logs"),
    lake: Path | None = LakeOpt,
    seed: int = typer.Option(7, "--seed"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Generate a realistic simulated campaign, hunt it, show the result.

    Starts from empty folders: --out and --lake are deleted first, but only when demo
    made them (a .crownwatch-demo file inside) or they are empty; anything else exits 2."""
    from crownwatch.demo import run_demo

    raise typer.Exit(run_demo(out, lake, seed, fmt.value))


assets_app = typer.Typer(
    help="The crown-jewel registry: what to protect and where it lives.", no_args_is_help=True
)
app.add_typer(assets_app, name="assets")


@assets_app.command("suggest")
def assets_suggest(
    lake: Path | None = LakeOpt,
    fmt: AssetsFmt = typer.Option(AssetsFmt.toml, "--format", "-f"),
):
    """Propose crown jewels (model weights, datasets, chip designs) from what the logs show."""
    from crownwatch.assets_cli import suggest_cmd

    raise typer.Exit(suggest_cmd(str(_lake(lake, must_exist=True).root), fmt.value))


@assets_app.command("list")
def assets_list(config: Path | None = ConfigOpt):
    """Show the crown jewels configured in crownwatch.toml."""
    from crownwatch.assets_cli import list_cmd

    raise typer.Exit(list_cmd(str(config) if config else None))


feeds_app = typer.Typer(
    help="Cloud providers' published address ranges (AWS, Google Cloud, Azure), kept dated "
    "in the lake for enrichment.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("update")
def feeds_update(
    lake: Path | None = LakeOpt,
    from_dir: Path | None = typer.Option(
        None, "--from", help="Store the feed files found in DIR instead of downloading"
    ),
    url: list[str] | None = typer.Option(
        None, "--url", help="NAME=URL: fetch a feed from a mirror (aws, gcp, azure)"
    ),
    only: list[FeedName] | None = typer.Option(None, "--only", help="Only these feeds"),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds per download"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Download AWS ip-ranges.json, Google cloud.json and Azure service tags into
    <lake>/feeds/<name>/<date>.json. Exit 2 if one could not be fetched or read."""
    from crownwatch.enrichment.cli import update_cmd

    names = [o.value for o in only] if only else None
    raise typer.Exit(update_cmd(_lake(lake).root, from_dir, url, names, timeout, fmt.value))


@feeds_app.command("list")
def feeds_list(
    lake: Path | None = LakeOpt,
    config: Path | None = ConfigOpt,
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Show the stored feeds and their age, and check the configured enrichment databases."""
    from crownwatch.enrichment.cli import list_cmd

    raise typer.Exit(list_cmd(_lake(lake).root, _config(config), fmt.value))


detections_app = typer.Typer(
    help="The detections: what each looks for, its parameters and what to do when it fires.",
    no_args_is_help=True,
)
app.add_typer(detections_app, name="detections")


@detections_app.command("list")
def detections_list(fmt: Fmt = typer.Option(Fmt.table, "--format", "-f")):
    """Every detection: id, severity, ATT&CK/ATLAS ids, tables, parameters, runbook."""
    from crownwatch.detections_cli import list_cmd

    raise typer.Exit(list_cmd(fmt.value))


@detections_app.command("show")
def detections_show(
    detection_id: str = typer.Argument(..., metavar="ID", help="e.g. identity.password_spray"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """One detection in full, with its notes. Exit 2 for an unknown id."""
    from crownwatch.detections_cli import show_cmd

    raise typer.Exit(show_cmd(detection_id, fmt.value))


@app.command()
def version():
    """Print the version."""
    print(__version__)


def _print_json(obj) -> None:
    import json

    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def _print_rows(rows: list, fmt: str) -> None:
    """``json``: one array; ``jsonl``: one compact object per line. ASCII-escaped, so a
    log value holding a newline or U+2028 cannot split a record across lines."""
    if fmt != "jsonl":
        _print_json(rows)
        return
    import json

    sys.stdout.writelines(json.dumps(r, default=str) + "\n" for r in rows)


def _print_findings(found: list[dict], fmt: RunFmt) -> None:
    if fmt == RunFmt.table:
        _render().findings_table(found, _stdout())
    else:
        _print_rows(found, fmt)


if __name__ == "__main__":  # pragma: no cover
    app()
