"""Okta System Log as Sentinel (``Okta_CL``, ``OktaV2_CL``), Splunk HEC and
Logstash-into-Elasticsearch deliver it: the rows the System Log's own export gives,
each layout's bad record quarantined with a reason, and a password spray exported
from Sentinel found beside its benign twin.

Fixtures: ``tests/fixtures/shipped/`` (README there); the unwrapped reference is
``tests/fixtures/okta``.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from crownwatch.sources import okta, sniff
from tests.conftest import FIXTURES, by_detection, hunt
from tests.fixtures.shipped.make_fixtures import okta_cl, okta_events, okta_v2

SH = FIXTURES / "shipped"

# layout → (raw_offset, reason) of its one bad record; 12 good events in each
LAYOUTS = {
    "okta_sentinel_Okta_CL.json": (12, "Okta_CL: missing published_t"),
    "okta_sentinel_OktaV2_CL.jsonl": (13, "OktaV2_CL: missing EventOriginalType"),
    "okta_splunk_hec.jsonl": (13, "Splunk HEC event: malformed JSON"),
    "okta_elasticsearch_hits.jsonl": (13, "Elasticsearch _source: unparseable published timestamp"),
}


def rows(lake, table):
    return duckdb.sql(
        f"""SELECT * EXCLUDE (raw_source, raw_offset)
            FROM {lake.table_sql(table)}
            ORDER BY ALL"""
    ).fetchall()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The rows of the same 12 events as Okta exports them (the bare lines' own bad
    records are quarantined and play no part)."""
    from crownwatch.lake import Lake

    lake = Lake(tmp_path_factory.mktemp("bare") / "lake")
    lake.ingest([FIXTURES / "okta" / "system_log.jsonl", FIXTURES / "okta" / "api_page.json"])
    return rows(lake, "authentication"), rows(lake, "api_activity")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_reads_the_system_logs_rows(lake, reference, name):
    path = SH / name
    assert sniff(path) is okta
    (res,) = lake.ingest([path])
    assert (res.source, res.status, res.read, res.skipped) == ("okta", "ingested", 13, 0)
    assert res.rows == {"authentication": 11, "api_activity": 1}
    assert res.quarantined == 1
    got = duckdb.sql(
        f"SELECT raw_offset, reason, record FROM {lake.table_sql('quarantine')}"
    ).fetchall()
    assert [g[:2] for g in got] == [LAYOUTS[name]]
    assert got[0][2]  # kept as delivered
    assert (rows(lake, "authentication"), rows(lake, "api_activity")) == reference


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_well_formed_input_quarantines_nothing(lake, tmp_path, name):
    src = SH / name
    if name.endswith(".json"):
        text = json.dumps(json.loads(src.read_text())[:-1], indent=2)
    else:
        text = "".join(src.read_text().splitlines(keepends=True)[:-1])
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(text.encode()))
    assert sniff(gz) is okta
    (res,) = lake.ingest([gz])
    assert (res.quarantined, res.routed_rows) == (0, 12)


