"""Linux auth.log / secure (sshd) source, on the real engine.

Fixtures are written line for line in the layouts OpenSSH and rsyslog emit (see
``tests/fixtures/linux/README.md``; message forms checked against the public LogPAI
loghub ``OpenSSH_2k.log`` sample)."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
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


def test_sniff_claims_every_layout_and_nothing_else():
    for name in (
        "auth.log",
        "auth_rfc3339.log",
        "auth_rfc5424.log",
        "auth_relayed.log",
        "auth_kbdint.log",
        "messages_old_pam.log",
    ):
        assert sniff(LINUX / name) is linux_auth, name
    # an odd first tag, journalctl's header line, a relay in front of RFC 5424
    assert linux_auth.sniff("Jun 15 04:12:42 combo syslogd 1.4.1: restart.\n")
    assert linux_auth.sniff(
        "-- Logs begin at Mon 2026-03-02 09:00:00 UTC. --\n"
        "Mar 02 10:00:01.123456 h sshd[1]: Server listening on :: port 22.\n"
    )
    assert linux_auth.sniff(
        "Jul 23 21:30:56 relay <86>1 2025-07-23T15:30:56-06:00 h sshd-session 7 - - Failed none"
    )
    assert not linux_auth.sniff("just some text\n")
    assert not linux_auth.sniff('{"__REALTIME_TIMESTAMP" : "1772445600123456"}')
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
    files = sorted(LINUX.glob("*.log")) + sorted(LINUX.glob("*.json"))
    first = lake.ingest(files)
    assert len(first) == len(files)
    for res in first:
        assert res.source == ("journald" if res.path.endswith(".json") else "sshd"), res.path
        assert res.status == "ingested" and res.note is None, (res.path, res.note)
        assert res.quarantined == 0, res.path
        assert res.read == res.routed_rows + res.quarantined + res.skipped
        assert sum(res.rows.values()) == res.routed_rows + res.extra_rows
    again = lake.ingest(files)
    assert [r.status for r in again] == ["duplicate"] * len(files)
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM {lake.table_sql('authentication')}").fetchall()
    # every row once, repeats included
    assert n[0][0] == sum(r.routed_rows + r.extra_rows for r in first)
    by_name = {Path(r.path).name: r for r in first}
    # 22 + 5 + 14 + 28 rows (repeats included) in the four original files
    assert (
        sum(
            by_name[f].routed_rows + by_name[f].extra_rows
            for f in ("auth.log", "auth_rfc3339.log", "spray_auth.log", "jumphost_auth.log")
        )
        == 22 + 5 + 14 + 28
    )


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


# -- dialects of real servers ------------------------------------------------------


def rows_of(routed):
    return {
        r["raw_offset"]: (r["user"], r["src_ip"], r["reason"], r["status_code"]) for r in routed
    }


def test_old_pam_dialect_of_var_log_messages():
    """``sshd(pam_unix)[pid]:`` lines as Fedora/RHEL sysklogd wrote them (loghub's
    Linux_2k.log): PAM's line is the only record of each guess there."""
    p, routed, repeats, quarantined = parse(LINUX / "messages_old_pam.log")
    assert rows_of(routed) == {
        # no user= and nothing else: a name PAM did not know
        1: (None, "198.51.100.4", "unknown_user", "PAM authentication failure"),
        # check pass; user unknown + the failure: one attempt, on the failure
        3: (None, "198.51.100.4", "unknown_user", "PAM authentication failure"),
        # rhost is a host name: no address, the name stays in status_detail
        4: ("root", None, "bad_password", "PAM authentication failure"),
        5: ("root", None, "bad_password", "PAM authentication failure"),
        12: ("guest", "192.0.2.253", "bad_password", "PAM authentication failure"),
        # "2 more authentication failures": two attempts (one extra row)
        13: ("guest", "192.0.2.253", "bad_password", "PAM more authentication failures"),
        # an sshd session opened with no Accepted line anywhere near it: a success
        14: ("test", None, "success", "Session opened"),
        18: (None, None, "unknown_user", "PAM authentication failure"),
        19: ("root", "198.51.100.9", "bad_password", "Failed password"),
        # sysklogd's "last message repeated 2 times" repeats line 19
        20: ("root", "198.51.100.9", "bad_password", "Failed password"),
        22: ("admin", "198.51.100.9", "unknown_user", "Failed password"),
        # Accepted + session opened of the same connection: one success
        24: ("bob", "192.0.2.10", "success", "Accepted password"),
    }
    r = by_line(routed)
    assert "rhost=203-0-113-151.dsl.example.net" in r[4]["status_detail"]
    assert r[4]["session_uid"] == "combo sshd[20882]"  # sshd(pam_unix) is sshd's
    assert r[20]["time"] == datetime(2026, 6, 18, 2, 10, 17, tzinfo=UTC)
    assert r[20]["session_uid"] == "combo sshd[31300]"
    assert sorted(x["raw_offset"] for x in repeats) == [13, 20]
    # su, logrotate, "syslogd 1.4.1: restart.", kernel, "-- MARK --", ftpd: skipped
    assert quarantined == []
    assert (p.records, p.skipped) == (25, 13)


