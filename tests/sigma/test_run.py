"""``crownwatch sigma run``: a team's Sigma rules over the lake, hits stored as findings.

The rules in ``tests/sigma/rules/`` are written to the Sigma specification (v2); the
logs are the real-format fixtures of ``tests/fixtures`` (Okta System Log lines,
a CloudTrail ``{"Records": [...]}`` document, a Log Analytics export of Entra ID
``SigninLogs``, a classic-syslog sshd ``auth.log``)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.findings import FindingStore
from crownwatch.lake import Lake
from crownwatch.sigma import rules as sigma_rules
from crownwatch.sigma.run import Runner
from tests.conftest import FIXTURES

RULES = Path(__file__).parent / "rules"
OKTA = FIXTURES / "okta" / "system_log.jsonl"
CLOUDTRAIL = FIXTURES / "cloudtrail" / "s3_and_management.json"
OKTA_RULE = "sigma.9c1b2f0e-6d4a-4f3e-8a2b-1e7d5c9a0b31"
CT_RULE = "sigma.3f6e8a21-5b7c-4d19-9e02-7a4c1d8b6f52"
ENTRA = FIXTURES / "entra" / "SigninLogs.json"
SSHD = FIXTURES / "linux" / "spray_auth.log"  # 2026-03-03, classic syslog (no year)
ENTRA_RULE = "sigma.f828f1dd-c69a-4120-8e93-c86cda3e164c"
SSHD_RULE = "sigma.5a10ba01-ed71-4c2a-9490-8bf4a284d82a"


def _cli(*args):
    return CliRunner().invoke(app, ["sigma", "run", *map(str, args)])


@pytest.fixture(scope="module")
def fixture_lake(tmp_path_factory) -> Lake:
    """Okta and CloudTrail fixtures, ingested once for the tests that only read."""
    lake = Lake(tmp_path_factory.mktemp("sigma") / "lake")
    lake.ingest([OKTA, CLOUDTRAIL])
    return lake


def _run(lake: Lake, *rule_texts: str, tmp: Path):
    """Run rules given as YAML text (one file each) over ``lake``, storing nothing."""
    files = []
    for i, text in enumerate(rule_texts):
        f = tmp / f"rule_{i}.yml"
        f.write_text(text)
        files.append(f)
    runner = Runner(lake)
    try:
        return runner.run(sigma_rules.load(files))
    finally:
        runner.close()


def _rule(detection: str, logsource: str = "product: okta\n    service: okta", **kw) -> str:
    return f"""title: {kw.get("title", "test rule")}
id: {kw.get("id", "11111111-2222-4333-8444-555555555555")}
logsource:
    {logsource}