def test_okta_cl_as_the_sentinel_sample_writes_it(lake, tmp_path):
    """The first row of Azure-Sentinel's Okta_CL sample, field for field: an empty
    client address, a "null" coordinate and a string AS number."""
    row = {
        "TenantId": "a123456z-a123-1234-1234-1234aabbcc56",
        "SourceSystem": "RestAPI",
        "TimeGenerated": "2020-05-26T22:20:03.402Z",
        "client_userAgent_rawUserAgent_s": "",
        "client_zone_s": "null",
        "client_ipAddress_s": "",
        "client_geographicalContext_city_s": "",
        "client_geographicalContext_country_s": "",
        "client_geographicalContext_geolocation_lat_d": "null",
        "outcome_reason_s": "Sign-on policy evaluation resulted in CHALLENGE",
        "securityContext_asNumber_d": "10993",
        "securityContext_asOrg_s": "aerioconnect",
        "securityContext_isProxy_b": "FALSE",
        "authenticationContext_credentialType_s": "",
        "actor_id_s": "00urjk4znu3BcncfY0h7",
        "actor_type_s": "User",
        "actor_alternateId_s": "sanitized@sanitized.com",
        "authenticationContext_externalSessionId_s": "trsDBjPuBFlTIiqk51N8F1cjg",
        "displayMessage_s": "Evaluation of sign-on policy",
        "eventType_s": "policy.evaluate_sign_on",
        "outcome_result_s": "CHALLENGE",
        "published_t": "2020-05-26T22:15:19.883Z",
        "uuid_g": "62c3328c-9f9e-11ea-86e9-e5b0d2d0f179",
        "target_s": '[\r\n  {\r\n    "id": "00pn79xb33o84O0Hc0h7",\r\n    "type": "PolicyEntity",'
        '\r\n    "alternateId": "unknown",\r\n    "displayName": "default"\r\n  }\r\n]',
        "Type": "Okta_CL",
        "_ResourceId": "",
    }
    f = tmp_path / "Okta_CL.json"
    f.write_text(json.dumps([row], indent=2))
    assert sniff(f) is okta
    (res,) = lake.ingest([f])
    assert (res.read, res.quarantined) == (1, 0)
    got = duckdb.sql(
        f"""SELECT time, "user", src_ip, src_asn, src_as_org, src_country, user_agent,
                   is_proxy, reason, status_code, service, auth_protocol, raw_id
            FROM {lake.table_sql("authentication")}"""
    ).fetchall()
    assert [(str(g[0]),) + g[1:] for g in got] == [
        (
            "2020-05-26 22:15:19.883000+00:00",  # published, not the ingestion time
            "sanitized",
            None,
            10993,
            "aerioconnect",
            None,
            None,
            False,
            "mfa_required",
            "CHALLENGE/Sign-on policy evaluation resulted in CHALLENGE",
            "unknown",
            None,
            "62c3328c-9f9e-11ea-86e9-e5b0d2d0f179",
        )
    ]


# -- a password spray exported from Sentinel, and its benign twin ---------------------

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
_EVENTS = okta_events()
_SUCCESS, _FAILURE = _EVENTS[0], _EVENTS[1]  # user.session.start SUCCESS / INVALID_CREDENTIALS


def _signin(n: int, t: datetime, user: str, ip: str, ok: bool) -> dict:
    e = copy.deepcopy(_SUCCESS if ok else _FAILURE)
    e["actor"].update(id=f"00u{n:017d}", alternateId=f"{user}@northwind-ai.com", displayName=user)
    e["client"]["ipAddress"] = ip
    e["request"]["ipChain"][0]["ip"] = ip
    e["published"] = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    e["uuid"] = f"7c1d2e3f-d3c1-11ee-8c2a-{n:012d}"
    return e


def spray(ip="45.61.140.7"):
    return [
        _signin(i, T0 + timedelta(seconds=29 * i), f"researcher{i:02d}", ip, ok=False)
        for i in range(14)
    ]


def rotation(ip="198.51.100.1"):
    out = []
    for i in range(14):
        t = T0 + timedelta(seconds=53 * i)
        out.append(_signin(1000 + 2 * i, t, f"staff{i:02d}", ip, ok=False))
        out.append(_signin(1001 + 2 * i, t + timedelta(seconds=40), f"staff{i:02d}", ip, ok=True))
    return out


def _sentinel(tmp_path, events, table):
    if table == "Okta_CL":
        f = tmp_path / "Okta_CL.json"
        f.write_text(json.dumps([okta_cl(e) for e in events], indent=2))
    else:
        f = tmp_path / "OktaV2_CL.jsonl"
        f.write_text("".join(json.dumps(okta_v2(e)) + "\n" for e in events))
    return f


DET = "identity.password_spray"


@pytest.mark.parametrize("table", ["Okta_CL", "OktaV2_CL"])
def test_spray_exported_from_sentinel_is_found(lake, tmp_path, table):
    found = by_detection(hunt(lake, _sentinel(tmp_path, spray(), table), only=[DET]), DET)
    assert len(found) == 1, found
    (f,) = found
    assert f["entities"]["src_ip"] == ["45.61.140.7"]
    assert f["evidence"]["unrecovered_users"] == 14
    # the sign-in time is Okta's published, not when Sentinel ingested the row
    assert f["first_seen"] == "2026-03-02T07:00:00Z"


@pytest.mark.parametrize("table", ["Okta_CL", "OktaV2_CL"])
def test_office_nat_after_rotation_exported_from_sentinel_stays_quiet(lake, tmp_path, table):
    assert by_detection(hunt(lake, _sentinel(tmp_path, rotation(), table), only=[DET]), DET) == []
