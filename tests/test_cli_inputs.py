"""The command line with hostile or mistaken arguments: markup in a path or an id is
printed as text (never parsed, never a traceback), usage errors exit 2, and commands
that read a lake never create one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crownwatch.cli import app
from tests.conftest import FIXTURES

# no module fixtures: each test may run on any worker (tests/conftest.py)
pytestmark = pytest.mark.spread


def _run(*args):
    return CliRunner().invoke(app, list(map(str, args)))


def test_markup_in_a_missing_path_is_printed_not_parsed(tmp_path):
    bad = tmp_path / "dir" / "[/]x.jsonl"
    r = _run("ingest", bad, "--lake", tmp_path / "lake")
    assert r.exit_code == 2
    # the console wraps a long path where it likes: compare without the line breaks
    assert "[/]x.jsonl" in r.output.replace("\n", "") and "Traceback" not in r.output


def test_markup_in_a_finding_id_is_printed_not_parsed(tmp_path):
    lake = tmp_path / "lake"
    assert _run("ingest", FIXTURES / "okta" / "system_log.jsonl", "--lake", lake).exit_code == 0
    # a findings store to triage in: one detection makes it (all of them took 8 s)
    assert _run("detect", "--lake", lake, "--only", "identity.password_spray").exit_code == 0
    r = _run("triage", "cw-[/]x[link=http://evil.example]", "--status", "closed", "--lake", lake)
    assert r.exit_code == 2
    assert "cw-[/]x[link=http://evil.example]" in r.output and "\x1b]8;" not in r.output


def test_commands_that_read_a_lake_do_not_create_one(tmp_path):
    lake = tmp_path / "nowhere"
    for args in (
        ("triage", "cw-12345678", "--status", "closed"),
        ("findings",),
        ("detect",),
    ):
        r = _run(*args, "--lake", lake)
        assert r.exit_code == 2, (args, r.output)
        assert "no lake" in r.output
    assert not lake.exists()


def test_a_lake_that_cannot_be_written_exits_2_with_the_reason(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "tables").write_text("not a folder")
    r = _run("ingest", FIXTURES / "okta" / "system_log.jsonl", "--lake", lake)
    assert r.exit_code == 2 and "cannot write the lake" in r.output


def test_a_detection_that_fails_exits_1_and_the_others_still_report(tmp_path, monkeypatch):
    from crownwatch import detections
    from crownwatch.detections.identity import brute_force

    def broken(t, p):
        raise RuntimeError("boom")

    monkeypatch.setattr(brute_force, "query", broken)
    detections.all_detections.cache_clear()
    try:
        r = _run(
            "hunt",
            FIXTURES / "linux" / "spray_auth.log",
            "--lake",
            tmp_path / "lake",
            "--format",
            "json",
        )
    finally:
        detections.all_detections.cache_clear()
    assert r.exit_code == 1
    assert "identity.password_spray" in r.stdout  # the others' findings are printed
    assert "identity.brute_force" in r.stderr and "boom" in r.stderr
