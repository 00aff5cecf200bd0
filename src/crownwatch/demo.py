"""``crownwatch demo``: simulate a campaign against an AI lab, hunt it, show the result.

The simulated organisation is an AI lab whose identity providers, cloud trail and
hosts are under a MURKY-PANDA-style campaign (single-source and low-and-slow
spraying, stuffing, brute force, a sprayed account that gets in) with the benign
look-alikes that trip naive rules (a password-rotation morning behind the office
NAT, a service account with a stale password, a traveller), the access key the
sprayed account mints for itself, the storage thefts, the API distillers and an
implant beaconing from a training node — each family's simulator with its own
look-alikes and its part of the organisation's configuration (merged).

``demo`` starts from empty folders, so it deletes ``--out`` and ``--lake`` — but only
folders it made itself (:data:`MARKER` inside), or empty ones. Anything else is refused
(exit 2) rather than deleted: there is no ``--force``, because a flag that deletes any
folder named to it is one typo away from someone's home directory; deleting a folder
by hand is one command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crownwatch import render
from crownwatch.config import load_config
from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.evaluate import score, score_incidents
from crownwatch.findings import FindingStore
from crownwatch.incidents import run as run_incidents
from crownwatch.inert import safe
from crownwatch.lake import Lake, iter_files
from crownwatch.outputs.report import write_report


def _simulate(out: Path, seed: int, console: Console) -> tuple[list[dict], dict]:
    """Run every simulator; returns their truth manifests and the configuration
    (crown-jewel registry) the storage scenario ships with."""
    from crownwatch.simulate.identity import generate_identity

    truths = [generate_identity(out / "identity", seed=seed)]
    config: dict = {}
    optional = (
        ("crownwatch.simulate.storage", "generate_storage", "storage"),
        ("crownwatch.simulate.inference", "generate_inference", "inference"),
        ("crownwatch.simulate.network", "generate_network", "network"),
        ("crownwatch.simulate.workforce", "generate_workforce", "workforce"),
    )
    for module, func, sub in optional:
        try:
            mod = __import__(module, fromlist=[func])
        except ImportError:
            continue
        result = getattr(mod, func)(out / sub, seed=seed)
        if "truth" in result:  # {"files", "truth", "config"}
            if result.get("config"):
                config = merge_configs(config, load_config(result["config"]))
            result = result["truth"]
        truths.append(result)
    return truths, config


def merge_configs(base: dict, more: dict) -> dict:
    """One organisation's configuration from each simulator's part: tables merge,
    lists (assets, known services, own accounts) join, a scalar of ``more`` wins."""
    out = dict(base)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_configs(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            out[key] = value
    return out


MARKER = ".crownwatch-demo"


class DemoRefused(Exception):
    """A folder ``demo`` was asked to write into holds something it did not make."""


def _refusal(path: Path, option: str) -> str | None:
    """Why ``demo`` may not empty ``path``, or None when it may."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        return f"{option} {path} is not a folder (demo only deletes folders it made)"
    if path.is_dir() and not (path / MARKER).is_file() and any(path.iterdir()):
        return (
            f"{option} {path} is not empty and was not made by crownwatch demo (no {MARKER} "
            "in it); demo will not delete it: choose another folder, or delete it yourself"
        )
    return None


def prepare_dirs(out: Path, lake_dir: Path | None) -> Lake:
    """Empty ``out`` and the lake for a fresh run, each marked as demo's own; raises
    :class:`DemoRefused` — before deleting anything — if either is not demo's to delete."""
    lake = Lake(lake_dir if lake_dir is not None else out / "lake")
    if lake_dir is not None:
        o, lk = out.resolve(), lake.root.resolve()
        if lk == o or lk in o.parents:
            raise DemoRefused(f"--lake {lake.root} must not be --out {out} or a folder above it")
    why = [_refusal(out, "--out")]
    if lake_dir is not None:
        why.append(_refusal(lake.root, "--lake"))
    why = [w for w in why if w]
    if why:
        raise DemoRefused("; ".join(why))
    for path in (out, lake.root):
        if path.exists():
            shutil.rmtree(path)
    for path in (out, lake.root):
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text(
            "Made by `crownwatch demo`, which deletes and rewrites this folder on its next run.\n"
        )
    return lake


def run_demo(out: Path, lake_dir: Path | None, seed: int, fmt: str) -> int:
    console = Console(stderr=fmt == "json")
    progress = Console(stderr=True)  # progress bars on stderr whatever the format
    try:
        lake = prepare_dirs(out, lake_dir)
    except DemoRefused as exc:
        progress.print(Text("demo: ", style="bold red") + safe(str(exc)))
        return 2
    console.print(
        Text("1. Simulating", style="bold") + safe(f" an AI lab under attack into {out} …")
    )
    truths, config = _simulate(out, seed, console)
    logs = [p for p in sorted(out.iterdir()) if p.is_dir() and p != lake.root]
    console.print(
        Text("2. Hunting", style="bold") + safe(": crownwatch hunt " + " ".join(map(str, logs)))
    )
    # the simulators' answer keys and registry sit beside the logs; they are not logs
    logs = [f for f in iter_files(logs) if f.name not in ("truth.json", "crownwatch.toml")]
    results = render.ingest_with_progress(lake, logs, progress, quiet=False)
    render.ingest_summary(results, console)
    found = render.detect_with_progress(Engine(lake), config, None, progress, False, run_detections)
    FindingStore(lake.root).upsert(found)
    stored = FindingStore(lake.root).all()
    incidents = run_incidents(lake.root, config)
    if fmt == "json":
        import json
        import sys

        sys.stdout.write(json.dumps(stored, indent=2) + "\n")
    else:
        render.findings_table(stored, console)
    console.print("[bold]3. Scoring[/] against what was planted (truth.json):")
    card = Table(title_justify="left")
    for c in ("planted", "kind", "detection", "verdict", "findings"):
        card.add_column(c)
    missed = 0
    for truth in truths:
        for s in score(stored, truth):
            style = "green" if s.ok else "bold red"
            missed += not s.ok
            card.add_row(
                safe(s.item),
                safe(s.kind),
                safe(s.detection),
                Text(s.verdict, style=style),
                safe(", ".join(s.findings[:3])),
            )
    console.print(card)
    _score_incidents(incidents, stored, truths, console)
    report = write_report(lake.root, out / "report.html")
    console.print(
        safe(
            f"Lake: {lake.root}  ·  explore with: crownwatch incidents --lake {lake.root}"
            f"  ·  report: {report}"
        )
    )
    return 0


def _score_incidents(incidents: list[dict], findings: list[dict], truths: list, console) -> None:
    """4. Incidents: each planted intrusion one incident, the look-alikes in none."""
    render.incidents_table(incidents, console)
    scores = score_incidents(incidents, findings, truths)
    planted = [s for s in scores if s.malicious]
    benign = [s for s in scores if not s.malicious]
    console.print(
        Text("4. Incidents", style="bold")
        + safe(
            f": {len(incidents)} incidents for {len(planted)} planted intrusions — "
            f"{sum(s.ok for s in planted)} of {len(planted)} are one incident each, "
            f"{sum(s.ok for s in benign)} of {len(benign)} benign look-alikes in none"
        )
    )
    card = Table(title_justify="left")
    for c in ("planted intrusion", "items", "verdict", "incident"):
        card.add_column(c)
    for s in scores:
        card.add_row(
            safe(s.intrusion),
            safe(str(len(s.items))),
            Text(s.verdict, style="green" if s.ok else "bold red"),
            safe(", ".join(s.incidents) or s.why),
        )
    console.print(card)