def _old_pam(start: datetime, n: int, step_s: float, rhost: str, user: str, pid: int) -> str:
    out = []
    for i in range(n):
        t = start + timedelta(seconds=i * step_s)
        out.append(
            f"{t:%b} {t.day:2d} {t:%H:%M:%S} combo sshd(pam_unix)[{pid + i}]: authentication "
            f"failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={rhost}  user={user}\n"
        )
    return "".join(out)


def test_old_pam_root_guessing_fires_brute_force(lake, tmp_path):
    # Linux_2k's shape: bursts of sshd(pam_unix) root failures from one rhost, a new
    # pid (connection) each, several in the same second
    f = tmp_path / "messages"
    f.write_text(
        _old_pam(datetime(2026, 6, 15, 2, 4, 59), 240, 2.5, "198.51.100.201", "root", 20882)
        + _old_pam(
            datetime(2026, 6, 16, 8, 0, 0), 60, 0.5, "203-0-113-7.dsl.example.net", "admin", 40000
        )
    )
    found = by_detection(hunt(lake, f, only=["identity.brute_force"]), "identity.brute_force")
    by_user = {x["entities"]["user"][0]: x for x in found}
    assert set(by_user) == {"root", "admin"}
    assert by_user["root"]["evidence"]["attempts"] == 240
    assert by_user["root"]["entities"]["src_ip"] == ["198.51.100.201"]
    # a guesser known only by its host name still counts per user
    assert by_user["admin"]["evidence"]["attempts"] == 60
    assert by_user["admin"]["entities"].get("src_ip", []) == []


def test_old_pam_stale_service_password_stays_quiet(lake, tmp_path):
    # benign twin: a backup job retrying a rotated password every 5 minutes from
    # its own internal host — 36 failures, machine-regular
    f = tmp_path / "messages"
    f.write_text(_old_pam(datetime(2026, 6, 15, 1, 0, 0), 36, 300, "10.0.0.20", "backup", 5000))
    (res,) = lake.ingest([f])
    assert res.routed_rows == 36 and res.quarantined == 0
    found = hunt(lake, f, only=["identity.brute_force"])
    assert by_detection(found, "identity.brute_force") == []


