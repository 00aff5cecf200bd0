"""Detection families on a big lake, bounded against unbounded (issue 15): does each
family stay under 2 GiB with no setting, and what does the default memory bound cost?

    python -m bench families --lake LAKE --only persistence supply_chain workforce
    python -m bench families --lake LAKE --runs 3
    python -m bench families --build-storm --lake STORM --only network

For each family, ``crownwatch detect --only FAMILY --lake LAKE`` — the installed console
script, a whole process — runs with no setting (DuckDB bounded to 1.5 GB, the default)
and with ``CROWNWATCH_MEMORY_LIMIT=none`` (DuckDB's own default, 80 % of the machine),
alternately, ``--runs`` pairs after one untimed warm-up of each. The table gives the
median wall times, their ratio (bounded / unbounded, the price of the bound), the
kernel's peak RSS of each process (``wait4``) and the findings of the last bounded run.

The lake is the caller's: this benchmark reads it, and empties its findings store before
every run (each run stores its own findings and links them into incidents), nothing
else — except with ``--build``, which first makes it (into a fresh folder) from 10M
records of each of three sources, with the installed ``crownwatch ingest``:

* Okta System Log, 10M sign-ins (``bench scale``'s data set: 20,000 users, one planted
  spray) → ``authentication``;
* CloudTrail, 10M events one per line (``bench ingest``'s, the fixtures' console
  sign-ins, S3 data events and bucket/snapshot management calls) → ``api_activity``
  and ``authentication``;
* GitHub audit-log stream, 10M events of an organisation of 5,000 accounts
  (:func:`make_github_org`: the ingest bench's fixture events, as often as a real org
  has them — mostly clones, fetches and pushes, one event in 2,500 a token or key
  creation) → ``repo_activity``;
* a Workday roster of the Okta users (``bench ingest``'s layout, one row per user
  the lake's sign-ins name) → ``workforce``.

The workforce family's device detections have no device inventory to read here.

``--build-storm`` makes a different lake instead: a beacon storm (:func:`make_beacon_storm`),
a Zeek ``conn.log`` of 200 hosts each calling 40 outside services every five minutes for
three days — 6.9M connections, every one of the 24,000 pair-days a beacon. Every pair
scores, so every pair is a finding with every connection as its evidence: the case for
the network family's memory (``--only network``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench._util import crownwatch_script, print_table, run_process, user_env

FAMILIES = (
    "identity",
    "exfiltration",
    "inference",
    "network",
    "persistence",
    "supply_chain",
    "workforce",
)
HEADER = [
    "family",
    "bounded s",
    "unbounded s",
    "bounded / unbounded",
    "bounded peak RSS GiB",
    "unbounded peak RSS GiB",
    "findings",
]


def _detect(lake: Path, family: str, unbounded: bool) -> dict:
    # every run starts from an empty findings store: a run re-links every stored
    # finding into incidents, so another family's findings would be timed too
    for f in lake.glob("findings.duckdb*"):
        f.unlink()
    env = user_env()
    if unbounded:
        env["CROWNWATCH_MEMORY_LIMIT"] = "none"
    argv = [str(crownwatch_script()), "detect", "--only", family, "--lake", str(lake)]
    argv += ["--format", "json", "--quiet"]  # stdout: the findings' JSON alone
    r = run_process(argv, env)
    return {"s": r["s"], "gib": r["rss_mib"] / 1024, "out": r["out"]}


def _findings(out: str) -> str:
    """The finding count per detection of ``detect --format json``'s output."""
    try:
        found = json.loads(out) if out.strip() else []
    except ValueError:
        return "?"
    per: dict[str, int] = {}
    for f in found if isinstance(found, list) else found.get("findings", []):
        per[f.get("detection", "?")] = per.get(f.get("detection", "?"), 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(per.items())) or "none"


def measure(lake: Path, family: str, runs: int) -> list[str]:
    _detect(lake, family, False)  # warm-up: the page cache, bytecode caches
    _detect(lake, family, True)
    bounded, unbounded = [], []
    for _ in range(runs):
        bounded.append(_detect(lake, family, False))
        unbounded.append(_detect(lake, family, True))
        print(
            f"  {family}: bounded {bounded[-1]['s']:.1f} s ({bounded[-1]['gib']:.2f} GiB), "
            f"unbounded {unbounded[-1]['s']:.1f} s ({unbounded[-1]['gib']:.2f} GiB)",
            flush=True,
        )
    ratio = statistics.median(b["s"] / u["s"] for b, u in zip(bounded, unbounded, strict=True))
    return [
        family,
        f"{statistics.median(b['s'] for b in bounded):.1f}",
        f"{statistics.median(u['s'] for u in unbounded):.1f}",
        f"**{ratio:.2f}**" if ratio > 1.10 else f"{ratio:.2f}",
        f"{statistics.median(b['gib'] for b in bounded):.2f}",
        f"{statistics.median(u['gib'] for u in unbounded):.2f}",
        _findings(bounded[-1]["out"]),
    ]


