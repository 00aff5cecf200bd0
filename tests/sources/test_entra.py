"""Microsoft Entra ID sign-ins: Graph pages and JSON lines, Log Analytics SigninLogs
(dynamic columns as objects *and* as JSON strings), diagnostic-settings records,
every error-code mapping, quarantine, sniffing, and a password spray through the
real detection next to its benign twin.

Fixtures: see ``tests/fixtures/entra/README.md`` (Microsoft's documented ``List
signIns`` response, the ``SigninLogs`` / ``AADNonInteractiveUserSignInLogs`` column
reference, and the diagnostic-settings record layout).
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from crownwatch.sources import cloudtrail, entra, okta, sniff
from tests.conftest import FIXTURES, by_detection, hunt

D = FIXTURES / "entra"
GRAPH = D / "graph_signins.json"
GRAPH_LINES = D / "graph_signins.jsonl"
SIGNINLOGS = D / "SigninLogs.json"
EXPORT = D / "signinlogs_export.jsonl"
DIAG = D / "diagnostic_eventhub.json"


def q(lake, table, cols, where="true"):
    return duckdb.sql(
        f"SELECT {cols} FROM {lake.table_sql(table)} WHERE {where} ORDER BY raw_source, raw_offset"
    ).fetchall()


def test_sniff_entra_not_okta_not_cloudtrail(tmp_path):
    for f in (GRAPH, GRAPH_LINES, SIGNINLOGS, EXPORT, DIAG):
        assert sniff(f) is entra, f
    renamed = tmp_path / "export.dat"
    shutil.copy(SIGNINLOGS, renamed)
    assert sniff(renamed) is entra
    # and the other way round: Okta and CloudTrail files are not Entra
    for f in (FIXTURES / "okta" / "system_log.jsonl", FIXTURES / "okta" / "api_page.json"):
        assert not entra.sniff(f.read_text()[:4096])
        assert sniff(f) is okta
    assert not entra.sniff((FIXTURES / "cloudtrail" / "console_signins.json").read_text()[:4096])
    assert sniff(FIXTURES / "cloudtrail" / "console_signins.json") is cloudtrail
    assert not okta.sniff(GRAPH.read_text()[:4096])
    # a Graph directoryAudits page is Entra's too: its audit records (test_entra_audit.py)
    audits = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
        "value": [
            {
                "id": "Directory_ABC",
                "category": "UserManagement",
                "activityDateTime": "2026-03-02T07:00:00Z",
                "activityDisplayName": "Add user",
                "initiatedBy": {"user": {"userPrincipalName": "a@contoso.com"}},
            }
        ],
    }
    assert entra.sniff(json.dumps(audits)) and not okta.sniff(json.dumps(audits))


EXPECTED = {
    # raw_id suffix → (reason, status_code)
    "66ea54eb-6301-4ee5-be62-ff5a759b0100": ("success", "0"),  # Microsoft's documented example
    "3b01": ("bad_password", "50126"),
    "3b02": ("unknown_user", "50034"),
    "3b03": ("locked", "50053"),
    "3b04": ("disabled", "50057"),
    "3b05": ("expired", "50055"),
    "3b06": ("mfa_required", "50074"),
    "3b07": ("mfa_required", "500121"),
    "3b08": ("ca_blocked", "53003"),
    "3b09": ("other", "50140"),
    "3b21": ("success", "0"),
    "3b22": ("unknown_user", "50128"),
    "3b23": ("expired", "50144"),
    "3b24": ("mfa_required", "50076"),
    "3b25": ("mfa_required", "50079"),
    "3b26": ("mfa_required", "50072"),
    "3b27": ("ca_blocked", "53000"),
    "3b28": ("ca_blocked", "53001"),
    "3b29": ("ca_blocked", "53002"),
    "3b30": ("bad_password", "50126"),
}


def test_every_error_code_maps_to_its_reason(lake):
    res = lake.ingest([GRAPH, SIGNINLOGS])
    assert [(r.source, r.read, r.quarantined) for r in res] == [("entra", 10, 0), ("entra", 10, 0)]
    got = {
        raw_id[-4:] if raw_id.startswith("0b5a") else raw_id: (reason, code)
        for raw_id, reason, code in q(lake, "authentication", "raw_id, reason, status_code")
    }
    assert got == EXPECTED
    # success/failure follows the reason
    assert q(lake, "authentication", "DISTINCT status", "reason = 'success'") == [("success",)]
    assert {r[0] for r in q(lake, "authentication", "status", "reason <> 'success'")} == {"failure"}


def test_mapping_table_is_the_documented_one():
    doc = entra.__doc__
    for codes in entra.REASON_CODES.values():
        for c in codes:
            assert c in doc, c


def test_graph_fields(lake):
    lake.ingest([GRAPH])
    (row,) = q(
        lake,
        "authentication",
        'time, "user", user_uid, src_ip, src_asn, src_country, src_city, service, auth_protocol,'
        " status_detail, session_uid, raw_offset",
        "raw_offset = 0",
    )
    assert str(row[0]) == "2020-03-13 19:15:41.619583+00:00"
    assert row[1:] == (
        "testaccount1",
        "26be570a-ae82-4189-b4e2-a37c6808512d",
        "131.107.159.37",
        None,
        "US",
        "Redmond",
        "Graph explorer",
        "browser",
        None,
        "d79f5bee-5860-4832-928f-3133e22ae912",
        0,
    )
    # the unknown user keeps the name that was typed; the all-zero object id is no id
    assert q(lake, "authentication", '"user", user_raw, user_uid', "reason = 'unknown_user'") == [
        ("admin", "admin@contoso.com", None)
    ]


def test_loganalytics_dynamic_columns_as_objects_or_strings(lake):
    lake.ingest([SIGNINLOGS])
    got = q(lake, "authentication", "raw_offset, src_asn, src_country, src_city, status_detail")
    by = {r[0]: r[1:] for r in got}
    # AutonomousSystemNumber is a string column in Log Analytics
    assert by[0] == (8075, "US", "Seattle", "Other.")
    # LocationDetails / Status as JSON strings (AADNonInteractiveUserSignInLogs typing)
    assert by[3][:3] == (3320, "DE", "Frankfurt am Main")
    assert by[4][2] == "Frankfurt am Main"
    assert by[4][3].startswith("Due to a configuration change")  # from the Status string
    # a dynamic string that is not JSON costs only that field, not the row
    assert by[9][1:3] == (None, None)
    assert (
        str(q(lake, "authentication", "time", "raw_offset = 0")[0][0])
        == "2026-03-03 09:00:00.555000+00:00"
    )


def test_json_lines_quarantine_and_counts(lake):
    (res,) = lake.ingest([GRAPH_LINES])
    assert res.read == 7  # blank line is not a record
    assert (res.routed_rows, res.quarantined) == (2, 5)
    assert res.read == res.routed_rows + res.quarantined
    assert q(lake, "quarantine", "raw_offset, reason") == [
        (3, "malformed JSON"),
        (4, "unparseable createdDateTime"),
        (6, "missing createdDateTime"),
        (7, "missing status.errorCode"),
        (8, "JSON record is not an object"),
    ]
    # beta properties: ASN and protocol
    assert q(lake, "authentication", "src_asn, auth_protocol, reason") == [
        (8075, "browser", "success"),
        (14061, "ropc", "bad_password"),
    ]


def test_signinlogs_data_export_lines(lake):
    (res,) = lake.ingest([EXPORT])
    assert (res.read, res.routed_rows, res.quarantined) == (4, 2, 2)
    assert q(lake, "quarantine", "raw_offset, reason") == [
        (3, "unparseable TimeGenerated"),
        (4, "missing ResultType"),
    ]


def test_diagnostic_settings_records(lake, tmp_path):
    (res,) = lake.ingest([DIAG])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("entra", 2, 2, 0)
    assert q(lake, "authentication", '"user", reason, src_country') == [
        ("megan.bowen", "bad_password", "DE"),
        ("megan.bowen", "success", "DE"),
    ]
    # the same records one per line, as a storage-account archive writes them
    lines = tmp_path / "PT1H.json"
    lines.write_text("".join(json.dumps(r) + "\n" for r in json.loads(DIAG.read_text())["records"]))
    (res,) = lake.ingest([lines])
    assert (res.source, res.read, res.routed_rows) == ("entra", 2, 2)


def test_mixed_file_and_gzip(lake, tmp_path):
    graph_line = json.dumps(json.loads(GRAPH.read_text())["value"][1])
    la_line = json.dumps(json.loads(SIGNINLOGS.read_text())[1])
    mixed = tmp_path / "mixed.jsonl.gz"
    mixed.write_bytes(gzip.compress((graph_line + "\n" + la_line + "\nnot json\n").encode()))
    (res,) = lake.ingest([mixed])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("entra", 3, 2, 1)
    assert q(lake, "authentication", "raw_offset, reason") == [
        (1, "bad_password"),
        (2, "unknown_user"),
    ]


def test_truncated_gzip_graph_page_keeps_complete_records(lake, tmp_path):
    data = gzip.compress(GRAPH.read_bytes())
    cut = tmp_path / "signins_page.json.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    (res,) = lake.ingest([cut])
    assert (res.source, res.status, res.quarantined) == ("entra", "ingested", 1)
    assert res.read == res.routed_rows + 1 and res.routed_rows >= 2
    assert [r[0] for r in q(lake, "authentication", "raw_offset")] == list(range(res.routed_rows))
    assert "truncated" in q(lake, "quarantine", "reason")[0][0]


def test_reingest_is_idempotent(lake, tmp_path):
    lake.ingest([GRAPH, SIGNINLOGS])
    before = len(q(lake, "authentication", "1"))
    copy = tmp_path / "same.json"
    shutil.copy(GRAPH, copy)
    assert [r.status for r in lake.ingest([GRAPH, copy, SIGNINLOGS])] == ["duplicate"] * 3
    assert len(q(lake, "authentication", "1")) == before


# -- a spray and its benign twin, through identity.password_spray --------------------

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _signin(
    n: int, t: datetime, user: str, ip: str, code: int, asn: int, cc: str, city: str
) -> dict:
    """A Graph beta signIn as the API returns it (fields as in the fixtures)."""
    return {
        "id": f"5e0c7a1b-2d3f-4a6e-8b9c-{n:012d}",
        "createdDateTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "userDisplayName": user.split("@")[0],
        "userPrincipalName": user,
        "userId": f"7a3c1e2d-4b5f-4c6a-9d8e-{n:012d}",
        "appId": "1950a258-227b-4e31-a9cf-717495945fc2",
        "appDisplayName": "Microsoft Azure PowerShell",
        "ipAddress": ip,
        "clientAppUsed": "Mobile Apps and Desktop clients",
        "correlationId": f"c0ffee00-1111-4222-8333-{n:012d}",
        "conditionalAccessStatus": "notApplied",
        "isInteractive": True,
        "resourceDisplayName": "Windows Azure Service Management API",
        "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "authenticationProtocol": "ropc",
        "autonomousSystemNumber": asn,
        "userAgent": "python-requests/2.31.0",
        "status": {
            "errorCode": code,
            "failureReason": "Error validating credentials due to invalid username or password."
            if code
            else "Other.",
            "additionalDetails": None,
        },
        "location": {
            "city": city,
            "state": None,
            "countryOrRegion": cc,
            "geoCoordinates": {"altitude": None, "latitude": 0.0, "longitude": 0.0},
        },
        "appliedConditionalAccessPolicies": [],
    }


def spray(ip="45.61.140.7"):
    """One address, 25 accounts, one password each; two trip smart lockout."""
    out = [
        _signin(
            i,
            T0 + timedelta(seconds=37 * i),
            f"user{i:02d}@contoso.com",
            ip,
            50053 if i in (7, 19) else 50126,
            14061,
            "NL",
            "Amsterdam",
        )
        for i in range(25)
    ]
    out.append(
        _signin(
            99,
            T0 + timedelta(seconds=999),
            "nosuch.admin@contoso.com",
            ip,
            50034,
            14061,
            "NL",
            "Amsterdam",
        )
    )
    return out


def rotation(ip="198.51.100.1"):
    """Monday after a forced password change: 25 people mistype the new password once
    at the office, then get in from the same NAT."""
    out = []
    for i in range(25):
        t = T0 + timedelta(seconds=53 * i)
        out.append(
            _signin(1000 + 2 * i, t, f"staff{i:02d}@contoso.com", ip, 50126, 8075, "US", "Seattle")
        )
        out.append(
            _signin(
                1001 + 2 * i,
                t + timedelta(seconds=45),
                f"staff{i:02d}@contoso.com",
                ip,
                0,
                8075,
                "US",
                "Seattle",
            )
        )
    return out


def page(events):
    return json.dumps(
        {
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
            "value": sorted(events, key=lambda e: e["createdDateTime"], reverse=True),
        }
    )


def test_password_spray_fires_on_entra_spray(lake, tmp_path):
    f = tmp_path / "signins.json"
    f.write_text(page(spray()))
    findings = by_detection(
        hunt(lake, f, only=["identity.password_spray"]), "identity.password_spray"
    )
    assert len(findings) == 1
    (fd,) = findings
    assert fd["entities"]["src_ip"] == ["45.61.140.7"]
    assert len(fd["entities"]["user"]) >= 25
    assert fd["evidence"]["unknown_user_attempts"] == 1 and fd["evidence"]["locked_attempts"] == 2


def test_password_spray_quiet_on_benign_twin(lake, tmp_path):
    f = tmp_path / "signins.json"
    f.write_text(page(rotation()))
    assert (
        by_detection(hunt(lake, f, only=["identity.password_spray"]), "identity.password_spray")
        == []
    )


@pytest.mark.parametrize("fmt", ["loganalytics"])
def test_password_spray_fires_on_signinlogs_too(lake, tmp_path, fmt):
    rows = []
    for g in spray("45.61.140.9"):
        rows.append(
            {
                "TimeGenerated": g["createdDateTime"],
                "Category": "SignInLogs",
                "OperationName": "Sign-in activity",
                "ResultType": str(g["status"]["errorCode"]),
                "ResultDescription": g["status"]["failureReason"],
                "UserPrincipalName": g["userPrincipalName"],
                "UserId": g["userId"],
                "IPAddress": g["ipAddress"],
                "Location": "NL",
                "LocationDetails": json.dumps(g["location"]),
                "AutonomousSystemNumber": "14061",
                "AppDisplayName": g["appDisplayName"],
                "Id": g["id"],
                "CorrelationId": g["correlationId"],
                "Status": g["status"],
                "Type": "SigninLogs",
            }
        )
    f = tmp_path / "SigninLogs.json"
    f.write_text(json.dumps(rows))
    (fd,) = by_detection(hunt(lake, f, only=["identity.password_spray"]), "identity.password_spray")
    assert fd["entities"]["src_ip"] == ["45.61.140.9"]