def test_keyboard_interactive_pam_server_one_row_per_guess(lake):
    """PAM runs in a child process for keyboard-interactive: its lines carry the
    child's pid, sshd's own (``error: PAM``, ``Failed keyboard-interactive/pam``,
    ``Invalid user``, ``Connection closed``) the parent's."""
    path = LINUX / "auth_kbdint.log"
    p, routed, repeats, quarantined = parse(path)
    assert [r["user"] for r in routed] == [
        "alice", "admin", "oracle", "bob", "test", "ubuntu",  # sshd answered: its Failed line
        "carol", "pi", "postgres", "dave", "git", "ftpuser",  # hung up: PAM's line only
    ]  # fmt: skip
    assert all(r["src_ip"] == "198.51.100.23" for r in routed)
    assert [r["reason"] for r in routed] == [
        "unknown_user" if r["user"] not in {"alice", "bob", "carol", "dave"} else "bad_password"
        for r in routed
    ]
    codes = [r["status_code"] for r in routed]
    assert codes == ["Failed keyboard-interactive/pam"] * 6 + ["PAM authentication failure"] * 6
    assert repeats == [] and quarantined == []
    found = by_detection(
        hunt(lake, path, only=["identity.password_spray"]), "identity.password_spray"
    )
    assert len(found) == 1
    assert found[0]["entities"]["src_ip"] == ["198.51.100.23"]
    assert found[0]["evidence"]["attempts"] == 12
    assert found[0]["evidence"]["unknown_user_attempts"] == 8


def test_keyboard_interactive_typos_that_recover_are_no_spray(lake, tmp_path):
    # benign twin: 12 people behind one jump host mistype once (PAM's line only) and
    # get in on a new connection 12 s later
    lines = []
    for i, u in enumerate(f"user{k:02d}" for k in range(12)):
        t = datetime(2026, 3, 2, 9, 0, 0) + timedelta(minutes=i)
        ok = t + timedelta(seconds=12)
        stamp = f"{t:%b} {t.day:2d} {t:%H:%M:%S}"
        lines += [
            f"{stamp} login1 sshd[{8001 + 10 * i}]: pam_unix(sshd:auth): authentication failure; "
            f"logname= uid=0 euid=0 tty=ssh ruser= rhost=10.20.0.4  user={u}",
            f"{ok:%b} {ok.day:2d} {ok:%H:%M:%S} login1 sshd[{8005 + 10 * i}]: Accepted "
            f"keyboard-interactive/pam for {u} from 10.20.0.4 port {45000 + i} ssh2",
        ]
    f = _write(tmp_path / "auth.log", "\n".join(lines) + "\n")
    _, routed, _, _ = parse(f)
    assert [r["reason"] for r in routed] == ["bad_password", "success"] * 12
    assert (
        by_detection(hunt(lake, f, only=["identity.password_spray"]), "identity.password_spray")
        == []
    )


def _lines(tmp_path, *lines: str) -> Path:
    return _write(tmp_path / "auth.log", "".join(line + "\n" for line in lines))


def test_pam_lines_count_only_where_sshd_said_nothing(tmp_path):
    h = "Mar  2 10:00:0{} bastion1 sshd[{}]: "
    f = _lines(
        tmp_path,
        # 1-4: a connection logged by PAM only — the failure and its summary: 3 attempts
        h.format(1, 100) + "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=203.0.113.50  user=root",
        h.format(7, 100) + "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh "
        "ruser= rhost=203.0.113.50  user=root",
        h.format(7, 100) + "PAM service(sshd) ignoring max retries; 3 > 3",
        h.format(8, 100)
        + "Connection closed by authenticating user root 203.0.113.50 port 1 [preauth]",
        # 5-8: the same with sshd's Failed lines: they count, PAM's summary does not
        h.format(1, 200) + "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=203.0.113.51  user=root",
        h.format(3, 200) + "Failed password for root from 203.0.113.51 port 2 ssh2",
        h.format(6, 200)
        + "message repeated 2 times: [ Failed password for root from 203.0.113.51 port 2 ssh2]",
        h.format(7, 200) + "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh "
        "ruser= rhost=203.0.113.51  user=root",
        # 9-10: two modules of one PAM stack failing one attempt (pam_unix, pam_sss)
        h.format(1, 300) + "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=10.70.47.161  user=ryan",
        h.format(1, 300) + "pam_sss(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=10.70.47.161 user=ryan",
        # 11-12: PAM's child line and sshd's "error: PAM" of the same attempt: one
        h.format(1, 401) + "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=203.0.113.52  user=eve",
        h.format(3, 400) + "error: PAM: Authentication failure for eve from 203.0.113.52",
    )
    p, routed, repeats, quarantined = parse(f)
    assert rows_of(routed) == {
        1: ("root", "203.0.113.50", "bad_password", "PAM authentication failure"),
        2: ("root", "203.0.113.50", "bad_password", "PAM more authentication failures"),
        6: ("root", "203.0.113.51", "bad_password", "Failed password"),
        7: ("root", "203.0.113.51", "bad_password", "Failed password"),
        9: ("ryan", "10.70.47.161", "bad_password", "PAM authentication failure"),
        12: ("eve", "203.0.113.52", "bad_password", "PAM error"),
    }
    assert sorted(x["raw_offset"] for x in repeats) == [2, 7]
    assert quarantined == [] and p.skipped == 12 - 6