detection:
{detection}
level: {kw.get("level", "medium")}
"""


# -- the CLI end to end -----------------------------------------------------------------


def test_a_rule_hit_is_a_finding_in_the_store_and_rules_it_cannot_run_are_reported(tmp_path):
    lake = tmp_path / "lake"
    good = tmp_path / "rules"
    good.mkdir()
    for name in (
        "okta_failed_sign_in_from_address.yml",
        "cloudtrail_model_weights_read.yml",
        "windows_process_creation.yml",
    ):
        shutil.copy(RULES / name, good / name)
    r = _cli(good, OKTA, CLOUDTRAIL, "--lake", lake, "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    status = {x["title"]: x for x in out["rules"]}
    assert status["Encoded PowerShell command line"]["status"] == "skipped"
    assert "process_creation/windows" in status["Encoded PowerShell command line"]["reason"]

    stored = FindingStore(lake).all()
    okta = [f for f in stored if f["detection"] == OKTA_RULE]
    # bob, ghost, frank and gina failed from 203.0.113.50 (tests/fixtures/okta)
    assert sorted(u for f in okta for u in f["entities"]["user"]) == [
        "bob",
        "frank",
        "ghost",
        "gina",
    ]
    bob = next(f for f in okta if f["entities"]["user"] == ["bob"])
    assert bob["title"] == "Okta sign-in failed from the spraying address"
    assert bob["severity"] == "high" and bob["attack"] == ["T1110.003"]
    assert bob["entities"]["src_ip"] == ["203.0.113.50"]
    assert bob["evidence"]["raw_records"] == [f"{OKTA}#2"]
    assert bob["evidence"]["sample"][0]["outcome.result"] == "FAILURE"
    assert bob["first_seen"] == "2026-03-02T09:00:05Z"

    ct = {f["entities"]["principal"][0]: f for f in stored if f["detection"] == CT_RULE}
    assert set(ct) == {
        "arn:aws:iam::111122223333:user/ml-pipeline",
        "arn:aws:sts::444455556666:assumed-role/partner-etl/etl-job",
    }
    ct = ct["arn:aws:iam::111122223333:user/ml-pipeline"]
    assert ct["evidence"]["records"] == 2 and ct["severity"] == "medium"
    assert ct["entities"]["src_ip"] == ["185.220.101.4", "203.0.113.50"]
    assert ct["evidence"]["sample"][0]["requestParameters.bucketName"] == "nw-model-weights"
    # the sigma findings sit beside crownwatch's own: the store is the same
    assert {f["id"] for f in out["findings"]} == {f["id"] for f in stored}


def test_entra_sign_in_and_sshd_rules_are_stored_as_findings_of_who_and_where(
    tmp_path, monkeypatch
):
    """The other two log sources a team's rules name: ``azure/signinlogs`` (a field of
    the sign-in) and ``linux/sshd`` (a keyword search of sshd's message)."""
    import jsonschema
    import yaml

    from crownwatch.sources.linux_auth import YEAR_ENV

    monkeypatch.setenv(YEAR_ENV, "2026")
    files = [
        RULES / "azure_signin_invalid_password.yml",
        RULES / "linux_sshd_invalid_user_password.yml",
    ]
    schema = Path(__file__).parent / "schema" / "sigma-detection-rule-schema.json"
    spec = jsonschema.Draft202012Validator(json.loads(schema.read_text()))
    for f in files:  # written to the specification (its file names, its schema)
        assert 10 <= len(f.name) <= 70 and f.name == f.name.lower()
        # as JSON, the schema's data model: YAML reads the bare date as a date
        doc = json.loads(json.dumps(yaml.safe_load(f.read_text()), default=str))
        errors = [e.message for e in spec.iter_errors(doc)]
        assert not errors, (f.name, errors)

    lake = tmp_path / "lake"
    r = _cli(*files, ENTRA, SSHD, "--lake", lake, "--format", "json")
    assert r.exit_code == 0, r.output
    ran = {x["detection"]: x for x in json.loads(r.stdout)["rules"]}
    assert ran[ENTRA_RULE]["status"] == ran[SSHD_RULE]["status"] == "ran"
    stored = FindingStore(lake).all()

    # one sign-in of the spray failed with 50126: henrietta.mueller, from 203.0.113.77;
    # diego.siciliani's success and the other accounts' refusals (50128, 50144, 5300x…)
    # are other codes
    [entra] = [f for f in stored if f["detection"] == ENTRA_RULE]
    assert entra["entities"] == {"user": ["henrietta.mueller"], "src_ip": ["203.0.113.77"]}
    assert entra["title"] == "Entra ID sign-in refused for an invalid username or password"
    assert entra["severity"] == "medium" and entra["attack"] == ["T1110.003"]
    assert entra["first_seen"] == "2026-03-03T09:09:00Z"
    assert entra["evidence"]["logsource"] == {"product": "azure", "service": "signinlogs"}
    assert entra["evidence"]["sample"][0]["ResultType"] == "50126"
    assert entra["evidence"]["raw_records"] == [f"{ENTRA}#9"]

    # the spray tried four names the host does not have, then real accounts (ubuntu,
    # alice, …), whose failures read "Failed password for <user>" and stay out
    sshd = {f["entities"]["user"][0]: f for f in stored if f["detection"] == SSHD_RULE}
    assert sorted(sshd) == ["admin", "jenkins", "oracle", "postgres"]
    for f in sshd.values():
        assert f["entities"]["src_ip"] == ["198.51.100.23"]
        assert f["entities"]["host"] == ["gpu-login-1"]
        assert f["evidence"]["logsource"] == {"product": "linux", "service": "sshd"}
    admin = sshd["admin"]
    assert admin["first_seen"] == "2026-03-03T03:00:02Z"
    assert admin["evidence"]["raw_records"] == [f"{SSHD}#4"]
    assert admin["evidence"]["sample"][0]["message"] == (
        "Failed password for invalid user admin from 198.51.100.23 port 40113 ssh2"
    )


def test_a_benign_record_stays_quiet(fixture_lake, tmp_path):
    rules = [
        (RULES / "okta_failed_sign_in_from_address.yml").read_text(),
        (RULES / "cloudtrail_model_weights_read.yml").read_text(),
    ]
    found = _run(fixture_lake, *rules, tmp=tmp_path).findings
    users = {u for f in found for u in f["entities"].get("user", [])}
    # alice signed in (SUCCESS) from 198.51.100.10; carol's lock-out is user.account.lock
    assert "alice" not in users and "carol" not in users
    principals = {p for f in found for p in f["entities"].get("principal", [])}
    # the partner's read of nw-model-weights is a hit; the public eval bucket's is not
    assert "arn:aws:sts::444455556666:assumed-role/partner-etl/etl-job" in principals
    assert not any(
        s.get("requestParameters.bucketName") == "nw-public-eval"
        for f in found
        for s in f["evidence"].get("sample", [])
    )


def test_a_hostile_field_name_is_rejected_and_the_other_rules_still_run(tmp_path):
    lake = tmp_path / "lake"
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES / "hostile_field_name.yml", rules)
    shutil.copy(RULES / "okta_failed_sign_in_from_address.yml", rules)
    r = _cli(rules, OKTA, "--lake", lake)
    assert r.exit_code == 2
    assert "is not a field name" in r.output and "Traceback" not in r.output
    assert "1 Sigma rule(s) ran" in r.output
    assert {f["detection"] for f in FindingStore(lake).all()} == {OKTA_RULE}


