"""Windows Security source (4624/4625/4648/4768/4771/4776) on the real engine.

The evtx path runs on a real Security.evtx (the ``evtx`` package's own sample, see
``tests/fixtures/windows/README.md``); the mapping on XML/JSON fixtures written field
for field as Windows, ``evtx_dump`` and Winlogbeat emit them."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from crownwatch.lake import Lake
from crownwatch.sources import sniff, windows_security
from crownwatch.sources.reader import Reader
from tests.conftest import FIXTURES, by_detection, hunt

WIN = FIXTURES / "windows"
EVTX = WIN / "Security_short_selected.evtx"
XML = WIN / "security_wevtutil.xml"
XML_ROOT = WIN / "security_events_root.xml"
JSONL = WIN / "security_evtx_dump.jsonl"
BEAT = WIN / "winlogbeat.ndjson"

MAPPED = ("user", "src_ip", "status", "reason", "auth_protocol", "activity")
KERBEROS_SPRAY = WIN / "kerberos_spray.xml"
KERBEROS_BENIGN = WIN / "kerberos_benign.xml"


def parse(path: Path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    p = windows_security.parse(Reader(con), path)

    def rows(rel):
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]

    return p, rows(p.routed["authentication"]), rows(p.quarantine)


def by_id(rows):
    return {int(r["raw_id"]): tuple(r[c] for c in MAPPED) for r in rows}


def test_sniff():
    assert sniff(EVTX) is windows_security
    for f in (XML, XML_ROOT, JSONL, BEAT):
        assert sniff(f) is windows_security, f
    assert not windows_security.sniff("Mar  2 10:00:01 h sshd[1]: Accepted password for a")
    assert not windows_security.sniff('{"eventType": "user.session.start", "published": "x"}')


def test_every_event_and_status_maps_as_documented():
    p, rows, quarantined = parse(XML)
    assert quarantined == []
    base = 48213370
    assert by_id(rows) == {
        base + 0: ("alice", "203.0.113.50", "success", "success", "negotiate", "logon"),
        # +1 machine account, +2 SYSTEM, +3 DWM-1: successful service logons, skipped
        base + 4: ("bob", "198.51.100.7", "failure", "bad_password", "ntlm", "logon"),
        base + 5: ("nosuchuser", "198.51.100.7", "failure", "unknown_user", "ntlm", "logon"),
        base + 6: ("carol", "198.51.100.7", "failure", "locked", "ntlm", "logon"),
        base + 7: (
            "dave",
            "198.51.100.7",
            "failure",
            "disabled",
            "ntlm",
            "logon",
        ),  # 0xC000006E/0xC0000072
        base + 8: ("erin", "198.51.100.7", "failure", "expired", "ntlm", "logon"),
        base + 9: ("frank", "203.0.113.51", "failure", "other", "negotiate", "logon"),  # 0xC000015B
        base + 10: (
            "grace",
            None,
            "failure",
            "bad_password",
            "negotiate",
            "logon",
        ),  # IpAddress '-'
        base + 11: ("srv-build$", "10.30.4.9", "failure", "bad_password", "kerberos", "logon"),
        # 4648 is neither a success nor a failure: the attempt, not its verdict
        base + 12: ("adm-alice", None, "unknown", "unknown", None, "explicit_credentials"),
        base + 13: (
            "grace",
            "10.30.77.241",
            "failure",
            "bad_password",
            "kerberos",
            "logon",
        ),  # ::ffff: gone
        base + 14: ("heidi", "10.30.77.241", "failure", "locked", "kerberos", "logon"),
        base + 15: ("ivan", "10.30.77.241", "failure", "expired", "kerberos", "logon"),
        base + 16: ("ghost", "2001:db8::77", "failure", "unknown_user", "kerberos", "logon"),
        base + 17: ("judy", None, "success", "success", "ntlm", "logon"),  # 4776 0x0
        base + 18: ("mallory", None, "failure", "bad_password", "ntlm", "logon"),
        base + 19: ("backup_svc_old", None, "failure", "unknown_user", "ntlm", "logon"),
        # +20 4672 and +21 4634 are not sign-ins; +22 loopback RDP is kept as is
        base + 22: ("ops", "::1", "success", "success", "negotiate", "logon"),
        # 4768: a TGT issued (+24, a computer's own, skipped), an unknown name, a
        # revoked account, a clock skew
        base + 23: ("alice", "10.30.1.42", "success", "success", "kerberos", "logon"),
        base + 25: ("nobody", "198.51.100.7", "failure", "unknown_user", "kerberos", "logon"),
        base + 26: ("dave", "198.51.100.7", "failure", "locked", "kerberos", "logon"),
        base + 27: ("kim", None, "failure", "other", "kerberos", "logon"),
        # 4625 logon hours, workstation restriction, must change password
        base + 28: ("liam", "10.30.9.9", "failure", "other", "ntlm", "logon"),
        base + 29: ("mia", "10.30.9.9", "failure", "other", "ntlm", "logon"),
        base + 30: ("noah", "127.0.0.1", "failure", "expired", "negotiate", "logon"),
        # 4776 locked, disabled, expired (+34, a computer account's success, skipped)
        base + 31: ("carol", None, "failure", "locked", "ntlm", "logon"),
        base + 32: ("dave", None, "failure", "disabled", "ntlm", "logon"),
        base + 33: ("erin", None, "failure", "expired", "ntlm", "logon"),
        # 4648 runas on the machine itself; the OS logging a user on
        base + 35: ("adm-alice", None, "unknown", "unknown", None, "explicit_credentials"),
        base + 36: ("alice", None, "unknown", "unknown", None, "explicit_credentials"),
    }
    r = {int(x["raw_id"]): x for x in rows}
    assert r[base]["user_uid"] == "S-1-5-21-3623811015-3361044348-30300820-1105"
    assert r[base + 4]["user_uid"] is None  # the NULL SID S-1-0-0
    assert r[base + 4]["status_code"] == "0xc000006d/0xc000006a"
    assert r[base + 13]["status_code"] == "0x18"
    assert r[base + 12]["service"] == "fs01.corp.northwind.example"
    assert "subject=alice" in r[base + 12]["status_detail"]
    assert r[base + 12]["actor_user"] == "alice"
    assert "computer=WS-0142.corp.northwind.example" in r[base + 12]["status_detail"]
    # TargetServerName 'localhost' is the logging computer
    assert r[base + 35]["service"] == "WS-0142.corp.northwind.example"
    assert (r[base + 35]["actor_user"], r[base + 36]["actor_user"]) == ("alice", "ws-0142$")
    assert all(x["actor_user"] is None for x in rows if x["activity"] != "explicit_credentials")
    assert r[base + 23]["user_domain"] == "corp.northwind.example"  # the Kerberos realm
    assert r[base + 23]["user_uid"] == "S-1-5-21-3623811015-3361044348-30300820-1105"
    assert r[base + 25]["user_uid"] is None and r[base + 25]["status_code"] == "0x6"
    assert r[base + 27]["status_code"] == "0x25"
    assert r[base + 28]["status_code"] == "0xc000006e/0xc000006f"
    assert r[base + 29]["status_code"] == "0xc000006e/0xc0000070"
    assert r[base + 30]["status_code"] == "0xc0000224"
    # logon types, as logged, for 4624/4625 only
    assert r[base]["logon_type"] == 10 and "logon_type=10" in r[base]["status_detail"]
    assert (r[base + 4]["logon_type"], r[base + 10]["logon_type"]) == (3, 2)
    assert {x["logon_type"] for x in rows if int(x["raw_id"]) - base in (12, 13, 17, 23)} == {None}
    assert r[base + 4]["service"] == "DC01.corp.northwind.example"
    assert "workstation=KALI" in r[base + 18]["status_detail"]
    assert "ip=-" in r[base + 10]["status_detail"]
    assert str(r[base]["time"]) == "2026-03-02 08:59:58.661234+00:00"
    # the 4672 event spans three lines (PrivilegeList): offsets are real line numbers
    assert r[base + 22]["raw_offset"] == 25
    total = 37
    assert (p.records, p.skipped) == (total, total - 30)


def strip(rows, drop=("raw_offset",)):
    """Rows as comparable tuples, without the columns that differ by layout."""
    return sorted(
        (tuple(sorted((k, v) for k, v in r.items() if k not in drop)) for r in rows), key=repr
    )


def test_xml_wrapped_xml_and_evtx_dump_json_give_the_same_rows():
    ref = strip(parse(XML)[1])
    assert strip(parse(XML_ROOT)[1]) == ref
    assert strip(parse(JSONL)[1]) == ref


def test_winlogbeat_documents_map_like_the_native_events():
    _, rows, quarantined = parse(BEAT)
    assert quarantined == []
    native = by_id(parse(XML)[1])
    got = by_id(rows)
    assert set(got) == {48213370, 48213374, 48213383}
    assert all(got[k] == native[k] for k in got)


def test_real_evtx_sample():
    p, rows, quarantined = parse(EVTX)
    assert quarantined == []
    assert by_id(rows) == {
        319457831: ("administrator", None, "failure", "bad_password", "ntlm", "logon"),  # 4776
        319457832: (
            "administrator",
            "23.94.153.202",
            "failure",
            "bad_password",
            "negotiate",
            "logon",
        ),
    }
    r = {int(x["raw_id"]): x for x in rows}
    assert r[319457832]["status_code"] == "0xc000006d/0xc000006a"
    assert "logon_type=10" in r[319457832]["status_detail"]
    assert r[319457832]["service"] == "temporal"
    assert [x["raw_offset"] for x in sorted(rows, key=lambda x: x["raw_offset"])] == [2, 3]


def test_gzipped_evtx(tmp_path):
    f = tmp_path / "Security.evtx.gz"
    f.write_bytes(gzip.compress(EVTX.read_bytes()))
    assert sniff(f) is windows_security
    _, rows, quarantined = parse(f)
    assert quarantined == [] and len(rows) == 2


def test_damaged_evtx_is_quarantined_not_fatal(tmp_path):
    data = bytearray(EVTX.read_bytes())
    data[0x1000 + 0x200 + 300 : 0x1000 + 0x200 + 900] = b"A" * 600  # inside the only chunk
    bad = tmp_path / "bad.evtx"
    bad.write_bytes(bytes(data))
    p, rows, quarantined = parse(bad)
    assert rows == [] and [q["reason"][:21] for q in quarantined] == ["unreadable evtx chunk"]
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(EVTX.read_bytes()[:5000])
    p, rows, quarantined = parse(cut)
    assert [q["reason"] for q in quarantined] == [
        "evtx file truncated: header declares 1 chunks, file holds 0"
    ]
    assert p.records == 1


def test_hostile_xml(tmp_path):
    good = XML.read_text().splitlines()
    bomb = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<EventID>4625</EventID><Computer>&lol2;</Computer></System></Event>"
    )
    lines = [
        good[4],  # bob
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4625</EventID>"
        "<TimeCreated SystemTime='2026-03-02T09:00:00Z'/></System><EventData><Data Name='x'>unclosed</EventData></Event>",
        bomb,
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>junk</EventID>"
        "<TimeCreated SystemTime='2026-03-02T09:00:00Z'/></System></Event>",
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4625</EventID>"
        "<TimeCreated SystemTime='yesterday'/></System></Event>",
        good[5],  # nosuchuser
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
        "<!DOCTYPE e [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><System>&x;</System></Event>",
        good[6][: len(good[6]) // 2],  # the export was cut off here
    ]
    f = tmp_path / "hostile.xml"
    f.write_text("\n".join(lines))
    p, rows, quarantined = parse(f)
    assert sorted(r["user"] for r in rows) == ["bob", "nosuchuser"]
    reasons = {q["raw_offset"]: q["reason"] for q in quarantined}
    assert reasons[2].startswith("malformed XML event")
    # a DTD outside the event is not part of it: the entity stays undefined, never expanded
    assert reasons[3].startswith("malformed XML event: undefined entity")
    assert reasons[4] == "missing or non-numeric EventID"
    assert reasons[5] == "missing or unparseable TimeCreated"
    assert reasons[7] == "XML event with a DTD or entity declaration refused"
    assert reasons[8] == "truncated XML event (no </Event>)"
    assert p.records == len(rows) + len(quarantined) + p.skipped


def test_hostile_json_lines(tmp_path):
    good = JSONL.read_text().splitlines()
    f = tmp_path / "hostile.jsonl"
    f.write_bytes(
        "\n".join(
            [
                good[4],
                '{"Event": {"System": {"EventID": 4625',
                "[1, 2, 3]",
                '{"Event": {"System": {"TimeCreated": {"#attributes": {"SystemTime": "2026-03-02T09:00:00Z"}}}}}',
                '{"hello": "world"}',
                good[5],
            ]
        ).encode()
        + b"\n\xff\xfe\x00 not json\n"
    )
    p, rows, quarantined = parse(f)
    assert sorted(r["user"] for r in rows) == ["bob", "nosuchuser"]
    reasons = {q["raw_offset"]: q["reason"] for q in quarantined}
    assert reasons[2] == "malformed JSON"
    assert reasons[3] == "JSON record is not an object"
    assert reasons[4] == "missing or non-numeric EventID"
    assert reasons[5] == "not a Windows event record"
    assert 7 in reasons
    assert p.records == len(rows) + len(quarantined) + p.skipped


def test_lake_counts_add_up_and_reingest_adds_nothing(lake, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for f in (EVTX, XML, XML_ROOT, JSONL, BEAT):
        shutil.copy(f, d / f.name)
    first = lake.ingest([d])
    assert {r.source for r in first} == {"windows"}
    for res in first:
        assert res.note is None, res.note
        assert res.read == res.routed_rows + res.quarantined + res.skipped
    assert [r.status for r in lake.ingest([d])] == ["duplicate"] * 5
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM {lake.table_sql('authentication')}").fetchall()
    assert n[0][0] == 2 + 30 + 30 + 30 + 3


def test_simulator_output_quarantines_nothing_and_counts_every_sign_in(tmp_path):
    sim = pytest.importorskip("crownwatch.simulate.identity")
    truth = sim.generate_identity(
        tmp_path / "logs", users=60, days=1, formats=("windows_xml", "windows_json")
    )
    lake = Lake(tmp_path / "lake")
    results = lake.ingest([tmp_path / "logs" / "windows"])
    assert results
    for res in results:
        rel = str(Path(res.path).relative_to(tmp_path / "logs"))
        assert res.source == "windows" and res.quarantined == 0 and res.note is None, res
        assert res.rows["authentication"] == truth["files"][rel]["signins"], rel


def test_password_spray_fires_on_a_kerberos_spray(lake, tmp_path):
    """4771 0x18 from one workstation against many accounts: the same detection that
    catches Okta and sshd sprays, through this source's mapping."""
    good = JSONL.read_text().splitlines()
    spray = good[13]  # grace, 4771 0x18 from ::ffff:10.30.77.241
    lines = [
        spray.replace('"grace"', f'"user{i:02d}"')
        .replace("48213383", str(49000000 + i))
        .replace("09:03:00.100000Z", f"09:03:{i:02d}.100000Z")
        for i in range(12)
    ]
    f = tmp_path / "kerberos_spray.jsonl"
    f.write_text("\n".join(lines) + "\n")
    found = by_detection(hunt(lake, f, only=["identity.password_spray"]), "identity.password_spray")
    assert [x["entities"]["src_ip"] for x in found] == [["10.30.77.241"]]
    assert found[0]["evidence"]["distinct_users"] == 12


