"""The ``crownwatch`` command line. Thin on purpose: parse, call the library, print.

Exit codes: 0 success (hunt/detect: whatever was found), 1 a detection failed (the
others' findings are still printed and stored), 2 usage or input error;
``scan`` follows docs/interfaces.md (0 clean, 1 malicious/suspicious, 2 unscannable).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from crownwatch import __version__
from crownwatch.lake_cli import lake_app

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
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(lake_app, name="lake")
_err: Console | None = None


def _stderr() -> Console:
    """The stderr console, made on first use (Rich's console costs start-up time)."""
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True)
    return _err


# Detections that raised during this invocation: hunt/detect print what the others
# found and then exit 1, so a script notices a broken detection.
_failed_detections: list = []


class Fmt(StrEnum):
    table = "table"
    json = "json"


class FindingsFmt(StrEnum):
    table = "table"
    json = "json"
    ocsf = "ocsf"
    stix = "stix"


class IncidentsFmt(StrEnum):
    table = "table"
    json = "json"
    ocsf = "ocsf"
    stix = "stix"


class ScanFmt(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


LakeOpt = typer.Option(
    None, "--lake", help="Lake directory [default: $CROWNWATCH_LAKE or ./.crownwatch]"
)
ConfigOpt = typer.Option(None, "--config", help="crownwatch.toml with thresholds and assets")
EngineOpt = typer.Option(EngineName.duckdb, "--engine", help="Engine for detections")
SyslogYearOpt = typer.Option(
    None,
    "--syslog-year",
    min=1970,
    max=2200,
    help="Year of the first line of classic syslog files, whose stamps have none "
    "[default: $CROWNWATCH_SYSLOG_YEAR, else inferred so no line is later than the file]",
)


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
    from rich.text import Text

    from crownwatch.inert import safe

    _stderr().print(Text(f"{label}: ", style="bold red") + safe(detail))
    raise typer.Exit(code)


def _lake(lake: Path | None, must_exist: bool = False) -> Lake:
    from crownwatch.lake import Lake, default_lake

    lk = Lake(lake if lake is not None else default_lake())
    if must_exist and not lk.root.is_dir():
        _fail("no lake", f"{lk.root} does not exist (ingest or hunt creates it)")
    return lk


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
        return render.ingest_with_progress(lake, paths, _stderr(), quiet=quiet)
    except LakeError as exc:
        _fail("lake error", exc)


def _ingest_failed(results: list) -> bool:
    """Whether a file could not be ingested (the lake could not be written, the engine
    gave up): the run's exit status says so (2), after everything else was done."""
    return any(r.status == "failed" for r in results)


def _detect(
    lake: Lake, config: dict, engine: EngineName, only: list[str] | None, quiet: bool
) -> list[dict]:
    import duckdb

    from crownwatch import render
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine
    from crownwatch.findings import FindingStore, StoreBusy

    eng = Engine(lake, engine.value)
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
            )
    except ValueError as exc:
        _fail("configuration error", exc)
    except (OSError, duckdb.IOException, StoreBusy) as exc:
        _fail("cannot write the lake", exc)
    # this invocation's failures only (the CLI may be invoked many times in one process)
    _failed_detections[:] = errors
    return findings


def _derive_incidents(lake: Lake, config: dict) -> list[dict]:
    """Re-derive the lake's incidents from every stored finding (after each detect)."""
    from crownwatch.incidents import run

    return run(lake.root, config)


@app.command()
def hunt(
    paths: list[Path] = typer.Argument(
        ..., help="Log files or directories (format sniffed per file; .gz ok)"
    ),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    config: Path | None = ConfigOpt,
    engine: EngineName = EngineOpt,
    only: list[str] | None = typer.Option(
        None, "--only", help="Run only these detections or families"
    ),
    syslog_year: int | None = SyslogYearOpt,
):
    """Ingest every file under PATHS, run all detections, print the findings."""
    _syslog_year(syslog_year)
    conf = _config(config)
    lk = _lake(lake)
    quiet = fmt == Fmt.json
    results = _ingest(lk, paths, quiet)
    if not quiet:
        _render().ingest_summary(results, _stderr())
    _detect(lk, conf, engine, only, quiet)

    stored = _stored(lk)
    if fmt == Fmt.json:
        _print_json(stored)
    else:
        _render().findings_table(stored, _stdout())
    if _failed_detections:
        raise typer.Exit(1)
    if _ingest_failed(results):
        raise typer.Exit(2)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Log files or directories"),
    lake: Path | None = LakeOpt,
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    syslog_year: int | None = SyslogYearOpt,
):
    """Ingest only; prints per-source counts (read, rows, quarantined)."""
    _syslog_year(syslog_year)
    lk = _lake(lake)
    results = _ingest(lk, paths, quiet=fmt == Fmt.json)
    if fmt == Fmt.json:
        from dataclasses import asdict

        _print_json([asdict(r) for r in results])
    else:
        _render().ingest_summary(results, _stdout())
    if _ingest_failed(results):
        raise typer.Exit(2)


