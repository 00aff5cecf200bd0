"""Persistence findings chain into the intrusion they follow: spray → password guessed →
authenticator enrolled is one incident, ending at the persistence stage."""

from __future__ import annotations

from crownwatch.detect import run_detections
from crownwatch.detections import get, scenarios_of
from crownwatch.engine import Engine
from crownwatch.incidents import derive
from crownwatch.incidents.killchain import finding_stage
from crownwatch.testing.scenarios import build_lake


def test_spray_success_then_mfa_enrolment_is_one_incident(tmp_path):
    det = get("persistence.mfa_after_compromise")
    sc = next(s for s in scenarios_of(det) if s.name.startswith("spray_guesses_password"))
    lake, config = build_lake(tmp_path, [sc])
    found = run_detections(Engine(lake), config, only=["identity", det.id])
    mfa = [f for f in found if f["detection"] == det.id]
    assert len(mfa) == 1 and finding_stage(mfa[0]) == "persistence"

    incidents = derive(found)
    [inc] = [i for i in incidents if mfa[0]["id"] in i["findings"]]
    members = {f["detection"] for f in found if f["id"] in inc["findings"]}
    assert {
        "identity.password_spray",
        "identity.success_after_spray",
        "persistence.mfa_after_compromise",
    } <= members
    assert "persistence" in inc["stages"]


def test_the_change_window_decides_for_a_change_nobody_attacked_made(tmp_path):
    """The admin's identity provider, quiet inside the window, is a medium finding once the
    organisation's window is another day."""
    det = get("persistence.trust_opened")
    sc = next(s for s in scenarios_of(det) if s.name.startswith("admin_adds_identity_provider"))
    lake, config = build_lake(tmp_path, [sc])
    config["detections"] = {det.id: {"change_window_days": [6, 7]}}
    found = run_detections(Engine(lake), config, only=[det.id])
    [f] = found
    assert f["severity"] == "medium"
    assert f["evidence"]["operation"] == "system.idp.lifecycle.create"
    assert f["evidence"]["reasons"] == ["outside_change_window"]
    assert f["evidence"]["target_type"] == "IdentityProvider"


def test_an_admin_user_minted_after_the_spray_joins_its_incident(tmp_path):
    """The IAM user with AdministratorAccess made from the spraying address is the
    persistence stage of the spray's incident, under both techniques it stands for."""
    det = get("persistence.privilege_granted")
    sc = next(s for s in scenarios_of(det) if s.name.startswith("sprayed_engineer_creates"))
    lake, config = build_lake(tmp_path, [sc])
    found = run_detections(Engine(lake), config, only=["identity", det.id])
    [grant] = [f for f in found if f["detection"] == det.id]
    assert finding_stage(grant) == "persistence"
    assert sorted(grant["attack"]) == ["T1098.003", "T1136.003"]
    [inc] = [i for i in derive(found) if grant["id"] in i["findings"]]
    members = {f["detection"] for f in found if f["id"] in inc["findings"]}
    assert {"identity.password_spray", "identity.success_after_spray", det.id} <= members


def _graph_sign_in(template: dict, when: str, upn: str, ip: str, code: int) -> dict:
    """Microsoft's documented ``signIn`` object (the fixture's first) for another person,
    time, address and outcome."""
    import copy
    import hashlib

    s = copy.deepcopy(template)
    h = hashlib.sha1(f"{when}{upn}{ip}".encode()).hexdigest()
    s["id"] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    s["correlationId"] = s["id"][::-1]
    s["createdDateTime"] = when
    s["userPrincipalName"] = upn
    s["userDisplayName"] = upn.split("@")[0].replace(".", " ").title()
    s["userId"] = "4f2d8c1a-7b3e-4a5f-9c6d-" + hashlib.sha1(upn.encode()).hexdigest()[:12]
    s["ipAddress"] = ip
    s["status"] = {
        "errorCode": code,
        "failureReason": None
        if code == 0
        else "Error validating credentials due to invalid username or password.",
        "additionalDetails": None,
    }
    return s


def test_the_entra_story_end_to_end_in_microsofts_own_layouts(tmp_path):
    """Every persistence shape from Entra alone, as Graph delivers it: a spray from
    203.0.113.77 over the tenant's sign-ins, megan.bowen's password right from it, then
    the audit page's story — her authenticator, an app consent, a secret on the
    orchestrator, Global Administrator, a federated domain — each raises its detection;
    the helpdesk's method for another user, the deploy bot's app role and the refused
    partner guest stay quiet."""
    import json

    from crownwatch.lake import Lake
    from tests.conftest import FIXTURES

    d = FIXTURES / "entra"
    template = json.loads((d / "graph_signins.json").read_text())["value"][0]
    people = [f"user{i:02d}@contoso.com" for i in range(24)] + ["megan.bowen@contoso.com"]
    signins = [
        # three ordinary days from the office first
        _graph_sign_in(template, f"2026-03-0{day}T08:3{i % 10}:00Z", upn, "131.107.159.37", 0)
        for day in (2, 3, 4)
        for i, upn in enumerate(people)
    ]
    signins += [
        _graph_sign_in(template, f"2026-03-05T09:{i:02d}:10Z", upn, "203.0.113.77", 50126)
        for i, upn in enumerate(people)
    ]
    signins.append(_graph_sign_in(template, "2026-03-05T10:55:00Z", people[-1], "203.0.113.77", 0))
    page = tmp_path / "signins.jsonl"
    page.write_text("".join(json.dumps(s) + "\n" for s in signins))
    lake = Lake(tmp_path / "lake")
    lake.ingest([page, d / "graph_directory_audits.json"])
    found = run_detections(Engine(lake), {}, only=["identity", "persistence"])
    by = {}
    for f in found:
        by.setdefault(f["detection"], []).append(f)
    assert "identity.success_after_spray" in by
    persistence = {det: fs for det, fs in by.items() if det.startswith("persistence.")}
    assert set(persistence) == {
        "persistence.mfa_after_compromise",
        "persistence.credentials_minted",
        "persistence.trust_opened",
        "persistence.privilege_granted",
    }
    for fs in persistence.values():
        for f in fs:
            assert f["entities"]["user"] == ["megan.bowen"], f["title"]
            assert f["severity"] == "critical", f["title"]
    [grant] = persistence["persistence.privilege_granted"]
    assert grant["evidence"]["operations"] == ["Add member to role"]
    assert "Global Administrator" in grant["evidence"]["modified_properties"][0]
    trusts = sorted(f["evidence"]["operation"] for f in persistence["persistence.trust_opened"])
    assert trusts == [
        "Consent to application",
        "Set domain authentication",
        "Set federation settings on domain",
    ]
