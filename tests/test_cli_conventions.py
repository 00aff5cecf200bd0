"""The command line's conventions (docs/interfaces.md, "Conventions"): ``--version``,
shell completion, enumerated options that reject a bad value with the allowed ones
listed, ``--only`` that knows the detections, a missing lake as an error, JSON Lines,
``--since``/``--until``, ``--quiet``, a ``demo`` that deletes only its own folders, and
one invocation's failures not leaking into the next.

Every case runs in-process on a lake of 14 sign-ins (one password spray) or on a
findings store written directly; a detection run is of one detection (~1 s each)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crownwatch import __version__
from crownwatch.cli import app
from crownwatch.findings import FindingStore
from crownwatch.lake import Lake
from tests.conftest import DEMO_INCIDENTS, FIXTURES, HAS_SPARK

SPRAY_LOG = FIXTURES / "linux" / "spray_auth.log"  # 2026-03-03 03:00:00 to 03:03:43 UTC
SPRAY = "identity.password_spray"


def _run(*args, env: dict | None = None, **kw):
    return CliRunner().invoke(app, [str(a) for a in args], env=env, **kw)


@pytest.fixture(scope="module")
def spray_source(tmp_path_factory) -> Path:
    """A lake holding only the spray's sign-ins (ingested once; tests copy it)."""
    from crownwatch.sources.linux_auth import YEAR_ENV

    root = tmp_path_factory.mktemp("spray") / "lake"
    before = os.environ.get(YEAR_ENV)
    os.environ[YEAR_ENV] = "2026"  # classic syslog stamps carry no year
    try:
        Lake(root).ingest([SPRAY_LOG])
    finally:
        if before is None:
            os.environ.pop(YEAR_ENV, None)
        else:
            os.environ[YEAR_ENV] = before
    return root


@pytest.fixture
def spray_lake(spray_source, tmp_path) -> Path:
    return Path(shutil.copytree(spray_source, tmp_path / "lake"))


def _finding(fid: str, first: str, last: str, **kw) -> dict:
    return {
        "id": fid,
        "detection": SPRAY,
        "title": kw.pop("title", f"finding {fid}"),
        "severity": kw.pop("severity", "high"),
        "first_seen": first,
        "last_seen": last,
        "entities": {"user": ["alice"]},
        "attack": ["T1110.003"],
        "evidence": {},
        **kw,
    }


@pytest.fixture
def store(tmp_path) -> Path:
    """A lake with three stored findings at known times, one with hostile text."""
    root = tmp_path / "store"
    FindingStore(root).upsert(
        [
            _finding("cw-aaaa000000000001", "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z"),
            _finding(
                "cw-aaaa000000000002",
                "2026-03-02T00:00:00Z",
                "2026-03-05T00:00:00Z",
                severity="low",
                title='line one\nline two\u2028three\r"quoted"\x85',
            ),
            _finding("cw-aaaa000000000003", "2026-03-06T00:00:00Z", "2026-03-06T00:00:00Z"),
        ]
    )
    return root


# --version and completion


def test_version_prints_the_name_and_the_version():
    r = _run("--version")
    assert r.exit_code == 0
    assert r.stdout == f"crownwatch {__version__}\n"


def test_shell_completion_is_offered_and_completes_option_values():
    helped = _run("--help", env={"COLUMNS": "200"})
    assert "--install-completion" in helped.stdout and "--show-completion" in helped.stdout
    # what the shell function installed by --install-completion asks the program
    r = _run(
        env={
            "_CROWNWATCH_COMPLETE": "complete_bash",
            "COMP_WORDS": "crownwatch findings --min-severity ",
            "COMP_CWORD": "3",
        },
        prog_name="crownwatch",
    )
    assert r.exit_code == 0
    assert r.stdout.split() == ["low", "medium", "high", "critical"]


