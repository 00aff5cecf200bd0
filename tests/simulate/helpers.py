"""Readers used by the simulator tests: plain stdlib, independent of crownwatch.sources."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def okta_records(out: Path) -> list[dict]:
    recs = [json.loads(line) for line in (out / "okta/system_log.jsonl").read_text().splitlines()]
    return recs + json.loads((out / "okta/api_page.json").read_text())


def graph_records(out: Path) -> list[dict]:
    return json.loads((out / "entra/signins_graph.json").read_text())["value"]


def la_rows(out: Path) -> list[dict]:
    return json.loads((out / "entra/SigninLogs.json").read_text())


def cloudtrail_records(out: Path) -> list[dict]:
    recs = []
    for p in sorted((out / "cloudtrail").rglob("*.json.gz")):
        recs.extend(json.loads(gzip.decompress(p.read_bytes()))["Records"])
    return recs


def file_text(out: Path, rel: str) -> str:
    p = out / rel
    if rel.endswith(".gz"):
        return gzip.decompress(p.read_bytes()).decode()
    return p.read_text()
