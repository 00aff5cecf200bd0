"""Linux auth.log / secure (sshd) source, on the real engine.

Fixtures are written line for line in the layouts OpenSSH and rsyslog emit (see
``tests/fixtures/linux/README.md``; message forms checked against the public LogPAI
loghub ``OpenSSH_2k.log`` sample)."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import linux_auth, sniff
from crownwatch.sources.reader import Reader
from tests.conftest import FIXTURES, by_detection, hunt

LINUX = FIXTURES / "linux"


@pytest.fixture(autouse=True)
def _year(monkeypatch):
    # fixtures are stamped March 2026; a checkout's mtime must not decide their year
    monkeypatch.setenv(linux_auth.YEAR_ENV, "2026")
    monkeypatch.delenv(linux_auth.TZ_ENV, raising=False)


def parse(path: Path):
    """(parsed, routed rows, repeat rows, quarantined rows) as dicts."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    p = linux_auth.parse(Reader(con), path)

    def rows(rel):
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.order("raw_offset").fetchall()]

    return p, rows(p.routed["authentication"]), rows(p.copies["authentication"]), rows(p.quarantine)


def skipped(path: Path, p, routed, quarantined) -> int:
    """Non-blank lines that are valid but not sign-ins."""
    total = sum(1 for line in path.read_text().splitlines() if line.strip())
    return total - len(routed) - len(quarantined)


def by_line(rows):
    return {r["raw_offset"]: r for r in rows}


def test_sniff_claims_both_layouts_and_nothing_else():
    assert sniff(LINUX / "auth.log") is linux_auth
    assert sniff(LINUX / "auth_rfc3339.log") is linux_auth
    assert not linux_auth.sniff('{"eventType": "user.session.start"}')
    assert not linux_auth.sniff(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
    )


def test_every_sshd_line_kind_maps_as_documented():
    path = LINUX / "auth.log"
    p, routed, repeats, quarantined = parse(path)
    got = {
        n: (r["user"], r["src_ip"], r["status"], r["reason"], r["auth_protocol"])
        for n, r in by_line(routed).items()
    }
    assert got == {
        # Invalid user + Failed password for invalid user: one attempt, on the verdict
        7: ("webmaster", "203.0.113.9", "failure", "unknown_user", "password"),
        # old-style "Invalid user X from IP" with no verdict after it: counted itself
        9: ("test9", "203.0.113.10", "failure", "unknown_user", None),
        13: ("root", "203.0.113.11", "failure", "bad_password", "password"),
        14: ("root", "203.0.113.11", "failure", "bad_password", "password"),
        18: ("alice", "10.0.0.5", "success", "success", "password"),
        21: ("deploy", "10.0.0.6", "success", "success", "publickey"),
        22: ("bob", "10.0.0.7", "success", "success", "keyboard-interactive"),
        23: ("carol", "10.0.0.8", "success", "success", "gssapi"),
        # AllowUsers made sshd call mallory "invalid user": the context says disabled
        26: ("mallory", "203.0.113.12", "failure", "disabled", "password"),
        # locked, no address on its own line: taken from the connection's close line
        28: ("dave", "203.0.113.13", "failure", "locked", None),
        # pam account expired + Access denied: one attempt, the more specific reason
        31: ("erin", None, "failure", "expired", None),
        # Invalid user + Failed none and nothing else: one probe
        33: ("oracle", "203.0.113.14", "failure", "unknown_user", None),
        35: ("frank", "10.0.0.9", "failure", "bad_password", "publickey"),
        37: ("grace", "10.0.0.10", "failure", "mfa_required", "publickey"),
        39: ("grace", "10.0.0.10", "success", "success", "keyboard-interactive"),
        # a user name that imitates the line's tail does not move the address
        41: (
            "root from 6.6.6.6 port 22 ssh2",
            "203.0.113.15",
            "failure",
            "unknown_user",
            "password",
        ),
        42: ("heidi", "10.0.0.11", "failure", "bad_password", "password"),
        47: ("trainer", "10.0.1.20", "success", "success", "publickey"),
    }
    assert quarantined == []
    r = by_line(routed)
    assert r[18]["service"] == "bastion1" and r[47]["service"] == "gpu-node-07"
    assert r[18]["time"] == datetime(2026, 3, 2, 10, 5, 0, tzinfo=UTC)
    assert r[18]["source"] == "sshd" and r[18]["activity"] == "logon"
    assert r[18]["session_uid"] == "bastion1 sshd[24301]"
    assert r[35]["status_code"] == "Failed publickey"
    assert r[35]["status_detail"].startswith("Failed publickey for frank from 10.0.0.9")
    # message repeated 5 times: four more rows of line 14, outside the record sum
    assert [x["raw_offset"] for x in repeats] == [14] * 4
    assert all(x["reason"] == "bad_password" and x["user"] == "root" for x in repeats)
    # every line is a row, quarantined, or skipped (CRON, sudo, pam duplicates…)
    assert skipped(path, p, routed, quarantined) == 30
    assert (p.records, p.skipped) == (48, 30)


