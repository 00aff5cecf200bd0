"""Scoring findings against the three simulators' truth manifests."""

from crownwatch.evaluate import account_rates, score


def finding(det, first="2026-03-02T10:00:00Z", last="2026-03-02T11:00:00Z", **entities):
    return {
        "id": f"cw-{det}",
        "detection": det,
        "first_seen": first,
        "last_seen": last,
        "entities": {k: list(v) for k, v in entities.items()},
    }


def test_identity_items_need_entity_and_time_overlap():
    truth = {
        "attacks": [
            {
                "id": "spray",
                "kind": "password_spray",
                "detection": "identity.password_spray",
                "src_ips": ["192.0.2.32"],
                "first_seen": "2026-03-03T09:00:00Z",
                "last_seen": "2026-03-03T09:30:00Z",
            }
        ],
        "benign": [
            {
                "id": "rotation",
                "kind": "benign",
                "detection": "identity.password_spray",
                "malicious": False,
                "src_ips": ["192.0.2.32"],
                "first_seen": "2026-03-02T09:00:00Z",
                "last_seen": "2026-03-02T11:00:00Z",
            }
        ],
    }
    # a spray from the office NAT on Tuesday is found and does not count against Monday
    f = finding(
        "identity.password_spray",
        "2026-03-03T09:00:00Z",
        "2026-03-03T09:30:00Z",
        src_ip=["192.0.2.32"],
    )
    verdicts = {s.item: s.verdict for s in score([f], truth)}
    assert verdicts == {"spray": "found", "rotation": "quiet"}
    # the same finding on Monday is a false positive and the spray is missed
    g = finding("identity.password_spray", src_ip=["192.0.2.32"])
    verdicts = {s.item: s.verdict for s in score([g], truth)}
    assert verdicts == {"spray": "MISSED", "rotation": "FALSE POSITIVE"}


def test_storage_list_expands_per_detection():
    truth = [
        {
            "attack": "bulk read",
            "detections": ["exfiltration.bulk_read", "exfiltration.first_access"],
            "principal": "arn:aws:sts::1:assumed-role/r/bob",
            "src_ip": "203.0.113.77",
        }
    ]
    f = finding("exfiltration.bulk_read", principal=["arn:aws:sts::1:assumed-role/r/bob"])
    got = {s.detection: s.verdict for s in score([f], truth)}
    assert got == {"exfiltration.bulk_read": "found", "exfiltration.first_access": "MISSED"}


def test_inference_manifest_maps_names_to_detections():
    truth = {
        "attacks": {"hydra": {"accounts": ["a1", "a2"]}},
        "benign_lookalikes": {"batch_pipeline": ["b1"]},
    }
    f = finding("inference.hydra_cluster", account=["a2"])
    fp = finding("inference.distillation_account", account=["b1"])
    got = {(s.item, s.detection): s.verdict for s in score([f, fp], truth)}
    assert got[("hydra", "inference.hydra_cluster")] == "found"
    assert got[("benign-batch_pipeline", "inference.distillation_account")] == "FALSE POSITIVE"
    assert got[("benign-batch_pipeline", "inference.hydra_cluster")] == "quiet"


def test_inference_account_rates_count_accounts_not_findings():
    truth = {
        "attacks": {"distiller": {"accounts": ["d1", "d2"]}, "hydra": {"accounts": ["h1", "h2"]}},
        "benign_lookalikes": {"batch_pipeline": ["b1"]},
        "benign": ["c1", "c2", "c3"],
    }
    findings = [
        finding("inference.distillation_account", account=["d1"]),
        finding("inference.distillation_account", account=["d1"]),
        finding("inference.hydra_cluster", account=["h1", "h2", "c3"]),
        finding("identity.password_spray", account=["c1"]),
    ]  # not an inference finding
    r = account_rates(findings, truth)
    assert (r["attack"]["flagged"], r["attack"]["accounts"]) == (3, 4)
    assert (
        r["attack_kinds"]["hydra"]["rate"] == 1.0 and r["attack_kinds"]["distiller"]["rate"] == 0.5
    )
    assert (r["benign"]["flagged"], r["benign"]["accounts"]) == (1, 4)
    assert r["benign_kinds"]["batch_pipeline"]["flagged"] == 0
    assert r["false_positive_accounts"] == ["c3"]
