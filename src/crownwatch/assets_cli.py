"""``crownwatch assets suggest`` and ``crownwatch assets list`` — the functions the CLI
calls. They print and return an exit code: 0 done, 2 usage or input error."""

from __future__ import annotations

import json
import sys

from crownwatch.assets import RegistryError, describe, load_registry, suggest, to_toml
from crownwatch.config import ConfigError, load_config


def suggest_cmd(lake_dir: str, fmt: str) -> int:
    """Propose crown jewels from the lake's api_activity; ``fmt`` is toml, json or table."""
    from crownwatch.lake import Lake

    lake = Lake(lake_dir)
    if not lake.table_files("api_activity"):
        print(f"no api_activity in lake {lake_dir}: ingest storage logs first", file=sys.stderr)
        return 2
    rows = suggest(lake)
    if fmt == "json":
        print(json.dumps(rows, indent=2, default=str))
    elif fmt in ("toml", "table"):
        if fmt == "table":
            for r in rows:
                ev = r["evidence"]
                print(
                    f"{r['kind']:<14} {r['locations'][0]:<60} {ev['objects']:>8} objects "
                    f"{ev['bytes_read']:>16} bytes {ev['readers']:>4} readers"
                )
        else:
            print(to_toml(rows))
    else:
        print(f"unknown format {fmt!r} (toml, json, table)", file=sys.stderr)
        return 2
    return 0


def list_cmd(config_path: str | None) -> int:
    """Print the registry of crownwatch.toml (validated); exit 2 when it is invalid."""
    try:
        reg = load_registry(load_config(config_path))
    except (ConfigError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = describe(reg)
    if not rows:
        print("no [[assets]] configured (see crownwatch.example.toml)", file=sys.stderr)
    for r in rows:
        print(f"{r['name']}  ({r['kind']}, {r['sensitivity']})")
        for loc in r["locations"]:
            print(f"    {loc}")
        if r["expected_readers"]:
            print("    expected readers: " + ", ".join(r["expected_readers"]))
    own = reg.organisation.own_accounts
    if own:
        print("own accounts: " + ", ".join(own))
    return 0