def test_rfc3339_offsets_sshd_session_and_ipv6():
    p, routed, repeats, quarantined = parse(LINUX / "auth_rfc3339.log")
    r = by_line(routed)
    assert set(r) == {3, 5, 7, 8}
    # +02:00 is honoured: 12:00:05+02:00 is 10:00:05 UTC
    assert r[3]["time"] == datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)
    assert (
        r[3]["reason"] == "unknown_user"
        and r[3]["session_uid"] == "train-login-2 sshd-session[4410]"
    )
    assert r[5]["src_ip"] == "2001:db8::15" and r[5]["status"] == "success"
    # journalctl short-iso offsets without a colon
    assert r[7]["time"] == datetime(2026, 3, 2, 10, 2, 0, tzinfo=UTC)
    assert len(repeats) == 1 and repeats[0]["raw_offset"] == 8
    assert quarantined == []


def _write(path: Path, text: str, mtime: datetime | None = None) -> Path:
    path.write_text(text)
    if mtime:
        ts = mtime.timestamp()
        os.utime(path, (ts, ts))
    return path


def test_year_from_mtime_rolls_back_for_later_months(tmp_path, monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV)
    f = _write(
        tmp_path / "auth.log",
        "Dec 31 23:59:58 h sshd[1]: Failed password for a from 192.0.2.1 port 1 ssh2\n"
        "Jan  1 00:00:02 h sshd[2]: Failed password for b from 192.0.2.1 port 2 ssh2\n",
        mtime=datetime(2026, 1, 1, 6, 25),
    )
    _, routed, _, _ = parse(f)
    assert [r["time"] for r in routed] == [
        datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
    ]


def test_year_option_and_time_zone_option(tmp_path, monkeypatch):
    monkeypatch.setenv(linux_auth.YEAR_ENV, "2024")
    monkeypatch.setenv(linux_auth.TZ_ENV, "America/New_York")
    f = _write(
        tmp_path / "secure",
        "Feb 29 10:00:00 h sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2\n"
        "2026-03-02T10:00:00+00:00 h sshd[2]: Accepted password for b from 192.0.2.1 port 2 ssh2\n",
    )
    _, routed, _, quarantined = parse(f)
    # a leap day exists in 2024; New York is UTC-5 in February; RFC 3339 keeps its offset
    assert [r["time"] for r in routed] == [
        datetime(2024, 2, 29, 15, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC),
    ]
    assert quarantined == []


