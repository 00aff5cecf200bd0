"""GitHub Enterprise audit log into ``repo_activity``: streamed JSON lines, the REST API's
array, Splunk HEC, Filebeat ``message`` and Elastic Agent ``event.original`` — every
column mapped, counts that add up, provenance to the line, quarantine with reasons,
gzip, and the test-data writer's output read back as it was written.

Fixtures: ``tests/fixtures/github`` (README.md there says where the layout comes from).
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import cloudtrail, entra, github_audit, okta, sniff
from crownwatch.testing import github as gh
from tests.conftest import FIXTURES
from tests.fixtures.shipped.make_fixtures import es_hit

D = FIXTURES / "github"
STREAM = D / "audit_stream.jsonl"
PAGE = D / "api_page.json"
HEC = D / "splunk_hec.jsonl"
FILEBEAT = D / "filebeat_s3.jsonl"
BAD = D / "malformed.jsonl"
ALL = (STREAM, PAGE, HEC, FILEBEAT, BAD)

COLS = (
    "raw_offset, time, source, action, actor, actor_id, actor_ip, actor_country, user_agent,"
    " org, repo, repo_visibility, access_type, token_id, hashed_token, transport,"
    " target_user, business, event_id, raw_id"
)


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def rows(lake: Lake, path, table="repo_activity", cols=COLS) -> list[tuple]:
    return duckdb.sql(
        f"""SELECT {cols} FROM {lake.table_sql(table)}
            WHERE raw_source = $src ORDER BY raw_offset""",
        params={"src": str(path)},
    ).fetchall()


def by_id(lake: Lake, path) -> dict[str, dict]:
    names = [c.strip() for c in COLS.split(",")]
    return {r[names.index("event_id")]: dict(zip(names, r, strict=True)) for r in rows(lake, path)}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """Every fixture (and a gzip'd copy of the stream, and the writer's output) in one
    lake, ingested once."""
    tmp = tmp_path_factory.mktemp("github")
    gz = tmp / "stream-2026-03-02.json.gz"
    gz.write_bytes(gzip.compress(STREAM.read_bytes()))
    written = tmp / "writer.jsonl"
    written.write_text(gh.jsonl(WRITER_EVENTS))
    page = tmp / "writer_page.json"
    page.write_text(gh.api_page(WRITER_EVENTS))
    hits = tmp / "elasticdump.jsonl"  # a pipeline that indexed the streamed lines as they are
    events = [json.loads(ln) for ln in STREAM.read_text().splitlines()]
    hits.write_text(
        "".join(json.dumps(es_hit("github-audit", e, i)) + "\n" for i, e in enumerate(events))
    )
    mixed = tmp / "mixed.jsonl"
    mixed.write_text(_mixed())
    lake = Lake(tmp / "lake")
    results = {r.path: r for r in lake.ingest([*ALL, gz, written, page, hits, mixed])}
    extra = {"gz": gz, "written": written, "written_page": page, "hits": hits, "mixed": mixed}
    return lake, results, extra


def _mixed() -> str:
    """40 bare streamed lines (past the sniffed head), then odd but valid events and
    envelopes that only show up after the head."""
    t = datetime(2026, 3, 5, tzinfo=UTC)
    bare = [gh.event(t, "git.clone", f"u{i}", repo="r", ip="198.51.100.7") for i in range(40)]
    odd = [
        # a workflow event's own "event" and a "message" are GitHub fields, not envelopes
        dict(gh.event(t, "workflows.completed_workflow_run", "ci[bot]", repo="r"),
             event="push", message="Workflow run completed"),
        dict(gh.event(t, "repo.create", "x'); DROP TABLE t;--", repo="r"), actor_location="US"),
        dict(gh.event(t, "git.fetch", "big", repo="r"), user_agent="A" * 70_000),
    ]  # fmt: skip
    hec = {"time": 1.0, "host": "h", "sourcetype": "github_audit",
           "event": gh.event(t, "git.push", "late-hec", repo="r")}  # fmt: skip
    fb = {"@timestamp": "2026-03-05T00:00:01Z", "input": {"type": "aws-s3"},
          "message": json.dumps(gh.event(t, "git.clone", "late-fb", repo="r"))}  # fmt: skip
    return gh.jsonl(bare + odd) + json.dumps(hec) + "\n" + json.dumps(fb) + "\n"


T0 = datetime(2026, 3, 4, 2, 15, tzinfo=UTC)
WRITER_EVENTS = [
    gh.event(
        T0,
        "git.clone",
        "Vendor-Kim",
        repo="frontier-train",
        ip="203.0.113.77",
        country="KP",
        access_type=gh.PAT_FINE_GRAINED,
        token_id="48213377",
    ),
    gh.event(
        T0,
        "git.clone",
        "dev-sam",
        repo="acme/tools",
        access_type=gh.SSH_KEY,
        sso_identity="Sam.Dev@Northwind-AI.com",
    ),
    gh.event(
        T0,
        "org.add_outside_collaborator",
        "ada-admin",
        repo="northwind-ai/npu-rtl",
        ip="198.51.100.10",
        user="Vendor-Kim",
        visibility="internal",
        country=None,
    ),
    gh.event(T0, "public_key.create", "vendor-kim", ip="2001:db8::7", user="vendor-kim", ua=""),
]


def test_sniffed_by_content_not_name(tmp_path):
    for f in ALL:
        assert sniff(f) is github_audit, f
        renamed = tmp_path / f"export-{f.stem}.dat"
        shutil.copy(f, renamed)
        assert sniff(renamed) is github_audit, f
        head = f.read_text()[:4096]
        for other in (okta, cloudtrail, entra):
            assert not other.sniff(head), (other.NAME, f)
    # an action word without GitHub's own fields around it is not GitHub's
    assert not github_audit.sniff('{"action": "git.clone", "params": {"remote_url": "x"}}')
    assert not github_audit.sniff('{"action": "allowed", "actor": "bob", "org": "acme"}')
    assert not github_audit.sniff("git.clone actor=alice")


def test_claims_no_other_sources_file():
    exfil = FIXTURES.parent / "exfiltration" / "fixtures"
    others = [
        p
        for root in (FIXTURES, exfil)
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".md") and D not in p.parents
    ]
    assert len(others) > 50
    assert [p for p in others if sniff(p) is github_audit] == []


def test_stream_every_column(ingested):
    lake, results, _ = ingested
    res = results[str(STREAM)]
    assert (res.source, res.status, res.read, res.routed_rows, res.skipped, res.quarantined) == (
        "github",
        "ingested",
        11,
        11,
        0,
        0,
    )
    got = by_id(lake, STREAM)
    # git.clone over HTTP with a fine-grained PAT, display case folded
    assert got["q3Zb8mUQx1Kc0aT4vLrN2w"] == {
        "raw_offset": 1,
        "time": _t("2026-03-02T09:14:07.412"),
        "source": "github",
        "action": "git.clone",
        "actor": "kim-contractor",
        "actor_id": "143298817",
        "actor_ip": "203.0.113.45",
        "actor_country": "NL",
        "user_agent": "git/2.47.1",
        "org": "northwind-ai",
        "repo": "northwind-ai/frontier-train",
        "repo_visibility": None,  # repository_public false: private or internal
        "access_type": "Fine-grained personal access token",
        "token_id": "48213377",
        "hashed_token": "p1Jm0XlS8bY3nqT6Vw2cHkR9dE4uAa7fZs5oLiGtQyM=",
        "transport": "http",
        "target_user": None,  # "user": ""
        "business": "northwind",
        "event_id": "q3Zb8mUQx1Kc0aT4vLrN2w",
        "raw_id": "q3Zb8mUQx1Kc0aT4vLrN2w",
    }
    ssh = got["Hc4wYp2sQ0mZr8Vn1kTg6A"]
    assert (ssh["transport"], ssh["access_type"], ssh["token_id"], ssh["user_agent"]) == (
        "ssh",
        "SSH key",
        None,  # token_id 0: a key has no token id
        None,
    )
    assert (ssh["actor_ip"], ssh["actor_country"]) == ("2001:db8:85a3::8a2e:370:7334", "US")
    push = got["UcKnmGTmhciMVlkYOGkUaQ=="]
    assert (push["repo_visibility"], push["token_id"], push["access_type"]) == (
        "public",
        "30011452",
        "Personal access token (classic)",
    )
    zip_ = got["Xk2Pq9vRz0LmW4cYbN8sTg"]
    assert (zip_["action"], zip_["repo"], zip_["repo_visibility"], zip_["transport"]) == (
        "repo.download_zip",
        "northwind-ai/eval-harness",
        "internal",
        None,
    )
    assert zip_["user_agent"].startswith("Mozilla/5.0 (Windows NT 10.0")
    pat = got["b7Yw3KpZ2nQv9TsX1mLc0A"]
    assert (pat["action"], pat["token_id"], pat["target_user"], pat["org"], pat["repo"]) == (
        "personal_access_token.create",
        "48213390",
        "kim-contractor",
        None,
        None,
    )
    assert got["Zp0sR5wT8yVq2NmK4cXb1g"]["token_id"] == "48213390"  # the grant names it
    collab = got["Rt5Yc2Lq8Vn0Wk3Xm1Pb7g"]
    assert (collab["action"], collab["actor"], collab["target_user"], collab["repo"]) == (
        "org.add_outside_collaborator",
        "ada-admin",
        "acme-dev-jo",
        "northwind-ai/frontier-train",
    )
    assert collab["repo_visibility"] == "private"
    assert got["Wc9Kp3Zt1Yq6Ln0Vx8Mb2A"]["target_user"] == "acme-dev-jo"
    assert got["Mv8Tq1Ls0Kx7Wb3Yn2Pc9A"]["target_user"] == "kim-contractor"
    assert got["Fq2Xm7Ts0Vb5Kc9Yn3Lp1w"]["actor_ip"] is None  # no IP disclosed: kept
    assert got["URqi_-__Xjl1qZojMcYnqA=="]["actor"] == "nw-ci[bot]"
    # every action kept, in file order, one row per line
    assert [r[0] for r in rows(lake, STREAM, cols="raw_offset")] == list(range(1, 12))


def test_gzip_stream_is_the_same(ingested):
    lake, results, extra = ingested
    res = results[str(extra["gz"])]
    assert (res.source, res.read, res.routed_rows) == ("github", 11, 11)
    assert rows(lake, extra["gz"]) == rows(lake, STREAM)


def test_api_page(ingested):
    lake, results, _ = ingested
    res = results[str(PAGE)]
    assert (res.source, res.read, res.routed_rows, res.quarantined) == ("github", 3, 3, 0)
    got = rows(lake, PAGE, cols="raw_offset, action, actor, target_user, repo, time, raw_id")
    assert got == [
        (0, "org.add_member", "ada-admin", "new-hire-lee", None, _t("2026-03-03T08:00:12.3"),
         "Ka1Lb2Mc3Nd4Oe5Pf6Qg7A"),
        (1, "git.clone", "new-hire-lee", None, "northwind-ai/npu-rtl",
         _t("2026-03-03T08:30:55.912"), "Tb8Rc7Sd6Te5Uf4Vg3Wh2A"),
        # the older answer: created_at for the time, the bare repository name under its org
        (2, "repo.create", "ada-admin", None, "northwind-ai/model-cards",
         _t("2026-03-03T09:12:00"), None),
    ]  # fmt: skip
    assert rows(lake, PAGE, cols="repo_visibility, actor_country")[2] == ("public", "US")


def test_shipped_envelopes_give_the_streamed_rows(ingested):
    lake, results, extra = ingested
    stream = by_id(lake, STREAM)
    res = results[str(HEC)]
    assert (res.read, res.routed_rows, res.skipped, res.quarantined) == (3, 2, 0, 1)
    res = results[str(FILEBEAT)]
    assert (res.read, res.routed_rows, res.skipped, res.quarantined) == (4, 3, 0, 1)
    res = results[str(extra["hits"])]
    assert (res.read, res.routed_rows, res.quarantined) == (11, 11, 0)
    for path in (HEC, FILEBEAT, extra["hits"]):
        for event_id, row in by_id(lake, path).items():
            want = dict(stream[event_id], raw_offset=row["raw_offset"])
            assert row == want, (path.name, event_id)
    assert sorted(by_id(lake, HEC)) == ["Xk2Pq9vRz0LmW4cYbN8sTg", "q3Zb8mUQx1Kc0aT4vLrN2w"]
    assert [r[0] for r in rows(lake, FILEBEAT, cols="raw_offset")] == [1, 2, 4]
    q = rows(lake, HEC, "quarantine", "raw_offset, reason, record")
    assert [(o, r) for o, r, _ in q] == [(3, "Splunk HEC event: malformed JSON")]
    assert '"audit stream paused"' in q[0][2]  # kept as delivered
    q = rows(lake, FILEBEAT, "quarantine", "raw_offset, reason")
    assert q == [(3, "Filebeat message: malformed JSON")]


def test_malformed_records_quarantined_the_rest_kept(ingested):
    lake, results, _ = ingested
    res = results[str(BAD)]
    assert res.read == 10  # the blank line is not a record
    assert (res.routed_rows, res.skipped, res.quarantined) == (3, 0, 7)
    assert res.read == res.routed_rows + res.skipped + res.quarantined
    assert rows(lake, BAD, "quarantine", "raw_offset, reason, raw_id") == [
        (2, "malformed JSON", None),
        (3, "JSON record is not an object", None),
        (4, "missing @timestamp", "UcKnmGTmhciMVlkYOGkUaQ=="),
        (5, "unparseable @timestamp", "Xk2Pq9vRz0LmW4cYbN8sTg"),
        (6, "actor_ip is not an IP address", "b7Yw3KpZ2nQv9TsX1mLc0A"),
        (7, "missing action", "Zp0sR5wT8yVq2NmK4cXb1g"),
        (11, "actor_ip is not an IP address", "Wc9Kp3Zt1Yq6Ln0Vx8Mb2A"),
    ]
    kept = rows(lake, BAD, cols="raw_offset, action, actor_ip, time")
    assert kept == [
        (1, "git.clone", "203.0.113.45", _t("2026-03-02T09:14:07.412")),
        (9, "public_key.create", None, _t("2026-03-02T12:40:19.302")),  # "actor_ip": ""
        # a forwarder's "1772457000125.000000"
        (10, "org.add_outside_collaborator", "198.51.100.10", _t("2026-03-02T13:10:00.125")),
    ]


def test_writer_output_reads_back(ingested):
    lake, results, extra = ingested
    for key in ("written", "written_page"):
        res = results[str(extra[key])]
        assert (res.source, res.read, res.routed_rows, res.quarantined) == ("github", 4, 4, 0)
    got = rows(
        lake,
        extra["written"],
        cols="action, actor, actor_ip, actor_country, org, repo, repo_visibility, access_type,"
        " token_id, hashed_token IS NOT NULL, transport, target_user, user_agent, time",
    )
    assert got == [
        ("git.clone", "vendor-kim", "203.0.113.77", "KP", "northwind-ai",
         "northwind-ai/frontier-train", None, gh.PAT_FINE_GRAINED, "48213377", True, "http",
         None, gh.GIT_UA, T0),
        ("git.clone", "dev-sam", None, "US", "northwind-ai", "acme/tools", None, gh.SSH_KEY,
         None, True, "ssh", None, None, T0),
        ("org.add_outside_collaborator", "ada-admin", "198.51.100.10", None, "northwind-ai",
         "northwind-ai/npu-rtl", "internal", None, None, False, None, "vendor-kim", gh.CHROME,
         T0),
        ("public_key.create", "vendor-kim", "2001:db8::7", "US", "northwind-ai", None, None,
         None, None, False, None, "vendor-kim", None, T0),
    ]  # fmt: skip
    # the SSO identity behind a login is the person: actor_user
    assert rows(lake, extra["written"], cols="actor, actor_user") == [
        ("vendor-kim", None),
        ("dev-sam", "sam.dev"),
        ("ada-admin", None),
        ("vendor-kim", None),
    ]
    assert rows(lake, extra["written_page"], cols="action, actor, repo") == [
        r[:2] + (r[5],) for r in got
    ]
    # the layout: epoch-ms times, the streamed id, a boolean repository_public on Git events
    clone = json.loads(gh.jsonl(WRITER_EVENTS[:1]))
    assert clone["@timestamp"] == clone["created_at"] == int(T0.timestamp() * 1000)
    assert len(clone["_document_id"]) == 22 and clone["repository_public"] is False
    assert (clone["transport_protocol"], clone["user"], clone["user_id"]) == (1, "", 0)
    assert json.loads(gh.api_page(WRITER_EVENTS)) == WRITER_EVENTS


def test_odd_values_and_late_envelopes_keep_every_record(ingested):
    lake, results, extra = ingested
    res = results[str(extra["mixed"])]
    assert (res.source, res.read, res.routed_rows, res.quarantined, res.note) == (
        "github", 45, 45, 0, None,
    )  # fmt: skip
    got = rows(lake, extra["mixed"], cols="raw_offset, action, actor, actor_country, "
               "length(user_agent)")[40:]  # fmt: skip
    assert got == [
        (41, "workflows.completed_workflow_run", "ci[bot]", "US", len(gh.CHROME)),
        (42, "repo.create", "x'); drop table t;--", None, len(gh.CHROME)),  # a value, not SQL
        (43, "git.fetch", "big", "US", 70_000),
        (44, "git.push", "late-hec", "US", len(gh.GIT_UA)),
        (45, "git.clone", "late-fb", "US", len(gh.GIT_UA)),
    ]


def test_a_saml_organisations_event_names_the_person_behind_the_login(tmp_path):
    lake = Lake(tmp_path / "lake")
    [res] = lake.ingest([D / "saml_org_stream.jsonl"])
    assert (res.source, res.read, res.routed_rows) == ("github", 1, 1)
    assert rows(lake, D / "saml_org_stream.jsonl", cols="actor, actor_user, repo") == [
        ("dev-sam", "sam.dev", "northwind-ai/npu-rtl")
    ]