# enumerated options


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["findings", "--min-severity", "bogus"], ["low", "medium", "high", "critical"]),
        (["incidents", "--min-severity", "info"], ["low", "medium", "high", "critical"]),
        (
            ["triage", "cw-12345678", "--status", "done"],
            ["new", "triaged", "escalated", "false_positive", "closed"],
        ),
        (["findings", "--format", "xml"], ["table", "json", "jsonl", "ocsf", "stix"]),
        (["incidents", "-f", "yaml"], ["table", "json", "jsonl", "ocsf", "stix"]),
        (["hunt", "x.log", "--format", "csv"], ["table", "json", "jsonl"]),
        (["ingest", "x.log", "--format", "csv"], ["table", "json", "jsonl"]),
        (["detect", "--engine", "trino"], ["duckdb", "spark"]),
        (["scan", "x.pt", "--format", "xml"], ["table", "json", "jsonl", "sarif"]),
        (["assets", "suggest", "--format", "yaml"], ["toml", "json", "table"]),
        (["feeds", "update", "--only", "oracle"], ["aws", "gcp", "azure"]),
        (["feeds", "list", "--format", "yaml"], ["table", "json"]),
        (["workforce", "--format", "csv"], ["table", "json", "jsonl", "ocsf", "stix"]),
        (["demo", "--format", "jsonl"], ["table", "json"]),  # refused before it simulates
        (["lake", "compact", "--format", "jsonl"], ["table", "json"]),
        (["sigma", "run", "x.yml", "--format", "jsonl"], ["table", "json"]),
        (["sigma", "export", "--format", "yaml"], ["table", "json"]),
    ],
)
def test_a_bad_option_value_is_a_usage_error_naming_the_allowed_ones(store, args, allowed):
    # every command here but sigma export (which reads no lake) takes --lake
    lake = [] if args[:2] == ["sigma", "export"] else ["--lake", store]
    r = _run(*args, *lake)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for value in allowed:
        assert f"'{value}'" in r.output, (value, r.output)


def test_help_lists_the_choices():
    r = _run("findings", "--help", env={"COLUMNS": "200"})
    assert "low|medium|high|critical" in r.stdout
    assert "table|json|jsonl|ocsf|stix" in r.stdout


