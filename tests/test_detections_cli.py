"""``crownwatch detections list`` and ``crownwatch detections show``: generated from
every detection's META, complete, and inert on the terminal."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.detections import all_detections


def _run(*args):
    return CliRunner().invoke(app, list(map(str, args)))


def test_list_json_has_every_detection_with_its_meta():
    r = _run("detections", "list", "--format", "json")
    assert r.exit_code == 0, r.output
    listed = json.loads(r.stdout)
    dets = all_detections()
    assert [d["id"] for d in listed] == [d.id for d in dets]
    for row, det in zip(listed, dets, strict=True):
        m = det.meta
        assert row["title"] == m.title and row["severity"] == m.severity
        assert row["attack"] == list(m.attack) and row["tables"] == list(m.tables)
        assert row["description"] == m.description
        assert row["false_positives"] == m.false_positives
        assert row["params"] == dict(m.params)
        assert row["runbook"] == list(m.runbook) and row["runbook"]
        assert row["references"] == list(m.references)
        assert row["family"] == m.id.split(".")[0]


def test_list_table_shows_every_detection_and_its_runbook():
    r = _run("detections", "list")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert f"{len(all_detections())} detections" in out
    for det in all_detections():
        assert det.id in out
    assert out.count("runbook") >= len(all_detections())
    assert "min_users = 10" in out and "exclude_src_ips = []" in out
    assert "\x1b" not in out


def test_show_a_known_detection_in_full():
    r = _run("detections", "show", "identity.password_spray")
    assert r.exit_code == 0, r.output
    assert "identity.password_spray" in r.stdout and "T1110.003" in r.stdout
    assert "1. Block the source address" in r.stdout  # the runbook
    assert "crownwatch.detections.identity.password_spray" in r.stdout  # the module
    assert "What it looks for." in r.stdout  # the module's notes

    r = _run("detections", "show", "exfiltration.transfer_out", "--format", "json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["id"] == "exfiltration.transfer_out" and info["runbook"]
    assert info["module"] == "crownwatch.detections.exfiltration.transfer_out"
    assert info["doc"].startswith("Staging and transfer out")


def test_show_an_unknown_id_exits_2_and_suggests():
    r = _run("detections", "show", "identity.brute_forc")
    assert r.exit_code == 2
    assert "unknown detection" in r.output and "identity.brute_force" in r.output
    assert r.stdout == ""


def test_show_prints_a_hostile_id_as_text():
    bad = "x[/]\x1b]8;;http://evil.example\x07y[link=http://evil.example]z\u202e"
    r = _run("detections", "show", bad)
    assert r.exit_code == 2
    assert "x[/]" in r.output and "[link=http://evil.example]z" in r.output
    assert "\x1b" not in r.output and "\u202e" not in r.output and "Traceback" not in r.output


def test_an_unknown_format_is_a_usage_error():
    assert _run("detections", "list", "--format", "yaml").exit_code == 2
