"""Microsoft Entra ID as it is archived and shipped: diagnostic-settings records of
every category (sign-ins and audit records read, the rest *skipped*, never
quarantined), sign-ins whose ``properties`` lack ``createdDateTime`` read by the
record's ``time``, files that start with an ``AuditLogs`` record, Log Analytics exports
of other tables, Graph sign-ins through Splunk HEC — and a password spray hidden among
audit records found beside its benign twin.

Fixtures: ``tests/fixtures/shipped/`` (README there); the unwrapped reference is
``tests/fixtures/entra``.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from crownwatch.sources import entra, sniff
from tests.conftest import FIXTURES, by_detection, hunt
from tests.fixtures.shipped.make_fixtures import diag, hec
from tests.sources.test_entra import rotation, spray

SH = FIXTURES / "shipped"
DIAG = SH / "entra_diagnostic_categories.jsonl"
HEC = SH / "entra_splunk_hec.jsonl"
GRAPH = FIXTURES / "entra" / "graph_signins.json"


def q(lake, table, cols, where="true"):
    return duckdb.sql(
        f"""SELECT {cols} FROM {lake.table_sql(table)}
            WHERE {where} ORDER BY raw_source, raw_offset"""
    ).fetchall()


def rows(lake, table):
    return duckdb.sql(
        f"""SELECT * EXCLUDE (raw_source, raw_offset)
            FROM {lake.table_sql(table)}
            ORDER BY ALL"""
    ).fetchall()


def test_every_category_is_read_or_skipped_never_quarantined(lake):
    assert DIAG.read_text().startswith('{"time": "2026-03-05T10:58:12.4431207Z"')
    assert '"category": "AuditLogs"' in DIAG.read_text().splitlines()[0]
    assert sniff(DIAG) is entra  # the first record is an audit record, not a sign-in
    (res,) = lake.ingest([DIAG])
    # 1 audit + 5 sign-ins read; service principal, managed identity, provisioning,
    # risky user skipped; 1 bad sign-in
    assert (res.source, res.read, res.routed_rows, res.skipped, res.quarantined) == (
        "entra",
        11,
        6,
        4,
        1,
    )
    assert res.rows == {"authentication": 5, "api_activity": 1}
    assert res.read == res.routed_rows + res.skipped + res.quarantined
    assert q(lake, "quarantine", "raw_offset, reason") == [(11, "unparseable createdDateTime")]
    # the user sign-in categories are read as sign-ins, and only they
    assert [r[0] for r in q(lake, "authentication", "raw_offset")] == [2, 3, 4, 5, 6]
    # the AuditLogs record (Microsoft's example: result 0, initiatedBy {}) as an API call
    assert q(lake, "api_activity", "raw_offset, api_operation, status, principal, raw_id") == [
        (1, "Update policy", "success", "MS-PIM", "Directory_VNXV4_28148892")
    ]
    services = {r[0] for r in q(lake, "authentication", "service")}
    assert "nw-train-orchestrator" not in services  # the workload identity's sign-ins


def test_sign_in_without_createddatetime_is_read_by_its_time(lake):
    signin = json.loads(GRAPH.read_text())["value"][4]
    lake.ingest([DIAG])
    ((time, reason, code, raw_id),) = q(
        lake, "authentication", "time, reason, status_code, raw_id", "raw_offset = 6"
    )
    assert raw_id == signin["id"]
    assert time.isoformat().startswith(signin["createdDateTime"][:19])
    assert code == str(signin["status"]["errorCode"])  # from the record's resultType


def test_well_formed_archive_quarantines_nothing(lake, tmp_path):
    f = tmp_path / "PT1H.json"
    f.write_text("".join(DIAG.read_text().splitlines(keepends=True)[:-1]))
    (res,) = lake.ingest([f])
    assert (res.read, res.routed_rows, res.skipped, res.quarantined) == (10, 6, 4, 0)


def test_a_file_of_audit_records_only_is_entras_and_read(lake, tmp_path):
    audit = json.loads(DIAG.read_text().splitlines()[0])
    f = tmp_path / "PT1H.json"
    f.write_text(json.dumps({"records": [audit, dict(audit, time="2026-03-05T11:58:00Z")]}))
    assert sniff(f) is entra
    (res,) = lake.ingest([f])
    assert (res.source, res.read, res.skipped, res.routed_rows, res.quarantined) == (
        "entra",
        2,
        0,
        2,
        0,
    )
    assert res.rows["api_activity"] == 2


def test_log_analytics_tables_that_are_not_user_sign_ins_or_audits_are_skipped(lake, tmp_path):
    la = json.loads((FIXTURES / "entra" / "SigninLogs.json").read_text())
    keep = la[0]
    other = [
        dict(keep, Type="AADServicePrincipalSignInLogs", Category="ServicePrincipalSignInLogs"),
        dict(keep, Type="AADManagedIdentitySignInLogs", Category="ManagedIdentitySignInLogs"),
        {
            "TimeGenerated": "2026-03-03T09:01:00Z",
            "OperationName": "Add user",
            "Category": "UserManagement",
            "Result": "success",
            "ActivityDisplayName": "Add user",
            "Type": "AuditLogs",
        },
    ]
    f = tmp_path / "export.json"
    f.write_text(json.dumps(other + [keep]))
    assert sniff(f) is entra
    (res,) = lake.ingest([f])
    assert (res.read, res.skipped, res.routed_rows, res.quarantined) == (4, 2, 2, 0)
    assert q(lake, "api_activity", "api_operation, status") == [("Add user", "success")]
    # an audit-only export is claimed, not left unrecognised
    audit = tmp_path / "AuditLogs.json"
    audit.write_text(json.dumps([other[2]]))
    assert sniff(audit) is entra


def test_graph_service_principal_sign_ins_are_skipped(lake, tmp_path):
    user = json.loads(GRAPH.read_text())["value"][1]
    sp = dict(
        user,
        id="8f3b4c2d-1e5a-4b6c-9d7e-0f1a2b3c4d5f",
        userPrincipalName=None,
        userId=None,
        servicePrincipalName="nw-train-orchestrator",
        signInEventTypes=["servicePrincipal"],
    )
    f = tmp_path / "signins.jsonl"
    f.write_text(json.dumps(dict(user, signInEventTypes=["interactiveUser"])) + "\n")
    f.write_text(f.read_text() + json.dumps(sp) + "\n")
    (res,) = lake.ingest([f])
    assert (res.read, res.routed_rows, res.skipped) == (2, 1, 1)


def test_graph_sign_ins_through_splunk_hec(lake, tmp_path):
    assert sniff(HEC) is entra
    (res,) = lake.ingest([HEC])
    assert (res.read, res.routed_rows, res.quarantined) == (11, 10, 1)
    assert q(lake, "quarantine", "raw_offset, reason") == [(11, "Splunk HEC event: malformed JSON")]
    shipped = rows(lake, "authentication")
    from crownwatch.lake import Lake

    bare = Lake(tmp_path / "bare")
    bare.ingest([GRAPH])
    assert shipped == rows(bare, "authentication")


# -- a spray among the audit records of a diagnostic-settings archive ------------------

DET = "identity.password_spray"


def _archive(tmp_path, signins):
    """Storage-account lines: an audit record between every sign-in, and the sign-ins'
    time stated only by the record (as some pipelines trim ``properties``)."""
    audit = json.loads(DIAG.read_text().splitlines()[0])
    out = []
    for s in signins:
        s = dict(s)
        when = s.pop("createdDateTime")
        out.append(dict(audit, time=when))
        out.append(
            diag(
                "SignInLogs",
                when,
                "Sign-in activity",
                s,
                resultType=str(s["status"]["errorCode"]),
            )
        )
    f = tmp_path / "PT1H.json"
    f.write_text("".join(json.dumps(r) + "\n" for r in out))
    return f


@pytest.mark.parametrize("twin", [False, True])
def test_spray_among_audit_records(lake, tmp_path, twin):
    f = _archive(tmp_path, rotation() if twin else spray())
    found = by_detection(hunt(lake, f, only=[DET]), DET)
    if twin:
        assert found == []
        return
    (fd,) = found
    assert fd["entities"]["src_ip"] == ["45.61.140.7"]
    assert len(fd["entities"]["user"]) >= 25


def test_entra_sniff_leaves_other_sources_alone():
    for name in ("cloudtrail_sentinel.json", "okta_sentinel_Okta_CL.json", "okta_splunk_hec.jsonl"):
        assert not entra.sniff((SH / name).read_text()[:4096]), name
    # Azure Activity log records carry category "Policy" too, but are not Entra ID's
    activity = {
        "time": "2026-03-05T11:00:00Z",
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/X",
        "operationName": "Microsoft.Authorization/policies/audit/action",
        "category": "Policy",
    }
    assert not entra.sniff(json.dumps(activity))
    assert not entra.sniff(json.dumps(hec(activity, activity["time"], "azure:monitor", "x")))
