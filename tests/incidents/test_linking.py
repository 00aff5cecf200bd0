"""Incidents: what links findings into one intrusion, and what must not."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from crownwatch.incidents import derive
from crownwatch.incidents.evidence import lake_people


def finding(fid, detection, first, last, severity="high", attack=("T1110.003",), **entities):
    return {
        "id": fid,
        "detection": detection,
        "title": f"{detection} {fid}",
        "severity": severity,
        "first_seen": first,
        "last_seen": last,
        "attack": list(attack),
        "entities": {k: list(v) for k, v in entities.items()},
        "evidence": {},
        "status": "new",
    }


SPRAY_USERS = [f"user{i:02d}" for i in range(40)] + ["victim"]


def spray():
    return finding(
        "cw-spray",
        "identity.password_spray",
        "2026-03-03T02:00:00Z",
        "2026-03-03T02:30:00Z",
        user=SPRAY_USERS,
        src_ip=["203.0.113.6"],
    )


def success():
    return finding(
        "cw-success",
        "identity.success_after_spray",
        "2026-03-03T08:00:00Z",
        "2026-03-03T08:10:00Z",
        severity="critical",
        attack=("T1078", "T1110.003"),
        user=["victim"],
        src_ip=["198.51.100.222", "203.0.113.6"],
    )


def jewel_read():
    return finding(
        "cw-read",
        "exfiltration.bulk_read",
        "2026-03-03T09:00:00Z",
        "2026-03-03T09:30:00Z",
        attack=("T1530", "AML.T0048.004"),
        principal=["arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_R_1/victim@corp.example"],
        asset=["frontier-weights"],
        account=["111122223333"],
        src_ip=["198.51.100.222"],
    )


def groups(incs):
    return sorted(sorted(i["findings"]) for i in incs)


def test_spray_sign_in_and_the_weights_read_are_one_incident_in_kill_chain_order():
    incs = derive([jewel_read(), success(), spray()])
    assert groups(incs) == [["cw-read", "cw-spray", "cw-success"]]
    inc = incs[0]
    assert inc["stages"] == ["initial_access", "valid_accounts", "exfiltration"]
    assert [t["finding"] for t in inc["timeline"]] == ["cw-spray", "cw-success", "cw-read"]
    # high + critical findings and a chain from access to the data: critical
    assert inc["severity"] == "critical"
    assert "then" in inc["summary"] and "frontier-weights" in inc["summary"]
    # the principal joins through its person (the role session is victim's e-mail)
    assert any("person" in ln["why"] or "src_ip" in ln["why"] for ln in inc["links"])


def test_ids_are_stable_and_derivation_is_idempotent():
    a = derive([spray(), success(), jewel_read()])
    b = derive([jewel_read(), spray(), success()])
    assert a == b
    # a finding that joins later in time keeps the incident's id
    later = finding(
        "cw-later",
        "exfiltration.transfer_out",
        "2026-03-03T10:00:00Z",
        "2026-03-03T10:05:00Z",
        attack=("T1537",),
        principal=jewel_read()["entities"]["principal"],
        src_ip=["198.51.100.222"],
    )
    c = derive([spray(), success(), jewel_read(), later])
    assert c[0]["id"] == a[0]["id"] and "cw-later" in c[0]["findings"]


def _nat_findings():
    """Two strangers behind the office NAT on the same afternoon: a brute force
    against one, a new-country sign-in by another."""
    return [
        finding(
            "cw-bf",
            "identity.brute_force",
            "2026-03-04T13:00:00Z",
            "2026-03-04T13:20:00Z",
            attack=("T1110.001",),
            user=["alice"],
            src_ip=["192.0.2.32"],
        ),
        finding(
            "cw-geo",
            "identity.new_geo_after_spray",
            "2026-03-04T14:00:00Z",
            "2026-03-04T14:05:00Z",
            attack=("T1078",),
            user=["bob"],
            src_ip=["192.0.2.32"],
        ),
    ]


def test_the_same_address_alone_links_when_nothing_says_it_is_shared():
    # the control for the NAT test below: without popularity, one pinpoint address links
    assert groups(derive(_nat_findings())) == [["cw-bf", "cw-geo"]]


def test_unrelated_findings_behind_an_office_nat_do_not_merge(tmp_path):
    # the lake shows the NAT for what it is: thirty people sign in through it
    day = tmp_path / "lake" / "tables" / "authentication" / "day=2026-03-04"
    day.mkdir(parents=True)
    users = [f"person{i}" for i in range(30)]
    pq.write_table(
        pa.table(
            {
                "user": users + ["mallory"],
                "src_ip": ["192.0.2.32"] * 30 + ["203.0.113.9"],
                "reason": ["success"] * 31,
            }
        ),
        day / "part-0.parquet",
    )
    people = lake_people(tmp_path / "lake", {"192.0.2.32", "203.0.113.9"}, set())
    assert people == {("src_ip", "192.0.2.32"): 30, ("src_ip", "203.0.113.9"): 1}
    assert groups(derive(_nat_findings(), people)) == [["cw-bf"], ["cw-geo"]]


def test_popularity_reads_a_lake_whose_files_lack_the_columns_it_asks_of(tmp_path):
    """A file holds only its source's columns: an api_activity file with no `account`
    (Okta's admin events) and no `principal` must count as nobody, not fail the run."""
    day = tmp_path / "lake" / "tables" / "api_activity" / "day=2026-03-04"
    day.mkdir(parents=True)
    pq.write_table(
        pa.table({"src_ip": ["192.0.2.32"], "status": ["success"], "actor_user": ["ann"]}),
        day / "part-0.parquet",
    )
    people = lake_people(tmp_path / "lake", {"192.0.2.32"}, {"123456789012"})
    assert people == {}


def test_an_address_many_findings_name_for_different_people_does_not_link():
    fs = [
        finding(
            f"cw-{u}",
            "identity.brute_force",
            "2026-03-04T13:00:00Z",
            "2026-03-04T13:20:00Z",
            attack=("T1110.001",),
            user=[u],
            src_ip=["192.0.2.99"],
        )
        for u in ("ann", "ben", "cat", "dan", "eve")
    ]
    assert len(derive(fs)) == 5


def test_a_shared_bucket_and_cloud_account_are_context_not_a_link():
    a = jewel_read()
    b = finding(
        "cw-read2",
        "exfiltration.first_access",
        "2026-03-03T09:10:00Z",
        "2026-03-03T09:20:00Z",
        attack=("T1530",),
        principal=["sas:otherstorage"],
        asset=["frontier-weights"],
        account=["111122223333"],
        src_ip=["192.0.2.200"],
    )
    assert groups(derive([a, b])) == [["cw-read"], ["cw-read2"]]


def test_users_in_common_between_two_campaigns_do_not_merge_them():
    other = finding(
        "cw-stuffing",
        "identity.credential_stuffing",
        "2026-03-03T03:00:00Z",
        "2026-03-03T04:00:00Z",
        attack=("T1110.004",),
        user=SPRAY_USERS[:30],
        src_ip=[f"198.18.0.{i}" for i in range(40)],
    )
    assert groups(derive([spray(), other])) == [["cw-spray"], ["cw-stuffing"]]


def test_a_campaign_cannot_explain_a_sign_in_that_came_before_it():
    # stuffing two days later hits the same victim from an address the earlier
    # sign-in finding also lists: the stuffing did not lead to that sign-in
    late = finding(
        "cw-late",
        "identity.credential_stuffing",
        "2026-03-03T09:00:00Z",
        "2026-03-03T12:00:00Z",
        attack=("T1110.004",),
        user=SPRAY_USERS + ["zed"],
        src_ip=[f"198.18.1.{i}" for i in range(30)] + ["198.51.100.222"],
    )
    assert groups(derive([success(), late])) == [["cw-late"], ["cw-success"]]


def test_the_same_address_ten_days_apart_is_two_incidents():
    a = _nat_findings()[0]
    b = finding(
        "cw-bf2",
        "identity.brute_force",
        "2026-03-14T13:00:00Z",
        "2026-03-14T13:20:00Z",
        attack=("T1110.001",),
        user=["alice"],
        src_ip=["192.0.2.32"],
    )
    assert len(derive([a, b])) == 2


def test_a_finding_closed_as_false_positive_joins_no_incident():
    s = success()
    s["status"] = "false_positive"
    assert groups(derive([spray(), s])) == [["cw-spray"]]