def test_a_bad_rule_file_is_named_and_the_others_still_run(tmp_path):
    lake = tmp_path / "lake"
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(RULES / "okta_failed_sign_in_from_address.yml", rules)
    (rules / "broken.yml").write_text("title: [unclosed\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (rules / "bomb.yaml").write_text(bomb)
    (rules / "not_sigma.yml").write_text("just: a mapping\n")
    r = _cli(rules, OKTA, "--lake", lake, "--format", "json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    errors = {Path(x["file"]).name: x["reason"] for x in out["rules"] if x["status"] == "error"}
    assert set(errors) == {"broken.yml", "bomb.yaml", "not_sigma.yml"}
    assert "aliases" in errors["bomb.yaml"]
    assert any(x["status"] == "ran" and x["findings"] == 4 for x in out["rules"])


def test_rules_and_logs_in_one_directory_are_a_usage_error(tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(RULES / "okta_failed_sign_in_from_address.yml", mixed)
    shutil.copy(OKTA, mixed)
    r = _cli(mixed, "--lake", tmp_path / "lake")
    assert r.exit_code == 2 and "pass the rules and the logs separately" in r.output
    r = _cli(OKTA, "--lake", tmp_path / "lake")
    assert r.exit_code == 2 and "no Sigma rule files" in r.output
    assert not (tmp_path / "lake").exists()


def test_running_again_updates_the_same_findings_and_keeps_triage(tmp_path):
    lake = tmp_path / "lake"
    rule = RULES / "okta_failed_sign_in_from_address.yml"
    assert _cli(rule, OKTA, "--lake", lake).exit_code == 0
    first = FindingStore(lake).all()
    assert FindingStore(lake).set_status(first[0]["id"], "escalated")
    r = _cli(rule, "--lake", lake, "--format", "json")  # no logs: the lake as it is
    assert r.exit_code == 0
    printed = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    again = FindingStore(lake).all()
    assert sorted(f["id"] for f in again) == sorted(f["id"] for f in first) == sorted(printed)
    assert printed[first[0]["id"]]["status"] == "escalated"


# -- the semantics of the translation -----------------------------------------------------


def test_values_travel_as_parameters_never_as_sql(fixture_lake, tmp_path):
    hostile = _rule(
        """    quote:
        displayMessage: "x' OR '1'='1"
    regex:
        displayMessage|re: "a'b|x' OR '1'='1"
    wildcard_chars:
        outcome.reason: 'INVALID%'
    condition: 1 of them"""
    )
    result = _run(fixture_lake, hostile, tmp=tmp_path)
    assert [r.status for r in result.rules] == ["ran"]
    # '%' is a literal in Sigma, not a LIKE wildcard: nothing is INVALID%
    assert result.findings == []


def test_sigma_matching_rules(fixture_lake, tmp_path):
    def hits(detection: str) -> set[str]:
        res = _run(fixture_lake, _rule(detection), tmp=tmp_path)
        assert [r.status for r in res.rules] == ["ran"], res.rules
        return {u for f in res.findings for u in f["entities"].get("user", [])}

    # plain values compare case-insensitively; |cased does not
    assert "bob" in hits("    s:\n        outcome.reason: invalid_credentials\n    condition: s")
    assert not hits("    s:\n        outcome.reason|cased: invalid_credentials\n    condition: s")
    # * and ? are the wildcards; _ is a literal
    assert hits("    s:\n        outcome.reason: 'INVALID?CREDENTIALS'\n    condition: s") == {
        "bob"
    }
    assert not hits("    s:\n        actor.alternateId: 'b_b@*'\n    condition: s")
    # not: a record without the field (other events have no displayMessage) matches
    not_sso = hits(
        "    s:\n        client.ipAddress: 198.51.100.10\n"
        "    f:\n        displayMessage|contains: login\n    condition: s and not f"
    )
    assert not_sso == {"admin"}  # the user.lifecycle.create event, an api_activity row
    # numbers, regular expressions, CIDR, field references
    assert "bob" in hits("    s:\n        securityContext.asNumber|gte: 0\n    condition: s")
    assert not hits("    s:\n        securityContext.asNumber|gt: 4294967296\n    condition: s")
    assert hits("    s:\n        actor.alternateId|re|i: '^BOB@'\n    condition: s") == {"bob"}
    assert "bob" in hits("    s:\n        client.ipAddress|cidr: 203.0.113.0/24\n    condition: s")
    assert not hits(
        "    s:\n        actor.alternateId|fieldref: client.ipAddress\n    condition: s"
    )


def test_unsupported_fields_and_regexes_are_reported_with_the_reason(fixture_lake, tmp_path):
    res = _run(
        fixture_lake,
        _rule("    s:\n        debugContext.debugData.requestUri: /x\n    condition: s"),
        _rule(
            "    s:\n        displayMessage|re: '(?=lookahead)'\n    condition: s",
            id="22222222-2222-4333-8444-555555555555",
        ),
        _rule(
            "    s:\n        - 'keyword'\n    condition: s",
            id="33333333-2222-4333-8444-555555555555",
        ),
        _rule(
            "    s:\n        uuid: x\n    condition: s and undefined",
            id="44444444-2222-4333-8444-555555555555",
        ),
        tmp=tmp_path,
    )
    by_id = {r.rule_id: r for r in res.rules}
    missing = by_id["11111111-2222-4333-8444-555555555555"]
    assert missing.status == "skipped" and "debugContext.debugData.requestUri" in missing.reason
    assert "client.ipAddress" in missing.reason  # says what the lake has
    regex = by_id["22222222-2222-4333-8444-555555555555"]
    assert regex.status == "error" and "could not run" in regex.reason
    keyword = by_id["33333333-2222-4333-8444-555555555555"]
    assert keyword.status == "skipped" and "keyword" in keyword.reason
    undefined = by_id["44444444-2222-4333-8444-555555555555"]
    assert undefined.status == "error" and undefined.reason.startswith("invalid rule")


def _okta_failures(tmp_path: Path, start: datetime, user: str, gaps_s: list[int]) -> Path:
    from crownwatch.testing.okta import fail, hosting, write

    events, at = [], start
    for gap in gaps_s:
        at += timedelta(seconds=gap)
        events += fail(at, user, hosting(3))
    return write(tmp_path / f"{user}.jsonl", events)


def test_an_event_count_window_slides_across_the_hour(tmp_path):
    """Five failures within ten minutes that straddle 10:00 fire (fixed ten-minute
    buckets would split them 3 + 2); four never do; a burst hours later is a second
    finding."""
    t = datetime(2026, 3, 2, 9, 55, tzinfo=UTC)
    a = _okta_failures(tmp_path, t, "erin", [0, 60, 60, 240, 60, 4 * 3600, 60, 60, 60, 60])
    b = _okta_failures(tmp_path, t, "finn", [0, 120, 120, 120])
    lake = Lake(tmp_path / "lake")
    lake.ingest([a, b])
    res = _run(lake, (RULES / "okta_brute_force.yml").read_text(), tmp=tmp_path)
    [rr] = res.rules
    assert rr.status == "ran" and rr.title == "Many Okta sign-in failures for one account"
    found = sorted(res.findings, key=lambda f: f["first_seen"])
    assert [f["entities"]["user"] for f in found] == [["erin"], ["erin"]]
    assert found[0]["first_seen"] == "2026-03-02T09:55:00Z"
    assert found[0]["last_seen"] == "2026-03-02T10:02:00Z"
    ev = found[0]["evidence"]
    assert ev["window_count"] == 5 and ev["records"] == 5
    assert ev["correlation"]["group_by"] == {"actor.alternateId": "erin@northwind-ai.com"}
    assert found[0]["attack"] == ["T1110.001"] and found[0]["severity"] == "high"


def test_a_temporal_correlation_joins_two_log_sources_through_aliases(fixture_lake, tmp_path):
    """The spraying address of the Okta fixture reads the model weights in CloudTrail
    17 hours later: one group, ``ip``, named differently in each log source."""
    rules = """title: Sign-in failure then data access from one address
id: 6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d
correlation:
    type: temporal
    rules: [okta_failure, weights_read]
    group-by: [ip]
    timespan: 1d
    condition: {gte: 2}
    aliases:
        ip:
            okta_failure: client.ipAddress
            weights_read: sourceIPAddress
level: critical
---
title: Okta failure
name: okta_failure
logsource: {product: okta, service: okta}
detection:
    s: {outcome.result: FAILURE}
    condition: s
---
title: Weights read
name: weights_read
logsource: {product: aws, service: cloudtrail}
detection:
    s: {eventName: GetObject, requestParameters.bucketName: nw-model-weights}
    condition: s
"""
    res = _run(fixture_lake, rules, tmp=tmp_path)
    [rr] = res.rules
    assert rr.status == "ran", rr.reason
    [f] = res.findings
    assert f["evidence"]["correlation"]["group_by"] == {"ip": "203.0.113.50"}
    assert f["evidence"]["rules_matched"] == ["Okta failure", "Weights read"]
    assert f["severity"] == "critical"
    assert {"bob", "frank"} <= set(f["entities"]["user"])
    assert f["entities"]["principal"] == ["arn:aws:iam::111122223333:user/ml-pipeline"]
    assert f["first_seen"] == "2026-03-02T09:00:05Z" and f["last_seen"] == "2026-03-03T02:11:09Z"
