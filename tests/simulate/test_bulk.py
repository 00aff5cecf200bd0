import json

from crownwatch.simulate import generate_identity_bulk


def test_bulk_okta_parses_and_carries_the_spray(tmp_path):
    p = tmp_path / "okta.jsonl"
    truth = generate_identity_bulk(p, 5_000, seed=5)
    recs = [json.loads(line) for line in p.read_text().splitlines()]
    assert len(recs) == truth["records"] == truth["events"] == 5_000
    spray = truth["attacks"][0]
    ip = spray["src_ips"][0]
    hits = [r for r in recs if r["client"]["ipAddress"] == ip]
    assert len(hits) == spray["events"] and {r["actor"]["alternateId"] for r in hits} == set(
        spray["users"]
    )
    assert all(r["outcome"]["reason"] == "INVALID_CREDENTIALS" for r in hits)
    assert len({r["uuid"] for r in recs}) == len(recs)
    assert [r["published"] for r in recs] == sorted(r["published"] for r in recs)
    assert generate_identity_bulk(tmp_path / "again.jsonl", 5_000, seed=5) == {
        **truth,
        "path": str(tmp_path / "again.jsonl"),
    }
    assert (tmp_path / "again.jsonl").read_bytes() == p.read_bytes()


def test_bulk_linux(tmp_path):
    p = tmp_path / "auth.log"
    truth = generate_identity_bulk(p, 5_000, seed=1, fmt="linux_auth")
    text = p.read_text()
    assert text.count("\n") == truth["records"]
    ip = truth["attacks"][0]["src_ips"][0]
    assert text.count("Failed password for") >= truth["attacks"][0]["events"]
    assert (
        sum(1 for line in text.splitlines() if ip in line and "Failed password" in line)
        == truth["attacks"][0]["events"]
    )
