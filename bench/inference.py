"""Inference-API benchmark: N gateway requests analysed end to end.

For each size: write N requests with ``generate_inference_bulk`` (not timed), then
in fresh child processes measure wall time and the kernel's peak RSS of the process for

* **baseline** — bare DuckDB ``read_json`` → Parquet of the same file;
* **ingest** — ``crownwatch ingest FILE --lake LAKE`` (the installed command: parse,
  prompt features and sketches, quarantine);
* **detect** — ``crownwatch detect --lake LAKE --only inference`` (account features
  in the engine, clustering and scoring in Python).

Both with no setting (the default memory bound) and start-up included.

Prints a table with each phase's ratio to the baseline and the growth between the
smallest and largest size. Usage::

    python bench/inference.py --sizes 1000000 10000000 [--workdir DIR] [--threads 2] [--runs 3]

``--evaluate`` measures detection quality instead: the realistic simulator on seeds
the detections were not tuned on, detection rate over the planted attack accounts
and false-positive rate over every benign account, per seed and kind::

    python -m bench inference --evaluate [--seeds 29 31 37 41 43] [--accounts 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench._util import crownwatch_script, run_process, user_env

_PHASES = {
    "baseline": """
import duckdb, sys
con = duckdb.connect(); con.execute("SET threads = {threads}")
con.execute("COPY (SELECT * FROM read_json(?, format='newline_delimited')) TO ? (FORMAT parquet)",
            [sys.argv[1], sys.argv[2] + '/baseline.parquet'])
""",
}


def _command(name: str, data: Path, work: Path, threads: int) -> list[str]:
    """The floor as a bare DuckDB script; ingest and detect as the installed
    ``crownwatch`` command a user runs, start-up included, with no setting."""
    cw = str(crownwatch_script())
    if name == "ingest":
        return [cw, "ingest", str(data), "--lake", str(work / "lake"), "-f", "json", "-q"]
    if name == "detect":
        return [
            cw,
            "detect",
            "--lake",
            str(work / "lake"),
            "--only",
            "inference",
            "-f",
            "json",
            "-q",
        ]
    return [sys.executable, "-c", _PHASES[name].format(threads=threads), str(data), str(work)]


def _summary(name: str, out: str) -> str:
    """What a phase found, for the table's footnote: findings per detection; for the
    ingest, its counts — and a run that lost a record is no measurement."""
    if name == "ingest":
        (res,) = json.loads(out)
        accounted = sum(res["rows"].values()) + res["quarantined"] + res["skipped"]
        if res["status"] != "ingested" or accounted != res["read"]:
            raise RuntimeError(f"ingest did not account for every record: {res}")
        return f"read {res['read']:,}, rows {res['rows']}, quarantined {res['quarantined']}"
    if name != "detect":
        return out.strip()[-300:]
    found = json.loads(out or "[]")
    per: dict[str, int] = {}
    for x in found:
        per[x["detection"]] = per.get(x["detection"], 0) + 1
    accounts = {a for x in found for a in x["entities"].get("account", [])}
    return f"findings {per}; {len(accounts)} accounts named"


def run_phase(name: str, data: Path, work: Path, threads: int) -> dict:
    """One phase as one fresh process (``bench._util.run_process``): wall seconds and
    the kernel's peak RSS of that process (no sampling)."""
    env = user_env()
    env["OMP_NUM_THREADS"] = str(threads)
    r = run_process(_command(name, data, work, threads), env)
    return {
        "seconds": r["s"],
        "peak_rss": int(r["rss_mib"] * 2**20),
        "out": _summary(name, r["out"]),
    }