def test_connections_that_end_before_a_verdict(tmp_path):
    h = "Mar  2 10:00:0{} bastion1 sshd[{}]: "
    f = _lines(
        tmp_path,
        # an existing account whose keys were refused: nothing but the close
        h.format(1, 100)
        + "Connection closed by authenticating user root 203.0.113.60 port 1 [preauth]",
        # a name that does not exist, its Invalid user line filtered away
        h.format(1, 200) + "Disconnected from invalid user oracle 203.0.113.61 port 2 [preauth]",
        # MaxAuthTries spent on keys: two closing lines, one attempt
        h.format(1, 300) + "error: maximum authentication attempts exceeded for deploy from "
        "203.0.113.62 port 3 ssh2 [preauth]",
        h.format(1, 300) + "Disconnecting authenticating user deploy 203.0.113.62 port 3: Too many "
        "authentication failures [preauth]",
        # after a verdict a closing line is only the end of the connection
        h.format(1, 400) + "Failed password for eve from 203.0.113.63 port 4 ssh2",
        h.format(2, 400)
        + "Connection closed by authenticating user eve 203.0.113.63 port 4 [preauth]",
    )
    _, routed, _, quarantined = parse(f)
    assert rows_of(routed) == {
        1: ("root", "203.0.113.60", "other", "Closed by authenticating user"),
        2: ("oracle", "203.0.113.61", "unknown_user", "Closed by invalid user"),
        4: ("deploy", "203.0.113.62", "other", "Closed by authenticating user"),
        5: ("eve", "203.0.113.63", "bad_password", "Failed password"),
    }
    assert quarantined == []


def test_rfc5424_lines_with_and_without_pri_and_structured_data():
    p, routed, repeats, quarantined = parse(LINUX / "auth_rfc5424.log")
    assert rows_of(routed) == {
        5: ("oracle", "203.0.113.30", "unknown_user", "Failed password"),
        7: ("deploy", "10.0.0.6", "success", "Accepted publickey"),
        # a BOM before the message and two structured-data elements
        8: ("root", "203.0.113.31", "bad_password", "Failed password"),
        # an escaped ] inside structured data
        11: ("alice", "10.0.0.7", "bad_password", "Failed password"),
    }
    r = by_line(routed)
    assert r[5]["time"] == datetime(2026, 3, 2, 10, 0, 7, 402000, tzinfo=UTC)
    assert r[7]["time"] == datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)  # +01:00 honoured
    assert r[8]["status_detail"].startswith("Failed password")
    assert r[5]["session_uid"] == "bastion1 sshd[1240]" and r[5]["service"] == "bastion1"
    assert quarantined == [] and (p.records, p.skipped) == (11, 7)


