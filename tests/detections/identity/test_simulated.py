"""End to end on the simulator's identity week (``crownwatch.simulate.identity``),
Okta System Log only (the source available today): every planted Okta identity
attack is found by the detection the truth manifest names, and no identity
detection fires on a planted benign look-alike during its time span."""

from __future__ import annotations

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.tables.authentication import user_key

simulate = pytest.importorskip("crownwatch.simulate.identity")

# The simulator's names for two detections that ship under other ids.
ALIAS = {
    "identity.spray_then_success": "identity.success_after_spray",
    "identity.new_country_signin": "identity.new_geo_after_spray",
}


@pytest.fixture(scope="module")
def hunted(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim_identity")
    truth = simulate.generate_identity(d / "logs", formats=("okta",))
    lake = Lake(d / "lake")
    lake.ingest([d / "logs"])
    return truth, run_detections(Engine(lake), {}, only=["identity"])


def _touches(f: dict, item: dict) -> bool:
    if not (f["first_seen"] <= item["last_seen"] and item["first_seen"] <= f["last_seen"]):
        return False
    ent = f["entities"]
    return bool(
        set(ent.get("user", [])) & {user_key(u) for u in item["users"]}
        or set(ent.get("src_ip", [])) & set(item["src_ips"])
    )


def _okta_identity(items: list[dict]) -> list[dict]:
    return [i for i in items if "okta" in i["systems"] and i["detection"].startswith("identity.")]


def test_every_planted_okta_attack_is_found(hunted):
    truth, found = hunted
    attacks = _okta_identity(truth["attacks"])
    assert attacks, "the simulator planted no Okta identity attack"
    for item in attacks:
        det = ALIAS.get(item["detection"], item["detection"])
        hits = [f for f in found if f["detection"] == det and _touches(f, item)]
        assert hits, f"{item['id']}: no {det} finding"


def test_success_after_spray_names_only_the_victims(hunted):
    truth, found = hunted
    victims = {
        user_key(u)
        for i in truth["attacks"]
        if ALIAS.get(i["detection"], i["detection"]) == "identity.success_after_spray"
        for u in i["users"]
    }
    raised = {
        u
        for f in found
        if f["detection"] == "identity.success_after_spray"
        for u in f["entities"]["user"]
    }
    assert raised == victims


def test_benign_look_alikes_stay_quiet(hunted):
    truth, found = hunted
    benign = _okta_identity(truth["benign"])
    assert benign
    for item in benign:
        det = ALIAS.get(item["detection"], item["detection"])
        noisy = [f["title"] for f in found if f["detection"] == det and _touches(f, item)]
        assert noisy == [], item["id"]