@pytest.mark.parametrize(
    "cmd", [["findings"], ["lake", "ddl"], ["sigma", "run"], ["ingest"]], ids=" ".join
)
def test_help_shows_where_the_lake_is_by_default(cmd):
    # Rich reads "[default: …]" as markup and drops it unless escaped
    res = _run(*cmd, "--help", env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "Lake directory [default: $CROWNWATCH_LAKE or ./.crownwatch]" in res.stdout


def test_the_cli_choices_are_the_librarys():
    from crownwatch import cli
    from crownwatch.detections.contract import SEVERITIES
    from crownwatch.enrichment.feeds import NAMES
    from crownwatch.findings import STATUSES

    assert tuple(cli.Severity) == SEVERITIES
    assert tuple(cli.TriageStatus) == STATUSES
    assert tuple(cli.FeedName) == NAMES


def test_min_severity_filters_instead_of_failing(store):
    r = _run("findings", "--lake", store, "--min-severity", "medium", "-f", "json")
    assert r.exit_code == 0
    assert [f["id"] for f in json.loads(r.stdout)] == ["cw-aaaa000000000001", "cw-aaaa000000000003"]


# --only


@pytest.mark.parametrize("cmd", ["detect", "hunt"])
def test_an_unknown_detection_in_only_is_a_usage_error(spray_lake, tmp_path, cmd):
    fresh = tmp_path / "fresh-lake"
    args = (
        ["detect", "--lake", spray_lake]
        if cmd == "detect"
        else ["hunt", SPRAY_LOG, "--lake", fresh]
    )
    r = _run(*args, "--only", "identity", "--only", "identity.pasword_spray[/]")
    assert r.exit_code == 2, r.output
    assert "'identity.pasword_spray[/]'" in r.output  # the typo, as typed (not markup)
    assert "crownwatch detections list" in r.output
    assert not fresh.exists()  # hunt checks before it ingests anything
    assert not (spray_lake / "findings.duckdb").exists()


# --detection (findings)


@pytest.mark.parametrize(
    "value", ["bogus", "identity.pasword_spray", "identit", "sigma.", "scan.x"]
)
def test_an_unknown_detection_in_findings_is_a_usage_error(store, value):
    wide = {"COLUMNS": "300"}  # the message on one line of Rich's error box
    r = _run("findings", "--lake", store, "--detection", value, "-f", "json", env=wide)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""  # not an empty list that reads as "nothing found"
    assert f"'{value}'" in r.stderr and "'--detection'" in r.stderr
    assert "crownwatch detections list" in r.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SPRAY, ["cw-aaaa000000000001", "cw-aaaa000000000002", "cw-aaaa000000000003"]),
        ("identity", ["cw-aaaa000000000001", "cw-aaaa000000000002", "cw-aaaa000000000003"]),
        ("inference", []),  # a family of the registry with nothing stored
        ("sigma", ["cw-bbbb000000000001"]),  # every Sigma rule's findings (sigma run)
        ("sigma.9c1b2f0e-6d4a-4f3e-8a2b-1e7d5c9a0b31", ["cw-bbbb000000000001"]),
        ("sigma.some_rule_never_run", []),  # a team's rule id: not crownwatch's to know
        ("scan.unsafe_artifact", ["cw-cccc000000000001"]),  # scan --lake
        ("scan", ["cw-cccc000000000001"]),
    ],
)
def test_findings_detection_takes_ids_families_and_the_stored_sigma_and_scan_ids(
    store, value, expected
):
    FindingStore(store).upsert(
        [
            _finding(
                "cw-bbbb000000000001",
                "2026-03-02T09:00:05Z",
                "2026-03-02T09:00:05Z",
                detection="sigma.9c1b2f0e-6d4a-4f3e-8a2b-1e7d5c9a0b31",
            ),
            _finding(
                "cw-cccc000000000001",
                "2026-03-02T09:00:05Z",
                "2026-03-02T09:00:05Z",
                detection="scan.unsafe_artifact",
            ),
        ]
    )
    r = _run("findings", "--lake", store, "--detection", value, "-f", "json")
    assert r.exit_code == 0, r.output
    assert sorted(f["id"] for f in json.loads(r.stdout)) == expected


# a missing lake


@pytest.mark.parametrize(
    "args",
    [
        ["findings"],
        ["incidents"],
        ["report", "-o", "{tmp}/report.html"],
        ["detect"],
        ["triage", "cw-12345678", "--status", "closed"],
        ["assets", "suggest"],
    ],
)
@pytest.mark.parametrize("kind", ["absent", "not a lake"])
def test_a_missing_lake_is_an_error_not_an_empty_result(tmp_path, args, kind):
    lake = tmp_path / "lake"
    if kind == "not a lake":  # e.g. --lake pointed at the logs by mistake
        lake.mkdir()
        (lake / "notes.txt").write_text("not a lake")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    r = _run(*[a.replace("{tmp}", str(tmp_path)) for a in args], "--lake", lake)
    assert r.exit_code == 2, (args, r.output)
    assert "no lake" in r.stderr and str(lake) in r.stderr.replace("\n", "")
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created


def test_a_lake_without_findings_yet_is_an_empty_result(spray_lake):
    r = _run("findings", "--lake", spray_lake, "-f", "json")
    assert r.exit_code == 0 and json.loads(r.stdout) == []


# JSON Lines


def _lines(text: str) -> list[dict]:
    # str.splitlines also splits at U+2028, U+0085 and \r: a record must survive that
    return [json.loads(line) for line in text.splitlines()]


def test_findings_jsonl_is_the_json_array_one_object_per_line(store):
    as_json = json.loads(_run("findings", "--lake", store, "-f", "json").stdout)
    r = _run("findings", "--lake", store, "-f", "jsonl")
    assert r.exit_code == 0
    assert len(as_json) == 3 and _lines(r.stdout) == as_json
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 3


