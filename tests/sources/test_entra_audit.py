"""Microsoft Entra ID audit logs into ``api_activity``: Graph ``directoryAudit`` pages
and JSON lines, diagnostic-settings ``AuditLogs`` records, Log Analytics ``AuditLogs``
rows (dynamic columns as objects and as JSON text) — the persistence steps arriving
intact with their targets and modified properties, every layout giving the same row,
quarantine with reasons, files that mix sign-ins and audits, shipped envelopes, and
hostile values.

Fixtures: ``tests/fixtures/entra/make_audits.py`` writes them (README.md there).
"""

from __future__ import annotations

import gzip
import json
import shutil

import duckdb
import pytest

from crownwatch.sources import cloudtrail, entra, gcs_audit, okta, sniff
from tests.conftest import FIXTURES
from tests.fixtures.entra import make_audits
from tests.fixtures.shipped.make_fixtures import es_hit, hec

D = FIXTURES / "entra"
PAGE = D / "graph_directory_audits.json"
LINES = D / "directory_audits.jsonl"
DIAG = D / "diagnostic_auditlogs.json"
LA = D / "AuditLogs.json"
LA_LINES = D / "auditlogs_export.jsonl"
AUDIT_FIXTURES = (PAGE, LINES, DIAG, LA, LA_LINES)

# what an analyst reads of a row, and what every layout must agree on
ROW = (
    "api_operation, api_service, principal, principal_type, actor_user, src_ip, user_agent,"
    " resource, target_type, target_id, target_user, status, error_code, status_detail,"
    " correlation_id, modified_properties, time"
)


def q(lake, table, cols, where="true", order="raw_source, raw_offset"):
    return duckdb.sql(
        f"""SELECT {cols} FROM {lake.table_sql(table)}
            WHERE {where} ORDER BY {order}"""
    ).fetchall()


def by_id(lake, cols=ROW, where="true"):
    return {r[0]: r[1:] for r in q(lake, "api_activity", f"raw_id, {cols}", where)}


def props(lake, operation, actor="megan.bowen"):
    ((text,),) = q(
        lake,
        "api_activity",
        "modified_properties",
        f"api_operation = '{operation}' AND actor_user = '{actor}'",
    )
    return {p["name"]: p for p in json.loads(text)}


def test_sniffed_as_entra_by_content_not_name(tmp_path):
    for f in AUDIT_FIXTURES:
        assert sniff(f) is entra, f
        renamed = tmp_path / f"export-{f.stem}.dat"
        shutil.copy(f, renamed)
        assert sniff(renamed) is entra, f
        head = f.read_text()[:4096]
        for other in (okta, cloudtrail, gcs_audit):
            assert not other.sniff(head), (other.NAME, f)
    # a bare directoryAudit object (no page, no category) is still recognised
    assert entra.sniff(json.dumps(make_audits.story()[0]))
    # and Intune's auditEvent, which also has activityDateTime, is not
    intune = {
        "id": "x",
        "activityDateTime": "2026-03-05T11:00:00Z",
        "activity": "Wipe",
        "actor": {},
    }
    assert not entra.sniff(json.dumps(intune))


def test_graph_page_counts_and_provenance(lake):
    (res,) = lake.ingest([PAGE])
    assert (res.source, res.read, res.routed_rows, res.skipped, res.quarantined) == (
        "entra",
        12,
        12,
        0,
        0,
    )
    assert res.rows["api_activity"] == 12 and res.rows["authentication"] == 0
    page = json.loads(PAGE.read_text())["value"]
    # raw_offset is the index in "value", raw_id the audit id
    assert q(lake, "api_activity", "raw_offset, raw_id") == [
        (i, r["id"]) for i, r in enumerate(page)
    ]
    assert q(lake, "api_activity", "DISTINCT source, cloud", order="1") == [("entra", "azure")]


PERSISTENCE = (
    "User registered security info",
    "Consent to application",
    "Add service principal credentials",
    "Update application – Certificates and secrets management ",
    "Add member to role",
    "Set domain authentication",
    "Set federation settings on domain",
)


