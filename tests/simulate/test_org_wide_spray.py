"""The org-wide-spray week (``simulate.org_wide_spray``): an ordinary week, every account
sprayed, one compromised, the weights copied — in the files as the truth says."""

from __future__ import annotations

import gzip
import hashlib
import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from crownwatch.simulate import org_wide_spray as ows
from crownwatch.simulate.identity import build_world
from crownwatch.simulate.storage import SHARDS, WEIGHTS_BUCKET
from tests.simulate.helpers import cloudtrail_records, graph_records, okta_records

USERS, DAYS = 120, 5


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ows")
    return out, ows.generate_org_wide_spray(out, seed=11, users=USERS, days=DAYS)


def _items(truth: dict) -> dict:
    return {i["id"]: i for i in truth["attacks"]}


def test_one_campaign_four_items(week):
    out, truth = week
    items = _items(truth)
    assert set(items) == {ows.OKTA_SPRAY, ows.ENTRA_SPRAY, ows.COMPROMISE, ows.THEFT}
    assert truth["scenario"] == "org_wide_spray"
    assert {b["id"] for b in truth["benign"]} >= {
        "benign-office-password-rotation",
        "benign-travel-new-country",
    }
    assert items[ows.COMPROMISE]["detections"] == [
        "identity.success_after_spray",
        "identity.new_geo_after_spray",
    ]
    assert items[ows.THEFT]["detections"] == [
        "exfiltration.jewel_access_after_identity",
        "exfiltration.bulk_read",
    ]
    assert json.loads((out / "truth.json").read_text()) == truth
    for it in items.values():
        assert it["first_seen"] and it["last_seen"] and it["src_ips"] and it["files"], it["id"]


def test_every_account_is_sprayed_in_okta_and_entra(week):
    out, truth = week
    people = {
        r["actor"]["alternateId"].lower()
        for r in okta_records(out)
        if r["eventType"] == "user.session.start" and r["outcome"]["result"] == "SUCCESS"
    }
    items = _items(truth)
    okta = items[ows.OKTA_SPRAY]
    assert len(okta["src_ips"]) == 1
    assert okta["outcomes"]["bad_password"] == USERS
    assert people <= set(okta["users"])
    entra = items[ows.ENTRA_SPRAY]
    assert entra["outcomes"]["bad_password"] == USERS - 1 and entra["outcomes"]["mfa_required"] == 1
    assert len(entra["src_ips"]) >= 30 and len(entra["asns"]) >= 5 and len(entra["countries"]) >= 5
    # low and slow: a few accounts per address, at most two tries per address per hour
    sprayed = set(entra["src_ips"])
    per_hour, per_ip = Counter(), Counter()
    for r in graph_records(out):
        if r["ipAddress"] in sprayed:
            per_hour[(r["ipAddress"], r["createdDateTime"][:13])] += 1
            per_ip[r["ipAddress"]] += 1
    assert max(per_hour.values()) <= 2 and max(per_ip.values()) <= 9


def test_the_compromise_and_the_theft(week):
    out, truth = week
    items = _items(truth)
    excl = truth["exclusive"]
    (victim,) = excl["users"]
    (principal,) = excl["principals"]
    comp, theft = items[ows.COMPROMISE], items[ows.THEFT]
    attacker = comp["details"]["attacker_ip"]
    assert victim["user"] == comp["details"]["user"]
    assert victim["since"] == comp["details"]["validated_at"] < comp["first_seen"]
    assert comp["outcomes"] == {"mfa_required": 2, "success": 3}
    assert theft["src_ips"] == [attacker] and theft["principals"] == [principal["principal"]]
    assert principal["principal"].endswith("/" + victim["user"])
    # every shard, from the attacker's address, in CloudTrail and in the access logs
    ct = [
        r
        for r in cloudtrail_records(out)
        if r["eventName"] == "GetObject" and r["sourceIPAddress"] == attacker
    ]
    assert {r["requestParameters"]["key"] for r in ct} >= set(SHARDS)
    assert {r["userIdentity"]["arn"] for r in ct} == {principal["principal"]}
    lines = [
        line
        for p in sorted((out / "s3-access" / WEIGHTS_BUCKET).iterdir())
        for line in p.read_text().splitlines()
        if f" {attacker} " in line
    ]
    assert len(lines) == len(ct) == theft["details"]["objects"]
    assert theft["details"]["bytes"] > 30 * 2**30
    # the attacker's addresses are no one else's; the victim is not the only reader
    assert attacker in excl["src_ips"] and set(items[ows.OKTA_SPRAY]["src_ips"]) <= set(
        excl["src_ips"]
    )
    readers = {
        r["userIdentity"]["arn"]
        for r in cloudtrail_records(out)
        if r["eventName"] == "GetObject"
        and r["requestParameters"]["bucketName"] == WEIGHTS_BUCKET
        and "AWSReservedSSO" in r["userIdentity"]["arn"]
    }
    assert len(readers) >= 5 and principal["principal"] in readers


def test_registry_names_the_weights(week):
    out, truth = week
    reg = tomllib.loads((out / "crownwatch.toml").read_text())
    (weights,) = [a for a in reg["assets"] if a["name"] == "frontier-weights"]
    assert weights["kind"] == "model_weights"
    assert weights["locations"] == [f"s3://{WEIGHTS_BUCKET}/frontier/"]
    assert reg["organisation"]["own_accounts"] == [truth["org"]["aws_account"]]
    assert all(k.startswith("frontier/") for k in SHARDS)


def test_the_ordinary_week_is_the_demos():
    """Same seed, users and days: the benign sign-ins are exactly the demo's."""
    demo = build_world(seed=3, users=80, days=5)
    w, _log, camp = ows.build(seed=3, users=80, days=5)
    attacks = {i.id for i in demo.items.values() if i.malicious}
    ours = {i.id for i in w.items.values() if i.malicious}
    assert camp is not None and ours == {ows.OKTA_SPRAY, ows.ENTRA_SPRAY, ows.COMPROMISE, ows.THEFT}
    assert [e for e in w.signins if e.tag not in ours] == [
        e for e in demo.signins if e.tag not in attacks
    ]
    control, _, none = ows.build(seed=3, users=80, days=5, campaign=False)
    assert none is None and not any(i.malicious for i in control.items.values())
    assert [e for e in control.signins] == [e for e in w.signins if e.tag not in ours]


def _digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            out[str(p.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return out


def test_deterministic_and_control(tmp_path):
    a = ows.generate_org_wide_spray(tmp_path / "a", seed=5, users=70, days=5)
    b = ows.generate_org_wide_spray(tmp_path / "b", seed=5, users=70, days=5)
    assert a == b and _digest(tmp_path / "a") == _digest(tmp_path / "b")
    c = ows.generate_org_wide_spray(tmp_path / "c", seed=5, users=70, days=5, campaign=False)
    assert c["attacks"] == [] and c["exclusive"] == {}
    # the crown jewels are still read without the campaign
    recs = []
    for p in (tmp_path / "c" / "cloudtrail").rglob("*.json.gz"):
        recs += json.loads(gzip.decompress(p.read_bytes()))["Records"]
    assert any(
        r["eventName"] == "GetObject" and r["requestParameters"]["bucketName"] == WEIGHTS_BUCKET
        for r in recs
    )
    with pytest.raises(ValueError):
        ows.generate_org_wide_spray(tmp_path / "d", seed=5, users=70, days=4)
