"""Windows Security event log, two renderings of the same events:

* ``windows/security.xml`` — ``wevtutil qe Security /f:xml`` output (one ``<Event>``
  per line, single-quoted attributes, the event namespace on every ``<Event>``),
  wrapped in an ``<Events>`` root so the file is one well-formed document;
* ``windows/security.json`` — JSON lines as ``evtx_dump -o jsonl`` (the Rust ``evtx``
  crate) renders an ``.evtx`` file: ``{"Event": {"#attributes": …, "System": …,
  "EventData": {name: value}}}`` with numbers as numbers and attributes under
  ``#attributes``.

The XML file holds what the San Francisco/New York site logged (``NW-DC01`` and its
servers), the JSON file what London/Singapore logged (``NW-DC02`` and its servers).

Events: 4624 (logon), 4625 (failed logon), 4648 (explicit credentials), 4768
(Kerberos TGT request: a name the domain does not have, result 0x6), 4771 (Kerberos
pre-authentication failed) and 4776 (NTLM credential validation).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from xml.sax.saxutils import escape

from crownwatch.simulate.events import SignIn
from crownwatch.simulate.formats._common import iso_7, uuid_from

NS = "http://schemas.microsoft.com/win/2004/08/events/event"
PROVIDER = ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}")
KW_SUCCESS = "0x8020000000000000"
KW_FAILURE = "0x8010000000000000"
NULL_SID = "S-1-0-0"
NULL_GUID = "{00000000-0000-0000-0000-000000000000}"

# 4625: (Status, SubStatus)
LOGON_STATUS = {
    "bad_password": ("0xc000006d", "0xc000006a"),
    "unknown_user": ("0xc000006d", "0xc0000064"),
    "locked": ("0xc0000234", "0x0"),
    "disabled": ("0xc000006e", "0xc0000072"),
    "expired": ("0xc000006e", "0xc0000071"),
}
# 4771 Kerberos pre-authentication failure codes
KERB_STATUS = {
    "bad_password": "0x18",
    "unknown_user": "0x6",
    "locked": "0x12",
    "disabled": "0x12",
    "expired": "0x17",
}
# 4776 NTLM credential validation
NTLM_STATUS = {
    "success": "0x0",
    "bad_password": "0xc000006a",
    "unknown_user": "0xc0000064",
    "locked": "0xc0000234",
    "disabled": "0xc0000072",
    "expired": "0xc0000071",
}
FAILURE_REASON = {
    "bad_password": "%%2313",
    "unknown_user": "%%2313",
    "locked": "%%2307",
    "disabled": "%%2310",
    "expired": "%%2309",
}


class Hex(str):
    """A HexInt value: lower case in wevtutil XML, upper-case digits in evtx JSON."""


def _system(
    event_id: int,
    version: int,
    task: int,
    ok: bool,
    ev: SignIn,
    rec_id: int,
    pid: int,
    tid: int,
    corr: str | None,
) -> dict:
    return {
        "EventID": event_id,
        "Version": version,
        "Level": 0,
        "Task": task,
        "Opcode": 0,
        "Keywords": KW_SUCCESS if ok else KW_FAILURE,
        "SystemTime": iso_7(ev.time),
        "EventRecordID": rec_id,
        "ActivityID": corr,
        "ProcessID": pid,
        "ThreadID": tid,
        "Computer": ev.host,
    }


def event_data(
    ev: SignIn, org, rng: random.Random
) -> tuple[int, int, int, bool, list[tuple[str, object]]]:
    """(EventID, Version, Task, success, [(Data Name, value)]) for one sign-in."""
    ip = ev.src_ip
    user = ev.user
    dom = org.ad_domain if ev.outcome != "unknown_user" else org.ad_domain
    sid = ev.user_uid or NULL_SID
    ok = ev.outcome == "success"
    port = str(ev.extra.get("port") or rng.randrange(49152, 65535))
    if ev.protocol == "kerberos" and ev.outcome == "unknown_user":
        # A name the domain does not have never reaches pre-authentication: the DC
        # logs a failed TGT request (4768, KDC_ERR_C_PRINCIPAL_UNKNOWN), not a 4771.
        return (
            4768,
            0,
            14339,
            False,
            [
                ("TargetUserName", user),
                ("TargetDomainName", org.ad_fqdn.upper()),
                ("TargetSid", NULL_SID),
                ("ServiceName", f"krbtgt/{org.ad_fqdn.upper()}"),
                ("ServiceSid", NULL_SID),
                ("TicketOptions", Hex("0x40810010")),
                ("Status", Hex("0x6")),
                ("TicketEncryptionType", Hex("0xffffffff")),
                ("PreAuthType", "-"),
                ("IpAddress", f"::ffff:{ip}"),
                ("IpPort", port),
                ("CertIssuerName", ""),
                ("CertSerialNumber", ""),
                ("CertThumbprint", ""),
            ],
        )
    if ev.protocol == "kerberos" and not ok:
        return (
            4771,
            0,
            14339,
            False,
            [
                ("TargetUserName", user),
                ("TargetSid", sid if ev.outcome != "unknown_user" else NULL_SID),
                ("ServiceName", f"krbtgt/{org.ad_fqdn.upper()}"),
                ("TicketOptions", Hex("0x40810010")),
                ("Status", Hex(KERB_STATUS[ev.outcome])),
                ("PreAuthType", "2"),
                ("IpAddress", f"::ffff:{ip}"),
                ("IpPort", port),
                ("CertIssuerName", ""),
                ("CertSerialNumber", ""),
                ("CertThumbprint", ""),
            ],
        )
    if ev.protocol == "ntlm":
        return (
            4776,
            0,
            14336,
            ok,
            [
                ("PackageName", "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"),
                ("TargetUserName", user),
                ("Workstation", ev.src_host or "-"),
                (
                    "Status",
                    Hex(NTLM_STATUS[ev.outcome if ev.outcome in NTLM_STATUS else "bad_password"]),
                ),
            ],
        )
    if ev.protocol == "explicit":
        subj = ev.extra.get("subject", user)
        return (
            4648,
            0,
            12544,
            True,
            [
                ("SubjectUserSid", ev.extra.get("subject_sid", sid)),
                ("SubjectUserName", subj),
                ("SubjectDomainName", org.ad_domain),
                ("SubjectLogonId", Hex(f"0x{rng.randrange(0x100000, 0xFFFFFFF):x}")),
                ("LogonGuid", NULL_GUID),
                ("TargetUserName", user),
                ("TargetDomainName", org.ad_domain),
                ("TargetLogonGuid", NULL_GUID),
                ("TargetServerName", ev.extra.get("target_server", "localhost")),
                ("TargetInfo", ev.extra.get("target_server", "localhost")),
                ("ProcessId", Hex(f"0x{rng.randrange(0x200, 0x3000):x}")),
                ("ProcessName", "C:\\Windows\\System32\\runas.exe"),
                ("IpAddress", ip if ip else "::1"),
                ("IpPort", "0"),
            ],
        )
    logon_type = {"rdp": 10, "interactive": 2}.get(ev.protocol, 3)
    package = (
        "Kerberos" if ev.protocol == "kerberos" else "NTLM" if logon_type == 3 else "Negotiate"
    )
    if ok:
        return (
            4624,
            2,
            12544,
            True,
            [
                ("SubjectUserSid", "S-1-5-18" if logon_type != 3 else NULL_SID),
                ("SubjectUserName", (ev.host.split(".")[0] + "$") if logon_type != 3 else "-"),
                ("SubjectDomainName", org.ad_domain if logon_type != 3 else "-"),
                ("SubjectLogonId", Hex("0x3e7" if logon_type != 3 else "0x0")),
                ("TargetUserSid", sid),
                ("TargetUserName", user),
                ("TargetDomainName", org.ad_domain),
                ("TargetLogonId", Hex(f"0x{rng.randrange(0x100000, 0xFFFFFFF):x}")),
                ("LogonType", logon_type),
                (
                    "LogonProcessName",
                    "Kerberos"
                    if package == "Kerberos"
                    else "User32 "
                    if logon_type != 3
                    else "NtLmSsp ",
                ),
                ("AuthenticationPackageName", package),
                ("WorkstationName", ev.src_host or "-"),
                ("LogonGuid", f"{{{uuid_from(rng)}}}" if package == "Kerberos" else NULL_GUID),
                ("TransmittedServices", "-"),
                ("LmPackageName", "NTLM V2" if package == "NTLM" else "-"),
                ("KeyLength", 128 if package == "NTLM" else 0),
                (
                    "ProcessId",
                    Hex("0x0" if logon_type == 3 else f"0x{rng.randrange(0x200, 0x3000):x}"),
                ),
                ("ProcessName", "-" if logon_type == 3 else "C:\\Windows\\System32\\svchost.exe"),
                ("IpAddress", ip or "-"),
                ("IpPort", port if logon_type != 2 else "0"),
                ("ImpersonationLevel", "%%1833"),
                ("RestrictedAdminMode", "-" if logon_type != 10 else "%%1843"),
                ("RemoteCredentialGuard", "-"),
                ("TargetOutboundUserName", "-"),
                ("TargetOutboundDomainName", "-"),
                ("VirtualAccount", "%%1843"),
                ("TargetLinkedLogonId", Hex("0x0")),
                ("ElevatedToken", "%%1842" if ev.user_type in ("admin", "service") else "%%1843"),
            ],
        )
    status, sub = LOGON_STATUS.get(ev.outcome, LOGON_STATUS["bad_password"])
    return (
        4625,
        0,
        12544,
        False,
        [
            ("SubjectUserSid", "S-1-5-18" if logon_type != 3 else NULL_SID),
            ("SubjectUserName", (ev.host.split(".")[0] + "$") if logon_type != 3 else "-"),
            ("SubjectDomainName", org.ad_domain if logon_type != 3 else "-"),
            ("SubjectLogonId", Hex("0x3e7" if logon_type != 3 else "0x0")),
            ("TargetUserSid", NULL_SID),
            ("TargetUserName", user),
            ("TargetDomainName", dom if ev.extra.get("domain_given", True) else ""),
            ("Status", Hex(status)),
            ("FailureReason", FAILURE_REASON.get(ev.outcome, "%%2313")),
            ("SubStatus", Hex(sub)),
            ("LogonType", logon_type),
            ("LogonProcessName", "NtLmSsp " if logon_type == 3 else "User32 "),
            ("AuthenticationPackageName", "NTLM" if logon_type == 3 else "Negotiate"),
            ("WorkstationName", ev.src_host or "-"),
            ("TransmittedServices", "-"),
            ("LmPackageName", "-"),
            ("KeyLength", 0),
            ("ProcessId", Hex("0x0" if logon_type == 3 else f"0x{rng.randrange(0x200, 0x3000):x}")),
            ("ProcessName", "-" if logon_type == 3 else "C:\\Windows\\System32\\svchost.exe"),
            ("IpAddress", ip or "-"),
            ("IpPort", port),
        ],
    )


def to_xml(sysd: dict, data: list[tuple[str, object]]) -> str:
    corr = (
        f"<Correlation ActivityID='{sysd['ActivityID']}'/>"
        if sysd["ActivityID"]
        else "<Correlation/>"
    )
    parts = [
        f"<Event xmlns='{NS}'><System><Provider Name='{PROVIDER[0]}' Guid='{PROVIDER[1]}'/>",
        f"<EventID>{sysd['EventID']}</EventID><Version>{sysd['Version']}</Version><Level>0</Level>",
        f"<Task>{sysd['Task']}</Task><Opcode>0</Opcode><Keywords>{sysd['Keywords']}</Keywords>",
        f"<TimeCreated SystemTime='{sysd['SystemTime']}'/><EventRecordID>{sysd['EventRecordID']}</EventRecordID>",
        corr,
        f"<Execution ProcessID='{sysd['ProcessID']}' ThreadID='{sysd['ThreadID']}'/>",
        f"<Channel>Security</Channel><Computer>{escape(sysd['Computer'])}</Computer><Security/></System><EventData>",
    ]
    for name, value in data:
        v = escape(str(value))
        parts.append(f"<Data Name='{name}'>{v}</Data>" if v else f"<Data Name='{name}'></Data>")
    parts.append("</EventData></Event>")
    return "".join(parts)


def _json_value(v: object) -> object:
    if isinstance(v, Hex):
        return "0x" + v[2:].upper()
    return v


def to_json(sysd: dict, data: list[tuple[str, object]]) -> dict:
    system = {
        "Provider": {"#attributes": {"Name": PROVIDER[0], "Guid": PROVIDER[1]}},
        "EventID": sysd["EventID"],
        "Version": sysd["Version"],
        "Level": 0,
        "Task": sysd["Task"],
        "Opcode": 0,
        "Keywords": sysd["Keywords"],
        "TimeCreated": {"#attributes": {"SystemTime": sysd["SystemTime"][:26] + "Z"}},
        "EventRecordID": sysd["EventRecordID"],
        "Correlation": {"#attributes": {"ActivityID": sysd["ActivityID"]}}
        if sysd["ActivityID"]
        else None,
        "Execution": {
            "#attributes": {"ProcessID": sysd["ProcessID"], "ThreadID": sysd["ThreadID"]}
        },
        "Channel": "Security",
        "Computer": sysd["Computer"],
        "Security": None,
    }
    return {
        "Event": {
            "#attributes": {"xmlns": NS},
            "System": system,
            "EventData": {n: _json_value(v) for n, v in data},
        }
    }


def write(
    out_dir: Path,
    events: list[SignIn],
    rng: random.Random,
    org,
    *,
    xml: bool = True,
    jsonl: bool = True,
    json_site=None,
) -> dict[str, tuple[list[SignIn], int]]:
    """``json_site(host) -> bool`` sends a computer's events to the JSON file (when both
    are written)."""
    d = out_dir / "windows"
    d.mkdir(parents=True, exist_ok=True)
    rec_ids: dict[str, int] = {}
    lsass: dict[str, int] = {}
    corr = f"{{{uuid_from(rng).upper()}}}"
    x_ev, j_ev, x_lines, j_lines = [], [], [], []
    for ev in events:
        eid, ver, task, ok, data = event_data(ev, org, rng)
        host = ev.host
        rec_ids[host] = (
            rec_ids.get(host, rng.randrange(1_000_000, 90_000_000))
            + 1
            + (rng.random() < 0.3) * rng.randrange(1, 40)
        )
        pid = lsass.setdefault(host, rng.choice((620, 636, 652, 664, 700, 716, 784)))
        sysd = _system(
            eid,
            ver,
            task,
            ok,
            ev,
            rec_ids[host],
            pid,
            rng.randrange(700, 9000),
            corr if eid in (4624, 4625, 4648) else None,
        )
        to_js = jsonl and (not xml or (json_site(host) if json_site else False))
        if to_js:
            j_ev.append(ev)
            j_lines.append(json.dumps(to_json(sysd, data), separators=(",", ":")))
        else:
            x_ev.append(ev)
            x_lines.append(to_xml(sysd, data))
    out: dict[str, tuple[list[SignIn], int]] = {}
    if xml:
        (d / "security.xml").write_text(
            "<Events>\n" + "".join(s + "\n" for s in x_lines) + "</Events>\n", encoding="utf-8"
        )
        out["windows/security.xml"] = (x_ev, len(x_lines))
    if jsonl:
        (d / "security.json").write_text("".join(s + "\n" for s in j_lines), encoding="utf-8")
        out["windows/security.json"] = (j_ev, len(j_lines))
    return out
