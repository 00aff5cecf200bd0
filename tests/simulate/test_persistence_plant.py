"""The step after the way in, as the identity week writes it: the sprayed account that
got in mints an access key from the attacker's address, and an engineer nobody attacked
rotates a key from the office (the look-alike)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta

from crownwatch.simulate.persistence import ROLE


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _items(truth):
    return {i["id"]: i for i in truth["attacks"] + truth["benign"]}


def _calls(out, item) -> list[dict]:
    [rel] = item["files"]
    records = json.loads(gzip.decompress((out / rel).read_bytes()))["Records"]
    return [r for r in records if r["eventSource"] == "iam.amazonaws.com"]


def test_the_victim_mints_a_key_from_where_it_got_in(sim):
    out, truth = sim
    items = _items(truth)
    key, way_in = items["persistence-key-after-spray"], items["success-after-spray-okta"]
    assert key["malicious"] and key["related"] == ["success-after-spray-okta"]
    assert key["users"] == way_in["users"] and key["src_ips"] == way_in["src_ips"]
    assert _t(key["first_seen"]) - _t(way_in["last_seen"]) == timedelta(minutes=40)
    [rec] = _calls(out, key)
    assert rec["eventName"] == "CreateAccessKey" and "errorCode" not in rec
    assert rec["sourceIPAddress"] == key["src_ips"][0]
    assert rec["userIdentity"]["arn"].endswith(f"assumed-role/{ROLE}/{key['users'][0]}")
    created = rec["responseElements"]["accessKey"]
    assert rec["requestParameters"] == {"userName": "terraform-ci"}
    assert created["userName"] == "terraform-ci" and created["accessKeyId"].startswith("AKIA")


def test_the_rotation_is_someone_no_attack_touched_outside_the_sprayed_office(sim):
    out, truth = sim
    items = _items(truth)
    rot = items["benign-scheduled-key-rotation"]
    assert not rot["malicious"] and rot["events"] == 2
    attacked = {u for i in truth["attacks"] for u in i["users"]}
    assert not set(rot["users"]) & attacked
    offices = {o["nat_ip"]: o["key"] for o in truth["org"]["offices"]}
    assert offices[rot["src_ips"][0]] != "sf"  # its NAT sprayed Okta this week
    names = [r["eventName"] for r in _calls(out, rot)]
    assert names == ["CreateAccessKey", "DeleteAccessKey"]
