"""The per-employee summary: signals grouped by person, most signals first, closed
false positives left out, the roster row beside them — and the command that prints it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.findings import FindingStore
from crownwatch.outputs.workforce import summarise


def _f(fid, detection, severity, users, first="2026-03-02T10:00:00Z", **extra):
    return {
        "id": fid,
        "detection": detection,
        "severity": severity,
        "title": f"{detection} on {', '.join(users)}",
        "first_seen": first,
        "last_seen": "2026-03-09T10:00:00Z",
        "entities": {"user": users},
        "evidence": {"k": 1, "raw_refs": ["f#1"]},
        **extra,
    }


FINDINGS = [
    _f("cw-1", "workforce.laptop_farm", "high", ["a", "b", "c"]),
    _f("cw-2", "workforce.remote_control_tool", "critical", ["a"]),
    _f("cw-3", "workforce.vpn_signin", "medium", ["a"], first="2026-03-01T10:00:00Z"),
    _f("cw-4", "workforce.vpn_signin", "medium", ["d"], status="false_positive"),
    _f("cw-5", "identity.password_spray", "high", ["a", "e"]),
    _f("cw-6", "supply_chain.outsider_repo_pull", "high", ["vendor-bot"]),
]


def test_people_ranked_by_distinct_signals_with_evidence():
    rows = summarise(FINDINGS, {"a": {"employment_type": "contractor", "start_date": "2026-02-16"}})
    assert [r["person"] for r in rows] == ["a", "b", "c", "vendor-bot"]
    a = rows[0]
    assert (a["signals"], a["worst"], a["first_seen"]) == (3, "critical", "2026-03-01T10:00:00Z")
    assert [f["id"] for f in a["findings"]] == ["cw-2", "cw-1", "cw-3"]  # worst first
    assert a["findings"][0]["evidence"] == {"k": 1}  # raw refs stay with the finding
    assert a["roster"]["employment_type"] == "contractor" and "roster" not in rows[1]
    assert all(r["person"] not in ("d", "e") for r in rows)  # closed FP; other families


def test_command_prints_the_summary_as_json(tmp_path):
    root = tmp_path / "lake"
    FindingStore(root).upsert([{k: v for k, v in f.items() if k != "status"} for f in FINDINGS])
    r = CliRunner().invoke(app, ["workforce", "--lake", str(root), "-f", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["person"] == "a" and rows[0]["signals"] == 3
    assert {r["person"] for r in rows} == {"a", "b", "c", "d", "vendor-bot"}
    table = CliRunner().invoke(app, ["workforce", "--lake", str(root)])
    assert table.exit_code == 0 and "signals, not verdicts" in table.stdout


def test_log_values_in_the_table_are_text_not_markup(tmp_path):
    root = tmp_path / "lake"
    evil = "[bold red]x[/bold red]\x1b[31m"
    f = _f("cw-9", "workforce.vpn_signin", "high", [evil])
    f["title"] = f"{evil} signs in through [link=http://x]vpn[/link]"
    FindingStore(root).upsert([f])
    out = CliRunner().invoke(app, ["workforce", "--lake", str(root)]).stdout
    assert "[bold red]x[/bold red]" in out and "[link=http://x]vpn[/link]" in out
    assert "\x1b[31m" not in out