@app.command()
def detect(
    lake: Path | None = LakeOpt,
    config: Path | None = ConfigOpt,
    engine: EngineName = EngineOpt,
    only: list[str] | None = typer.Option(None, "--only"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Run detections over what is in the lake and store the findings."""
    lk = _lake(lake, must_exist=True)
    found = _detect(lk, _config(config), engine, only, quiet=fmt == Fmt.json)
    if fmt == Fmt.json:
        _print_json(found)
    else:
        _render().findings_table(found, _stdout())
    if _failed_detections:
        raise typer.Exit(1)


@app.command()
def findings(
    fmt: FindingsFmt = typer.Option(FindingsFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    detection: str | None = typer.Option(None, "--detection", help="Only this detection or family"),
    min_severity: str | None = typer.Option(None, "--min-severity"),
):
    """List stored findings."""
    from crownwatch.findings import to_ocsf

    stored = _stored(_lake(lake, must_exist=True), detection, min_severity)
    if fmt == FindingsFmt.json:
        _print_json(stored)
    elif fmt == FindingsFmt.ocsf:
        _print_json([to_ocsf(f, __version__) for f in stored])
    elif fmt == FindingsFmt.stix:
        from crownwatch.stix import to_stix_bundle

        print(to_stix_bundle(stored))
    else:
        _render().findings_table(stored, _stdout())


@app.command()
def triage(
    finding_id: str = typer.Argument(
        ..., metavar="ID", help="A finding (cw-…) or incident (ci-…) id, or a unique prefix"
    ),
    status: str = typer.Option(..., "--status", help="new|triaged|escalated|false_positive|closed"),
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
        ok = store.set_status(finding_id, status, note)
    except (ValueError, StoreBusy) as exc:
        _fail("triage", exc)
    if not ok:
        _fail("no incident" if is_incident else "no finding", finding_id)


@app.command()
def incidents(
    fmt: IncidentsFmt = typer.Option(IncidentsFmt.table, "--format", "-f"),
    lake: Path | None = LakeOpt,
    min_severity: str | None = typer.Option(None, "--min-severity"),
):
    """List the stored incidents: findings grouped into intrusions, in kill-chain order."""
    from crownwatch.findings import StoreBusy
    from crownwatch.incidents.store import IncidentStore

    root = _lake(lake, must_exist=True).root
    try:
        stored = IncidentStore(root).all(min_severity)
    except StoreBusy as exc:
        _fail("incidents", exc)
    if fmt == IncidentsFmt.json:
        _print_json(stored)
    elif fmt == IncidentsFmt.ocsf:
        from crownwatch.incidents.export import to_ocsf_incident

        _print_json([to_ocsf_incident(i, __version__) for i in stored])
    elif fmt == IncidentsFmt.stix:
        from crownwatch.incidents.export import to_stix_bundle

        print(to_stix_bundle(stored, _stored(_lake(lake))))
    else:
        _render().incidents_table(stored, _stdout())


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


def _stored(lake: Lake, detection: str | None = None, min_severity: str | None = None) -> list:
    from crownwatch.findings import FindingStore, StoreBusy

    try:
        return FindingStore(lake.root).all(detection, min_severity)
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
    """Generate a realistic simulated campaign, hunt it, show the result."""
    from crownwatch.demo import run_demo

    raise typer.Exit(run_demo(out, lake, seed, fmt.value))


assets_app = typer.Typer(
    help="The crown-jewel registry: what to protect and where it lives.", no_args_is_help=True
)
app.add_typer(assets_app, name="assets")


@assets_app.command("suggest")
def assets_suggest(
    lake: Path | None = LakeOpt,
    fmt: str = typer.Option("toml", "--format", "-f", help="toml|json|table"),
):
    """Propose crown jewels (model weights, datasets, chip designs) from what the logs show."""
    from crownwatch.assets_cli import suggest_cmd

    raise typer.Exit(suggest_cmd(str(_lake(lake).root), fmt))


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
    only: list[str] | None = typer.Option(None, "--only", help="Only these feeds"),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds per download"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Download AWS ip-ranges.json, Google cloud.json and Azure service tags into
    <lake>/feeds/<name>/<date>.json. Exit 2 if one could not be fetched or read."""
    from crownwatch.enrichment.cli import update_cmd

    raise typer.Exit(update_cmd(_lake(lake).root, from_dir, url, only, timeout, fmt.value))


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


if __name__ == "__main__":  # pragma: no cover
    app()
