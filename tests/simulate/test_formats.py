"""Each vendor file parses as that vendor's format, field for field where it matters."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from tests.simulate.helpers import cloudtrail_records, graph_records, la_rows, okta_records

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"

SYSLOG = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3]\d \d\d:\d\d:\d\d (\S+) (sshd|systemd-logind)\[\d+\]: (.+)$"
)
IP = r"[0-9a-fA-F:.]+"
SSHD = [
    re.compile(
        rf"^Accepted (publickey|password) for \S+ from {IP} port \d+ ssh2(: ED25519 SHA256:\S+)?$"
    ),
    re.compile(rf"^Failed password for (invalid user )?\S+ from {IP} port \d+ ssh2$"),
    re.compile(
        rf"^message repeated \d+ times: \[ Failed password for (invalid user )?\S+ from {IP} port \d+ ssh2\]$"
    ),
    re.compile(rf"^Invalid user \S+ from {IP} port \d+$"),
    re.compile(
        rf"^Connection closed by (authenticating|invalid) user \S+ {IP} port \d+ \[preauth\]$"
    ),
    re.compile(rf"^Disconnected from (invalid )?user \S+ {IP} port \d+( \[preauth\])?$"),
    re.compile(
        rf"^Received disconnect from {IP} port \d+:11: (disconnected by user|Bye Bye \[preauth\])$"
    ),
    re.compile(
        rf"^pam_unix\(sshd:auth\): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={IP}(  user=\S+)?$"
    ),
    re.compile(r"^pam_unix\(sshd:auth\): check pass; user unknown$"),
    re.compile(r"^pam_unix\(sshd:session\): session (opened|closed) for user \S+( by \(uid=0\))?$"),
    re.compile(
        rf"^PAM \d+ more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={IP}  user=\S+$"
    ),
    re.compile(
        rf"^error: maximum authentication attempts exceeded for \S+ from {IP} port \d+ ssh2 \[preauth\]$"
    ),
    re.compile(
        rf"^Disconnecting authenticating user \S+ {IP} port \d+: Too many authentication failures \[preauth\]$"
    ),
    re.compile(r"^User \S+ (from \S+ )?not allowed because .+$"),
    re.compile(r"^pam_unix\(sshd:account\): account \S+ has expired \(account expired\)$"),
    re.compile(r"^fatal: Access denied for user \S+ by PAM account configuration \[preauth\]$"),
    re.compile(
        r"^(New session \d+ of user \S+\.|Session \d+ logged out\. Waiting for processes to exit\.|Removed session \d+\.)$"
    ),
]


def test_okta_system_log_layout(sim):
    out, _ = sim
    lines = (out / "okta/system_log.jsonl").read_text().splitlines()
    page = json.loads((out / "okta/api_page.json").read_text())
    assert isinstance(page, list) and 0 < len(page) <= 1000
    recs = okta_records(out)
    assert len(recs) == len(lines) + len(page)
    types = {r["eventType"] for r in recs}
    assert {
        "user.session.start",
        "user.authentication.auth_via_mfa",
        "user.account.lock",
        "policy.evaluate_sign_on",
    } <= types
    reasons = {r["outcome"]["reason"] for r in recs if r["outcome"]["result"] == "FAILURE"}
    assert {"INVALID_CREDENTIALS", "VERIFICATION_ERROR", "LOCKED_OUT"} <= reasons
    for r in recs[:2000]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["published"])
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r["uuid"]
        )
        sc = r["securityContext"]
        assert set(sc) >= {"asNumber", "asOrg", "isp", "domain", "isProxy"} and isinstance(
            sc["isProxy"], bool
        )
        assert isinstance(r["client"]["geographicalContext"]["country"], str)
        assert r["actor"]["type"] == "User" and "@" in r["actor"]["alternateId"]
    assert len({r["uuid"] for r in recs}) == len(recs)
    assert [r["published"] for r in page] == sorted(r["published"] for r in page)


def test_entra_graph_envelope(sim):
    out, _ = sim
    body = json.loads((out / "entra/signins_graph.json").read_text())
    assert body["@odata.context"].startswith("https://graph.microsoft.com/")
    recs = body["value"]
    assert recs and [r["createdDateTime"] for r in recs] == sorted(
        (r["createdDateTime"] for r in recs), reverse=True
    )
    codes = {r["status"]["errorCode"] for r in recs}
    assert all(isinstance(c, int) for c in codes)
    assert {0, 50126}.issubset(codes)
    for r in recs[:500]:
        assert set(r) >= {
            "id",
            "createdDateTime",
            "userPrincipalName",
            "ipAddress",
            "appDisplayName",
            "clientAppUsed",
            "conditionalAccessStatus",
            "status",
            "location",
            "userAgent",
            "autonomousSystemNumber",
        }
        assert len(r["location"]["countryOrRegion"]) == 2
        assert r["conditionalAccessStatus"] in ("success", "failure", "notApplied")


def test_entra_signinlogs_rows(sim):
    out, _ = sim
    rows = la_rows(out)
    assert isinstance(rows, list) and rows
    codes = set()
    for r in rows:
        assert isinstance(r["ResultType"], str)
        codes.add(r["ResultType"])
        assert isinstance(r["LocationDetails"], dict) and "countryOrRegion" in r["LocationDetails"]
        assert isinstance(r["Status"], dict) and int(r["ResultType"]) == r["Status"]["errorCode"]
        assert r["Type"] == "SigninLogs" and r["TimeGenerated"].endswith("Z")
        for k in (
            "UserPrincipalName",
            "IPAddress",
            "AppDisplayName",
            "ConditionalAccessStatus",
            "AuthenticationRequirement",
            "ResultDescription",
            "UserAgent",
            "Id",
            "CorrelationId",
            "AutonomousSystemNumber",
        ):
            assert k in r
    assert {"0", "50126", "50076", "53003"} <= codes
    # no sign-in is in both Entra files
    assert not {r["Id"] for r in rows} & {r["id"] for r in graph_records(out)}


def test_cloudtrail_delivery_layout(sim):
    out, truth = sim
    acct = truth["org"]["aws_account"]
    files = sorted((out / "cloudtrail").rglob("*.json.gz"))
    assert files
    name = re.compile(rf"{acct}_CloudTrail_us-east-1_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz")
    for p in files:
        assert name.fullmatch(p.name), p.name
        assert p.parent.relative_to(out / "cloudtrail").parts[:4] == (
            "AWSLogs",
            acct,
            "CloudTrail",
            "us-east-1",
        )
    recs = cloudtrail_records(out)
    logins = [r for r in recs if r["eventName"] == "ConsoleLogin"]
    assert {r["responseElements"]["ConsoleLogin"] for r in logins} == {"Success", "Failure"}
    assert all(
        r["errorMessage"] == "Failed authentication"
        for r in logins
        if r["responseElements"]["ConsoleLogin"] == "Failure"
    )
    assert {r["userIdentity"]["type"] for r in logins} >= {"IAMUser", "Root", "AssumedRole"}
    assert all(r["additionalEventData"]["MFAUsed"] in ("Yes", "No") for r in logins)
    names = {r["eventName"] for r in recs}
    assert {"ListBuckets", "GetObject"} <= names


def test_auth_log_grammar(sim):
    out, _ = sim
    lines = (out / "linux/auth.log").read_text().splitlines()
    assert len(lines) > 1000
    bad = []
    for line in lines:
        m = SYSLOG.match(line)
        if not m or not any(p.match(m.group(4)) for p in SSHD):
            bad.append(line)
    assert not bad, bad[:5]
    assert lines[0].startswith("Mar  2 ")


def test_windows_xml_and_json(sim):
    out, _ = sim
    root = ET.parse(out / "windows/security.xml").getroot()
    assert root.tag == "Events"
    events = list(root)
    assert events and all(e.tag == f"{NS}Event" for e in events)
    ids = set()
    for e in events:
        system = e.find(f"{NS}System")
        assert system.find(f"{NS}Provider").get("Name") == "Microsoft-Windows-Security-Auditing"
        ids.add(int(system.find(f"{NS}EventID").text))
        assert system.find(f"{NS}TimeCreated").get("SystemTime").endswith("Z")
        data = {d.get("Name"): d.text for d in e.find(f"{NS}EventData")}
        assert "TargetUserName" in data
    assert {4624, 4776, 4648} <= ids
    jids = set()
    statuses = set()
    for line in (out / "windows/security.json").read_text().splitlines():
        ev = json.loads(line)["Event"]
        assert ev["#attributes"]["xmlns"] == "http://schemas.microsoft.com/win/2004/08/events/event"
        sysd = ev["System"]
        assert isinstance(sysd["EventID"], int) and isinstance(sysd["EventRecordID"], int)
        assert sysd["Provider"]["#attributes"]["Guid"] == "{54849625-5478-4994-a5ba-3e3b0328c30d}"
        assert "SystemTime" in sysd["TimeCreated"]["#attributes"]
        jids.add(sysd["EventID"])
        if "Status" in ev["EventData"]:
            statuses.add((sysd["EventID"], ev["EventData"]["Status"]))
        if "LogonType" in ev["EventData"]:
            assert isinstance(ev["EventData"]["LogonType"], int)
    assert {4624, 4625, 4771, 4776} <= jids
    assert (4771, "0x18") in statuses and (4625, "0xC000006D") in statuses
