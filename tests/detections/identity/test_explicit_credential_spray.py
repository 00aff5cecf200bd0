"""identity.explicit_credential_spray on Windows 4648 events: a foothold's session
supplying 15 accounts' credentials fires; an admin's runas to her two admin
accounts, a service and a deployment agent repeating one account, an RDS host
logging its users on and a user's own saved credentials stay quiet.

Scenarios: ``tests/fixtures/windows/explicit_credential_{spray,benign}.xml``, written
by ``make_fixtures.py`` in the form ``wevtutil`` exports."""

from __future__ import annotations

import importlib.util

import duckdb

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from tests.conftest import FIXTURES, by_detection, hunt

DET = "identity.explicit_credential_spray"
WIN = FIXTURES / "windows"
SPRAY = WIN / "explicit_credential_spray.xml"
BENIGN = WIN / "explicit_credential_benign.xml"


def _fixtures():
    spec = importlib.util.spec_from_file_location("make_fixtures", WIN / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mf = _fixtures()


def _write(path, events, render=None):
    """Events in wevtutil XML (or one of make_fixtures' JSON renderings)."""
    if render is None:
        mf.write_xml(str(path), events, 48400000)
    else:
        path.write_text("".join(render(k, *ev) + "\n" for k, ev in enumerate(events)))
    return path


def test_a_real_week_of_explicit_credentials_is_quiet(lake):
    assert by_detection(hunt(lake, BENIGN, only=[DET]), DET) == []
    # ... and not because the rows were missing: 25 people on the RDS host, 30
    # servers for the deployment agent, two admin accounts for alice
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT actor_user, count(DISTINCT "user"), count(DISTINCT service), count(*)
            FROM {lake.table_sql("authentication")}
            WHERE activity = 'explicit_credentials' GROUP BY ALL ORDER BY 1"""
    ).fetchall()
    assert rows == [
        ("alice", 3, 4, 11),
        ("backup01$", 1, 1, 24),
        ("rds01$", 25, 1, 25),
        ("svc-deploy", 1, 30, 30),
    ]


def test_the_spray_still_fires_beside_the_benign_week(lake):
    found = by_detection(hunt(lake, SPRAY, BENIGN, only=[DET]), DET)
    assert [f["entities"]["actor_user"] for f in found] == [["jdoe"]]


def test_system_spraying_another_server_fires(lake, tmp_path):
    """The OS-logon exclusion is narrow: the machine account (SYSTEM) supplying many
    accounts' credentials to *another* server — a tool run as SYSTEM — counts."""
    evs = [
        (
            4648,
            mf.WS177,
            mf.ts("2026-03-03T03:00:00", 2 * k),
            mf.s4648(
                "WS-0177$",
                "S-1-5-18",
                u,
                "DC01.corp.northwind.example",
                "C:\\Windows\\Temp\\svc.exe",
                logon_id="0x3e7",
            ),
        )
        for k, u in enumerate(mf.SPRAYED)
    ]
    [f] = by_detection(hunt(lake, _write(tmp_path / "system.xml", evs), only=[DET]), DET)
    assert f["entities"]["actor_user"] == ["ws-0177$"]
    assert f["evidence"]["processes"] == ["C:\\Windows\\Temp\\svc.exe"]


def _uses(n, subject="jdoe", start="2026-03-03T04:00:00", step=60):
    return [
        (
            4648,
            mf.WS177,
            mf.ts(start, step * k),
            mf.s4648(subject, mf.D + "1177", f"acct{k:02d}", "fs01", "C:\\tools\\x.exe"),
        )
        for k in range(n)
    ]


def test_threshold_and_run_gap(tmp_path):
    def found(events, name):
        lake = Lake(tmp_path / name / "lake")
        return by_detection(hunt(lake, _write(tmp_path / f"{name}.xml", events), only=[DET]), DET)

    assert found(_uses(5), "five") == []
    assert len(found(_uses(6), "six")) == 1
    # six accounts, but two hours apart: runs of one, a slow trickle, not a burst
    assert found(_uses(6, step=7200), "slow") == []


def test_exclude_actors(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.ingest([SPRAY])
    cfg = {"detections": {DET: {"exclude_actors": ["JDOE"]}}}
    assert by_detection(run_detections(Engine(lake), cfg, only=[DET]), DET) == []


def test_critical_from_critical_targets(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.ingest([SPRAY])
    cfg = {"detections": {DET: {"critical_targets": 15}}}
    [f] = by_detection(run_detections(Engine(lake), cfg, only=[DET]), DET)
    assert f["severity"] == "critical"


def test_shipper_layouts_fire_alike(tmp_path):
    """NXLog and Elastic Agent renderings of the same spray give the same finding."""
    events = mf.explicit_spray()
    for render in (mf.nxlog, mf.elastic_hit):
        lake = Lake(tmp_path / render.__name__ / "lake")
        f = _write(tmp_path / f"{render.__name__}.ndjson", events, render)
        [x] = by_detection(hunt(lake, f, only=[DET]), DET)
        assert x["evidence"]["distinct_targets"] == 15 and x["entities"]["actor_user"] == ["jdoe"]
