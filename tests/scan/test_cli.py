"""CLI contract: exit codes, JSON / SARIF shapes, globs, findings, --lake."""

from __future__ import annotations

import json
import re
import sys
import types

from crownwatch.scan import scan_paths
from crownwatch.scan.cli import run
from crownwatch.scan.findings import to_findings

from .pkw import evil


def _tree(tmp_path):
    (tmp_path / "ok.pkl").write_bytes(b"\x80\x04K\x01.")
    (tmp_path / "evil.bin").write_bytes(evil())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "odd.pt").write_bytes(b"\x89PNG\r\n\x1a\n....")
    return tmp_path


def test_exit_codes(tmp_path, capsys):
    t = _tree(tmp_path)
    assert run([str(t / "ok.pkl")], "json") == 0
    assert run([str(t / "sub")], "json") == 0
    assert run([str(t)], "json") == 1
    assert run([str(t / "missing.pkl")], "json") == 2
    # precedence: malicious/suspicious (1) wins over errors (2)
    assert run([str(t / "evil.bin"), str(t / "missing.pkl")], "json") == 1
    capsys.readouterr()


def test_json_shape(tmp_path, capsys):
    t = _tree(tmp_path)
    run([str(t)], "json")
    out = json.loads(capsys.readouterr().out)
    assert {tuple(sorted(e)) for e in out} == {("format", "issues", "path", "verdict")}
    by = {e["path"]: e for e in out}
    assert by[str(t / "evil.bin")]["verdict"] == "malicious"
    assert by[str(t / "evil.bin")]["format"] == "pickle"
    for e in out:
        for i in e["issues"]:
            assert set(i) == {"severity", "kind", "detail"}
            assert i["severity"] in ("info", "low", "medium", "high", "critical")


def test_sarif_shape(tmp_path, capsys):
    t = _tree(tmp_path)
    assert run([str(t)], "sarif") == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == "2.1.0"
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    results = doc["runs"][0]["results"]
    assert results and all(r["ruleId"] in rules for r in results)
    assert any(r["level"] == "error" for r in results)


def test_table_output(tmp_path, capsys):
    t = _tree(tmp_path)
    assert run([str(t)]) == 1
    out = capsys.readouterr().out
    assert "malicious" in out and "evil.bin" in out


def test_glob(tmp_path):
    t = _tree(tmp_path)
    res = scan_paths([str(t / "**" / "*.pt")])
    assert [r.path for r in res] == [str(t / "sub" / "odd.pt")]


def test_parallel_matches_serial(tmp_path, monkeypatch):
    import crownwatch.scan as scan_pkg

    monkeypatch.setattr(scan_pkg, "PARALLEL_MIN_WORK_S", 0.0)
    for i in range(20):
        (tmp_path / f"f{i}.pkl").write_bytes(evil() if i % 3 == 0 else b"\x80\x04K\x01.")
    a = [r.to_dict() for r in scan_paths([str(tmp_path)], workers=1)]
    b = [r.to_dict() for r in scan_paths([str(tmp_path)], workers=2)]
    assert a == b


def test_findings_shape(tmp_path):
    t = _tree(tmp_path)
    fs = to_findings(scan_paths([str(t)]))
    assert len(fs) == 1
    f = fs[0]
    assert re.fullmatch(r"cw-[0-9a-f]{16}", f["id"])
    assert f["detection"] == "scan.unsafe_artifact"
    assert f["severity"] == "critical"
    assert f["attack"] == ["AML.T0010", "AML.T0011.000", "T1195.002"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f["first_seen"])
    assert f["entities"] == {"asset": [str(t / "evil.bin")]}
    assert len(f["evidence"]["sha256"]) == 64 and f["evidence"]["format"] == "pickle"
    assert to_findings(scan_paths([str(t)]))[0]["id"] == f["id"]  # stable


def test_lake_upserts_findings(tmp_path, monkeypatch, capsys):
    stored = {}

    class FakeStore:
        def __init__(self, lake):
            stored["lake"] = lake

        def upsert(self, findings):
            stored["findings"] = findings

    mod = types.ModuleType("crownwatch.findings")
    mod.FindingStore = FakeStore
    monkeypatch.setitem(sys.modules, "crownwatch.findings", mod)
    t = _tree(tmp_path)
    assert run([str(t)], "json", lake=str(tmp_path / "lake")) == 1
    capsys.readouterr()
    assert stored["lake"] == str(tmp_path / "lake")
    assert stored["findings"][0]["detection"] == "scan.unsafe_artifact"


def test_lake_with_the_real_store(tmp_path, capsys):
    import pytest

    findings_mod = pytest.importorskip("crownwatch.findings")
    if not hasattr(findings_mod, "FindingStore"):
        pytest.skip("FindingStore not available")
    t = _tree(tmp_path)
    lake = tmp_path / "lake"
    assert run([str(t)], "json", lake=str(lake)) == 1
    assert run([str(t)], "json", lake=str(lake)) == 1  # idempotent: same id, updated in place
    capsys.readouterr()
    stored = findings_mod.FindingStore(str(lake)).all()
    assert len(stored) == 1
    assert stored[0]["detection"] == "scan.unsafe_artifact"
    assert "T1195.002" in stored[0]["attack"]