def test_relayed_lines_keep_the_origin_host_and_stamp():
    p, routed, repeats, quarantined = parse(LINUX / "auth_relayed.log")
    got = {n: (r["service"], r["user"], r["reason"], r["time"]) for n, r in by_line(routed).items()}
    t = lambda s: datetime(2026, 3, 2, 10, 0, s, tzinfo=UTC)  # noqa: E731
    assert got == {
        1: ("bastion1", "root", "bad_password", t(1)),  # relay stamp and host in front
        2: ("bastion1", "root", "bad_password", t(2)),  # the relay's stamp is RFC 3339
        3: ("bastion2", "alice", "success", t(4)),  # a bare relay address in front
        4: ("bastion1", "test", "unknown_user", t(5)),  # a leading <PRI>
        6: ("bastion1", "bob", "bad_password", t(6)),  # relay name, <PRI>, RFC 3339 inner
    }
    assert quarantined == [] and p.skipped == 3


def test_journalctl_short_output_and_odd_tags_are_skipped_not_quarantined(tmp_path):
    f = _lines(
        tmp_path,
        "-- Logs begin at Mon 2026-03-02 09:00:00 UTC, end at Mon 2026-03-02 10:10:00 UTC. --",
        "Mar 02 10:00:01.123456 train-login-2 sshd[4430]: Failed password for root from "
        "192.0.2.78 port 60220 ssh2",
        "-- Reboot --",
        "Mar 02 10:05:00 train-login-2 syslogd 1.4.1: restart.",
        "Mar 02 10:05:00 train-login-2 -- MARK --",
        "Mar 02 10:05:00 train-login-2 kernel: [ 4512.12] Out of memory: Killed process 4210",
        "Mar 02 10:05:00 train-login-2 exiting on signal 15",
        "-- No entries --",
    )
    p, routed, _, quarantined = parse(f)
    assert [(r["raw_offset"], r["time"]) for r in routed] == [
        (2, datetime(2026, 3, 2, 10, 0, 1, 123456, tzinfo=UTC))
    ]
    assert quarantined == [] and (p.records, p.skipped) == (8, 7)


def test_bad_lines_of_every_layout_are_quarantined_and_the_rest_kept(tmp_path):
    f = _lines(
        tmp_path,
        "<38>1 - bastion1 sshd 1 - - Failed password for a from 192.0.2.1 port 1 ssh2",
        "Mar  2 10:00:01 bastion1 sshd[2]: Failed password for b from 192.0.2.1 port 1 ssh2",
        "Mar  2 10:00:02 bastion1 sshd[3]: PAM 99999 more authentication failures; logname= "
        "uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.1  user=c",
        "\x1b[31mMar  2 10:00:03 bastion1 sshd[4]: Failed password for d from 192.0.2.1 port 1 ssh2",
        "Mar  2 10:00:04 bastion1 last message repeated 3 times",
        "Mar  2 10:00:05 bastion1 sshd[6]: Failed password for e from 192.0.2.1 port 1 ssh2",
        "Mar  2 10:00:06 bastion1 last message repeated 2 times",
    )
    p, routed, repeats, quarantined = parse(f)
    assert [(r["raw_offset"], r["user"]) for r in routed] == [(2, "b"), (6, "e"), (7, "e")]
    assert [(r["raw_offset"], r["user"]) for r in repeats] == [(7, "e")]
    assert {q["raw_offset"]: q["reason"] for q in quarantined} == {
        1: "unparseable syslog timestamp",
        3: "implausible message repeat count",
        4: "control characters or invalid UTF-8 in line",
        5: "repeats a line that was quarantined",
    }
    assert all(q["record"] for q in quarantined)
    assert p.records == len(routed) + len(quarantined) + p.skipped


