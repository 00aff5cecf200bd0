"""``crownwatch feeds update`` and ``crownwatch feeds list`` — the functions the CLI
calls. They print (to stderr for progress and errors, stdout for tables/JSON) and
return the exit code: 0 done, 2 a feed or a configured database could not be used
(the message says which and why; the feeds that could be stored are kept)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from crownwatch.enrichment import feeds


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def update_cmd(
    lake_root: Path,
    from_dir: Path | None,
    urls: list[str] | None,
    only: list[str] | None,
    timeout: float,
    fmt: str = "table",
) -> int:
    """Fetch (or take from ``from_dir``) the cloud feeds and store them dated."""
    if from_dir is not None and not from_dir.is_dir():
        _err(f"error: --from {from_dir}: not a directory")
        return 2
    overrides: dict[str, str] = {}
    for u in urls or []:
        name, sep, url = u.partition("=")
        if not sep or name not in feeds.NAMES or not url:
            _err(f"error: --url {u!r}: expected NAME=URL with NAME one of {', '.join(feeds.NAMES)}")
            return 2
        overrides[name] = url
    names = tuple(only) if only else feeds.NAMES
    bad = [n for n in names if n not in feeds.NAMES]
    if bad:
        _err(f"error: unknown feed(s) {', '.join(bad)}; known: {', '.join(feeds.NAMES)}")
        return 2
    results = feeds.update(
        lake_root, from_dir=from_dir, urls=overrides, names=names, timeout=timeout
    )
    if fmt == "json":
        print(
            json.dumps(
                [
                    {
                        "feed": r.name,
                        "status": r.status,
                        "source": r.source,
                        "date": r.day.isoformat() if r.day else None,
                        "path": str(r.path) if r.path else None,
                        "prefixes": r.prefixes,
                        "error": r.error,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        for r in results:
            if r.status in ("stored", "unchanged"):
                print(f"{r.name:<6} {r.status:<9} {r.day}  {r.prefixes:>7} prefixes  {r.path}")
            else:
                _err(f"{r.name:<6} {r.status:<9} {r.error}")
    ok = [r for r in results if r.status in ("stored", "unchanged")]
    failed = [r for r in results if r.status == "failed"]
    if from_dir is not None and not ok:
        _err(f"error: no AWS, Google Cloud or Azure feed file in {from_dir}")
        return 2
    return 2 if failed else 0


def list_cmd(lake_root: Path, config: dict | None, fmt: str = "table") -> int:
    """The stored feeds (newest first, the one in use marked) and the configured
    databases; exit 2 when a configured database cannot be used."""
    from crownwatch.enrichment.view import Enrichment, EnrichmentError, settings

    today = datetime.now(UTC).date()
    newest = feeds.newest(lake_root)
    rows = [
        {
            "feed": f.name,
            "date": f.day.isoformat(),
            "age_days": f.age_days(today),
            "in_use": newest.get(f.name) == f,
            "path": str(f.path),
        }
        for f in feeds.stored(lake_root)
    ]
    code = 0
    dbs: list[dict] = []
    try:
        s = settings(config)
        enr = Enrichment.prepare(lake_root, config)
        for key in ("asn_db", "country_db"):
            value = getattr(s, key)
            if value:
                rt = next((r for r in enr.ranges if key in r.label), None)
                dbs.append({"setting": key, "path": value, "ranges": str(rt.path) if rt else None})
    except EnrichmentError as exc:
        _err(f"error: {exc}")
        code = 2
    if fmt == "json":
        print(json.dumps({"feeds": rows, "databases": dbs}, indent=2))
        return code
    if not rows:
        print("no cloud feeds stored (crownwatch feeds update)")
    for r in rows:
        mark = "in use" if r["in_use"] else ""
        print(f"{r['feed']:<6} {r['date']}  {r['age_days']:>4} days old  {mark:<6}  {r['path']}")
    for d in dbs:
        print(f"{d['setting']:<10} {d['path']}  (ranges: {d['ranges']})")
    return code