def test_persistence_steps_arrive_intact(lake):
    lake.ingest([PAGE])
    attacker = q(
        lake,
        "api_activity",
        "api_operation, principal, actor_user, src_ip, status",
        "actor_user = 'megan.bowen'",
    )
    # every step, its name verbatim (en dash and trailing space included), by the
    # sprayed account from the spraying address
    assert sorted(r[0] for r in attacker) == sorted(PERSISTENCE)
    assert {r[1:] for r in attacker} == {
        ("megan.bowen@contoso.com", "megan.bowen", "203.0.113.77", "success")
    }

    assert q(
        lake,
        "api_activity",
        "api_service, target_user, target_type, status_detail, modified_properties",
        "api_operation = 'User registered security info'",
    ) == [
        (
            "Authentication Methods",
            "megan.bowen",
            "User",
            "User registered Authenticator App with Notification and Code",
            None,  # no modified properties listed
        )
    ]

    consent = props(lake, "Consent to application")
    assert consent["ConsentContext.IsAdminConsent"]["new"] == '"False"'
    assert "Mail.Read Mail.Send offline_access" in consent["ConsentAction.Permissions"]["new"]
    assert q(
        lake,
        "api_activity",
        "resource, target_type, target_id, user_agent",
        "api_operation = 'Consent to application'",
    ) == [
        ("Mail Sync Pro", "ServicePrincipal", make_audits.MAIL_APP_SP, make_audits.UA),
    ]

    for op, target_type in (
        ("Add service principal credentials", "ServicePrincipal"),
        ("Update application – Certificates and secrets management ", "Application"),
    ):
        key = props(lake, op)["KeyDescription"]
        assert (key["old"], key["new"]) == ("[]", make_audits.KEY_NEW)
        assert "KeyType=Password" in key["new"]
        assert q(lake, "api_activity", "resource, target_type", f"api_operation = '{op}'") == [
            ("nw-train-orchestrator", target_type)
        ]

    role = props(lake, "Add member to role")
    assert role["Role.DisplayName"] == {
        "target": 0,
        "name": "Role.DisplayName",
        "old": None,
        "new": '"Global Administrator"',
    }
    assert json.loads(role["Role.TemplateId"]["new"]) == make_audits.GA_TEMPLATE

    fed = props(lake, "Set domain authentication")
    assert (json.loads(fed["LiveType"]["old"]), json.loads(fed["LiveType"]["new"])) == (
        "Managed",
        "Federated",
    )
    assert q(
        lake, "api_activity", "DISTINCT resource", "api_operation LIKE 'Set %domain%'", "1"
    ) == [("corp-labs.example",)]


def test_everyday_twins_and_refusals(lake):
    lake.ingest([PAGE])
    # the helpdesk acts on someone else: actor and target are different people
    assert q(
        lake,
        "api_activity",
        "actor_user, target_user, src_ip, status_detail",
        "api_operation = 'Admin registered security info'",
    ) == [
        (
            "adele.vance",
            "grady.archie",
            "198.51.100.20",
            "Admin registered temporary access pass method for user",
        )
    ]
    # an app acts: no person, the app's name
    assert q(
        lake,
        "api_activity",
        "principal, principal_type, actor_user",
        "api_operation = 'Add app role assignment to service principal'",
    ) == [("nw-deploy-bot", "ServicePrincipal", None)]
    # a refused step is a failure with Entra's result and reason kept
    assert q(
        lake,
        "api_activity",
        "status, error_code, status_detail, principal_account",
        "api_operation = 'Add member to role' AND status = 'failure'",
    ) == [
        (
            "failure",
            "failure",
            "Insufficient privileges to complete the operation.",
            make_audits.GUEST["homeTenantId"],
        )
    ]
    # Microsoft's Example 2: the all-zero ids are nobody, the address is kept
    assert q(
        lake,
        "api_activity",
        "principal, principal_type, target_id, target_type, src_ip",
        "api_operation = 'GroupLifecyclePolicies_Get'",
    ) == [(None, None, None, "N/A", "10.0.0.0")]
    # Microsoft's Example 1: the user target is found behind the group
    assert q(
        lake,
        "api_activity",
        "resource, target_type, target_user, modified_properties",
        "api_operation = 'Add member to group'",
    ) == [
        (
            "Example.com",
            "Group",
            "bob",
            '[{"target":0,"name":"Action Client Name","old":null,"new":"DirectorySync"}]',
        )
    ]