def test_incidents_jsonl_is_the_json_array_one_object_per_line(demo_lake):
    as_json = json.loads(_run("incidents", "--lake", demo_lake, "-f", "json").stdout)
    r = _run("incidents", "--lake", demo_lake, "-f", "jsonl")
    assert r.exit_code == 0 and len(as_json) == DEMO_INCIDENTS
    assert _lines(r.stdout) == as_json


def test_an_empty_result_in_jsonl_is_no_lines(store):
    r = _run("findings", "--lake", store, "-f", "jsonl", "--detection", "inference")
    assert r.exit_code == 0 and r.stdout == ""


def test_hunt_ingest_and_detect_write_jsonl_and_keep_quiet_when_asked(tmp_path):
    lake = tmp_path / "lake"
    ing = _run("ingest", SPRAY_LOG, "--lake", lake, "-f", "jsonl", "--syslog-year", "2026", "-q")
    assert ing.exit_code == 0 and ing.stderr == ""
    [row] = _lines(ing.stdout)
    assert row["status"] == "ingested" and row["rows"] == {"authentication": 14}

    det = _run("detect", "--lake", lake, "--only", SPRAY, "-f", "jsonl")
    assert det.exit_code == 0, det.output
    assert [f["detection"] for f in _lines(det.stdout)] == [SPRAY]
    # without --quiet the run's summary goes to stderr, also when stdout is JSON
    assert "1 incident in the lake" in det.stderr

    hunt = _run("hunt", SPRAY_LOG, "--lake", lake, "--only", SPRAY, "-f", "jsonl", "--quiet")
    assert hunt.exit_code == 0 and hunt.stderr == ""
    assert _lines(hunt.stdout) == json.loads(_run("findings", "--lake", lake, "-f", "json").stdout)

    table = _run("ingest", SPRAY_LOG, "--lake", lake, "-q")  # the table is the result
    assert table.exit_code == 0 and table.stderr == "" and "sshd" in table.stdout


@pytest.mark.parametrize("command", ["hunt", "ingest"])
def test_quiet_still_reports_a_file_that_could_not_be_ingested(tmp_path, monkeypatch, command):
    import duckdb

    from crownwatch.lake import Lake

    def starved(self, con, path, *a, **k):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")

    monkeypatch.setattr(Lake, "_write_parsed", starved)
    r = _run(command, SPRAY_LOG, "--lake", tmp_path / "lake", "-f", "jsonl", "-q")
    assert r.exit_code == 2
    assert f"failed: {SPRAY_LOG}: " in r.stderr  # on one line, whatever its length
    assert "Out of Memory" in r.stderr


# progress and summaries on stderr in every format; --quiet (sigma run, lake compact)

SIGMA_RULES = Path(__file__).parent / "sigma" / "rules"
OKTA_LOG = FIXTURES / "okta" / "system_log.jsonl"


def test_sigma_run_summarises_on_stderr_in_every_format_and_quiet_silences_it(tmp_path):
    lake = tmp_path / "lake"
    # one rule runs (4 hits in the Okta fixture), one is skipped (endpoint telemetry)
    rules = [
        SIGMA_RULES / "okta_failed_sign_in_from_address.yml",
        SIGMA_RULES / "windows_process_creation.yml",
    ]
    r = _run("sigma", "run", *rules, OKTA_LOG, "--lake", lake, "-f", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)  # stdout stays nothing but the JSON document
    assert len(out["findings"]) == 4
    assert "Ingest" in r.stderr  # the ingest's summary
    assert "1 Sigma rule(s) ran (4 finding(s)), 1 skipped, 0 with errors" in r.stderr
    assert "skipped: " in r.stderr and "windows_process_creation.yml" in r.stderr

    quiet = _run("sigma", "run", *rules, "--lake", lake, "-f", "json", "--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert [f["id"] for f in json.loads(quiet.stdout)["findings"]] == [
        f["id"] for f in out["findings"]
    ]
    table = _run("sigma", "run", *rules, "--lake", lake, "-q")  # the table is the result
    assert table.exit_code == 0 and table.stderr == ""
    assert "Okta sign-in failed" in table.stdout

    # --quiet never hides an error: a bad rule file is named, and the exit status is 2
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    bad = _run(
        "sigma", "run", rules[0], tmp_path / "broken.yml", "--lake", lake, "-f", "json", "-q"
    )
    assert bad.exit_code == 2
    assert "error: " in bad.stderr and "broken.yml" in bad.stderr
    assert "Sigma rule(s) ran" not in bad.stderr
    json.loads(bad.stdout)


