"""Scan results as crownwatch findings (the finding shape of docs/interfaces.md).

Suspicious and malicious results become findings of detection ``scan.unsafe_artifact``,
mapped to ATLAS AML.T0010 (AI Supply Chain Compromise) and AML.T0011.000 (User Execution:
Unsafe AI Artifacts), plus ATT&CK T1195.002 (Compromise Software Supply Chain) when the
artifact is malicious. The id is stable across runs: ``cw-`` + the first 16 hex digits of
sha1(detection + path + sha256 of the file), so re-scanning the same bytes updates the same
finding. first_seen/last_seen carry the file's modification time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

from crownwatch.severity import SEVERITIES

from .result import ScanResult, severity_rank

DETECTION = "scan.unsafe_artifact"


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _mtime(path: str) -> str:
    try:
        ts = os.path.getmtime(path)
    except OSError:
        ts = dt.datetime.now(dt.UTC).timestamp()
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_findings(results: list[ScanResult]) -> list[dict]:
    out = []
    for r in results:
        if r.verdict not in ("malicious", "suspicious"):
            continue
        file_path = r.path.split("!", 1)[0]
        sha = r.sha256
        if sha is None:
            try:
                sha = _file_sha256(file_path)
            except OSError:
                sha = ""
        worst = r.max_severity
        # the scanner's scale has "info" below "low"; a finding's does not
        severity = worst if worst in SEVERITIES else "low"
        attack = ["AML.T0010", "AML.T0011.000"]
        if r.verdict == "malicious":
            attack.append("T1195.002")
        fid = "cw-" + hashlib.sha1(f"{DETECTION}{r.path}{sha}".encode()).hexdigest()[:16]
        ts = _mtime(file_path)
        issues = sorted(r.issues, key=lambda i: -severity_rank(i.severity))
        out.append(
            {
                "id": fid,
                "detection": DETECTION,
                "title": f"{r.verdict.capitalize()} model artifact ({r.format}): {issues[0].kind if issues else 'issue'} in {os.path.basename(r.path)}",
                "severity": severity,
                "first_seen": ts,
                "last_seen": ts,
                "entities": {"asset": [r.path]},
                "attack": attack,
                "evidence": {
                    "issues": [i.to_dict() for i in issues],
                    "sha256": sha,
                    "format": r.format,
                    "verdict": r.verdict,
                },
                "status": "new",
            }
        )
    return out
