"""Storage benchmark (issue 4): ingest and exfiltration-detection time for N S3 server
access log records (api_activity), beside two floors: a bare DuckDB ``read_csv →
Parquet`` of the same files' lines (no field splitting), and the same with DuckDB's
CSV reader splitting the space-separated, quoted fields — neither normalises,
quarantines or keeps provenance.

    python -m bench storage                      # 10M events
    python -m bench storage --events 1000000

Generated files are cached in bench/out/; results are appended to bench/STORAGE_RESULTS.md
with --record.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from bench._util import OUT, peak_rss_mb, print_table, timer
from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.simulate.storage import REGISTRY_TOML, write_bulk

RESULTS = Path(__file__).parent / "STORAGE_RESULTS.md"


def dataset(events: int) -> Path:
    path = OUT / f"s3access_v2_{events}"  # v2: the staff grows with the volume
    if not path.exists():
        print(f"generating {events:,} S3 access log records → {path}", flush=True)
        tmp = path.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_bulk(tmp, events, seed=42)
        tmp.rename(path)
    return path


def _timed_copy(path: Path, work: Path, name: str, read_csv_args: str, select: str = "*") -> float:
    """Seconds for a bare DuckDB ``COPY (SELECT … FROM read_csv(<files>, …)) TO Parquet``."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    glob = str(path / "*").replace("'", "''")
    out = str(work / f"{name}.parquet").replace("'", "''")
    with timer() as t:
        con.execute(
            f"COPY (SELECT {select} FROM read_csv('{glob}', {read_csv_args})) TO '{out}' (FORMAT parquet)"
        ).fetchall()
    con.close()
    return t["s"]


def floor(path: Path, work: Path) -> float:
    """The bare floor: DuckDB reads the same files' lines and writes them to Parquet —
    no field splitting, no normalisation, no quarantine, no provenance."""
    return _timed_copy(
        path,
        work,
        "floor",
        "columns={'line': 'VARCHAR'}, header=false, delim='\x01', quote='', escape='', auto_detect=false",
        select="line",
    )


def floor_split(path: Path, work: Path) -> float:
    """A floor that splits the fields: DuckDB's CSV reader on space-separated,
    double-quoted fields (the bracketed time becomes two columns), all VARCHAR, to
    Parquet — the work a bare engine does to make the log queryable, without
    crownwatch's typing, normalisation, quarantine or provenance."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(27)) + "}"
    return _timed_copy(
        path,
        work,
        "floor_split",
        f"delim=' ', quote='\"', escape='\"', header=false, null_padding=true, strict_mode=false, "
        f"auto_detect=false, columns={columns}",
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench storage")
    ap.add_argument("--events", type=int, nargs="*", default=[10_000_000])
    ap.add_argument("--record", action="store_true", help=f"append the table to {RESULTS.name}")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    loads = []
    for n in args.events:
        load_before = os.getloadavg()
        path = dataset(n)
        mb = sum(f.stat().st_size for f in path.iterdir()) / 1e6
        work = Path(tempfile.mkdtemp(dir=OUT, prefix="work-"))
        cfg = work / "crownwatch.toml"
        cfg.write_text(REGISTRY_TOML)
        try:
            t_floor = floor(path, work)
            t_split = floor_split(path, work)
            lake = Lake(work / "lake")
            with timer() as t:
                res = lake.ingest([path])
            t_ing = t["s"]
            read = sum(r.read for r in res)
            assert read == sum(r.routed_rows + r.quarantined for r in res)
            os.environ["CROWNWATCH_CONFIG"] = str(cfg)
            import tomllib

            conf = tomllib.loads(REGISTRY_TOML)
            per_det = []
            eng = Engine(lake)
            t0 = time.perf_counter()

            def note(d, k, _acc=per_det):
                _acc.append((d.id, time.perf_counter(), k))

            found = run_detections(eng, conf, only=["exfiltration"], on_detection=note)
            t_det = time.perf_counter() - t0
        finally:
            shutil.rmtree(work, ignore_errors=True)
        loads.append(
            f"{n:,}: load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        prev = t0
        det_cells = []
        for did, ts, k in per_det:
            det_cells.append(f"{did.split('.', 1)[1]} {ts - prev:.1f}s/{k}")
            prev = ts
        rows.append(
            [
                f"{read:,}",
                f"{mb:,.0f}",
                f"{t_floor:.1f} s ({n / t_floor / 1e3:,.0f}k ev/s)",
                f"{t_split:.1f} s ({n / t_split / 1e3:,.0f}k ev/s)",
                f"{t_ing:.1f} s ({n / t_ing / 1e3:,.0f}k ev/s)",
                f"{t_floor / t_ing:.0%} / {t_split / t_ing:.0%}",
                f"{t_det:.1f} s ({len(found)} findings)",
                f"{t_det / t_floor:.2f}x",
                "; ".join(det_cells),
            ]
        )
    text = print_table(
        "Storage: S3 server access logs → api_activity, and the exfiltration detections",
        [
            "events",
            "MB",
            "floor: lines→Parquet",
            "floor: fields split→Parquet",
            "crownwatch ingest",
            "ingest throughput / floors",
            "exfiltration detections",
            "detections / floor",
            "per detection (s/findings)",
        ],
        rows,
    )
    rss = f"peak RSS {peak_rss_mb():,.0f} MiB; " + "; ".join(loads)
    print("\n" + rss)
    if args.record:
        import platform

        with open(RESULTS, "a") as fh:
            fh.write(
                f"\n{text}\n\n{rss}; {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} cores\n"
            )
    return 0
