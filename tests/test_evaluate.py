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


# ---- attack precision: which findings belong to one campaign --------------------------

ATTACKER, SPRAY, OFFICE = "203.0.113.9", "203.0.113.50", "192.0.2.32"
VICTIM_ARN = "arn:aws:sts::1:assumed-role/AWSReservedSSO_ML/alice.das@corp.example"
CAMPAIGN = {
    "attacks": [
        {
            "id": "spray",
            "kind": "password_spray",
            "detection": "identity.password_spray",
            "src_ips": [SPRAY],
            "users": ["alice.das@corp.example", "bob.li@corp.example"],
            "first_seen": "2026-03-03T01:00:00Z",
            "last_seen": "2026-03-03T02:00:00Z",
        },
        {
            "id": "compromise",
            "kind": "valid_account",
            "detection": "identity.success_after_spray",
            "src_ips": [ATTACKER],
            "users": ["alice.das@corp.example"],
            "first_seen": "2026-03-05T13:00:00Z",
            "last_seen": "2026-03-05T13:10:00Z",
        },
        {
            "id": "theft",
            "kind": "data_theft",
            "detection": "exfiltration.jewel_access_after_identity",
            "detections": [
                "exfiltration.jewel_access_after_identity",
                "exfiltration.bulk_read",
            ],
            "src_ips": [ATTACKER],
            "users": ["alice.das@corp.example"],
            "principals": [VICTIM_ARN],
            "assets": ["frontier-weights"],
            "first_seen": "2026-03-05T13:30:00Z",
            "last_seen": "2026-03-05T13:45:00Z",
        },
    ],
    "benign": [],
    "exclusive": {
        "src_ips": [SPRAY, ATTACKER],
        "users": [{"user": "alice.das@corp.example", "since": "2026-03-04T10:00:00Z"}],
        "principals": [{"principal": VICTIM_ARN, "since": "2026-03-04T10:00:00Z"}],
    },
}


def _f(fid, det, first, last, **entities):
    f = finding(det, first, last, **entities)
    f["id"] = fid
    return f


def test_a_finding_about_an_ordinary_sprayed_employee_never_belongs():
    from crownwatch.evaluate import attribute

    day3, day5 = "2026-03-03T01:30:00Z", "2026-03-05T13:20:00Z"
    findings = [
        # the spray itself: its address is the attack's alone
        _f("spray", "identity.password_spray", day3, day3, src_ip=[SPRAY], user=["a", "b", "c"]),
        # bob travels: the finding lists the spray's address and his hotel's: it is about bob
        _f(
            "bob",
            "identity.new_geo_after_spray",
            day3,
            day5,
            user=["bob.li"],
            src_ip=[SPRAY, "192.0.2.181"],
        ),
        # alice, after the compromise (keys compare: ALICE.DAS@corp.example is alice.das)
        _f("alice", "identity.success_after_spray", day3, day5, user=["ALICE.DAS@corp.example"]),
        # alice's own reads, all before the password was known
        _f(
            "early",
            "exfiltration.jewel_access_after_identity",
            day3,
            "2026-03-03T18:00:00Z",
            user=["alice.das"],
            principal=[VICTIM_ARN],
        ),
        _f("bulk", "exfiltration.bulk_read", day5, day5, principal=[VICTIM_ARN.upper()]),
        _f("other", "exfiltration.bulk_read", day5, day5, principal=["arn:aws:sts::1:x/bob"]),
        # bob's account guessed from the spray's address alone: that is the attack
        _f("guess", "identity.brute_force", day3, day3, user=["bob.li"], src_ip=[SPRAY]),
        # a cluster mostly of someone else's addresses
        _f(
            "mixed",
            "identity.distributed_spray",
            day3,
            day3,
            src_ip=[SPRAY, OFFICE, "198.51.100.7"],
            user=["a", "b"],
        ),
        _f("nothing", "identity.brute_force", day3, day3, host=["NW-DC01"]),
    ]
    got = {a.finding: a.belongs for a in attribute(findings, CAMPAIGN)}
    assert got == {
        "spray": True,
        "bob": False,
        "alice": True,
        "early": False,
        "bulk": True,
        "other": False,
        "guess": True,
        "mixed": False,
        "nothing": False,
    }


def test_attack_precision_counts_and_strict_recall():
    from crownwatch.evaluate import attack_precision

    day3 = "2026-03-03T01:30:00Z"
    spray = _f("spray", "identity.password_spray", day3, day3, src_ip=[SPRAY], user=["bob.li"])
    # a success-after-spray about bob (from his home) overlaps the compromise in time and
    # shares the spray's address: it must not make the compromise "found"
    bob = _f(
        "bob",
        "identity.success_after_spray",
        day3,
        "2026-03-05T13:05:00Z",
        user=["bob.li"],
        src_ip=[SPRAY, "198.18.0.7"],
    )
    res = attack_precision([spray, bob], CAMPAIGN)
    assert (res.findings, res.attack_findings, res.precision) == (2, 1, 0.5)
    verdicts = {s.item: s.verdict for s in res.items}
    assert verdicts == {
        "spray": "found",
        "compromise": "MISSED",
        "theft [exfiltration.jewel_access_after_identity]": "MISSED",
        "theft [exfiltration.bulk_read]": "MISSED",
    }
    assert res.recall == 0.25
    assert res.by_detection == {
        "identity.password_spray": {"findings": 1, "attack": 1},
        "identity.success_after_spray": {"findings": 1, "attack": 0},
    }
    alice = _f(
        "alice",
        "identity.success_after_spray",
        day3,
        "2026-03-05T13:05:00Z",
        user=["alice.das"],
        src_ip=[SPRAY, ATTACKER],
    )
    theft = _f(
        "theft",
        "exfiltration.jewel_access_after_identity",
        "2026-03-05T13:30:00Z",
        "2026-03-05T13:40:00Z",
        user=["alice.das"],
        principal=[VICTIM_ARN],
        asset=["frontier-weights"],
    )
    bulk = _f(
        "bulk",
        "exfiltration.bulk_read",
        "2026-03-05T13:30:00Z",
        "2026-03-05T13:40:00Z",
        principal=[VICTIM_ARN],
    )
    res = attack_precision([spray, alice, theft, bulk], CAMPAIGN)
    assert res.precision == 1.0 and res.recall == 1.0
    assert attack_precision([], CAMPAIGN).precision is None