def test_every_layout_gives_the_same_row(lake, tmp_path):
    from crownwatch.lake import Lake

    lake.ingest([PAGE])
    graph = by_id(lake)
    story = {a["id"] for a in make_audits.story()}
    src_ip = [c.strip() for c in ROW.split(",")].index("src_ip")
    for f, expect in ((LA, story), (LA_LINES, None), (DIAG, None), (LINES, None)):
        other = Lake(tmp_path / f.stem)
        other.ingest([f])
        rows = by_id(other)
        assert expect is None or set(rows) == expect, f
        shared = set(rows) & set(graph)  # the batch also holds Microsoft's own example
        assert len(shared) >= 4, f
        for raw_id in shared:
            row, want = rows[raw_id], list(graph[raw_id])
            if want[src_ip] is None and f is DIAG:
                want[src_ip] = "20.190.128.10"  # an app's call: only the envelope has it
            assert list(row) == want, (f.name, raw_id)
    # the tenant is stated by the diagnostic records and the Log Analytics rows only
    assert q(lake, "api_activity", "DISTINCT account", order="1") == [(None,)]


def test_json_lines_quarantine_with_reasons_and_keep_the_rest(lake):
    (res,) = lake.ingest([LINES])
    assert res.read == 10  # the blank line is not a record
    assert (res.routed_rows, res.quarantined, res.skipped) == (4, 6, 0)
    assert res.read == res.routed_rows + res.skipped + res.quarantined
    assert q(lake, "quarantine", "raw_offset, reason") == [
        (3, "malformed JSON"),
        (4, "missing activityDateTime"),
        (6, "unparseable activityDateTime"),
        (8, "missing result"),
        (9, "missing activityDisplayName"),
        (10, "JSON record is not an object"),
    ]
    assert [r[0] for r in q(lake, "api_activity", "raw_offset")] == [1, 2, 7, 11]


def test_diagnostic_settings_batch(lake):
    (res,) = lake.ingest([DIAG])
    assert (res.read, res.routed_rows, res.skipped, res.quarantined) == (8, 7, 0, 1)
    assert (res.rows["api_activity"], res.rows["authentication"]) == (6, 1)
    assert q(lake, "quarantine", "raw_offset, reason") == [(7, "missing result")]
    assert q(lake, "api_activity", "DISTINCT account", order="1") == [(make_audits.TENANT,)]
    got = {
        r[0]: r[1:]
        for r in q(
            lake,
            "api_activity",
            "raw_offset, api_operation, principal, principal_type, src_ip, status, time",
        )
    }
    # an app acts: the envelope's callerIpAddress is the only address
    assert got[3][:4] == (
        "Add app role assignment to service principal",
        "nw-deploy-bot",
        "ServicePrincipal",
        "20.190.128.10",
    )
    # properties without their time and name: the envelope's time and operationName
    assert got[4][0] == "Add member to role"
    assert got[4][5].isoformat() == "2026-03-05T11:40:51.663001+00:00"
    # Microsoft's example: result 0 is success, "<null>" no address, identity the caller
    assert got[5][:5] == ("Update policy", "MS-PIM", None, None, "success")
    # the sign-in of the same batch is a sign-in
    assert q(lake, "authentication", "raw_offset, reason") == [(6, "bad_password")]


def test_log_analytics_rows_dynamic_as_objects_or_text(lake):
    (arr,) = lake.ingest([LA])
    assert (arr.read, arr.routed_rows, arr.quarantined) == (10, 10, 0)
    (lines,) = lake.ingest([LA_LINES])
    assert (lines.read, lines.routed_rows, lines.quarantined) == (6, 4, 2)
    assert q(lake, "quarantine", "raw_offset, reason") == [
        (5, "unparseable ActivityDateTime/TimeGenerated"),
        (6, "missing result"),
    ]
    # the guest's home tenant differs from the tenant that logged the row
    assert q(
        lake,
        "api_activity",
        "principal_account, is_cross_account",
        "api_operation = 'Add member to role' AND status = 'failure'",
    ) == [(make_audits.GUEST["homeTenantId"], True)]
    assert q(lake, "api_activity", "count(*)", "is_cross_account", "1") == [(1,)]


def test_sign_ins_and_audits_in_one_file(lake, tmp_path):
    signin = json.loads((D / "graph_signins.json").read_text())["value"][1]
    la_signin = json.loads((D / "SigninLogs.json").read_text())[1]
    audit = make_audits.story()[0]
    la_audit = make_audits.la_export()[4]
    lines = [json.dumps(x) for x in (signin, audit, la_signin, la_audit)] + ["not json"]
    f = tmp_path / "mixed.jsonl.gz"
    f.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    (res,) = lake.ingest([f])
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("entra", 5, 4, 1)
    assert (res.rows["authentication"], res.rows["api_activity"]) == (2, 2)
    assert [r[0] for r in q(lake, "authentication", "raw_offset")] == [1, 3]
    assert q(lake, "api_activity", "raw_offset, api_operation") == [
        (2, "User registered security info"),
        (4, "Add member to role"),
    ]


