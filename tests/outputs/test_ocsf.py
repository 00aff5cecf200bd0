"""OCSF exports (Detection Finding 2004, Incident Finding 2005) checked against the
official OCSF 1.8.0 schema — every export of the demo, before and after triage — and
the mapping details: status and activity, ATT&CK vs ATLAS, observables, odd input."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from crownwatch import mitre
from crownwatch.cli import app
from crownwatch.findings import STATUSES
from crownwatch.outputs.ocsf import SCHEMA_VERSION, detection_finding, incident_finding
from tests.conftest import DEMO_INCIDENTS, demo_findings
from tests.outputs.ocsf_schema import VERSION, check

# Recommended attributes crownwatch leaves out, and why (docs/interfaces.md, "OCSF").
JUSTIFIED = {
    2004: {
        # a finding sums up many log records: there is no one source status code
        "status_code",
        # detections grade severity, not confidence
        "confidence_id",
        # only a finding about a crown jewel names a resource
        "resources",
    },
    2005: {
        "status_code",
        "confidence_id",
        # severity (and priority from it) is crownwatch's one grade: no separate harm estimate
        "impact_id",
        "impact",
        "impact_score",
        # a verdict is given only when an analyst calls the incident a false positive
        "verdict_id",
        "verdict",
        # crownwatch is a command line tool: there is no incident page to link to
        "src_url",
    },
}


def assert_valid(event: dict) -> None:
    errors, warnings = check(event)
    assert errors == [], json.dumps(errors[:10], indent=1)
    missing = {w.removeprefix("recommended attribute ").removesuffix(" missing") for w in warnings}
    assert missing <= JUSTIFIED[event["class_uid"]], missing - JUSTIFIED[event["class_uid"]]


def cli(*args) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def test_every_demo_export_is_valid_ocsf_before_and_after_triage(demo_lake):
    findings = json.loads(cli("findings", "--format", "ocsf", "--lake", demo_lake))
    incidents = json.loads(cli("incidents", "--format", "ocsf", "--lake", demo_lake))
    assert len(findings) == len(demo_findings()) and len(incidents) == DEMO_INCIDENTS
    for event in findings + incidents:
        assert_valid(event)
        assert event["metadata"]["version"] == SCHEMA_VERSION == VERSION
        assert (event["activity_id"], event["status_id"], event["status"]) == (1, 1, "New")
        assert "comment" not in event

    spray = next(f for f in findings if "T1110.003" in _technique_ids(f["finding_info"]))
    atlas = next(f for f in findings if "AML.T0024.002" in _technique_ids(f["finding_info"]))
    inc_a, inc_b = json.loads(cli("incidents", "--format", "json", "--lake", demo_lake))[:2]
    for ident, status, note in (
        (spray["finding_info"]["uid"], "escalated", "IR-42: sprayed from a known VPS range"),
        (atlas["finding_info"]["uid"], "closed", "customer offboarded"),
        (inc_a["id"], "closed", "contained"),
        (inc_b["id"], "escalated", "paged the on-call <IR-43>"),
    ):
        cli("triage", ident, "--status", status, "--note", note, "--lake", demo_lake)

    after = {
        e["finding_info"]["uid"]: e
        for e in json.loads(cli("findings", "--format", "ocsf", "--lake", demo_lake))
    }
    incs = json.loads(cli("incidents", "--format", "ocsf", "--lake", demo_lake))
    for event in list(after.values()) + incs:
        assert_valid(event)

    escalated = after[spray["finding_info"]["uid"]]
    assert (escalated["activity_id"], escalated["type_uid"]) == (2, 200402)
    assert (escalated["status_id"], escalated["status"]) == (2, "In Progress")
    assert escalated["status_detail"] == "escalated"
    assert escalated["comment"] == "IR-42: sprayed from a known VPS range"
    closed = after[atlas["finding_info"]["uid"]]
    assert (closed["activity_id"], closed["type_uid"], closed["type_name"]) == (
        3,
        200403,
        "Detection Finding: Close",
    )
    assert (closed["status_id"], closed["status"], closed["comment"]) == (
        4,
        "Resolved",
        "customer offboarded",
    )
    by_findings = {frozenset(x["uid"] for x in e["finding_info_list"]): e for e in incs}
    inc_closed = by_findings[frozenset(inc_a["findings"])]
    inc_escalated = by_findings[frozenset(inc_b["findings"])]
    assert (inc_closed["activity_id"], inc_closed["type_uid"]) == (3, 200503)
    assert (inc_closed["status_id"], inc_closed["status"], inc_closed["comment"]) == (
        5,
        "Closed",
        "contained",
    )
    assert (inc_escalated["activity_id"], inc_escalated["type_uid"]) == (2, 200502)
    assert (inc_escalated["status_id"], inc_escalated["status"]) == (2, "In Progress")
    assert inc_escalated["comment"] == "paged the on-call <IR-43>"
    # the untouched ones are still plain creations
    untouched = [e for e in incs if e not in (inc_closed, inc_escalated)]
    assert {e["activity_id"] for e in untouched} == {1}


def _technique_ids(info: dict) -> set[str]:
    ids = set()
    for a in info.get("attacks", []):
        ids.add(a["technique"]["uid"])
        if "sub_technique" in a:
            ids.add(a["sub_technique"]["uid"])
    return ids


FINDING = {
    "id": "cw-0123456789abcdef",
    "detection": "identity.password_spray",
    "title": "Password spray from 203.0.113.6",
    "severity": "high",
    "first_seen": "2026-03-01T10:00:00Z",
    "last_seen": "2026-03-01T10:20:00Z",
    "entities": {"src_ip": ["203.0.113.6"], "user": ["alice", "bob"]},
    "attack": ["T1110.003"],
    "evidence": {"attempts": 40, "raw_records": ["okta.jsonl#1"]},
    "status": "new",
}

INCIDENT = {
    "id": "ci-0123456789abcdef",
    "title": "Spray, then a sign-in",
    "severity": "critical",
    "severity_reason": "a sprayed account signed in",
    "status": "new",
    "first_seen": "2026-03-01T10:00:00Z",
    "last_seen": "2026-03-01T11:00:00Z",
    "stages": ["initial_access", "valid_accounts"],
    "findings": ["cw-a", "cw-b"],
    "detections": ["identity.password_spray", "identity.success_after_spray"],
    "attack": ["T1078", "T1110.003"],
    "entities": {"user": ["alice"], "src_ip": ["203.0.113.6", "garbage"], "asset": ["w"]},
    "timeline": [
        {
            "finding": "cw-a",
            "stage": "initial_access",
            "detection": "identity.password_spray",
            "title": "spray",
            "severity": "high",
            "first_seen": "2026-03-01T10:00:00Z",
            "last_seen": "2026-03-01T10:20:00Z",
        },
        {
            "finding": "cw-b",
            "stage": "valid_accounts",
            "detection": "identity.success_after_spray",
            "title": "sign-in",
            "severity": "critical",
            "first_seen": None,
            "last_seen": None,
        },
    ],
    "links": [],
    "summary": "2 findings…",
    "resembles": [
        {"name": "X", "confidence": 0.2, "wording": "resembles, not an attribution", "x": 1}
    ],
}

# crownwatch status -> (status_id, status, activity_id), per class: the documented mapping
FINDING_MAP = {
    "new": (1, "New", 1),
    "triaged": (2, "In Progress", 2),
    "escalated": (2, "In Progress", 2),
    "false_positive": (3, "Suppressed", 3),
    "closed": (4, "Resolved", 3),
}
INCIDENT_MAP = {
    "new": (1, "New", 1),
    "triaged": (2, "In Progress", 2),
    "escalated": (2, "In Progress", 2),
    "false_positive": (5, "Closed", 3),
    "closed": (5, "Closed", 3),
}


@pytest.mark.parametrize("status", STATUSES)
def test_each_triage_status_maps_to_a_status_and_an_activity(status):
    assert set(FINDING_MAP) == set(INCIDENT_MAP) == set(STATUSES)
    for export, rec, mapping in (
        (detection_finding, FINDING, FINDING_MAP),
        (incident_finding, INCIDENT, INCIDENT_MAP),
    ):
        event = export({**rec, "status": status}, "0.1.0")
        assert_valid(event)
        assert (event["status_id"], event["status"], event["activity_id"]) == mapping[status]
        assert event["status_detail"] == status
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
    assert (incident_finding({**INCIDENT, "status": status}, "0").get("verdict_id") == 1) == (
        status == "false_positive"
    )


def test_a_note_makes_an_update_and_an_unknown_status_is_other():
    noted = detection_finding({**FINDING, "note": "looked at it"}, "0.1.0")
    assert (noted["activity_id"], noted["status_id"], noted["comment"]) == (2, 1, "looked at it")
    assert_valid(noted)
    # a status from a newer crownwatch: OCSF's "Other", carrying the value itself
    for export, rec in ((detection_finding, FINDING), (incident_finding, INCIDENT)):
        odd = export({**rec, "status": "on_hold"}, "0.1.0")
        assert (odd["status_id"], odd["status"], odd["activity_id"]) == (99, "on_hold", 2)
        assert_valid(odd)


def test_sub_techniques_atlas_and_attack_are_told_apart():
    f = {**FINDING, "attack": ["T1110.003", "T1530", "AML.T0024.002", "AML.T0005", "T1999.001"]}
    attacks = detection_finding(f, "0.1.0")["finding_info"]["attacks"]
    spray, cloud, extract, proxy, unknown = attacks
    assert spray == {
        "version": mitre.ATTACK_VERSION,
        "technique": {
            "uid": "T1110",
            "name": "Brute Force",
            "src_url": "https://attack.mitre.org/versions/v17/techniques/T1110/",
        },
        "sub_technique": {
            "uid": "T1110.003",
            "name": "Password Spraying",
            "src_url": "https://attack.mitre.org/versions/v17/techniques/T1110/003/",
        },
        "tactic": {
            "uid": "TA0006",
            "name": "Credential Access",
            "src_url": "https://attack.mitre.org/versions/v17/tactics/TA0006/",
        },
    }
    assert cloud["technique"]["uid"] == "T1530" and "sub_technique" not in cloud
    assert extract["version"] == mitre.ATLAS_VERSION != mitre.ATTACK_VERSION
    assert extract["technique"] == {
        "uid": "AML.T0024",
        "name": "Exfiltration via AI Inference API",
        "src_url": "https://atlas.mitre.org/techniques/AML.T0024",
    }
    assert extract["sub_technique"]["name"] == "Extract AI Model"
    assert extract["tactic"]["uid"] == "AML.TA0010"
    assert proxy["technique"]["uid"] == "AML.T0005" and proxy["tactic"]["uid"] == "AML.TA0001"
    # an id we have no name for is exported by id alone
    assert unknown["technique"] == {
        "uid": "T1999",
        "src_url": "https://attack.mitre.org/versions/v17/techniques/T1999/",
    }
    assert "name" not in unknown["sub_technique"] and "tactic" not in unknown


def test_an_id_of_neither_framework_is_kept_but_not_called_mitre():
    event = detection_finding({**FINDING, "attack": ["T1110.003", "<script>", "AML.X1"]}, "0")
    assert [a["sub_technique"]["uid"] for a in event["finding_info"]["attacks"]] == ["T1110.003"]
    assert event["unmapped"]["attack"] == ["<script>", "AML.X1"]
    assert_valid(event)


def test_every_technique_a_detection_raises_has_its_name_and_tactic():
    from crownwatch.detections import all_detections

    for det in all_detections():
        for tid in det.meta.attack:
            assert mitre.framework(tid), (det.id, tid)
            known = mitre.technique(tid) or mitre.technique(mitre.parent(tid) or "")
            assert known and known.tactic, (det.id, tid)
    with_tactic = [t for t in mitre.techniques().values() if t.tactic]
    assert with_tactic and all(mitre.tactic_name(t.tactic) for t in with_tactic)
    assert all(
        mitre.framework(t.tid) == ("atlas" if t.tactic.startswith("AML.") else "attack")
        for t in with_tactic
    )


def test_entities_become_evidence_resources_and_observables_by_path():
    f = {
        **FINDING,
        "entities": {
            "src_ip": ["203.0.113.6", "not-an-ip", "2001:db8::1"],
            "user": ["alice"],
            "actor_user": ["jdoe"],
            "principal": ["arn:aws:sts::111122223333:assumed-role/R/bob"],
            "account": ["111122223333"],
            "host": ["WS-0177.corp.example"],
            "asset": ["frontier-weights"],
            "api_key": ["key_1"],
            "billing": ["pm_1"],
        },
        "evidence": {"asset_kind": "model_weights", "nested": {"none": None}},
    }
    event = detection_finding(f, "0.1.0")
    assert_valid(event)
    observed = [(o["name"], o["type_id"], o["value"]) for o in event["observables"]]
    assert observed == [
        ("evidences[0].src_endpoint.ip", 2, "203.0.113.6"),
        ("evidences[1].src_endpoint.ip", 2, "2001:db8::1"),
        ("evidences[2].user.name", 4, "alice"),
        ("evidences[3].actor.user.name", 4, "jdoe"),
        ("evidences[4].actor.user.uid", 31, "arn:aws:sts::111122223333:assumed-role/R/bob"),
        ("evidences[5].actor.user.account.uid", 35, "111122223333"),
        ("evidences[6].device.hostname", 1, "WS-0177.corp.example"),
        ("resources[0].name", 38, "frontier-weights"),
    ]
    assert [e["name"] for e in event["evidences"]] == [
        "src_ip",
        "src_ip",
        "user",
        "actor_user",
        "principal",
        "account",
        "host",
    ]
    assert event["resources"] == [
        {"name": "frontier-weights", "role_id": 1, "role": "Target", "type": "model_weights"}
    ]
    # what OCSF has no place for is kept, once, under unmapped
    assert event["unmapped"]["entities"] == {
        "src_ip": ["not-an-ip"],
        "api_key": ["key_1"],
        "billing": ["pm_1"],
    }
    assert event["unmapped"]["evidence"] == f["evidence"]


def test_hostile_and_missing_values_still_make_valid_events():
    f = {
        **FINDING,
        "title": '</script><img src=x onerror=alert(1)>\x1b[31m"',
        "first_seen": None,
        "last_seen": "yesterday",
        "severity": "informational",
        "entities": {"user": ["<b>root</b>", "CORP\\alice"], "src_ip": ["1.2.3.4; rm -rf /"]},
        "attack": [],
        "evidence": {},
    }
    event = detection_finding(f, "0.1.0")
    assert_valid(event)
    assert event["message"] == f["title"] and event["finding_info"]["title"] == f["title"]
    assert isinstance(event["time"], int) and "start_time" not in event
    assert "attacks" not in event["finding_info"]
    assert (event["severity_id"], event["severity"]) == (1, "Informational")
    assert event["unmapped"] == {"entities": {"src_ip": ["1.2.3.4; rm -rf /"]}}


def test_incident_links_its_findings_and_names_a_queue():
    event = incident_finding(INCIDENT, "0.1.0")
    assert_valid(event)
    assert event["metadata"]["profiles"] == ["incident"]
    assert [i["uid"] for i in event["finding_info_list"]] == ["cw-a", "cw-b"]
    assert event["finding_info_list"][0]["analytic"]["uid"] == "identity.password_spray"
    assert "first_seen_time" not in event["finding_info_list"][1]
    assert event["assignee_group"]["name"] == "crownwatch triage"
    assert (event["priority_id"], event["priority"]) == (4, "Critical")
    assert (event["start_time"], event["end_time"]) == (1772359200000, 1772362800000)
    assert [a["technique"]["uid"] for a in event["attacks"]] == ["T1078", "T1110"]
    assert [(o["name"], o["type_id"]) for o in event["observables"]] == [
        ("unmapped.entities.src_ip[0]", 2),
        ("unmapped.entities.user[0]", 4),
    ]
    assert event["unmapped"]["resembles"] == [
        {"name": "X", "confidence": 0.2, "wording": "resembles, not an attribution"}
    ]


def test_the_checker_rejects_what_the_old_export_got_wrong():
    good = detection_finding({**FINDING, "status": "escalated", "note": "n"}, "0.1.0")
    assert_valid(good)

    def errors(mutate) -> str:
        event = copy.deepcopy(good)
        mutate(event)
        return "\n".join(check(event)[0])

    # crownwatch's own word where OCSF wants the caption of status_id
    assert "status is 'escalated', not 'In Progress'" in errors(
        lambda e: e.update(status="escalated")
    )
    # an update reported as a creation
    assert "not 'Detection Finding: Create'" in errors(lambda e: e.update(type_uid=200401))
    # an observable named after the entity kind, not a path in the event
    assert "'src_ip' is not a path" in errors(lambda e: e["observables"][0].update(name="src_ip"))
    # an IP address typed as "Other"
    assert "has observable type 2, not 99" in errors(
        lambda e: e["observables"][0].update(type_id=99, type="Other")
    )
    # a value that is not where the observable says
    assert "holds '203.0.113.6'" in errors(lambda e: e["observables"][0].update(value="x"))
    # the old schema version, an attribute the class does not define, a bad address
    assert "metadata.version is not 1.8.0" in errors(
        lambda e: e["metadata"].update(version="1.3.0")
    )
    assert "'evidence' was unexpected" in errors(lambda e: e.update(evidence={"data": "blob"}))
    assert "src_endpoint.ip: pattern" in errors(
        lambda e: e["evidences"][0]["src_endpoint"].update(ip="1.2.3")
    )
    # the deprecated tactics list
    assert "tactics is deprecated" in errors(
        lambda e: e["finding_info"]["attacks"][0].update(tactics=[{"uid": "TA0006"}])
    )
    # Incident Finding without its required assignee (group)
    inc = incident_finding(INCIDENT, "0.1.0")
    del inc["assignee_group"]
    assert check(inc)[0] == [
        '<event>: anyOf [{"required": ["assignee"]}, {"required": ["assignee_group"]}]'
    ]