IDENTITY = [
    "identity.password_spray",
    "identity.credential_stuffing",
    "identity.brute_force",
    "identity.distributed_spray",
    "identity.success_after_spray",
]


def test_kerberos_spray_and_unknown_names_from_one_address_fire_password_spray(lake):
    """The DC's view of a spray from a foothold (kerbrute, Rubeus, DomainPasswordSpray):
    real accounts failing pre-authentication (4771 0x18) and invented names the KDC
    does not know (4768 0x6), one try each from one workstation. A single source and
    one attempt per account is ``identity.password_spray``'s shape (not stuffing: one
    address; not brute force: one try per account)."""
    found = hunt(lake, KERBEROS_SPRAY, only=IDENTITY)
    assert [f["detection"] for f in found] == ["identity.password_spray"]
    [f] = found
    assert f["entities"]["src_ip"] == ["10.30.66.6"]
    ev = f["evidence"]
    assert (ev["distinct_users"], ev["unrecovered_users"]) == (16, 16)
    assert ev["unknown_user_attempts"] == 6
    assert ev["sources"] == ["windows"]


def test_kerberos_benign_twin_stays_quiet(lake):
    """A terminal server's users the morning after a password rotation: one failed
    pre-authentication each, then a TGT from the same address — they recover."""
    assert hunt(lake, KERBEROS_BENIGN, only=IDENTITY) == []