def test_repeats_are_extra_rows_and_both_count_identities_hold(lake):
    res = {
        Path(r.path).name: r
        for r in lake.ingest([LINUX / "messages_old_pam.log", LINUX / "auth.log"])
    }
    for r in res.values():
        assert r.read == r.routed_rows + r.skipped + r.quarantined
        assert sum(r.rows.values()) == r.routed_rows + r.extra_rows
    # PAM's "2 more" (one extra) and sysklogd's "last message repeated 2 times" (one)
    old = res["messages_old_pam.log"]
    assert (old.read, old.routed_rows, old.extra_rows, old.skipped) == (25, 12, 2, 13)
    # rsyslog's "message repeated 5 times": four extra rows of line 14
    assert (res["auth.log"].routed_rows, res["auth.log"].extra_rows) == (18, 4)


# -- the year of classic lines -----------------------------------------------------


def _times(path: Path) -> list[datetime]:
    _, routed, _, quarantined = parse(path)
    assert quarantined == []
    return [r["time"] for r in routed]


_FAIL = "{} h sshd[{}]: Failed password for u from 192.0.2.1 port 1 ssh2\n"


def test_year_of_a_copied_file_is_never_in_the_future(tmp_path, monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV)
    # downloaded on 5 March 2026: March 28 can only be last year's (the old rule
    # looked at the month alone and said 2026)
    f = _write(
        tmp_path / "auth.log",
        _FAIL.format("Mar 20 10:00:00", 1) + _FAIL.format("Mar 28 10:00:00", 2),
        mtime=datetime(2026, 3, 5, 12, 0),
    )
    assert [t.year for t in _times(f)] == [2025, 2025]
    # up to a day past the reference is clock and zone slack: still this year
    f = _write(
        tmp_path / "auth.log",
        _FAIL.format("Mar  4 10:00:00", 1) + _FAIL.format("Mar  6 10:00:00", 2),
        mtime=datetime(2026, 3, 5, 12, 0),
    )
    assert [t.year for t in _times(f)] == [2026, 2026]


def test_year_reference_is_capped_at_now(tmp_path, monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV)
    now = datetime.now(UTC)
    ahead = now + timedelta(days=40)
    if (ahead.month, ahead.day) == (2, 29):  # no such day a year earlier
        ahead += timedelta(days=1)
    f = _write(
        tmp_path / "auth.log",
        _FAIL.format(f"{ahead:%b} {ahead.day:2d} 10:00:00", 1),
        mtime=datetime(now.year + 3, 1, 1),  # a clock gone wrong
    )
    # 40 days from now is not possible yet: last year's
    assert _times(f) == [
        ahead.replace(year=ahead.year - 1, hour=10, minute=0, second=0, microsecond=0)
    ]


def test_year_rolls_over_in_file_order_twice(tmp_path, monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV)
    stamps = ["Dec 30 10:00:00", "Jan  2 10:00:00", "Jun  1 10:00:00", "Dec 31 23:59:59",
              "Jan  1 00:00:01", "Jan 15 10:00:00"]  # fmt: skip
    f = _write(
        tmp_path / "auth.log",
        "".join(_FAIL.format(s, i) for i, s in enumerate(stamps)),
        mtime=datetime(2026, 2, 1, 8, 0),
    )
    assert [(t.year, t.month) for t in _times(f)] == [
        (2024, 12), (2025, 1), (2025, 6), (2025, 12), (2026, 1), (2026, 1)
    ]  # fmt: skip


def test_small_month_skew_is_not_new_year(tmp_path, monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV)
    # a relay's late line from the end of March after April began
    stamps = ["Mar 31 23:59:58", "Apr  1 00:00:01", "Mar 31 23:59:59", "Apr  1 00:10:00"]
    f = _write(
        tmp_path / "auth.log",
        "".join(_FAIL.format(s, i) for i, s in enumerate(stamps)),
        mtime=datetime(2026, 4, 1, 1, 0),
    )
    assert [t.year for t in _times(f)] == [2026] * 4


