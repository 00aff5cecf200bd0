"""End to end through the CLI: an Okta spray is found; an office password rotation is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from crownwatch.cli import app

# no module fixtures: each test may run on any worker (tests/conftest.py)
pytestmark = pytest.mark.spread

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def okta_event(n, ts, user, ip, result, reason=None):
    return {
        "uuid": f"evt-{n:05d}",
        "published": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventType": "user.session.start",
        "displayMessage": "User login to Okta",
        "actor": {"id": f"00u{user}", "type": "User", "alternateId": f"{user}@northwind-ai.com"},
        "client": {
            "ipAddress": ip,
            "userAgent": {"rawUserAgent": "python-requests/2.31.0"},
            "geographicalContext": {"country": "Netherlands", "city": "Amsterdam"},
        },
        "outcome": {"result": result, "reason": reason},
        "securityContext": {"asNumber": 14061, "asOrg": "digitalocean", "isProxy": False},
    }


def write(path, events):
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def spray(ip, start, users=40, n0=0):
    return [
        okta_event(
            n0 + i, start + timedelta(seconds=25 * i), f"u{i}", ip, "FAILURE", "INVALID_CREDENTIALS"
        )
        for i in range(users)
    ]


def rotation(ip, start, users=40, n0=1000):
    out = []
    for i in range(users):
        t = start + timedelta(seconds=50 * i)
        out.append(okta_event(n0 + 2 * i, t, f"o{i}", ip, "FAILURE", "INVALID_CREDENTIALS"))
        out.append(okta_event(n0 + 2 * i + 1, t + timedelta(seconds=40), f"o{i}", ip, "SUCCESS"))
    return out


def run(*args):
    result = CliRunner().invoke(app, list(map(str, args)))
    assert result.exit_code == 0, result.output
    return result


def test_spray_found_rotation_quiet_same_nat(tmp_path):
    office = "198.51.100.1"
    # rotation morning on Monday from the office NAT, spray from the SAME NAT on Tuesday
    write(tmp_path / "a.jsonl", rotation(office, T0) + spray(office, T0 + timedelta(days=1)))
    out = run("hunt", tmp_path / "a.jsonl", "--lake", tmp_path / "lake", "--format", "json")
    findings = json.loads(out.stdout)
    sprays = [f for f in findings if f["detection"] == "identity.password_spray"]
    assert len(sprays) == 1
    f = sprays[0]
    assert f["entities"]["src_ip"] == [office]
    assert len(f["entities"]["user"]) == 40 and all(
        u.startswith("u") for u in f["entities"]["user"]
    )
    assert f["first_seen"] == "2026-03-03T09:00:00Z"
    assert f["attack"] == ["T1110.003"]
    assert f["evidence"]["unrecovered_users"] == 40
    assert f["evidence"]["raw_records"][0].endswith("a.jsonl#81")
    assert f["evidence"]["raw_records_total"] == 40


def test_rotation_alone_is_quiet(tmp_path):
    write(tmp_path / "b.jsonl", rotation("198.51.100.1", T0))
    out = run("hunt", tmp_path / "b.jsonl", "--lake", tmp_path / "lake", "--format", "json")
    assert [f for f in json.loads(out.stdout) if f["detection"] == "identity.password_spray"] == []


def test_findings_formats_and_triage_survives_rerun(tmp_path):
    lake = tmp_path / "lake"
    write(tmp_path / "c.jsonl", spray("203.0.113.9", T0))
    run("hunt", tmp_path / "c.jsonl", "--lake", lake, "--format", "json")
    (f,) = json.loads(run("findings", "--lake", lake, "--format", "json").stdout)
    run("triage", f["id"], "--status", "escalated", "--lake", lake)
    run("detect", "--lake", lake, "--format", "json")
    (again,) = json.loads(run("findings", "--lake", lake, "--format", "json").stdout)
    assert again["id"] == f["id"] and again["status"] == "escalated"
    (ocsf,) = json.loads(run("findings", "--lake", lake, "--format", "ocsf").stdout)
    assert ocsf["class_uid"] == 2004 and ocsf["finding_info"]["uid"] == f["id"]
    (attack,) = ocsf["finding_info"]["attacks"]
    assert attack["technique"]["uid"] == "T1110" and attack["sub_technique"]["uid"] == "T1110.003"
    # triaged escalated: the event is an update of the finding, still in progress
    assert (ocsf["activity_id"], ocsf["status_id"], ocsf["status_detail"]) == (2, 2, "escalated")
    table = run("findings", "--lake", lake).stdout
    assert "identity.password_spray" in table
    # a run points to the incidents it derived, on stderr: stdout holds only the findings
    # (only JSON in JSON mode), and --quiet drops the pointer (the one detection that
    # fires is enough: every detection three times more took 6 s)
    spray_only = ["--only", "identity.password_spray"]
    told = CliRunner().invoke(app, ["detect", "--lake", str(lake), *spray_only])
    assert "1 incident in the lake" in told.stderr
    as_json = CliRunner().invoke(app, ["detect", "--lake", str(lake), "-f", "json", *spray_only])
    assert "1 incident in the lake" in as_json.stderr and json.loads(as_json.stdout)
    quiet = CliRunner().invoke(
        app, ["detect", "--lake", str(lake), "-f", "json", "--quiet", *spray_only]
    )
    assert "incident" not in quiet.stderr and json.loads(quiet.stdout)


def test_missing_path_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        app, ["hunt", str(tmp_path / "nope"), "--lake", str(tmp_path / "l")]
    )
    assert result.exit_code == 2


def test_stix_bundle_is_valid_stix(tmp_path):
    import stix2

    lake = tmp_path / "lake"
    write(tmp_path / "d.jsonl", spray("203.0.113.9", T0))
    run("hunt", tmp_path / "d.jsonl", "--lake", lake, "--format", "json")
    from crownwatch.outputs.stix import EXTENSION_ID, IDENTITY_ID

    # no allow_custom: crownwatch's own properties travel in a STIX extension
    bundle = stix2.parse(run("findings", "--lake", lake, "--format", "stix").stdout)
    kinds = sorted({o.type for o in bundle.objects})
    assert kinds == [
        "attack-pattern",
        "extension-definition",
        "identity",
        "ipv4-addr",
        "observed-data",
        "sighting",
        "user-account",
    ]
    (sighting,) = [o for o in bundle.objects if o.type == "sighting"]
    assert sighting.extensions[EXTENSION_ID]["detection"] == "identity.password_spray"
    assert sighting.where_sighted_refs == [IDENTITY_ID]
    # MITRE's published id for T1110.003, not one crownwatch made up
    assert sighting.sighting_of_ref == "attack-pattern--692074ae-bb62-4a5e-a735-02cb6bde458c"
