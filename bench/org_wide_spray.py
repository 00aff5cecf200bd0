"""Identity benchmark, precision mode (issue 13): a week with an organisation-wide spray
and one real compromise (``crownwatch.simulate.org_wide_spray``), hunted with every
detection as ``crownwatch demo`` does; of what was raised, how much is the attack?

    python -m bench identity --org-wide-spray                       # seeds 7 11 29, 400 users
    python -m bench identity --org-wide-spray --users 2000 --seeds 7
    python -m bench identity --org-wide-spray --control             # the same weeks, no campaign

Per seed: findings by detection, how many belong to the attack
(``crownwatch.evaluate.attribute``: a finding about the compromised account or
principal from the compromise on, or one whose addresses are mostly the attack's
alone — never one about an ordinary sprayed employee), precision (attack findings /
all findings), recall (attack items found by a finding that belongs) and wall time;
then what the findings that do not belong are about. Generated weeks and lakes live
under ``bench/out/org-wide-spray/`` (removed unless ``--keep``); each seed's findings
and attributions are written there as JSON. Results and the analysis of every finding
that does not belong: ``bench/ORG_WIDE_SPRAY_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from bench._util import OUT, peak_rss_mb, print_table, timer
from crownwatch.config import load_config
from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.evaluate import Precision, attack_precision
from crownwatch.lake import Lake, iter_files
from crownwatch.simulate.org_wide_spray import generate_org_wide_spray

WORK = OUT / "org-wide-spray"


def hunt(logs: Path, lake_dir: Path) -> tuple[list[dict], float, float]:
    """Ingest every log under ``logs`` and run every detection with the registry the
    scenario ships, as ``crownwatch demo`` does; returns (findings, ingest s, detect s)."""
    if lake_dir.exists():
        shutil.rmtree(lake_dir)
    lake = Lake(lake_dir)
    files = [f for f in iter_files([logs]) if f.name not in ("truth.json", "crownwatch.toml")]
    with timer() as t_ing:
        lake.ingest(files)
    config = load_config(logs / "crownwatch.toml")
    errors: list = []
    with timer() as t_det:
        found = run_detections(Engine(lake), config, out_errors=errors)
    if errors:
        raise RuntimeError(f"detections failed: {errors}")
    return found, t_ing["s"], t_det["s"]


def run(seed: int, users: int, days: int, *, campaign: bool = True, keep: bool = False) -> dict:
    """One simulated week, hunted and scored."""
    name = f"seed{seed}-u{users}-d{days}" + ("" if campaign else "-control")
    logs, lake_dir = WORK / name / "logs", WORK / name / "lake"
    if logs.exists():
        shutil.rmtree(logs)
    with timer() as t_gen:
        truth = generate_org_wide_spray(logs, seed=seed, users=users, days=days, campaign=campaign)
    try:
        found, t_ing, t_det = hunt(logs, lake_dir)
    finally:
        if not keep:
            shutil.rmtree(lake_dir, ignore_errors=True)
    res = attack_precision(found, truth)
    (WORK / name / "findings.json").write_text(
        json.dumps(
            {
                "findings": found,
                "attributions": [asdict(a) for a in res.attributions],
                "items": [asdict(s) for s in res.items],
            },
            indent=1,
        )
    )
    if not keep:
        shutil.rmtree(logs, ignore_errors=True)
    return {
        "seed": seed,
        "users": users,
        "days": days,
        "campaign": campaign,
        "result": res,
        "findings": found,
        "victim": (truth.get("exclusive") or {}).get("users", [{}])[0].get("user", "-")
        if campaign
        else "-",
        "events": truth["counts"]["signins"] + truth["counts"]["api_calls"],
        "t_gen": t_gen["s"],
        "t_ing": t_ing,
        "t_det": t_det,
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _about(f: dict) -> str:
    """A few words on what a finding that does not belong is about (its reasons)."""
    ev = f.get("evidence") or {}
    if f["detection"] == "exfiltration.jewel_access_after_identity":
        return "reasons: " + ", ".join(ev.get("reasons") or [])
    if f["detection"] == "identity.new_geo_after_spray":
        return "new: " + ", ".join(
            map(str, (ev.get("new_countries") or []) + (ev.get("new_asns") or []))
        )
    if f["detection"] == "identity.success_after_spray":
        marks = [
            m
            for m in (
                "from_infrastructure",
                "from_new_ground",
                "with_spray_client",
                "second_factor_failed",
            )
            if ev.get(m)
        ]
        if ev.get("outcomes_from_spray_ips"):
            marks.append("from_spray_ip")
        return "marks: " + ", ".join(marks)
    if f["detection"] in ("exfiltration.first_access",):
        return "reasons: " + ", ".join(x for x in ev.get("reasons") or [] if x)
    return f.get("title", "")[:80]


def report(r: dict) -> None:
    res: Precision = r["result"]
    tag = "" if r["campaign"] else " (control: no campaign)"
    rows = [
        [det, c["findings"], c["attack"], c["findings"] - c["attack"]]
        for det, c in res.by_detection.items()
    ]
    rows.append(["**all**", res.findings, res.attack_findings, res.findings - res.attack_findings])
    print_table(
        f"Org-wide spray, seed {r['seed']}, {r['users']} users, {r['days']} days{tag}: findings by detection",
        ["detection", "findings", "attack", "not attack"],
        rows,
    )
    if r["campaign"]:
        print()
        print_table(
            "Attack items (recall: found by a finding that belongs to the attack)",
            ["item", "detection", "verdict", "findings"],
            [[s.item, s.detection, s.verdict, ", ".join(s.findings[:3])] for s in res.items],
        )
    by_id = {f["id"]: f for f in r["findings"]}
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for a in res.attributions:
        if not a.belongs:
            groups[(a.detection, _about(by_id[a.finding]))].append(a)
    if groups:
        print()
        print_table(
            "Findings that do not belong to the attack, by what they are about",
            ["detection", "about", "findings", "e.g."],
            [
                [d, about, len(xs), "; ".join(x.why for x in xs[:2])]
                for (d, about), xs in sorted(groups.items(), key=lambda kv: -len(kv[1]))
            ],
        )
    print()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench identity --org-wide-spray")
    ap.add_argument("--org-wide-spray", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 29])
    ap.add_argument("--users", type=int, nargs="+", default=[400])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--control", action="store_true", help="the same weeks without the campaign")
    ap.add_argument("--keep", action="store_true", help="keep the logs and lakes under bench/out")
    ap.add_argument("--quiet", action="store_true", help="only the summary table")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    summary = []
    for users in args.users:
        for seed in args.seeds:
            print(f"seed {seed}, {users} users, {args.days} days …", flush=True)
            r = run(seed, users, args.days, campaign=not args.control, keep=args.keep)
            if not args.quiet:
                report(r)
            res: Precision = r["result"]
            noisy = Counter(a.detection for a in res.attributions if not a.belongs)
            summary.append(
                [
                    r["seed"],
                    f"{r['users']:,}",
                    f"{r['events']:,}",
                    r["victim"],
                    res.findings,
                    res.attack_findings,
                    _pct(res.precision),
                    _pct(res.recall) if r["campaign"] else "-",
                    ", ".join(f"{d} {n}" for d, n in noisy.most_common()) or "-",
                    f"{r['t_gen']:.0f} + {r['t_ing']:.0f} + {r['t_det']:.0f} s",
                ]
            )
    print_table(
        "Org-wide spray and one compromise: precision of everything raised"
        + (" (control weeks)" if args.control else ""),
        [
            "seed",
            "users",
            "events",
            "compromised",
            "findings",
            "attack",
            "precision",
            "recall",
            "not attack, by detection",
            "generate + ingest + detect",
        ],
        summary,
    )
    print(f"\npeak RSS {peak_rss_mb():,.0f} MiB")
    return 0
