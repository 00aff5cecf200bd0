"""crownwatch scan: static scanning of model artifacts. Never imports, executes or unpickles
what it scans.

``scan_paths(paths, workers)`` expands files, directories and globs, scans each file (in a
bounded process pool when there are several) and returns one :class:`ScanResult` per file
and per archive member. See ``cli.run`` for the command-line front end and
``findings.to_findings`` for the findings shape.
"""

from __future__ import annotations

import os

from .result import Issue, ScanResult

__all__ = ["Issue", "ScanResult", "expand_paths", "scan_paths"]

PARALLEL_MIN_FILES = 8
CHUNK_BYTES = 8 << 20
# A process pool costs ~0.1-0.2 s of start-up (imports, fork, result transfer); use it only
# when the serial scan is expected to take clearly longer than that.
PARALLEL_MIN_WORK_S = 0.6
PER_FILE_S = 0.0006
PER_BYTE_S = 1 / 20e6
SMALL_FILE = 32 << 20


def expand_paths(paths: list[str]) -> tuple[list[str], list[ScanResult]]:
    """Files to scan, plus error results for paths that match nothing."""
    files: list[str] = []
    missing: list[ScanResult] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        if p not in seen:
            seen.add(p)
            files.append(p)

    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
                for n in sorted(names):
                    fp = os.path.join(root, n)
                    if os.path.isfile(fp):
                        add(fp)
        elif os.path.isfile(p):
            add(p)
        elif any(ch in p for ch in "*?["):
            import glob

            matched = sorted(glob.glob(p, recursive=True))
            sub, _ = expand_paths([m for m in matched]) if matched else ([], [])
            for m in sub:
                add(m)
            if not matched:
                r = ScanResult(p, error=True)
                r.add("info", "io.not_found", "glob matched no files")
                missing.append(r)
        else:
            r = ScanResult(p, error=True)
            r.add("info", "io.not_found", "no such file or directory")
            missing.append(r)
    return files, missing


def _scan_group(paths: list[str]) -> list[ScanResult]:
    from .scanner import scan_file

    out: list[ScanResult] = []
    for p in paths:
        out.extend(scan_file(p))
    return out


def scan_paths(paths: list[str], workers: int | None = None) -> list[ScanResult]:
    """Scan files, directories (recursively) and globs; results in input order."""
    files, missing = expand_paths(list(paths))
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    workers = max(1, workers)
    if workers == 1 or len(files) < PARALLEL_MIN_FILES:
        return [*_scan_group(files), *missing]
    sizes = []
    for f in files:
        try:
            sizes.append(os.path.getsize(f))
        except OSError:
            sizes.append(0)
    # big files are memory-mapped and only their headers / pickles are read
    work = len(files) * PER_FILE_S + sum(min(s, SMALL_FILE) for s in sizes) * PER_BYTE_S
    if work < PARALLEL_MIN_WORK_S:
        return [*_scan_group(files), *missing]
    # group small files so each task is worth a round trip; big files go alone
    groups: list[list[str]] = []
    cur: list[str] = []
    cur_bytes = 0
    for f, size in zip(files, sizes, strict=True):
        if size >= CHUNK_BYTES:
            groups.append([f])
            continue
        cur.append(f)
        cur_bytes += size
        if cur_bytes >= CHUNK_BYTES or len(cur) >= 64:
            groups.append(cur)
            cur, cur_bytes = [], 0
    if cur:
        groups.append(cur)
    if len(groups) == 1:
        return [*_scan_group(groups[0]), *missing]
    import concurrent.futures as cf
    import multiprocessing as mp

    from . import containers, scanner  # noqa: F401  imported once here, inherited by forked workers

    try:
        ctx = mp.get_context("fork")
    except ValueError:
        ctx = None
    results: list[ScanResult] = []
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=ctx) as ex:
        for chunk in ex.map(_scan_group, groups):
            results.extend(chunk)
    return [*results, *missing]
