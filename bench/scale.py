"""Scale benchmark (issue 15): a week of Okta System Log at 1M, 10M and 100M events,
gzipped as an export arrives, ingested and hunted as a user runs crownwatch.

    python -m bench scale                          # 1M, 10M, 100M
    python -m bench scale --events 1000000 10000000
    python -m bench scale --generate-only --events 100000000

Each size is two whole processes of the installed command, start-up included, with no
setting (the default memory bound): ``crownwatch ingest FILE --lake DIR`` into a fresh
lake, then ``crownwatch detect --only identity --lake DIR``. Wall time is the
process's; peak memory is the kernel's account of that one process (``wait4``), so the
benchmark's own memory never counts. The data come from :mod:`crownwatch.simulate.bulk`
(seed 42): the organisation grows with the volume (2,000 users at 1M, 20,000 at 10M,
60,000 at 100M), one planted spray of 60 accounts from one hosting address, which must
be the only finding at every size. Files are cached in ``bench/out/scale/`` (the 100M
file is 12.6 GB gzipped, about 32 minutes to write on 2 cores, then split into parts).

Growth is judged per event: the table's last column is each size's time per million
events, which stays flat when the work grows linearly.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench._util import OUT, crownwatch_script, print_table, run_process, user_env

SCALE = OUT / "scale"
SIZES = (1_000_000, 10_000_000, 100_000_000)


#: events per file: above this a week arrives as several files, as exports do
PART = 10_000_000


def dataset(events: int) -> Path:
    """The week as one gzip file; above :data:`PART` events, a folder of gzip parts of
    ``PART`` lines each in time order (``part-00.jsonl.gz`` …), as a SIEM export or
    Okta's log streaming delivers a big tenant's week — never one 175 GB document.
    (Ingest stages each file's parsed records before writing them, on disk past the
    memory bound: one 100M-event file needs about 30 GB of scratch space, ten parts
    about a tenth of that each in turn.)"""
    if events <= PART:
        return _generated(events)
    parts = SCALE / f"okta_v2_{events}"
    if not (parts / "done").exists():
        whole = _generated(events)
        print(f"splitting {whole} into {PART:,}-line parts → {parts}", flush=True)
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir()
        subprocess.run(
            f"zcat '{whole}' | split -l {PART} -d -a 2 "
            f"--filter='gzip -1 > $FILE.jsonl.gz' - '{parts}/part-'",
            shell=True,
            check=True,
        )
        (parts / "done").touch()
        whole.unlink()  # the parts are the data set; 12.6 GB is not kept twice
    return parts


def _generated(events: int) -> Path:
    path = SCALE / f"okta_v2_{events}.jsonl.gz"
    if not path.exists():
        from crownwatch.simulate.bulk import generate_identity_bulk

        print(f"generating {events:,} Okta events → {path}", flush=True)
        tmp = path.with_name(path.name + ".tmp.gz")
        truth = generate_identity_bulk(tmp, events, seed=42, fmt="okta")
        tmp.rename(path)
        truth["path"] = str(path)
        path.with_name(f"okta_v2_{events}.truth.json").write_text(json.dumps(truth, indent=1))
    return path


def crownwatch() -> str:
    return str(crownwatch_script())


def run(argv: list[str]) -> dict:
    """One whole process with no setting: the default memory bound is what is measured."""
    env = user_env()
    r = run_process(argv, env)
    return {**r, "rss_gib": r["rss_mib"] / 1024}


def ingest_all(path: Path, lake: Path) -> dict:
    """``crownwatch ingest`` of the file, or of each part in its own run, in time order,
    as a collector ingests a day's or an hour's export when it lands: the time is the
    runs' sum, the peak the largest run's."""
    files = sorted(path.glob("part-*.jsonl.gz")) if path.is_dir() else [path]
    runs = [run([crownwatch(), "ingest", str(f), "--lake", str(lake)]) for f in files]
    return {"s": sum(r["s"] for r in runs), "rss_gib": max(r["rss_gib"] for r in runs)}


def floor(path: Path, work: Path) -> dict | None:
    """The same-fields floor of ``python -m bench ingest`` on the same gzip file: bare
    DuckDB reading exactly the fields the Okta source reads, typed, into one Parquet
    file — no quarantine, provenance, dedup or partitions. Not run on a folder of parts
    (the 100M week): its files are the 10M row's ten times over."""
    if path.is_dir():
        return None
    from bench.ingest import _FLOOR_PY, json_floor
    from crownwatch.sources import okta

    out = work / "floor.parquet"
    sql = json_floor(okta.STRUCTURE, "published")(str(path), str(out))
    try:
        return run([sys.executable, "-c", _FLOOR_PY, sql])
    finally:
        out.unlink(missing_ok=True)


def findings(lake: Path) -> list[dict]:
    out = subprocess.run(
        [crownwatch(), "findings", "--lake", str(lake), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _size(path: Path) -> int:
    return (
        sum(f.stat().st_size for f in path.glob("*.gz")) if path.is_dir() else path.stat().st_size
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scale")
    ap.add_argument("--events", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--work", type=Path, default=SCALE / "lakes")
    args = ap.parse_args(argv)
    files = {n: dataset(n) for n in args.events}
    if args.generate_only:
        return 0
    rows = []
    for n, path in files.items():
        lake = args.work / f"lake_{n}"
        shutil.rmtree(lake, ignore_errors=True)
        args.work.mkdir(parents=True, exist_ok=True)
        base = floor(path, args.work)
        ingest = ingest_all(path, lake)
        detect = run([crownwatch(), "detect", "--only", "identity", "--lake", str(lake)])
        found = findings(lake)
        names = ", ".join(sorted(f["detection"] for f in found)) or "none"
        total = ingest["s"] + detect["s"]
        rows.append(
            [
                f"{n:,}",
                f"{_size(path) / 1e9:.2f}",
                f"{base['s']:.1f} s, {base['rss_gib']:.2f} GiB" if base else "not run",
                f"{ingest['s']:.1f} s ({n / ingest['s'] / 1000:.0f}k ev/s)",
                f"{base['s'] / ingest['s']:.2f}" if base else "",
                f"{ingest['rss_gib']:.2f} GiB",
                f"{detect['s']:.1f} s",
                f"{detect['rss_gib']:.2f} GiB",
                f"{len(found)} ({names})",
                f"{total / (n / 1e6):.1f} s",
            ]
        )
        print(f"{n:,}: ingest {ingest['s']:.1f} s, detect {detect['s']:.1f} s", flush=True)
        shutil.rmtree(lake, ignore_errors=True)
    print_table(
        "Okta System Log, gzip, as a user runs it (installed `crownwatch`, default settings)",
        [
            "events",
            "GB (gzip)",
            "same-fields floor",
            "ingest",
            "ingest / floor throughput",
            "ingest peak RSS",
            "identity detections",
            "detect peak RSS",
            "findings",
            "s per 1M events",
        ],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
