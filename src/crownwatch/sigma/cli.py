"""``crownwatch sigma``: the Typer sub-app. Only Typer loads with it (``crownwatch --help``
must stay fast); the work is in :mod:`crownwatch.sigma.commands`, imported when a
command runs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from crownwatch.cli_options import LakeOpt, QuietOpt

app = typer.Typer(
    help="Sigma rules in and out: export crownwatch's detections as Sigma rules, or run "
    "your own Sigma rules over the lake.",
    no_args_is_help=True,
)


class Fmt(StrEnum):
    table = "table"
    json = "json"


@app.command("export")
def export(
    out: Path = typer.Option(Path("sigma-rules"), "--out", "-o", help="Directory to write into"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
):
    """Write the detections Sigma can express as Sigma rules (v2, with correlation rules),
    one YAML file each, and list the detections it cannot express, with the reason."""
    from crownwatch.sigma.commands import export_cmd

    raise typer.Exit(export_cmd(out, fmt.value))


@app.command("run")
def run(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="RULES… [PATHS…]",
        help="Sigma rule files (.yml/.yaml) or directories of them, then log files or "
        "directories to ingest first (as `crownwatch ingest` takes them); without logs "
        "the rules run over what the lake holds",
    ),
    lake: Path | None = LakeOpt,
    config: Path | None = typer.Option(
        None, "--config", help="crownwatch.toml (for the incidents derived afterwards)"
    ),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    quiet: bool = QuietOpt,
):
    """Run Sigma rules (Okta, CloudTrail, Entra sign-ins, Windows Security, sshd) over the
    lake and store their hits as findings beside crownwatch's own. Exit 2 if a rule file
    or rule is bad (the others still run) or a log could not be ingested.

    The findings are the result, on stdout; the ingest and the rules' summary (what ran,
    what was skipped and why) go to stderr in either format."""
    from crownwatch.sigma.commands import run_cmd

    raise typer.Exit(run_cmd(paths, lake, config, fmt.value, quiet))
