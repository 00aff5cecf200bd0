"""Lakes built from detection scenarios, and the checks a scenario must pass — the
machinery of ``tests/test_detection_scenarios.py`` (the contract:
:class:`crownwatch.detections.contract.Scenario`).

Two ways to run scenarios, both on the real engines:

* :func:`run_alone` — one scenario in a lake of its own, running its detection and the
  ones it names in ``also``: whether the attack fires and the look-alike stays quiet
  is judged here, where nothing else can explain a finding;
* :func:`build_lake` over every scenario at once — the lake both engines hunt and
  compare, in which each scenario must raise exactly what it raised alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crownwatch.detections import all_detections, scenarios_of
from crownwatch.detections.contract import Scenario


def cases() -> list[tuple[str, Scenario]]:
    """(detection id, scenario) for every scenario of every detection."""
    return [(d.id, s) for d in all_detections() for s in scenarios_of(d)]


def case_id(det_id: str, sc: Scenario) -> str:
    return f"{det_id}::{sc.name}[{sc.kind}]"


def merged_logs(scenarios: Iterable[Scenario]) -> dict[str, str | bytes]:
    """Every scenario's files; a name two scenarios share must hold the same bytes (a
    common background, kept once) — otherwise one would silently replace the other."""
    out: dict[str, str | bytes] = {}
    for sc in scenarios:
        for name, content in sc.logs().items():
            if name in out and out[name] != content:
                raise ValueError(f"{sc.name}: log file {name!r} differs from another scenario's")
            out[name] = content
    return out


def merged_config(scenarios: Iterable[Scenario]) -> dict[str, Any]:
    """The scenarios' crownwatch.toml sections together: ``[organisation]`` lists are
    joined, ``[[assets]]`` kept once by name (the same name must mean the same asset),
    ``[supply_chain] vendors`` kept once by firm (likewise)."""
    org: dict[str, Any] = {}
    assets: dict[str, Mapping] = {}
    vendors: dict[str, Mapping] = {}
    for sc in scenarios:
        unknown = set(sc.config) - {"organisation", "assets", "supply_chain"}
        if unknown:
            raise ValueError(f"{sc.name}: config sections {sorted(unknown)} not supported")
        for v in sc.config.get("supply_chain", {}).get("vendors", []):
            if vendors.setdefault(v["firm"], v) != v:
                raise ValueError(f"{sc.name}: vendor {v['firm']!r} differs from another scenario's")
        for k, v in sc.config.get("organisation", {}).items():
            if isinstance(v, list | tuple):
                org[k] = list(dict.fromkeys([*org.get(k, []), *v]))
            elif org.setdefault(k, v) != v:
                raise ValueError(f"{sc.name}: organisation.{k} conflicts with another scenario")
        for a in sc.config.get("assets", []):
            if assets.setdefault(a["name"], a) != a:
                raise ValueError(f"{sc.name}: asset {a['name']!r} differs from another scenario's")
    config: dict[str, Any] = {}
    if org:
        config["organisation"] = org
    if assets:
        config["assets"] = list(assets.values())
    if vendors:
        config["supply_chain"] = {"vendors": list(vendors.values())}
    return config


def build_lake(root: Path, scenarios: list[Scenario]):
    """A lake holding ``scenarios``' logs and feeds; returns (lake, config)."""
    from crownwatch.enrichment import feeds
    from crownwatch.lake import Lake

    logs = root / "logs"
    paths = []
    for name, content in sorted(merged_logs(scenarios).items()):
        path = logs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths.append(path)
    lake = Lake(root / "lake")
    stored: dict[str, bytes] = {}
    for sc in scenarios:
        for name, data in sc.feeds.items():
            if stored.setdefault(name, data) != data:
                raise ValueError(f"{sc.name}: feed {name!r} differs from another scenario's")
    for name, data in stored.items():
        feeds.store(lake.root, data, name)
    lake.ingest(paths)
    return lake, merged_config(scenarios)


def run_alone(root: Path, det_id: str, sc: Scenario) -> list[dict]:
    """Every finding of ``sc``'s detection and its ``also`` in a lake of its own
    (DuckDB)."""
    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine

    lake, config = build_lake(root, [sc])
    return run_detections(Engine(lake), config, only=[*sc.also, det_id])


def _names(f: dict, kind: str) -> set[str]:
    v = f["entities"].get(kind, [])
    return set(v if isinstance(v, list) else [v])


def check(det_id: str, sc: Scenario, found: list[dict]) -> None:
    """The scenario's promise, on the findings of its own lake: an attack raises at
    least one finding of the detection naming ``entities``; a look-alike none (none
    naming ``scope``, where it has one). Then ``expect``."""
    mine = [f for f in found if f["detection"] == det_id]
    titles = [f["title"] for f in mine]
    entities = sc.entities() if callable(sc.entities) else sc.entities
    scope = sc.scope() if callable(sc.scope) else sc.scope
    if sc.kind == "attack":
        assert mine, f"{det_id} raised nothing on attack scenario {sc.name!r}"
        for kind, values in entities.items():
            named = set().union(*(_names(f, kind) for f in mine))
            missing = set(values) - named
            assert not missing, f"{sc.name}: no {det_id} finding names {kind} {sorted(missing)}"
    elif scope:
        hits = [
            f["title"]
            for f in mine
            if any(_names(f, kind) & set(values) for kind, values in scope.items())
        ]
        assert not hits, f"{det_id} fired on benign scenario {sc.name!r}: {hits}"
    else:
        assert not mine, f"{det_id} fired on benign scenario {sc.name!r}: {titles}"
    if sc.expect is not None:
        sc.expect(mine)
