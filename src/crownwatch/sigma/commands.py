"""``crownwatch sigma export`` and ``crownwatch sigma run``: what the CLI calls. They print
(tables or JSON to stdout; progress, summaries and problems to stderr in either format,
``--quiet`` keeping only the problems; every value as inert text) and return the exit
code: 0 done, 2 a usage or input error — a bad rule file, a rule that cannot run, a log
that could not be ingested; the other rules still run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crownwatch.inert import print_error, safe


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def export_cmd(out: Path, fmt: str) -> int:
    from crownwatch.sigma.export import plan, write

    p = plan()
    try:
        written = write(out, p)
    except OSError as exc:
        print_error(Console(stderr=True), "cannot write the rules", exc)
        return 2
    if fmt == "json":
        _print_json(
            {
                "written": [
                    {
                        "path": str(path),
                        "detection": e.detection,
                        "variant": e.variant,
                        "id": e.id,
                        "approximation": e.approximation,
                    }
                    for path, e in zip(written, p.exported, strict=True)
                ],
                "not_exported": [{"detection": d, "reason": why} for d, why in p.not_exported],
            }
        )
        return 0
    console = Console()
    table = Table(title=f"{len(written)} Sigma rule files written to {out}", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("detection", no_wrap=True)
    for path, e in zip(written, p.exported, strict=True):
        table.add_row(safe(path.name), safe(e.detection))
    console.print(table)
    missing = Table(
        title=f"{len(p.not_exported)} detections Sigma cannot express", title_justify="left"
    )
    missing.add_column("detection", no_wrap=True)
    missing.add_column("why not", overflow="fold")
    for det, why in p.not_exported:
        missing.add_row(safe(det), safe(why))
    console.print(missing)
    console.print(
        "Every exported rule is an approximation of its detection: its description says "
        "what it gives up.",
        markup=False,
    )
    return 0


def run_cmd(
    paths: list[Path],
    lake_dir: Path | None,
    config_path: Path | None,
    fmt: str,
    quiet: bool = False,
) -> int:
    from crownwatch import render
    from crownwatch.config import ConfigError, load_config
    from crownwatch.findings import FindingStore, StoreBusy
    from crownwatch.lake import Lake, LakeError, default_lake
    from crownwatch.sigma.rules import UsageError, load, rule_files, split_paths
    from crownwatch.sigma.run import Runner

    err = Console(stderr=True)

    def fail(label: str, detail: object) -> int:
        print_error(err, label, detail)
        return 2

    try:
        rule_paths, log_paths = split_paths(paths)
    except UsageError as exc:
        return fail("usage", exc)
    files = rule_files(rule_paths)
    if not files:
        return fail("usage", "no Sigma rule files (.yml, .yaml) among the arguments")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return fail("config error", exc)
    lake = Lake(lake_dir if lake_dir is not None else default_lake())
    ingest_failed = False
    if log_paths:
        try:
            results = render.ingest_with_progress(lake, log_paths, err, quiet=quiet)
        except LakeError as exc:
            return fail("lake error", exc)
        if not quiet:
            render.ingest_summary(results, err)
        else:  # an error still is one
            render.ingest_failures(results, err)
        ingest_failed = any(r.status == "failed" for r in results)
    elif not lake.root.is_dir():
        return fail("no lake", f"{lake.root} does not exist (give log paths, or ingest first)")

    loaded = load(files)
    runner = Runner(lake)
    try:
        result = runner.run(loaded)
    finally:
        runner.close()
    try:
        store = FindingStore(lake.root)
        store.upsert(result.findings)
        from crownwatch.incidents import run as derive_incidents

        derive_incidents(lake.root, config)
        # as stored: a finding triaged after an earlier run keeps its status and note
        ours = {f["id"] for f in result.findings}
        findings = [f for f in store.all() if f["id"] in ours]
    except (OSError, StoreBusy) as exc:
        return fail("cannot write the lake", exc)

    _rules_report(result.rules, err, quiet)
    if fmt == "json":
        _print_json({"findings": findings, "rules": [r.as_dict() for r in result.rules]})
    else:
        render.findings_table(findings, Console())
    return 2 if result.failed or ingest_failed else 0


def _rules_report(rules, console: Console, quiet: bool = False) -> None:
    """The summary line and a line per rule skipped or in error; ``quiet``: only the
    errors (a bad rule makes the exit status 2, and says why)."""
    ran = sum(r.status == "ran" for r in rules)
    skipped = [r for r in rules if r.status == "skipped"]
    errors = [r for r in rules if r.status == "error"]
    hits = sum(r.findings for r in rules)
    if quiet:
        skipped = []
    else:
        console.print(
            Text(
                f"{ran} Sigma rule(s) ran ({hits} finding(s)), {len(skipped)} skipped, "
                f"{len(errors)} with errors",
                style="bold",
            )
        )
    for r in [*errors, *skipped]:
        label = "error" if r.status == "error" else "skipped"
        name = r.title or r.rule_id or ""
        line = Text(f"  {label}: ", style="red" if label == "error" else "yellow")
        line += safe(f"{r.file}" + (f" — {name}" if name else "") + f": {r.reason}")
        console.print(line, soft_wrap=True)  # a path cut across lines cannot be searched for
