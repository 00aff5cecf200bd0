"""The detection contract (crownwatch.detections.contract): detections depend on it, not
on the runner, and the runner gives them what it promises."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import ibis
import pytest

import crownwatch.detections as detections_pkg
from crownwatch.detections import all_detections, contract

DETECTIONS_DIR = Path(detections_pkg.__file__).parent


def test_detection_modules_do_not_import_the_runner():
    offenders = []
    for path in sorted(DETECTIONS_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if "crownwatch.detect" in names:
                offenders.append(f"{path.relative_to(DETECTIONS_DIR)}:{node.lineno}")
    assert offenders == []


def test_every_detection_follows_the_signatures():
    for det in all_detections():
        mod = det.module
        q = inspect.signature(mod.query)
        assert list(q.parameters) == ["t", "p"], det.id
        assert [q.parameters[n].annotation for n in ("t", "p")] == ["Tables", "Params"], det.id
        if hasattr(mod, "title"):
            assert list(inspect.signature(mod.title).parameters) == ["row", "p"], det.id
        if hasattr(mod, "postprocess"):
            assert list(inspect.signature(mod.postprocess).parameters) == ["rows", "p"], det.id
        assert mod.__doc__ and mod.__doc__.strip(), det.id


def test_the_runner_tables_provide_the_contract(tmp_path):
    from crownwatch.detect import Tables
    from crownwatch.engine import Engine
    from crownwatch.lake import Lake

    t = Tables(Engine(Lake(tmp_path / "lake")), {"organisation": {}})
    members = [
        n for n in dir(contract.Tables) if not n.startswith("_") and n not in ("table", "findings")
    ] + list(contract.Tables.__annotations__)
    for name in set(members):
        assert hasattr(t, name), name
    assert t.engine_name == "duckdb" and t.config == {"organisation": {}}
    assert isinstance(t.authentication, ibis.Table) and isinstance(t.findings(), ibis.Table)


def test_shared_and_current_engine_follow_the_run(tmp_path):
    from crownwatch.detect import Tables
    from crownwatch.engine import Engine
    from crownwatch.lake import Lake

    built = []

    def build():
        built.append(1)
        return ibis.memtable({"x": [1]})

    assert contract.current_engine() is None
    contract.shared("k", build)
    contract.shared("k", build)
    assert len(built) == 2  # outside a run: just build()

    eng = Engine(Lake(tmp_path / "lake"))
    t = Tables(eng)
    try:
        with contract.running(t):
            assert contract.current_engine() == "duckdb"
            contract.shared("k", build)
            contract.shared("k", build)
        assert len(built) == 3 and "k" in t.cache
        assert contract.current_engine() is None
    finally:
        eng.end_run()


def test_every_detection_has_a_runbook_of_one_to_three_steps():
    for det in all_detections():
        steps = det.meta.runbook
        assert isinstance(steps, tuple) and 1 <= len(steps) <= 3, det.id
        assert all(isinstance(s, str) and len(s.strip()) > 20 for s in steps), det.id


def test_a_runbook_is_steps_not_one_string():
    with pytest.raises(TypeError, match="tuple of steps"):
        contract.Meta(
            id="x.y",
            title="t",
            severity="low",
            attack=(),
            tables=(),
            description="",
            runbook="block it",
        )
