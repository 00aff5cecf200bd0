"""The planted attacks and benign look-alikes are in the files, as the truth says."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime

from crownwatch.simulate.identity import generate_identity
from tests.simulate.helpers import file_text, graph_records, la_rows, okta_records


def _items(truth):
    return {i["id"]: i for i in truth["attacks"] + truth["benign"]}


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_truth_lists_every_item_with_files(sim):
    out, truth = sim
    items = _items(truth)
    expected = {
        "spray-okta-vps",
        "spray-okta-office-nat",
        "spray-ad-kerberos",
        "spray-entra-distributed",
        "stuffing-okta",
        "bruteforce-ssh-root",
        "bruteforce-aws-iam",
        "bruteforce-windows-rdp",
        "success-after-spray-okta",
        "mfa-after-spray-entra",
        "new-country-after-spray",
        "benign-office-password-rotation",
        "benign-service-stale-password",
        "benign-travel-new-country",
    }
    assert expected <= set(items)
    assert json.loads((out / "truth.json").read_text()) == truth
    for item in items.values():
        assert item["events"] > 0 and item["files"] and item["src_ips"] and item["first_seen"], (
            item["id"]
        )
        for rel in item["files"]:
            text = file_text(out, rel)
            assert any(v in text for v in item["src_ips"] + item["users"]), (item["id"], rel)
    for a in truth["attacks"]:
        assert a["malicious"] and all(t.startswith("T") for t in a["technique"])


def test_single_source_sprays(sim):
    _, truth = sim
    items = _items(truth)
    for key in ("spray-okta-vps", "spray-okta-office-nat", "spray-ad-kerberos"):
        s = items[key]
        assert len(s["src_ips"]) == 1 and len(s["users"]) >= 40, key
        assert s["events"] <= 2 * len(s["users"])
        assert (_t(s["last_seen"]) - _t(s["first_seen"])).total_seconds() <= 35 * 60
    nat = items["spray-okta-office-nat"]
    rot = items["benign-office-password-rotation"]
    assert nat["src_ips"] == rot["src_ips"]
    assert _t(nat["first_seen"]).date() != _t(rot["first_seen"]).date()


def test_distributed_spray_is_low_and_slow(sim):
    out, truth = sim
    d = _items(truth)["spray-entra-distributed"]
    assert len(d["src_ips"]) >= 30 and len(d["asns"]) >= 3 and len(d["countries"]) >= 3
    assert (_t(d["last_seen"]) - _t(d["first_seen"])).total_seconds() >= 36 * 3600
    assert set(d["files"]) == {"entra/signins_graph.json", "entra/SigninLogs.json"}
    ips = set(d["src_ips"])
    per_ip_hour = Counter()
    uas = set()
    for r in graph_records(out):
        if r["ipAddress"] in ips:
            per_ip_hour[(r["ipAddress"], r["createdDateTime"][:13])] += 1
            uas.add(r["userAgent"])
    for r in la_rows(out):
        if r["IPAddress"] in ips:
            per_ip_hour[(r["IPAddress"], r["CreatedDateTime"][:13])] += 1
            uas.add(r["UserAgent"])
    assert sum(per_ip_hour.values()) == d["events"]
    assert max(per_ip_hour.values()) <= 2
    assert len(uas) == 1


def test_stuffing_and_brute_force(sim):
    out, truth = sim
    items = _items(truth)
    st = items["stuffing-okta"]
    assert (
        len(st["src_ips"]) >= 30
        and st["outcomes"]["unknown_user"] > 50
        and len(st["outcomes"]) >= 3
    )
    for key in ("bruteforce-ssh-root", "bruteforce-aws-iam", "bruteforce-windows-rdp"):
        b = items[key]
        assert len(b["users"]) == 1 and len(b["src_ips"]) == 1 and b["events"] >= 50, key
    # sshd: repeated failures are folded, and the attempts add up
    ip = items["bruteforce-ssh-root"]["src_ips"][0]
    attempts = 0
    for line in (out / "linux/auth.log").read_text().splitlines():
        if ip in line and "Failed password for root" in line:
            attempts += (
                int(line.split("message repeated ")[1].split()[0])
                if "message repeated" in line
                else 1
            )
    assert attempts == items["bruteforce-ssh-root"]["events"]


def test_post_spray_logins(sim):
    out, truth = sim
    items = _items(truth)
    s = items["success-after-spray-okta"]
    spray = items["spray-okta-vps"]
    assert set(s["users"]) <= set(spray["users"]) and not set(s["src_ips"]) & set(spray["src_ips"])
    assert s["outcomes"].get("success") and _t(s["first_seen"]) > _t(spray["last_seen"])
    m = items["mfa-after-spray-entra"]
    dist = items["spray-entra-distributed"]
    assert set(m["users"]) <= set(dist["users"]) and not set(m["src_ips"]) & set(dist["src_ips"])
    assert {"mfa_required", "ca_blocked"} <= set(m["outcomes"])
    # first-seen country: no earlier sign-in by that user from that country, no failure from that IP
    nc = items["new-country-after-spray"]
    assert set(nc["users"]) <= set(dist["users"]) and nc["outcomes"] == {"success": nc["events"]}
    user, country = nc["users"][0], nc["countries"][0]
    seen = defaultdict(set)
    for r in graph_records(out):
        if r["userPrincipalName"].lower() == user and r["createdDateTime"] < nc["first_seen"]:
            seen["country"].add(r["location"]["countryOrRegion"])
            seen["asn"].add(r["autonomousSystemNumber"])
    for r in la_rows(out):
        if r["UserPrincipalName"].lower() == user and r["CreatedDateTime"] < nc["first_seen"]:
            seen["country"].add(r["LocationDetails"]["countryOrRegion"])
            seen["asn"].add(r["AutonomousSystemNumber"])
    assert seen["country"] and country not in seen["country"] and nc["asns"][0] not in seen["asn"]


def test_benign_lookalikes(sim):
    out, truth = sim
    items = _items(truth)
    rot = items["benign-office-password-rotation"]
    assert len(rot["users"]) >= 25 and rot["outcomes"]["success"] == len(rot["users"])
    svc = items["benign-service-stale-password"]
    assert len(svc["users"]) == 1 and svc["events"] >= 30
    assert (_t(svc["last_seen"]) - _t(svc["first_seen"])).total_seconds() >= 3 * 3600
    tr = items["benign-travel-new-country"]
    assert tr["countries"] == ["JP"] and set(tr["outcomes"]) == {"success"}
    hotel = set(tr["src_ips"])
    fails = [
        r
        for r in okta_records(out)
        if r["client"]["ipAddress"] in hotel and r["outcome"]["result"] != "SUCCESS"
    ]
    assert not fails


def test_outcome_counts_sensible(sim):
    _, truth = sim
    c = truth["counts"]["by_outcome"]
    total = sum(c.values())
    assert c["success"] / total > 0.8
    assert 0.02 < c["bad_password"] / total < 0.15
    for k in ("unknown_user", "locked", "disabled", "expired", "mfa_required", "ca_blocked"):
        assert c.get(k, 0) > 0, k
    assert set(truth["counts"]["by_system"]) == {"okta", "entra", "aws", "linux", "windows"}
    assert sum(f["signins"] for f in truth["files"].values()) == truth["counts"]["signins"]


def test_deterministic_and_format_subset(tmp_path):
    a = generate_identity(tmp_path / "a", seed=3, users=80, days=3)
    b = generate_identity(tmp_path / "b", seed=3, users=80, days=3)
    assert a == b
    fa = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    fb = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert fa == fb
    for rel in fa:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    c = generate_identity(
        tmp_path / "c", seed=4, users=80, days=3, formats=("okta",), attacks=False
    )
    assert not c["attacks"] and set(c["files"]) == {"okta/system_log.jsonl", "okta/api_page.json"}
    assert (tmp_path / "c/okta/system_log.jsonl").read_bytes() != (
        tmp_path / "a/okta/system_log.jsonl"
    ).read_bytes()