#: (template of the fixture, share per 10,000 events): Git traffic, then the rare ones
_GITHUB_MIX = (
    (0, 3000),
    (1, 3000),
    (2, 1500),
    (3, 1500),
    (4, 980),
    (5, 4),
    (6, 4),
    (7, 4),
    (8, 2),
    (9, 2),
    (10, 4),
)
ACCOUNTS = 5000


def make_github_org(path: Path, n: int) -> None:
    """``n`` GitHub audit-log stream events of an organisation: the fixture's eleven
    events as templates, in :data:`_GITHUB_MIX` proportions, each from one of
    :data:`ACCOUNTS` accounts (its own three addresses, its own hashed tokens), times
    over 14 days in order, token ids drawn from a million. The ingest bench's set
    (:func:`bench.ingest.make_github`) cycles the fixture's four accounts, so that its
    1.8M token creations in two weeks belong to four people — a layout test, not an
    organisation."""
    import re

    import duckdb

    from bench import ingest

    tmpl = []
    for ln in ingest._jsonl(ingest.FIXTURES / "github" / "audit_stream.jsonl"):
        ln = re.sub(r'("(?:@timestamp|created_at)":)\d+', "\\1\x02T", ln)
        ln = re.sub(r'("_document_id":")[^"]*', "\\1\x02D", ln)
        ln = re.sub(r'("actor":")[^"]*', "\\1\x02A", ln)
        ln = re.sub(r'("token_id":)[1-9]\d*', "\\1\x02K", ln)
        ln = re.sub(r'("hashed_token":")[^"]*', "\\1\x02H", ln)
        tmpl.append(ingest._IP.sub("\x02I", ln))
    assert len(tmpl) == len(_GITHUB_MIX)
    pick, acc = [], 0
    for i, share in _GITHUB_MIX:
        acc += share
        pick.append(f"WHEN m < {acc} THEN {i + 1}")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""COPY (
            WITH r AS (
                SELECT i, h, h % 10000 AS m, (h >> 16) % {ACCOUNTS} AS a, (h >> 40) % 3 AS k
                FROM (SELECT i, hash(i, 29) AS h FROM range({n}) t(i))
            )
            SELECT replace(replace(replace(replace(replace(replace(
                    $tl[CASE {" ".join(pick)} END],
                chr(2) || 'T', ({ingest.START}000 + i * {ingest.SPAN_S}000 // {n} + h % 1000)::VARCHAR),
                chr(2) || 'D', substr(to_base64(unhex(md5(i::VARCHAR))), 1, 22)),
                chr(2) || 'A', 'dev-' || a::VARCHAR),
                chr(2) || 'K', (1 + (h >> 24) % 1000000)::VARCHAR),
                chr(2) || 'H', to_base64(unhex(md5(a::VARCHAR || '/' || k::VARCHAR)))),
                chr(2) || 'I', (11 + a % 200)::VARCHAR || '.' || (a // 200 % 256)::VARCHAR
                               || '.' || (k * 7)::VARCHAR || '.' || (1 + a % 250)::VARCHAR) AS line
            FROM r
        ) TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')""",
        {"tl": tmpl},
    )
    con.close()


def build(lake: Path) -> None:
    """The 10M lake of the module notes, into ``lake`` (emptied first)."""
    import shutil

    from bench import ingest, scale

    out = ingest.DEFAULT_OUT.parent / "ingest10m"
    out.mkdir(parents=True, exist_ok=True)
    by_name = {s.name: s for s in ingest.SOURCES}
    files = [
        scale.dataset(10_000_000),
        ingest.dataset(by_name["cloudtrail"], 10_000_000, out),
        _github_org(out),
    ]
    shutil.rmtree(lake, ignore_errors=True)
    for f in files:
        _ingest(f, lake)
    roster(lake, out)


def make_beacon_storm(path: Path, hosts: int = 200, services: int = 40, days: int = 3) -> int:
    """A Zeek ``conn.log`` (TSV, its ``#`` header) in which each of ``hosts`` internal
    hosts connects to each of ``services`` outside addresses every 300 s (± 10 s of
    jitter, a fixed phase per pair) with near-constant sizes, for ``days`` days from the
    ingest bench's start; returns the number of connections."""
    from bench import ingest

    per_pair = days * 86400 // 300
    body = f"""
        WITH r AS (SELECT p, k, hash(p, k) AS h FROM range({hosts * services}) a(p), range({per_pair}) b(k))
        SELECT concat_ws(chr(9),
            printf('%.6f', {ingest.START} + k * 300 + (p * 7) % 300 + (h % 20000) / 1000.0 - 10),
            'C' || substr(md5(p::VARCHAR || '-' || k::VARCHAR), 1, 17),
            '10.1.' || (p // {services} // 250)::VARCHAR || '.' || (p // {services} % 250 + 1)::VARCHAR,
            (32768 + h % 28000)::VARCHAR,
            '203.0.' || (p % {services} // 250 + 113)::VARCHAR || '.' || (p % {services} % 250 + 1)::VARCHAR,
            '443', 'tcp', 'ssl', printf('%.6f', 0.2 + (h % 100) / 1000.0),
            (512 + h % 8)::VARCHAR, (1024 + h % 16)::VARCHAR,
            'SF', 'T', 'F', '0', 'ShADadFf', '6', '900', '5', '1300', '(empty)') AS line
        FROM r"""
    ingest._with_header(path, ingest.zeek_conn_header(), body, "#close\t2026-03-15-00-00-00\n")
    return hosts * services * per_pair


def build_storm(lake: Path) -> None:
    """The beacon-storm lake of the module notes, into ``lake`` (emptied first)."""
    import shutil

    from bench import ingest

    out = ingest.DEFAULT_OUT.parent / "ingest10m"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "zeek_beacon_storm.log"
    if not path.exists():
        n = make_beacon_storm(path.with_name(path.name + ".tmp"))
        path.with_name(path.name + ".tmp").rename(path)
        print(f"  generated {n:,} connections → {path}", flush=True)
    shutil.rmtree(lake, ignore_errors=True)
    _ingest(path, lake)


def _github_org(out: Path) -> Path:
    path = out / "github_org_10000000.jsonl"
    if not path.exists():
        print(f"generating 10,000,000 GitHub events → {path}", flush=True)
        make_github_org(path.with_name(path.name + ".tmp"), 10_000_000)
        path.with_name(path.name + ".tmp").rename(path)
    return path


def roster(lake: Path, out: Path) -> None:
    """A Workday roster of the lake's Okta users, written into ``out`` and ingested."""
    import duckdb

    from bench import ingest

    users = f"""SELECT row_number() OVER (ORDER BY email) - 1 AS i, email FROM (
        SELECT DISTINCT lower(user_raw) AS email
        FROM read_parquet('{lake}/tables/authentication/*/*.parquet', hive_partitioning = true)
        WHERE source = 'okta' AND contains(user_raw, '@'))"""
    path = out / "roster_of_okta_users.csv"
    ingest.make_hr_roster(path, 0, out, emails=users)
    ((n,),) = duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true)").fetchall()
    print(f"  roster of {n:,} workers", flush=True)
    _ingest(path, lake)


def _ingest(path: Path, lake: Path) -> None:
    r = run_process(
        [str(crownwatch_script()), "ingest", str(path), "--lake", str(lake)], user_env()
    )
    print(f"  ingested {path.name}: {r['s']:.1f} s, {r['rss_mib'] / 1024:.2f} GiB", flush=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench families")
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--only", nargs="*", choices=FAMILIES, help="families (default: all)")
    ap.add_argument("--runs", type=int, default=2, help="alternating pairs per family")
    ap.add_argument("--build", action="store_true", help="make the 10M lake first")
    ap.add_argument(
        "--build-storm", action="store_true", help="make the beacon-storm lake first instead"
    )
    args = ap.parse_args(argv)
    if args.build_storm:
        build_storm(args.lake)
    elif args.build:
        build(args.lake)
    rows = [measure(args.lake, f, args.runs) for f in (args.only or FAMILIES)]
    print_table(
        f"Detection families on {args.lake.name}: no setting against "
        f"CROWNWATCH_MEMORY_LIMIT=none (medians of {args.runs} alternating pairs)",
        HEADER,
        rows,
    )
    return 0