def test_lake_compact_summarises_on_stderr_in_every_format_and_quiet_silences_it(spray_lake):
    # a second sshd log of the same day: two small files in day=2026-03-03
    jump = FIXTURES / "linux" / "jumphost_auth.log"
    ing = _run("ingest", jump, "--lake", spray_lake, "--syslog-year", "2026", "-q")
    assert ing.exit_code == 0, ing.output
    r = _run("lake", "compact", "--lake", spray_lake, "-f", "json", "--table", "authentication")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)  # stdout stays nothing but the JSON document
    assert report["totals"]["files_before"] == 2 and report["totals"]["files_after"] == 1
    assert "compacted 2 files into 1" in r.stderr and "1 day partition(s)" in r.stderr

    for fmt in ("json", "table"):
        quiet = _run("lake", "compact", "--lake", spray_lake, "-f", fmt, "--quiet")
        assert quiet.exit_code == 0 and quiet.stderr == "", (fmt, quiet.output)
        if fmt == "json":
            assert json.loads(quiet.stdout)["partitions"] == []
    loud = _run("lake", "compact", "--lake", spray_lake, "-f", "json")
    assert "nothing to compact" in loud.stderr and json.loads(loud.stdout)["partitions"] == []


def test_scan_writes_jsonl(tmp_path):
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    (tmp_path / "b.pkl").write_bytes(b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.")
    as_json = json.loads(_run("scan", tmp_path, "-f", "json").stdout)
    r = _run("scan", tmp_path, "-f", "jsonl")
    assert r.exit_code == 1  # b.pkl is malicious
    assert len(as_json) == 2 and _lines(r.stdout) == as_json


# --since / --until


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # a finding is kept when its [first_seen, last_seen] overlaps [since, until)
        (["--since", "2026-03-03"], ["2", "3"]),  # 2 began before and went on inside
        (["--until", "2026-03-02"], ["1"]),  # until is exclusive: 2 starts at 03-02 00:00
        (["--until", "2026-03-02T00:00:01Z"], ["1", "2"]),
        (["--since", "2026-03-01T13:00:00+01:00", "--until", "2026-03-01T12:30"], ["1"]),
        (["--since", "2026-03-05T00:00:01Z", "--until", "2026-03-06"], []),
        (["--since", "2026-03-06T00:00:00Z"], ["3"]),
    ],
)
def test_findings_since_until_keep_the_overlapping_findings(store, window, expected):
    r = _run("findings", "--lake", store, "-f", "json", *window)
    assert r.exit_code == 0, r.output
    assert sorted(f["id"][-1] for f in json.loads(r.stdout)) == expected


@pytest.mark.parametrize(
    "window",
    [
        ["--since", "yesterday"],
        ["--since", "2026-02-30"],
        ["--until", "2026-03-01T25:00"],
        ["--since", ""],
        ["--since", "2026-03-02", "--until", "2026-03-01"],
        ["--since", "2026-03-01T10:00Z", "--until", "2026-03-01T11:00+01:00"],  # same instant
    ],
)
@pytest.mark.parametrize("cmd", ["findings", "detect"])
def test_a_bad_time_is_a_usage_error(store, cmd, window):
    r = _run(cmd, "--lake", store, *window)
    assert r.exit_code == 2, r.output
    assert "ISO-8601" in r.output or "not after" in r.output