def test_a_tgt_after_the_spray_is_a_success_a_4648_is_not(lake, tmp_path):
    """A 4768 0x0 for a sprayed account from the spraying host is the password landing
    (``identity.success_after_spray``); a 4648 naming another sprayed account is only
    an attempt (``status`` unknown) and must not read as one."""

    def event(eid, t, data, rec):
        return (
            f"<Event xmlns='{windows_security.EVENT_NS}'><System><EventID>{eid}</EventID>"
            f"<TimeCreated SystemTime='{t}'/><EventRecordID>{rec}</EventRecordID>"
            "<Channel>Security</Channel><Computer>DC01.corp.northwind.example</Computer>"
            "</System><EventData>"
            + "".join(f"<Data Name='{k}'>{v}</Data>" for k, v in data.items())
            + "</EventData></Event>"
        )

    after = tmp_path / "after.xml"
    after.write_text(
        event(
            4768,
            "2026-03-03T02:30:00.1234567Z",
            {"TargetUserName": "grace", "Status": "0x0", "IpAddress": "::ffff:10.30.66.6"},
            1,
        )
        + "\n"
        + event(
            4648,
            "2026-03-03T02:31:00.1234567Z",
            {"SubjectUserName": "jdoe", "TargetUserName": "heidi", "TargetServerName": "fs01"},
            2,
        )
        + "\n"
    )
    found = by_detection(
        hunt(lake, KERBEROS_SPRAY, after, only=IDENTITY), "identity.success_after_spray"
    )
    assert [f["entities"]["user"] for f in found] == [["grace"]]
