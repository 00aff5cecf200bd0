"""``generate_identity`` — a week of identity logs for a simulated AI lab, in the exact
layouts Okta, Entra ID, CloudTrail, sshd and Windows write, with planted attacks and
the benign activity that looks like them, plus ``truth.json`` saying which is which.

>>> from crownwatch.simulate.identity import generate_identity
>>> truth = generate_identity(Path("demo-logs"))          # doctest: +SKIP
>>> [a["id"] for a in truth["attacks"]]                   # doctest: +SKIP

The same seed gives byte-identical files.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from crownwatch.simulate import attacks, baseline, persistence
from crownwatch.simulate import truth as truth_mod
from crownwatch.simulate.formats import cloudtrail, entra, linux_auth, okta, windows
from crownwatch.simulate.world import World

ALL_FORMATS = (
    "okta",
    "entra_graph",
    "entra_signinlogs",
    "cloudtrail",
    "linux_auth",
    "windows_xml",
    "windows_json",
)
SYSTEM_FORMATS = {
    "okta": ("okta",),
    "entra": ("entra_graph", "entra_signinlogs"),
    "aws": ("cloudtrail",),
    "linux": ("linux_auth",),
    "windows": ("windows_xml", "windows_json"),
}


def build_world(
    *,
    seed: int = 7,
    users: int = 400,
    days: int = 7,
    start: datetime | None = None,
    attacks_on: bool = True,
) -> World:
    """Simulate the period and return the neutral events (no files written)."""
    if users < 60:
        raise ValueError("users must be at least 60 (the sprays need dozens of distinct targets)")
    if days < 1:
        raise ValueError("days must be at least 1")
    w = World(seed, users, days, start)
    plan = baseline.plan_benign(w)
    baseline.background(w, plan)
    baseline.benign(w, plan)
    if attacks_on:
        persistence.plant(w, attacks.plant(w))
    w.signins.sort(key=lambda e: e.time)
    w.calls.sort(key=lambda c: c.time)
    return w


def generate_identity(
    out_dir: Path,
    *,
    seed: int = 7,
    users: int = 400,
    days: int = 7,
    start: datetime | None = None,
    formats: tuple[str, ...] = ALL_FORMATS,
    attacks: bool = True,
    gzip_cloudtrail: bool = True,
) -> dict:
    """Write the simulated logs under ``out_dir`` and return the truth manifest (also
    written to ``out_dir/truth.json``)."""
    check_formats(formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = build_world(seed=seed, users=users, days=days, start=start, attacks_on=attacks)
    written, fmt_of = write_world(
        out_dir, w, seed=seed, formats=formats, gzip_cloudtrail=gzip_cloudtrail
    )
    truth = make_truth(w, written, fmt_of, seed=seed, users=users, formats=formats)
    truth_mod.write(out_dir, truth)
    return truth


def check_formats(formats: tuple[str, ...]) -> None:
    unknown = set(formats) - set(ALL_FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {ALL_FORMATS}")


def write_world(
    out_dir: Path,
    w: World,
    *,
    seed: int,
    formats: tuple[str, ...] = ALL_FORMATS,
    gzip_cloudtrail: bool = True,
) -> tuple[dict[str, tuple[list, int]], dict[str, str]]:
    """Render the world's events in each vendor's layout under ``out_dir``; returns
    ``({path: (sign-ins written, records)}, {path: format})`` for :func:`make_truth`."""
    days = w.days
    by_system: dict[str, list] = {s: [] for s in SYSTEM_FORMATS}
    for ev in w.signins:
        by_system[ev.system].append(ev)

    # one random stream per writer, so turning a format off leaves the others unchanged
    def wr(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    written: dict[str, tuple[list, int]] = {}
    fmt_of: dict[str, str] = {}

    def note(fmt: str, res: dict) -> None:
        for path, v in res.items():
            written[path] = v
            fmt_of[path] = fmt

    if "okta" in formats:
        note("okta", okta.write(out_dir, by_system["okta"], wr("okta")))
    if "entra_graph" in formats or "entra_signinlogs" in formats:
        res = entra.write(
            out_dir,
            by_system["entra"],
            wr("entra"),
            w.org,
            graph="entra_graph" in formats,
            loganalytics="entra_signinlogs" in formats,
            split_at=w.start + timedelta(days=days / 2),
        )
        for path, v in res.items():
            note(
                "entra_graph" if path.endswith("signins_graph.json") else "entra_signinlogs",
                {path: v},
            )
    if "cloudtrail" in formats:
        note(
            "cloudtrail",
            cloudtrail.write(
                out_dir,
                by_system["aws"],
                w.calls,
                wr("cloudtrail"),
                w.org.aws_account,
                compress=gzip_cloudtrail,
                call_files=w.call_files,
            ),
        )
    if "linux_auth" in formats:
        note("linux_auth", linux_auth.write(out_dir, by_system["linux"], wr("linux")))
    if "windows_xml" in formats or "windows_json" in formats:
        res = windows.write(
            out_dir,
            by_system["windows"],
            wr("windows"),
            w.org,
            xml="windows_xml" in formats,
            jsonl="windows_json" in formats,
            json_site=w.json_site,
        )
        for path, v in res.items():
            note("windows_xml" if path.endswith(".xml") else "windows_json", {path: v})
    return written, fmt_of


def make_truth(
    w: World,
    written: dict[str, tuple[list, int]],
    fmt_of: dict[str, str],
    *,
    seed: int,
    users: int,
    formats,
) -> dict:
    files_of: dict[int, str] = {}
    emitted: list = []
    files: dict[str, dict] = {}
    cloudtrail_files = cloudtrail_records = 0
    for path, (evs, n) in sorted(written.items()):
        for ev in evs:
            files_of[id(ev)] = path
        emitted.extend(evs)
        if fmt_of[path] == "cloudtrail":
            cloudtrail_files += 1
            cloudtrail_records += n
            continue
        files[path] = {"format": fmt_of[path], "records": n, "signins": len(evs)}
    if cloudtrail_files:
        acct = w.org.aws_account
        files[f"cloudtrail/AWSLogs/{acct}/CloudTrail/us-east-1/"] = {
            "format": "cloudtrail",
            "records": cloudtrail_records,
            "files": cloudtrail_files,
            "signins": sum(len(v[0]) for p, v in written.items() if fmt_of[p] == "cloudtrail"),
        }
    tagged: dict[str, list] = {}
    for ev in emitted:
        if ev.tag:
            tagged.setdefault(ev.tag, []).append(ev)
    calls: dict[str, list] = {}
    for c in w.calls:
        if c.tag and id(c) in w.call_files:
            calls.setdefault(c.tag, []).append(c)
    items_att, items_ben = [], []
    for item in w.items.values():
        item.fill(tagged.get(item.id, []), files_of)
        item.fill_calls(calls.get(item.id, []), w.call_files)
        (items_att if item.malicious else items_ben).append(truth_mod.as_dict(item))
    org = w.org
    return {
        "generator": "crownwatch.simulate.identity",
        "version": 1,
        "seed": seed,
        "users": users,
        "days": w.days,
        "start": w.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": w.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "formats": list(formats),
        "org": {
            "name": org.name,
            "domain": org.domain,
            "ad_domain": org.ad_domain,
            "ad_fqdn": org.ad_fqdn,
            "aws_account": org.aws_account,
            "tenant_id": org.tenant_id,
            "okta_org": org.okta_org,
            "offices": [
                {
                    "key": o.key,
                    "name": o.name,
                    "nat_ip": o.nat.ip,
                    "asn": o.nat.asn,
                    "country": o.nat.country,
                    "tz": o.tz,
                }
                for o in org.offices
            ],
            "vpn_ip": org.vpn.ip,
        },
        "files": files,
        "counts": {
            "signins": len(emitted),
            "api_calls": len(w.calls) if "cloudtrail" in formats else 0,
            "by_outcome": dict(sorted(Counter(e.outcome for e in emitted).items())),
            "by_system": dict(sorted(Counter(e.system for e in emitted).items())),
        },
        "attacks": items_att,
        "benign": items_ben,
    }
