"""What the lake says about the keys findings share: how many people used an address
or a cloud account over the whole run (not only those in a finding), and which person
each cloud principal is (the identity links the detections stored).

An office NAT is in one finding only, but hundreds of people sign in through it every
day; counting them is what tells it apart from an attacker's address.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from crownwatch.incidents.linking import Key
from crownwatch.lake import Lake
from crownwatch.tables.authentication import PASSWORD_CORRECT

# Who "uses" an address: a person whose password was right from it (a sign-in, an MFA
# prompt, a conditional-access block), a principal calling the cloud API from it, an
# inference account sending requests from it. Failures are not use: a sprayer's address
# fails against fifty accounts and is nobody's.
_PEOPLE_BY_IP = {
    "authentication": (
        "user",
        "reason IN (" + ", ".join(f"'{r}'" for r in PASSWORD_CORRECT) + ")",
    ),
    "api_activity": ("principal", "status = 'success'"),
    "llm_request": ("account_id", "TRUE"),
}


def lake_people(lake_root: str | Path, ips: set[str], cloud_accounts: set[str]) -> dict[Key, int]:
    """``{("src_ip", ip): people, ("cloud_account", id): principals}`` for the given keys."""
    lake = Lake(lake_root)
    out: dict[Key, int] = {}
    con = duckdb.connect()
    try:
        for setting in lake.duckdb_settings():  # the lake's memory bound and scratch
            con.execute(setting)
        counts: dict[str, int] = {}
        for table, (who, ok) in _PEOPLE_BY_IP.items():
            if not ips or not lake.table_files(table):
                continue
            # the table's SQL reads paths we built (every column, by name: a file holds
            # only its source's); values travel as parameters
            rows = con.execute(
                f"SELECT lower(src_ip), count(DISTINCT {who}) FROM {lake.table_sql(table)} "
                f"WHERE {ok} AND {who} IS NOT NULL AND lower(src_ip) IN (SELECT unnest(?)) GROUP BY 1",
                [sorted(ips)],
            ).fetchall()
            for ip, n in rows:
                counts[ip] = counts.get(ip, 0) + int(n)
        out.update({("src_ip", ip): n for ip, n in counts.items()})
        if cloud_accounts and lake.table_files("api_activity"):
            rows = con.execute(
                "SELECT account, count(DISTINCT principal) FROM "
                f"{lake.table_sql('api_activity')} WHERE account IN (SELECT unnest(?)) GROUP BY 1",
                [sorted(cloud_accounts)],
            ).fetchall()
            out.update({("cloud_account", a): int(n) for a, n in rows})
    finally:
        con.close()
    return out


def identity_links(lake_root: str | Path) -> dict[str, str]:
    """``{principal: person}`` from ``<lake>/derived/identity_links.parquet`` (written by
    the detections that joined principals to people; absent when none needed it)."""
    path = Path(lake_root) / "derived" / "identity_links.parquet"
    if not path.exists():
        return {}
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT principal, min(user) FROM read_parquet(?) GROUP BY 1", [str(path)]
        ).fetchall()
    finally:
        con.close()
    return {p: u for p, u in rows if p and u}