def test_bad_options_fail_loudly(tmp_path, monkeypatch):
    f = _write(
        tmp_path / "auth.log", "Mar  2 10:00:00 h sshd[1]: Server listening on :: port 22.\n"
    )
    monkeypatch.setenv(linux_auth.TZ_ENV, "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="time zone"):
        parse(f)
    monkeypatch.setenv(linux_auth.TZ_ENV, "UTC")
    monkeypatch.setenv(linux_auth.YEAR_ENV, "twenty")
    with pytest.raises(ValueError, match="not a year"):
        parse(f)


def test_hostile_lines_are_quarantined_and_good_lines_kept(tmp_path):
    good = "Mar  2 10:00:0{} h sshd[{}]: Failed password for u{} from 192.0.2.9 port 1 ssh2\n"
    raw = b"".join(
        [
            good.format(1, 1, 1).encode(),
            b"Mar  2 10:00:02 h sshd[2]: Failed password for \xff\xfe from 192.0.2.9 port 1 ssh2\n",
            good.format(3, 3, 3).encode(),
            b"Mar  2 10:00:04 h sshd[4]: Failed password for a\x1b[2Jb from 192.0.2.9 port 1 ssh2\n",
            b"Mar  2 10:00:05 h sshd[5]: Failed password for "
            + b"A" * 40_000
            + b" from 192.0.2.9 port 1 ssh2\n",
            b"Feb 30 10:00:06 h sshd[6]: Failed password for x from 192.0.2.9 port 1 ssh2\n",
            b"Mar  2 10:00:07 h sshd[7]: message repeated 999999999 times: [ Failed password for r from 192.0.2.9 port 1 ssh2]\n",
            b"\x00\x01\x02 binary junk\n",
            b"just some text\n",
            good.format(9, 9, 9).encode(),
        ]
    )
    f = tmp_path / "auth.log"
    f.write_bytes(raw)
    p, routed, repeats, quarantined = parse(f)
    assert [r["user"] for r in routed] == ["u1", "u3", "u9"]
    assert repeats == []
    reasons = {q["raw_offset"]: q["reason"] for q in quarantined}
    assert reasons == {
        2: "control characters or invalid UTF-8 in line",
        4: "control characters or invalid UTF-8 in line",
        5: "line longer than 16 KiB: not a syslog record",
        6: "unparseable syslog timestamp",
        7: "implausible message repeat count",
        8: "control characters or invalid UTF-8 in line",
        9: "not a syslog line",
    }
    assert all(len(q["record"]) <= 4096 for q in quarantined)


def test_truncated_gzip_keeps_lines_before_the_break(tmp_path):
    body = "".join(
        f"Mar  2 10:{i // 60:02d}:{i % 60:02d} h sshd[{i}]: Failed password for u{i} from 192.0.2.9 port 1 ssh2\n"
        for i in range(2000)
    ).encode()
    blob = gzip.compress(body)
    f = tmp_path / "auth.log.1.gz"
    f.write_bytes(blob[: len(blob) // 2])
    p, routed, _, quarantined = parse(f)
    assert 0 < len(routed) < 2000
    reasons = [q["reason"] for q in quarantined]
    assert any(r.startswith("file truncated or corrupt after line") for r in reasons)
    # besides the break itself, at most the one line the break cut in half
    assert len(reasons) <= 2
    assert p.records == len(routed) + len(quarantined) + p.skipped


def test_lake_counts_add_up_and_reingest_adds_nothing(lake):
    files = sorted(LINUX.glob("*.log"))
    first = lake.ingest(files)
    for res in first:
        assert res.source == "sshd" and res.status == "ingested"
        assert res.note is None, res.note
        assert res.read == res.routed_rows + res.quarantined + res.skipped
    again = lake.ingest(files)
    assert [r.status for r in again] == ["duplicate"] * len(files)
    con = duckdb.connect()
    n = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake.table_glob('authentication')}')"
    ).fetchall()
    # 22 + 5 + 14 + 28 rows (repeats included), once
    assert n[0][0] == 22 + 5 + 14 + 28


def test_password_spray_fires_on_one_address_many_users(lake):
    found = by_detection(
        hunt(lake, LINUX / "spray_auth.log", only=["identity.password_spray"]),
        "identity.password_spray",
    )
    assert len(found) == 1
    f = found[0]
    assert f["entities"]["src_ip"] == ["198.51.100.23"]
    assert len(f["entities"]["user"]) == 14
    assert f["evidence"]["attempts"] == 14
    assert f["evidence"]["unknown_user_attempts"] == 4
    assert f["evidence"]["sources"] == ["sshd"]


def test_password_spray_quiet_on_jump_host_after_rotation(lake):
    found = hunt(lake, LINUX / "jumphost_auth.log", only=["identity.password_spray"])
    assert by_detection(found, "identity.password_spray") == []


def test_simulator_output_quarantines_nothing_and_counts_every_sign_in(tmp_path, monkeypatch):
    sim = pytest.importorskip("crownwatch.simulate.identity")
    truth = sim.generate_identity(tmp_path / "logs", users=60, days=1, formats=("linux_auth",))
    monkeypatch.setenv(linux_auth.YEAR_ENV, truth["start"][:4])
    lake = Lake(tmp_path / "lake")
    (res,) = [r for r in lake.ingest([tmp_path / "logs" / "linux"])]
    assert res.source == "sshd" and res.quarantined == 0 and res.note is None
    # one row per simulated sign-in attempt: no double counting, nothing lost
    assert res.rows["authentication"] == truth["files"]["linux/auth.log"]["signins"]
