"""Small real attacks under the count thresholds: failures at machine speed (a dozen
guesses in milliseconds against local accounts, address-less NTLM validation at a
domain controller) and an Internet address with a couple of dozen failed SSH logins
fire whatever the total; a person's typos, a stale service account retrying on a
timer and an internal job with an old password stay quiet. Windows events are
written with the fixture generator (``tests/fixtures/windows/make_fixtures.py``),
sshd lines as OpenSSH and rsyslog write them."""

from __future__ import annotations

import importlib.util

from tests.conftest import FIXTURES, by_detection, hunt

SPRAY = "identity.password_spray"
BRUTE = "identity.brute_force"
WIN = FIXTURES / "windows"

_spec = importlib.util.spec_from_file_location("make_fixtures", WIN / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)

WS = "WIN10-FIN-07.corp.northwind.example"
DC = mf.DC


def _stamp(base: str, ms: int) -> str:
    import datetime as dt

    t = dt.datetime.fromisoformat(base) + dt.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _4625(user: str, at: str, ws: str = "KALI") -> tuple:
    data = mf.s4625(user, "WIN10-FIN-07", "0xc000006d", "0xc000006a", 3, "NTLM", "-", "-", ws=ws)
    return (4625, WS, at, data)


def _4776(user: str, at: str, ws: str = "KALI", status: str = "0xc000006a") -> tuple:
    return (4776, DC, at, mf.s4776(user, ws, status))


def _write(path, events):
    mf.write_xml(str(path), events, 48500000)
    return path


def test_local_accounts_guessed_in_milliseconds_fire(lake, tmp_path):
    """12 failed network logons at 4 local accounts within 60 ms, no address — below
    every count threshold (4 accounts, 3 tries each)."""
    users = ["Administrator", "admin", "guest", "support"]
    events = [_4625(users[k % 4], _stamp("2026-03-04T01:12:00", 5 * k)) for k in range(12)]
    found = hunt(lake, _write(tmp_path / "local.xml", events), only=[SPRAY, BRUTE])
    [f] = by_detection(found, SPRAY)
    ev = f["evidence"]
    assert ev["shape"] == "machine_speed" and ev["burst_attempts"] == 12
    assert f["entities"]["host"] == ["kali"] and "src_ip" not in f["entities"]
    assert sorted(f["entities"]["user"]) == ["admin", "administrator", "guest", "support"]
    assert f["attack"] == ["T1110.003"]
    assert by_detection(found, BRUTE) == []


def test_one_account_hammered_by_ntlm_at_a_dc_fires(lake, tmp_path):
    """9 address-less 4776 failures on one account within a second: brute force."""
    events = [_4776("svc-backup", _stamp("2026-03-04T01:30:00", 100 * k)) for k in range(9)]
    found = hunt(lake, _write(tmp_path / "ntlm.xml", events), only=[SPRAY, BRUTE])
    [f] = by_detection(found, BRUTE)
    assert f["entities"]["user"] == ["svc-backup"]
    assert f["evidence"]["machine_speed_burst"] == 9 and f["evidence"]["attempts"] == 9


def test_typos_and_a_stale_service_account_stay_quiet(lake, tmp_path):
    events = []
    # a person: three wrong passwords a few seconds apart, then in, from their own PC
    for k in range(3):
        events.append(_4776("dana", _stamp("2026-03-04T08:00:00", 4000 * k), ws="WS-0142"))
    events.append(_4776("dana", _stamp("2026-03-04T08:00:15", 0), ws="WS-0142", status="0x0"))
    # a backup job with a rotated password, every 5 minutes for 3 hours, from its server
    for k in range(36):
        events.append(_4776("svc-sql", _stamp("2026-03-04T02:00:00", 300_000 * k), ws="SQL01"))
    # a help desk tool checking 9 accounts' lockout state, one a minute
    for k in range(9):
        events.append(_4776(f"user{k}", _stamp("2026-03-04T09:00:00", 60_000 * k), ws="HD01"))
    found = hunt(lake, _write(tmp_path / "benign.xml", events), only=[SPRAY, BRUTE])
    assert found == []


def _sshd(lines: list[tuple[int, str, str]]) -> str:
    """(second, user, address) -> auth.log lines for failed passwords, one connection each."""
    out = []
    for i, (sec, user, ip) in enumerate(lines):
        clock = f"03:{10 + sec // 60:02d}:{sec % 60:02d}"
        pid = 40100 + i
        inv = "" if user in ("root", "ubuntu") else "invalid user "
        if inv:
            out.append(
                f"Mar  4 {clock} gpu-login-1 sshd[{pid}]: Invalid user {user} from {ip} port {50000 + i}"
            )
        out.append(
            f"Mar  4 {clock} gpu-login-1 sshd[{pid}]: Failed password for {inv}{user} from {ip} "
            f"port {50000 + i} ssh2"
        )
    return "\n".join(out) + "\n"


GUESSES = ["root"] * 8 + ["admin"] * 5 + ["ubuntu"] * 4 + ["test"] * 3 + ["oracle"] * 2 + ["pi"] * 2


def test_an_internet_address_with_two_dozen_failed_ssh_logins_fires(lake, tmp_path, monkeypatch):
    monkeypatch.setenv("CROWNWATCH_SYSLOG_YEAR", "2026")
    log = tmp_path / "auth.log"
    log.write_text(_sshd([(25 * i, u, "203.0.113.99") for i, u in enumerate(GUESSES)]))
    found = hunt(lake, log, only=[SPRAY, BRUTE])
    [f] = by_detection(found, SPRAY)
    ev = f["evidence"]
    assert ev["shape"] == "guessing" and ev["unrecovered_attempts"] == 24
    assert f["entities"]["src_ip"] == ["203.0.113.99"]
    assert f["attack"] == ["T1110.003"]  # 4 attempts per account on average
    assert by_detection(found, BRUTE) == []


def test_an_internal_job_with_an_old_password_is_not_guessing(lake, tmp_path, monkeypatch):
    monkeypatch.setenv("CROWNWATCH_SYSLOG_YEAR", "2026")
    log = tmp_path / "auth.log"
    log.write_text(_sshd([(25 * i, u, "10.20.4.17") for i, u in enumerate(GUESSES)]))
    assert hunt(lake, log, only=[SPRAY, BRUTE]) == []


def test_a_slow_guesser_known_only_by_a_resolved_name_is_not_a_stale_password(
    lake, tmp_path, monkeypatch
):
    """Old PAM logs name the client by DNS: a regular, slow guessing run from such a
    name is outside, so it is not taken for a service account's stale password."""
    monkeypatch.setenv("CROWNWATCH_SYSLOG_YEAR", "2005")
    rhost = "220-135-151-1.hinet-ip.hinet.net"
    lines = [
        f"Jun 15 02:{4 + i // 60:02d}:{i % 60:02d} combo sshd(pam_unix)[{20882 + i}]: "
        f"authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={rhost}  user=root"
        for i in range(0, 30 * 60, 60)
    ]
    log = tmp_path / "messages"
    log.write_text("\n".join(lines) + "\n")
    [f] = by_detection(hunt(lake, log, only=[BRUTE]), BRUTE)
    assert f["entities"]["user"] == ["root"] and f["evidence"]["attempts"] == 30
    assert not f["evidence"]["stale_credential"]