def test_a_clean_archive_is_one_typed_read(lake, tmp_path, monkeypatch):
    """A storage-account AuditLogs archive takes the fast path (no per-line
    classification); one bad line sends it the slow way, with the same rows."""
    records = [make_audits.diagnostic(a) for a in make_audits.story()]
    clean = tmp_path / "PT1H.json"
    clean.write_text("".join(json.dumps(r) + "\n" for r in records))
    calls = []
    real = entra._classify
    monkeypatch.setattr(entra, "_classify", lambda *a: calls.append(1) or real(*a))
    (res,) = lake.ingest([clean])
    assert (res.read, res.routed_rows, calls) == (10, 10, [])
    fast = by_id(lake)

    from crownwatch.lake import Lake

    dirty = tmp_path / "dirty.json"
    dirty.write_text(clean.read_text() + '{"time": "never"}\n')
    other = Lake(tmp_path / "other")
    (res,) = other.ingest([dirty])
    assert (res.read, res.routed_rows, res.quarantined) == (11, 10, 1) and calls
    assert by_id(other) == fast


@pytest.mark.parametrize("envelope", ["splunk_hec", "elasticsearch"])
def test_shipped_audit_records_give_the_bare_rows(lake, tmp_path, envelope):
    from crownwatch.lake import Lake

    records = json.loads(DIAG.read_text())["records"]
    if envelope == "splunk_hec":
        wrapped = [hec(r, r["time"], "azure:monitor:aad", "eventhub://aad") for r in records]
    else:
        wrapped = [es_hit("logs-azure.auditlogs", r, n) for n, r in enumerate(records)]
    f = tmp_path / "shipped.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in wrapped))
    assert sniff(f) is entra
    (res,) = lake.ingest([f])
    assert (res.read, res.routed_rows, res.quarantined) == (8, 7, 1)
    bare = Lake(tmp_path / "bare")
    lines = tmp_path / "bare.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    bare.ingest([lines])
    assert by_id(lake) == by_id(bare)


def test_the_actor_joins_the_sign_ins_by_the_identity_key(lake):
    """What the persistence detections key on: the person who signed in is the person
    who acted, whatever form each log wrote the name in."""
    lake.ingest([D / "diagnostic_eventhub.json", PAGE])
    joined = duckdb.sql(
        f"""SELECT DISTINCT a.actor_user, a.api_operation
            FROM {lake.table_sql("api_activity")} a
            JOIN {lake.table_sql("authentication")} s
              ON s."user" = a.actor_user AND s.reason = 'success'
            ORDER BY 2"""
    ).fetchall()
    assert {u for u, _ in joined} == {"megan.bowen"}
    assert sorted(op for _, op in joined) == sorted(PERSISTENCE)


def test_hostile_values_cost_only_their_field(lake, tmp_path):
    base = make_audits.story()[4]
    odd = [
        dict(base, id="odd-1", initiatedBy=7, targetResources="[not a list]"),
        dict(base, id="odd-2", targetResources=[{"modifiedProperties": {"a": 1}}, "x"]),
        dict(base, id="odd-3", activityDisplayName="x'); DROP TABLE api_activity; --"),
        dict(base, id="odd-4", additionalDetails=[{"key": "User-Agent", "value": "A" * 70_000}]),
        dict(base, id="odd-5", initiatedBy={"user": {"ipAddress": "<null>", "roles": "admin"}}),
        dict(base, id="odd-6", result=True),
    ]
    f = tmp_path / "odd.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in odd))
    (res,) = lake.ingest([f])
    assert (res.read, res.routed_rows, res.quarantined) == (6, 6, 0)
    got = by_id(lake, "principal, target_type, api_operation, length(user_agent), src_ip, status")
    assert got["odd-1"][:2] == (None, None)
    assert got["odd-2"][1] is None
    assert got["odd-3"][2] == "x'); DROP TABLE api_activity; --"
    assert got["odd-4"][3] == 70_000
    assert got["odd-5"][4] is None
    assert got["odd-6"][5] == "failure"  # "true" is not Entra's success
