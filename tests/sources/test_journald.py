"""``journalctl -o json`` exports (journald source), on the real engine.

The fixture ``tests/fixtures/linux/auth_journal.json`` is written field for field in
the layout journalctl prints (``{ "__CURSOR" : …, "__REALTIME_TIMESTAMP" : … }`` of
systemd ≤ 246 and the compact ``{"__CURSOR":…}`` of later versions; a message that
is not printable UTF-8 as an array of byte values)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from crownwatch.sources import SOURCES, journald, linux_auth, sniff
from crownwatch.sources.reader import Reader, head_text
from tests.conftest import FIXTURES, by_detection, hunt

LINUX = FIXTURES / "linux"
JOURNAL = LINUX / "auth_journal.json"


def parse(path: Path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    p = journald.parse(Reader(con), path)

    def rows(rel):
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.order("raw_offset").fetchall()]

    return p, rows(p.routed["authentication"]), rows(p.copies["authentication"]), rows(p.quarantine)


def entry(
    ts_us: int, message, ident: str | None = "sshd", pid: str | None = "4410", **extra
) -> str:
    e = {"__CURSOR": "s=3ed9;i=1", "__REALTIME_TIMESTAMP": str(ts_us), "_HOSTNAME": "h1"}
    if ident:
        e["SYSLOG_IDENTIFIER"] = ident
        e["_COMM"] = ident
    if pid:
        e["_PID"] = pid
    e["MESSAGE"] = message
    e.update(extra)
    return json.dumps(e)


T0 = 1772445600_000000  # 2026-03-02T10:00:00Z


def test_sniff_claims_journal_exports_and_no_one_else_does():
    assert sniff(JOURNAL) is journald
    head = head_text(JOURNAL)
    assert [m.NAME for m in SOURCES if m.sniff(head)] == ["journald"]
    # and journald claims none of the other JSON formats
    for path in [*FIXTURES.glob("*/*.json"), *FIXTURES.glob("*/*.jsonl")]:
        if path != JOURNAL:
            assert not journald.sniff(head_text(path)), path
    assert not journald.sniff("Mar  2 10:00:01 h sshd[1]: Failed password")


def test_sshd_entries_become_rows_through_the_sshd_classification():
    p, routed, repeats, quarantined = parse(JOURNAL)
    got = {
        r["raw_offset"]: (r["user"], r["src_ip"], r["reason"], r["status_code"], r["session_uid"])
        for r in routed
    }
    assert got == {
        # Invalid user + PAM's lines + Failed + Connection closed: one attempt
        6: ("hadoop", "192.0.2.77", "unknown_user", "Failed password", "train-login-2 sshd[4410]"),
        8: (
            "ops",
            "2001:db8::15",
            "success",
            "Accepted publickey",
            "train-login-2 sshd-session[4420]",
        ),
        # MESSAGE as bytes (not UTF-8): decoded, the odd bytes written #ooo
        12: (
            "#377#376",
            "192.0.2.78",
            "unknown_user",
            "Failed password",
            "train-login-2 sshd[4430]",
        ),
        15: ("root", "192.0.2.79", "bad_password", "Failed password", "train-login-2 sshd[4440]"),
    }
    r = {x["raw_offset"]: x for x in routed}
    # __REALTIME_TIMESTAMP is microseconds since the epoch, UTC
    assert r[6]["time"] == datetime(2026, 3, 2, 10, 0, 5, 123456, tzinfo=UTC)
    assert (
        r[12]["status_detail"]
        == "Failed password for invalid user #377#376 from 192.0.2.78 port 60220 ssh2"
    )
    assert r[6]["service"] == "train-login-2" and r[6]["source"] == "sshd"
    # systemd, systemd-logind, kernel, CRON and sshd's non-attempts: skipped
    assert repeats == [] and quarantined == []
    assert (p.records, p.skipped) == (16, 12)


def test_bad_entries_are_quarantined_and_good_ones_kept(tmp_path):
    good = entry(T0, "Failed password for root from 192.0.2.9 port 1 ssh2")
    lines = [
        good,
        '{"__REALTIME_TIMESTAMP": "1772445600000000", "MESSAGE": "trunc',
        entry(T0, "Failed password for a from 192.0.2.9 port 1 ssh2").replace(
            '"__REALTIME_TIMESTAMP": "1772445600000000", ', ""
        ),
        entry(T0, None),  # journalctl writes null for a field over 4 KiB
        entry(T0, ["Failed password for b", "from 192.0.2.9"]),  # several values
        entry(T0, "Failed password for c\u001b[2J from 192.0.2.9 port 1 ssh2"),
        entry(T0, None, ident="kernel", pid=None),  # not sshd's: skipped, whatever it holds
        entry(T0, [70, 97, 105, 108, 999]),
        "[1, 2, 3]",
        entry(T0, "Failed password for d from 192.0.2.9 port 1 ssh2", _HOSTNAME="h\u001b[2J"),
        entry(T0 + 5_000_000, "Failed password for root from 192.0.2.9 port 1 ssh2", pid="4411"),
    ]
    f = tmp_path / "journal.json"
    f.write_text("\n".join(lines) + "\n")
    p, routed, _, quarantined = parse(f)
    assert [(r["raw_offset"], r["user"]) for r in routed] == [(1, "root"), (11, "root")]
    assert {q["raw_offset"]: q["reason"] for q in quarantined} == {
        2: "malformed JSON",
        3: "journal entry without a valid __REALTIME_TIMESTAMP",
        4: "sshd entry without MESSAGE (journalctl writes null for a field over 4 KiB unless run with --all)",
        5: "MESSAGE holds several values or is not bytes",
        6: "control characters or invalid UTF-8 in MESSAGE",
        8: "MESSAGE holds several values or is not bytes",
        9: "JSON record is not an object",
        10: "control characters in _HOSTNAME or PID",
    }
    assert all(q["record"] for q in quarantined)
    assert p.records == len(routed) + len(quarantined) + p.skipped == 11


def test_lake_ingest_and_brute_force_from_a_journal_export(lake, tmp_path):
    # 30 guesses at root from one address, each its own connection, 4 s apart
    lines = [
        entry(
            T0 + i * 4_000_000,
            f"Failed password for root from 203.0.113.99 port {40000 + i} ssh2",
            pid=str(9000 + i),
        )
        for i in range(30)
    ]
    f = tmp_path / "ssh.json"
    f.write_text("\n".join(lines) + "\n")
    (res,) = lake.ingest([f])
    assert (res.source, res.status, res.read, res.routed_rows, res.quarantined) == (
        "journald",
        "ingested",
        30,
        30,
        0,
    )
    found = by_detection(hunt(lake, f, only=["identity.brute_force"]), "identity.brute_force")
    assert len(found) == 1 and found[0]["entities"]["src_ip"] == ["203.0.113.99"]
    assert found[0]["evidence"]["attempts"] == 30


@pytest.fixture(autouse=True)
def _year(monkeypatch):
    monkeypatch.delenv(linux_auth.YEAR_ENV, raising=False)
    monkeypatch.delenv(linux_auth.TZ_ENV, raising=False)