def _detect_json(lake: Path, *args) -> list[dict]:
    r = _run("detect", "--lake", lake, "--only", SPRAY, "-f", "json", "-q", *args)
    assert r.exit_code == 0, r.output
    assert r.stderr == ""  # --quiet: no progress, no summary
    return json.loads(r.stdout)


def test_detect_reads_only_the_events_in_the_window(spray_lake):
    whole = _detect_json(spray_lake)
    assert [f["detection"] for f in whole] == [SPRAY]
    # a window around every event: the same finding, evidence and all
    assert _detect_json(spray_lake, "--since", "2026-03-03", "--until", "2026-03-04") == whole
    # the last 2 of the spray's 4 minutes: too few accounts left to be a spray
    assert _detect_json(spray_lake, "--since", "2026-03-03T03:02:00Z") == []


def test_the_engine_applies_the_window_where_a_table_is_opened(spray_lake):
    from datetime import UTC, datetime

    from crownwatch.engine import Engine
    from crownwatch.window import TimeWindow

    since = datetime(2026, 3, 3, 3, 1, tzinfo=UTC)
    until = datetime(2026, 3, 3, 3, 3, tzinfo=UTC)
    base = Engine(Lake(spray_lake))
    all_rows = base.execute(base.table("authentication").select("time"))
    eng = Engine(Lake(spray_lake), window=TimeWindow(since, until))
    rows = eng.execute(eng.table("authentication").select("time"))
    assert 0 < len(rows) < len(all_rows)
    assert all(since <= r["time"] < until for r in rows)
    assert sum(since <= r["time"] < until for r in all_rows) == len(rows)


# a failed detection


def _break_brute_force(monkeypatch):
    from crownwatch import detections
    from crownwatch.detections.identity import brute_force

    def broken(t, p):
        raise RuntimeError("boom")

    monkeypatch.setattr(brute_force, "query", broken)
    detections.all_detections.cache_clear()


def test_quiet_still_reports_a_failed_detection(spray_lake, monkeypatch):
    from crownwatch import detections

    _break_brute_force(monkeypatch)
    try:
        r = _run("detect", "--lake", spray_lake, "--only", "identity.brute_force", "-q")
    finally:
        monkeypatch.undo()
        detections.all_detections.cache_clear()
    assert r.exit_code == 1
    assert "identity.brute_force" in r.stderr and "boom" in r.stderr


def test_a_clean_detect_after_a_failed_one_in_the_same_process_exits_0(spray_lake, monkeypatch):
    from crownwatch import detections

    _break_brute_force(monkeypatch)
    try:
        failed = _run("detect", "--lake", spray_lake, "--only", "identity.brute_force", "-q")
    finally:
        monkeypatch.undo()
        detections.all_detections.cache_clear()
    assert failed.exit_code == 1
    # a usage error in between changes nothing either
    assert _run("detect", "--lake", spray_lake, "--only", "nope").exit_code == 2
    clean = _run("detect", "--lake", spray_lake, "--only", "identity.brute_force", "-q")
    assert clean.exit_code == 0, clean.output


# demo deletes only what it made


def test_demo_refuses_to_delete_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    r = _run("demo", "--out", out)
    assert r.exit_code == 2
    assert "not made by crownwatch demo" in r.stderr.replace("\n", " ")
    assert (out / "thesis.tex").read_text() == "years of work"

    lake = tmp_path / "real-lake"
    lake.mkdir()
    (lake / "findings.duckdb").write_bytes(b"x")
    r = _run("demo", "--out", tmp_path / "new-out", "--lake", lake)
    assert r.exit_code == 2 and (lake / "findings.duckdb").exists()
    assert not (tmp_path / "new-out").exists()  # refused before anything was touched


