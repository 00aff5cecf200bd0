"""Incidents stored with triage, exported (STIX, OCSF), resembled and reported."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.findings import FindingStore
from crownwatch.incidents import derive, run
from crownwatch.incidents.actors import profiles
from crownwatch.incidents.export import to_ocsf_incident, to_stix_bundle
from crownwatch.incidents.store import IncidentStore
from crownwatch.outputs.report import render_report
from tests.incidents.test_linking import finding, jewel_read, spray, success

HOSTILE_USER = "<img src=x onerror=alert(1)>"
HOSTILE_TITLE = "</script><script>alert(1)</script>"


def test_rederiving_keeps_ids_and_triage_and_the_cli_triages_an_incident(tmp_path):
    root = tmp_path / "lake"
    FindingStore(root).upsert([spray(), success()])
    first = run(root)
    assert len(first) == 1
    inc_id = first[0]["id"]
    res = CliRunner().invoke(
        app, ["triage", inc_id[:10], "--status", "escalated", "--note", "IR-7", "--lake", str(root)]
    )
    assert res.exit_code == 0, res.output
    # a later run adds a finding to the incident: same id, triage kept
    FindingStore(root).upsert([jewel_read()])
    again = run(root)
    assert [i["id"] for i in again] == [inc_id]
    assert again[0]["status"] == "escalated" and again[0]["note"] == "IR-7"
    assert IncidentStore(root).all()[0]["findings"] == again[0]["findings"]
    # finding triage is unchanged by the incident's, and still works
    res = CliRunner().invoke(
        app, ["triage", "cw-spray", "--status", "triaged", "--lake", str(root)]
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["incidents", "--format", "json", "--lake", str(root)])
    assert json.loads(res.output)[0]["id"] == inc_id
    res = CliRunner().invoke(
        app, ["triage", "ci-ffffffffff", "--status", "closed", "--lake", str(root)]
    )
    assert res.exit_code == 2


def test_exports_reference_the_findings_objects():
    fs = [spray(), success(), jewel_read()]
    incs = derive(fs)
    bundle = json.loads(to_stix_bundle(incs, fs))
    objs = {o["id"]: o for o in bundle["objects"]}
    groupings = [o for o in objs.values() if o["type"] == "grouping"]
    assert len(groupings) == 1
    refs = groupings[0]["object_refs"]
    assert all(r in objs for r in refs)
    assert {objs[r]["type"] for r in refs} >= {"sighting", "attack-pattern", "observed-data"}
    ocsf = to_ocsf_incident(incs[0], "0.1.0")
    assert ocsf["class_uid"] == 2005 and ocsf["type_uid"] == 200501
    assert [x["uid"] for x in ocsf["finding_info_list"]] == incs[0]["findings"]


def test_every_actor_claim_has_a_source_and_resemblance_is_not_attribution():
    names = {a["name"] for a in profiles()}
    assert {
        "MURKY PANDA",
        "MUSTANG PANDA",
        "OVERCAST PANDA",
        "SUNRISE PANDA",
        "WARP PANDA",
        "FAMOUS CHOLLIMA",
        "Model-distillation campaign",
    } <= names
    for a in profiles():
        assert all(s["url"].startswith("https://") and s["title"] for s in a["sources"])
    distiller = finding(
        "cw-d",
        "inference.distillation_account",
        "2026-03-02T00:00:00Z",
        "2026-03-04T00:00:00Z",
        severity="critical",
        attack=("AML.T0024.002", "AML.T0005"),
        account=["acct_1"],
    )
    r = derive([distiller])[0]["resembles"]
    assert r[0]["actor"] == "distillation-campaign"
    assert "not an attribution" in r[0]["wording"]
    assert {o["technique"] for o in r[0]["overlap"]} == {"AML.T0024.002", "AML.T0005"}
    # one spray is a weak likeness to anyone
    assert all(x["level"] == "low" for x in derive([spray()])[0]["resembles"])


def test_report_escapes_log_values_and_allows_no_fetch():
    bad = finding(
        "cw-bad",
        "identity.brute_force",
        "2026-03-04T13:00:00Z",
        "2026-03-04T13:20:00Z",
        attack=("T1110.001",),
        user=[HOSTILE_USER],
        src_ip=["203.0.113.50"],
    )
    bad["title"] = HOSTILE_TITLE
    bad["evidence"] = {
        "user_agents": [HOSTILE_TITLE],
        "raw_records": [f"okta.jsonl#{HOSTILE_USER}"],
    }
    html = render_report([bad], derive([bad]))
    assert "<script" not in html.lower()
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "default-src 'none'" in html