def _median_run(runs: list[dict]) -> dict:
    """The run of median time (its peak beside it: the largest of every run's), with
    every run's seconds kept for the table's spread."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    mid = dict(ordered[(len(ordered) - 1) // 2])
    mid["peak_rss"] = max(r["peak_rss"] for r in runs)
    mid["all_seconds"] = [r["seconds"] for r in runs]
    return mid


def bench(sizes: list[int], workdir: Path, threads: int, runs: int = 1) -> list[dict]:
    from crownwatch.simulate.inference import generate_inference_bulk

    rows = []
    for n in sizes:
        work = workdir / f"n{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        data = work / "gateway.jsonl"
        t0 = time.perf_counter()
        truth = generate_inference_bulk(data, n, seed=7)
        gen = time.perf_counter() - t0
        res = {
            "requests": n,
            "bytes": data.stat().st_size,
            "generate_s": gen,
            "generate_rps": n / gen,
            "truth": truth,
            "load_before": os.getloadavg(),
        }
        # rounds of baseline → ingest → detect, so a slow spell of the shared machine
        # falls on all three alike; each phase's median round is reported
        done: dict[str, list[dict]] = {"baseline": [], "ingest": [], "detect": []}
        for _ in range(runs):
            shutil.rmtree(work / "lake", ignore_errors=True)
            for phase in done:
                done[phase].append(run_phase(phase, data, work, threads))
        for phase, timed in done.items():
            res[phase] = _median_run(timed)
        ends = sorted(
            i["seconds"] + d["seconds"] for i, d in zip(done["ingest"], done["detect"], strict=True)
        )
        res["end_to_end_runs"] = ends
        res["load_after"] = os.getloadavg()
        res["analysis_s"] = ends[(len(ends) - 1) // 2]  # the median round's end to end
        res["analysis_peak_rss"] = max(res["ingest"]["peak_rss"], res["detect"]["peak_rss"])
        rows.append(res)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    gib = 1024**3
    lines = [
        "| requests | file | baseline read_json→Parquet | ingest | detect | end to end | × baseline | peak RSS (baseline / analysis) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        b = r["baseline"]["seconds"]
        lines.append(
            f"| {r['requests']:,} | {r['bytes'] / gib:.2f} GiB | {b:.1f} s | {r['ingest']['seconds']:.1f} s "
            f"| {r['detect']['seconds']:.1f} s | {r['analysis_s']:.1f} s | {r['analysis_s'] / b:.1f}× "
            f"| {r['baseline']['peak_rss'] / gib:.2f} / {r['analysis_peak_rss'] / gib:.2f} GiB |"
        )
    if any(len(r["end_to_end_runs"]) > 1 for r in rows):
        lines.append("")
        lines.append(
            "Medians of rounds; end to end in each round (ingest + detect): "
            + "; ".join(
                f"{r['requests']:,}: " + ", ".join(f"{x:.1f} s" for x in r["end_to_end_runs"])
                for r in rows
            )
            + "."
        )
    if len(rows) >= 2:
        a, z = rows[0], rows[-1]
        k = z["requests"] / a["requests"]
        lines.append("")
        lines.append(
            f"Growth {a['requests']:,} → {z['requests']:,} (×{k:.0f} data): time ×{z['analysis_s'] / a['analysis_s']:.1f} "
            f"(baseline ×{z['baseline']['seconds'] / a['baseline']['seconds']:.1f}), peak RSS "
            f"×{z['analysis_peak_rss'] / max(1, a['analysis_peak_rss']):.1f}."
        )
    lines.append("")
    lines.append(
        "Bulk writer: "
        + ", ".join(f"{r['generate_rps'] / 1000:.0f}k requests/s" for r in rows)
        + "."
    )
    lines.append("")
    lines.append(
        "Load average (1/5/15 min) before → after each size: "
        + "; ".join(
            f"{r['requests']:,}: {'/'.join(f'{x:.1f}' for x in r['load_before'])} → "
            f"{'/'.join(f'{x:.1f}' for x in r['load_after'])}"
            for r in rows
        )
        + "."
    )
    return "\n".join(lines)


def evaluate(
    seeds: list[int],
    accounts: int,
    days: int,
    workdir: Path,
    vary: bool = False,
    adaptive: bool = False,
) -> list[dict]:
    """Detection and false-positive rates on the realistic simulator, per seed
    (``vary``: each seed also draws its own attack style)."""
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine
    from crownwatch.evaluate import account_rates
    from crownwatch.lake import Lake
    from crownwatch.simulate.inference import generate_inference

    rows = []
    for seed in seeds:
        work = workdir / f"eval{seed}"
        shutil.rmtree(work, ignore_errors=True)
        truth = generate_inference(
            work / "logs",
            seed=seed,
            accounts=accounts,
            days=days,
            vary_attacks=vary,
            adaptive=adaptive,
        )
        lake = Lake(work / "lake")
        lake.ingest([work / "logs"])
        findings = run_detections(Engine(lake), {}, only=["inference"])
        rows.append(
            {
                "seed": seed,
                "requests": truth["requests"],
                "findings": len(findings),
                "style": _style(truth) if vary else None,
                "adaptive_style": _adaptive_style(truth) if adaptive and vary else None,
                **account_rates(findings, truth),
            }
        )
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _style(truth: dict) -> str:
    d, h = truth["attacks"]["distiller"]["style"], truth["attacks"]["hydra"]["style"]
    hours = "" if d["distiller_hours"] >= 24 else f" {d['distiller_hours']:.0f} h/day"
    return (
        f"{d['distillers']} distiller(s) every {d['distiller_gap_s'][0]:.0f}–{d['distiller_gap_s'][1]:.0f} s"
        f"{hours}, "
        f"{d['distiller_cover']:.0%} chat, {'sweeps' if d['distiller_sweep'] else 'no sweeps'}; "
        f"hydra of {h['hydra_members']} on {h['hydra_cards']} cards, {h['hydra_harvest']:.0%} harvest, "
        f"{len(h['hydra_shifts'])} shift(s)/day, {len(h['hydra_clients'])} client(s), "
        f"opened within {h['hydra_born_spread_h']:g} h"
    )


def _adaptive_style(truth: dict) -> str:
    a = truth["adaptive_style"]
    return (
        f"swarm of {a['swarm_total']} opened over {a['swarm_span_days']} days "
        f"({len(truth['attacks']['coverage_swarm']['accounts'])} in the window), "
        f"{a['swarm_prompts'][0]}–{a['swarm_prompts'][1]} prompts each, {a['swarm_scaffolds']} "
        f"scaffold(s) on {a['swarm_scaffold_share']:.0%}; insider key from day {a['insider_day']} at "
        f"{a['insider_per_day'][0]}–{a['insider_per_day'][1]}/day; camouflaged hydra of "
        f"{a['hydra_members']} in {a['hydra_prefixes']} /24s, {a['hydra_ua']} over a "
        f"{a['hydra_tls']} TLS stack, template on {a['hydra_template_share']:.0%} of sessions"
    )


def eval_table(rows: list[dict]) -> str:
    def frac(r: dict) -> str:
        return f"{r['flagged']}/{r['accounts']}"

    kinds_a = sorted({k for r in rows for k in r["attack_kinds"]})
    kinds_b = sorted({k for r in rows for k in r["benign_kinds"]})
    head = ["seed", "requests", "findings", "detected", *kinds_a, "false positives", *kinds_b]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    str(r["seed"]),
                    f"{r['requests']:,}",
                    str(r["findings"]),
                    frac(r["attack"]),
                    *(frac(r["attack_kinds"][k]) for k in kinds_a),
                    frac(r["benign"]),
                    *(frac(r["benign_kinds"][k]) for k in kinds_b),
                ]
            )
            + " |"
        )
    tot_a = sum(r["attack"]["flagged"] for r in rows), sum(r["attack"]["accounts"] for r in rows)
    tot_b = sum(r["benign"]["flagged"] for r in rows), sum(r["benign"]["accounts"] for r in rows)
    lines.append("")
    for r in rows:
        if r.get("style"):
            lines.append(f"Seed {r['seed']} attack style: {r['style']}.")
        if r.get("adaptive_style"):
            lines.append(f"Seed {r['seed']} adaptive campaigns: {r['adaptive_style']}.")
    lines.append(
        f"Over all seeds: detection rate {tot_a[0]}/{tot_a[1]} = {tot_a[0] / tot_a[1]:.1%}, "
        f"false-positive rate {tot_b[0]}/{tot_b[1]} = {tot_b[0] / tot_b[1]:.2%} of benign accounts."
    )
    fps = [
        f"{r['seed']}: {', '.join(r['false_positive_accounts'])}"
        for r in rows
        if r["false_positive_accounts"]
    ]
    if fps:
        lines.append("False-positive accounts — " + "; ".join(fps) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--runs", type=int, default=1, help="rounds per size (each phase's median is shown)"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the raw measurements here")
    ap.add_argument(
        "--evaluate",
        action="store_true",
        help="measure detection / false-positive rates on the realistic simulator instead",
    )
    # 11 tuned the detections, 7 drives the throughput runs: evaluate on neither
    ap.add_argument("--seeds", type=int, nargs="+", default=[29, 31, 37, 41, 43])
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument(
        "--vary-attacks",
        action="store_true",
        help="with --evaluate: each seed draws its own attack style (AttackStyle.draw)",
    )
    ap.add_argument(
        "--adaptive",
        action="store_true",
        help="with --evaluate: add the adaptive campaigns and their look-alikes "
        "(simulate/inference_adaptive.py; use --days 12 so the insider key has a baseline)",
    )
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cw-bench-inference-"))
    if args.evaluate:
        rows = evaluate(
            args.seeds, args.accounts, args.days, workdir, args.vary_attacks, args.adaptive
        )
        print(eval_table(rows))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, default=str))
        return 0
    rows = bench(sorted(args.sizes), workdir, args.threads, args.runs)
    print(table(rows))
    for r in rows:
        print(f"{r['requests']:,}: detect → {r['detect']['out'][:200]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