@pytest.mark.parametrize("case", ["file", "symlink", "lake is out", "lake above out"])
def test_demo_refuses_odd_targets(tmp_path, case):
    out, lake = tmp_path / "out", None
    if case == "file":
        out.write_text("a file")
    elif case == "symlink":
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real", target_is_directory=True)
    elif case == "lake is out":
        lake = out
    else:
        lake = tmp_path
    args = ["demo", "--out", out] + (["--lake", lake] if lake else [])
    r = _run(*args)
    assert r.exit_code == 2, r.output
    assert out.exists() == (case in ("file", "symlink"))


def test_demo_reuses_its_own_folders_and_empty_ones(tmp_path):
    from crownwatch.demo import MARKER, prepare_dirs

    out = tmp_path / "out"
    lake = prepare_dirs(out, None)  # absent: created, marked
    assert lake.root == out / "lake" and (out / MARKER).is_file()
    (out / "identity").mkdir()
    (out / "identity" / "old.log").write_text("stale")
    prepare_dirs(out, None)  # marked: emptied
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "lake"]

    empty = tmp_path / "empty-lake"
    empty.mkdir()
    prepare_dirs(tmp_path / "out2", empty)
    assert (empty / MARKER).is_file()


# Spark: quiet, and the same window


@pytest.mark.spark
@pytest.mark.skipif(not HAS_SPARK, reason="PySpark and a Java runtime are needed for Spark")
def test_spark_detect_with_a_window_matches_duckdb_and_is_configured_quiet(spray_lake):
    from datetime import UTC, datetime

    from crownwatch.detect import run_detections
    from crownwatch.engine import Engine
    from crownwatch.window import TimeWindow

    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")  # the shared test session's
    lake = Lake(spray_lake)
    window = TimeWindow(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, 3, 2, tzinfo=UTC))
    spark = Engine(lake, "spark", window=window)
    session = spark.backend._session
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    conf = session.sparkContext.getConf()
    assert conf.get("spark.ui.showConsoleProgress") == "false"
    if not os.environ.get("SPARK_CONF_DIR"):
        assert "log4j2.configurationFile" in conf.get("spark.driver.extraJavaOptions", "")

    def rows(engine: Engine) -> list:
        # Spark hands back naive datetimes in its session time zone, UTC
        times = [r["time"] for r in engine.execute(engine.table("authentication"))]
        return sorted(t if t.tzinfo else t.replace(tzinfo=UTC) for t in times)

    duck = Engine(lake, window=window)
    assert rows(spark) == rows(duck) and 0 < len(rows(duck)) < 14
    # a bounded window holding the whole spray: the same finding on both engines
    whole = TimeWindow(datetime(2026, 3, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, 3, 4, tzinfo=UTC))
    on_duckdb = run_detections(Engine(lake, window=whole), {}, only=[SPRAY])
    assert [f["detection"] for f in on_duckdb] == [SPRAY]
    on_spark = run_detections(Engine(lake, "spark", window=whole), {}, only=[SPRAY])
    # (without any window too, Spark leaves an empty evidence list None on this sshd log)
    assert _none_for_empty(on_spark) == _none_for_empty(on_duckdb)


def _none_for_empty(value):
    if isinstance(value, dict):
        return {k: _none_for_empty(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_none_for_empty(v) for v in value] or None
    return value


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.skipif(not HAS_SPARK, reason="PySpark and a Java runtime are needed for Spark")
def test_spark_detect_prints_no_spark_progress_or_java_logs(spray_lake):
    """A fresh process, as a user runs it: the JVM starts with crownwatch's logging."""
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=str(src), SPARK_SHUFFLE_PARTITIONS="1")
    env.pop("SPARK_CONF_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "crownwatch", "detect", "--lake", str(spray_lake)]
        + ["--engine", "spark", "--only", SPRAY, "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert [f["detection"] for f in json.loads(proc.stdout)] == [SPRAY]
    for noise in ("[Stage", " WARN ", " INFO ", "\tat ", "Setting default log level", "log4j"):
        assert noise not in proc.stderr, (noise, proc.stderr)
    # crownwatch's own summary still reaches stderr, as on DuckDB (also with -f json)
    assert "1 incident in the lake" in proc.stderr, proc.stderr
