"""Every detection against its own scenarios (``<detection>_scenarios.py`` beside it,
the contract: :class:`crownwatch.detections.contract.Scenario`).

* each detection has at least one attack and one benign look-alike;
* each scenario alone, on DuckDB: the attack fires (naming what it says), the
  look-alike stays quiet;
* every scenario together in one lake: exactly the findings the scenarios raised
  alone — one scenario's logs change no other's outcome, and no detection fires on a
  scenario that did not declare it (``also``);
* the same lake on Spark, in one session: the same findings, field for field — ids,
  titles, severities, times, entities and evidence. Detections are written once as
  Ibis expressions; this keeps them honest (no backend-specific function, no
  timestamp-to-string key, no order-dependent sample).
"""

from __future__ import annotations

import hashlib
import os
import pickle

import pytest

from crownwatch.detect import run_detections
from crownwatch.detections import all_detections, scenarios_of
from crownwatch.engine import Engine
from crownwatch.testing.scenarios import build_lake, case_id, cases, check, run_alone
from tests.conftest import HAS_SPARK

CASES = cases()
DETECTIONS = all_detections()

# each scenario test computes (or reads) its own findings: any worker may run it
pytestmark = pytest.mark.spread


@pytest.fixture(scope="session")
def alone(tmp_path_factory):
    """Findings of each scenario in a lake of its own, computed once per test run (the
    per-scenario tests and the shared-lake test both read them).

    Kept on disk in this run's own temp folder, which every pytest-xdist worker shares:
    the shared-lake test needs every scenario's findings, and recomputing those another
    worker had already computed took it 75 s of a `make test`. A file is written whole
    (renamed into place), so a reader sees all of it or none and computes it itself."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "alone"
    shared.mkdir(exist_ok=True)
    memo: dict[str, list[dict]] = {}

    def get(det_id, sc) -> list[dict]:
        key = case_id(det_id, sc)
        if key in memo:
            return memo[key]
        path = shared / (hashlib.sha256(key.encode()).hexdigest() + ".pickle")
        if path.exists():
            memo[key] = pickle.loads(path.read_bytes())
        else:
            memo[key] = run_alone(tmp_path_factory.mktemp("scenario"), det_id, sc)
            part = path.with_suffix(f".{os.getpid()}.part")
            part.write_bytes(pickle.dumps(memo[key]))
            part.replace(path)
        return memo[key]

    return get


@pytest.mark.parametrize("det", DETECTIONS, ids=[d.id for d in DETECTIONS])
def test_detection_has_attack_and_benign_scenarios(det):
    kinds = {s.kind for s in scenarios_of(det)}
    module = det.module.__name__.rsplit(".", 1)[-1]
    assert kinds == {"attack", "benign"}, (
        f"{det.id}: {module}_scenarios.py beside it must define SCENARIOS with at least one "
        f"attack and one benign look-alike (has: {sorted(kinds) or 'none'})"
    )


def test_scenario_names_are_unique():
    ids = [case_id(d, s) for d, s in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("det_id", "sc"), CASES, ids=[case_id(d, s) for d, s in CASES])
def test_scenario(det_id, sc, alone):
    check(det_id, sc, alone(det_id, sc))


@pytest.fixture(scope="module")
def shared_lake(tmp_path_factory):
    """Every scenario in one lake, hunted by every detection on DuckDB."""
    lake, config = build_lake(tmp_path_factory.mktemp("scenarios"), [s for _, s in CASES])
    return lake, config, run_detections(Engine(lake), config)


def _keys(findings: list[dict]) -> dict[tuple[str, str], dict]:
    return {(f["detection"], f["id"]): f for f in findings}


def test_scenarios_do_not_disturb_each_other(shared_lake, alone):
    _, _, together = shared_lake
    apart: dict[tuple[str, str], str] = {}
    for det_id, sc in CASES:
        for f in alone(det_id, sc):
            apart[(f["detection"], f["id"])] = case_id(det_id, sc)
    got = _keys(together)
    extra = sorted((k[0], got[k]["title"]) for k in set(got) - set(apart))
    lost = sorted((k[0], apart[k]) for k in set(apart) - set(got))
    assert not extra, f"raised only with every scenario together (declare it in `also`?): {extra}"
    assert not lost, f"raised alone but not with every scenario together: {lost}"
    for k, f in got.items():
        assert (
            f["entities"]
            == next(
                g
                for d, s in CASES
                if case_id(d, s) == apart[k]
                for g in alone(d, s)
                if g["id"] == k[1]
            )["entities"]
        ), k


@pytest.fixture(scope="module")
def spark_engine(shared_lake):
    # Test-sized data: one shuffle partition, and no whole-stage code generation —
    # compiling Java for each of hundreds of tiny stages costs more than running them.
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")
    engine = Engine(shared_lake[0], "spark")
    session = engine.backend._session
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    return engine


# slow (`make test-slow`): Spark plans and runs every stage of every detection, a minute
# or two on 2 cores; the default run compares the operations detections are built from
# on both engines in seconds (tests/test_engine_parity_ops.py).
@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.skipif(not HAS_SPARK, reason="PySpark and a Java runtime are needed for Spark")
def test_spark_raises_the_same_findings(shared_lake, spark_engine):
    _, config, duck = shared_lake
    assert {f["detection"] for f in duck} >= {d.id for d in DETECTIONS}, (
        "every detection must fire on the shared lake, or both engines could agree on nothing"
    )
    d, s = _keys(duck), _keys(run_detections(spark_engine, config))
    assert sorted(d) == sorted(s), {
        "only_duckdb": sorted((k[0], d[k]["title"]) for k in set(d) - set(s)),
        "only_spark": sorted((k[0], s[k]["title"]) for k in set(s) - set(d)),
    }
    for k, f in d.items():
        g = s[k]
        diff = {x: (f[x], g.get(x)) for x in f if f[x] != g.get(x)}
        if "evidence" in diff:
            ev, gv = f["evidence"], g["evidence"]
            diff["evidence"] = {
                x: (ev.get(x), gv.get(x)) for x in set(ev) | set(gv) if ev.get(x) != gv.get(x)
            }
        assert not diff, (k, diff)


def test_the_checks_can_fail():
    """A detection with no scenarios module has none; an attack that raised nothing, or
    a look-alike that raised something, fails its check."""
    import types

    from crownwatch.detections.base import Detection
    from crownwatch.detections.contract import Meta, Scenario
    from crownwatch.testing.scenarios import check

    meta = Meta("x.fake", "Fake", "low", (), (), "no scenarios beside it")
    fake = Detection(meta=meta, query=None, title=None, module=types.ModuleType("x.fake"))
    assert scenarios_of(fake) == []
    hit = {"detection": "x.fake", "title": "t", "entities": {"user": ["eve"]}}
    with pytest.raises(AssertionError, match="raised nothing"):
        check("x.fake", Scenario("a", "attack", dict), [])
    with pytest.raises(AssertionError, match="names user"):
        check("x.fake", Scenario("a", "attack", dict, entities={"user": ("bob",)}), [hit])
    with pytest.raises(AssertionError, match="fired on benign"):
        check("x.fake", Scenario("b", "benign", dict), [hit])
    check("x.fake", Scenario("b", "benign", dict, scope={"user": ("bob",)}), [hit])