def test_year_override_is_the_first_lines_year_and_rolls_over(tmp_path, monkeypatch):
    monkeypatch.setenv(linux_auth.YEAR_ENV, "2019")
    f = _write(
        tmp_path / "auth.log",
        _FAIL.format("Dec 31 23:59:58", 1) + _FAIL.format("Jan  1 00:00:02", 2),
        mtime=datetime(2026, 1, 1, 6, 25),
    )
    assert _times(f) == [
        datetime(2019, 12, 31, 23, 59, 58, tzinfo=UTC),
        datetime(2020, 1, 1, 0, 0, 2, tzinfo=UTC),
    ]


def test_cli_syslog_year_option_sets_the_year(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from crownwatch.cli import app

    monkeypatch.delenv(linux_auth.YEAR_ENV)
    f = _write(tmp_path / "auth.log", _FAIL.format("Dec 31 23:59:58", 1))
    lake_dir = tmp_path / "lake"
    result = CliRunner().invoke(
        app, ["ingest", str(f), "--lake", str(lake_dir), "--syslog-year", "2017", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    ((t,),) = con.execute(
        f"SELECT min(time) FROM {Lake(lake_dir).table_sql('authentication')}"
    ).fetchall()
    assert t.year == 2017
    bad = CliRunner().invoke(
        app, ["ingest", str(f), "--lake", str(lake_dir), "--syslog-year", "17"]
    )
    assert bad.exit_code == 2


def test_lines_written_without_a_host(tmp_path):
    f = _lines(
        tmp_path,
        "Mar  2 10:00:01 sshd[7]: Failed password for x from 192.0.2.5 port 1 ssh2",
        "Mar  2 12:24:48  sshd[7]: last message repeated 2 times",
        "Mar  2 12:25:00 combo exiting on signal 15",
    )
    p, routed, repeats, quarantined = parse(f)
    assert [(r["raw_offset"], r["user"], r["service"], r["session_uid"]) for r in routed] == [
        (1, "x", None, "- sshd[7]"),
        (2, "x", None, "- sshd[7]"),
    ]
    assert len(repeats) == 1 and quarantined == [] and p.skipped == 1


def test_the_line_address_read_backwards_is_the_one_the_greedy_pattern_captures():
    """LINE_IP_REVERSED must capture what LINE_IP does on any ASCII line (the source
    reads the others with LINE_IP), including a user name that imitates "<addr> port
    <n>", '=' before an address and runs of ports: seeded random lines of those pieces,
    compared on DuckDB's own RE2."""
    import random

    pieces = [" ", "port", " port ", "22", "7", "1.2.3.4", "::1", "fe80::a", "rhost=", "=",
              "x", "from", ":", ".", "ssh2", "abc", "DEAD", "\t"]  # fmt: skip
    rnd = random.Random(7)
    lines = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(3, 12))) for _ in range(20000)]
    lines += ["Failed password for x 6.6.6.6 port 1 from 10.0.0.9 port 22 ssh2"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest($l) AS msg", {"l": lines})
    greedy, backwards, differ = con.execute(
        f"""SELECT count(*) FILTER (WHERE a <> ''), count(*) FILTER (WHERE b <> ''),
                   count(*) FILTER (WHERE a IS DISTINCT FROM b)
            FROM (SELECT regexp_extract(msg, '{linux_auth.LINE_IP}', 1) AS a,
                         reverse(regexp_extract(reverse(msg), '{linux_auth.LINE_IP_REVERSED}', 1))
                             AS b FROM t WHERE strlen(msg) = length(msg))"""
    ).fetchone()
    assert differ == 0 and greedy == backwards > 100
    assert con.execute(
        f"SELECT reverse(regexp_extract(reverse(msg), '{linux_auth.LINE_IP_REVERSED}', 1)) "
        "FROM t WHERE starts_with(msg, 'Failed')"
    ).fetchone() == ("10.0.0.9",)
