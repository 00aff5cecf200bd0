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
