"""The Sigma log sources crownwatch runs rules on, and how each maps onto the lake.

**Rules run over the normalised tables, not the raw records.** Ingest reads a dozen
shapes of each vendor's log — Okta's JSON lines, its API pages, Sentinel's ``Okta_CL``
rows, Splunk and Elastic envelopes, CloudTrail documents and EventBridge events, EVTX,
XML, syslog in five dialects — into one set of tables; a rule written once against
Okta's field names must match whichever shape the records came in, which the raw
files cannot offer without a second parser per shape. The price is that a rule can
only name what the tables keep: a field they drop (Okta's ``debugContext``,
CloudTrail's ``responseElements``) makes the rule *unsupported*, reported with the
fields that are there, never silently false.

Each log source is one SQL view, built from constants in this module, that gives the
lake's columns back the vendor's field names: ``client.ipAddress`` for Okta,
``sourceIPAddress`` for CloudTrail, ``IpAddress`` for Windows. Where a column holds the
value in crownwatch's own form the mapping says so (:data:`NOTES`), and the README's
"Sigma" section lists every field. Field names match case-insensitively: SigmaHQ's own
rules spell Okta's ``eventType`` both ways.

A rule names a field; the field is looked up here, and only the constant expression
found here reaches SQL. A name not in the table is rejected before any SQL exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# the identity-key rule of crownwatch.tables.authentication, for principals that are
# people (Okta's admin actions): CORP\Alice, alice@corp.example -> alice
_KEY = r"lower(nullif(regexp_extract({x}, '^(?:.*\\)?([^@\\]*)', 1), ''))"

# Windows: what the source keeps in status_detail ("event=4648 ... process=C:\x y.exe
# subject=alice target_server=fs01 computer=WS-1"); the process path may hold spaces
_WIN = "regexp_extract(status_detail, '{pattern}', 1)"
_WIN_WORD = _WIN.format(pattern="(?:^| ){key}=([^ ]+)")
_WIN_PROCESS = _WIN.format(
    pattern="(?:^| )process=(.*?)(?: (?:subject|target_server|service_name|computer)=|$)"
)


def _win(key: str) -> str:
    return f"nullif({_WIN_WORD.format(key=key)}, '')"


@dataclass(frozen=True)
class Resolved:
    """Where a rule's field lives in the view: a column, or a path inside a column that
    holds a JSON object (CloudTrail's ``requestParameters.bucketName``)."""

    name: str  # the view's column (the vendor's field name, as spelled here)
    json_path: str | None = None  # '$."bucketName"' — travels as a parameter


@dataclass(frozen=True)
class LogSource:
    """One Sigma log source: which lake rows it is and what its fields are.

    ``fields`` maps each Sigma field name to its SQL expression per lake table (an
    expression over that table's columns; a table not named gives NULL);
    ``json_objects`` are fields holding a JSON object whose members a rule may name
    (``requestParameters.key``); ``keywords`` is the field a rule's keyword search reads;
    ``entities`` are what a finding names (crownwatch's ``user``, ``src_ip``…)."""

    key: str
    label: str
    product: str
    services: tuple[str, ...]
    tables: Mapping[str, str]  # lake table -> the condition selecting its rows
    fields: Mapping[str, Mapping[str, str]]
    entities: Mapping[str, Mapping[str, str]]
    json_objects: tuple[str, ...] = ()
    keywords: str | None = None
    _lower: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._lower.update({name.lower(): name for name in self.fields})

    @property
    def logsource(self) -> dict[str, str]:
        return {"product": self.product, "service": self.services[0]}

    def resolve(self, name: str) -> Resolved | None:
        """The view column (and JSON path) of a rule's field; None if the lake has no
        such field for this source. ``name`` must already look like a field name."""
        if (canonical := self._lower.get(name.lower())) is not None:
            return Resolved(canonical)
        for obj in self.json_objects:
            prefix = obj.lower() + "."
            if name.lower().startswith(prefix):
                path = name[len(prefix) :].split(".")
                if all(_JSON_KEY.fullmatch(p) for p in path):
                    return Resolved(obj, "$" + "".join(f'."{p}"' for p in path))
        return None


_JSON_KEY = re.compile(r"[A-Za-z0-9_-]+")


OKTA = LogSource(
    key="okta",
    label="Okta System Log",
    product="okta",
    services=("okta",),
    tables={"authentication": "source = 'okta'", "api_activity": "source = 'okta'"},
    fields={
        # lakes written before event_type existed know only the lock by its activity
        "eventType": {
            "authentication": "coalesce(event_type, CASE WHEN activity = 'lock' "
            "THEN 'user.account.lock' END)",
            "api_activity": "api_operation",
        },
        "outcome.result": {
            "authentication": "nullif(split_part(status_code, '/', 1), '')",
            "api_activity": "CASE status WHEN 'success' THEN 'SUCCESS' "
            "WHEN 'failure' THEN 'FAILURE' END",
        },
        "outcome.reason": {
            "authentication": "CASE WHEN contains(status_code, '/') "
            "THEN nullif(substr(status_code, strpos(status_code, '/') + 1), '') END",
            "api_activity": "error_code",
        },
        "actor.alternateId": {"authentication": "user_raw", "api_activity": "principal"},
        "actor.id": {"authentication": "user_uid"},
        "actor.type": {"api_activity": "principal_type"},
        "client.ipAddress": {"authentication": "src_ip", "api_activity": "src_ip"},
        "client.userAgent.rawUserAgent": {
            "authentication": "user_agent",
            "api_activity": "user_agent",
        },
        "client.geographicalContext.country": {
            "authentication": "src_country",
            "api_activity": "src_country",
        },
        "client.geographicalContext.city": {"authentication": "src_city"},
        "displayMessage": {"authentication": "status_detail"},
        "securityContext.asNumber": {"authentication": "src_asn", "api_activity": "src_asn"},
        "securityContext.asOrg": {"authentication": "src_as_org"},
        "securityContext.isProxy": {"authentication": "is_proxy"},
        "authenticationContext.externalSessionId": {"authentication": "session_uid"},
        "authenticationContext.credentialType": {"authentication": "auth_protocol"},
        "target.alternateId": {"authentication": "service", "api_activity": "resource"},
        "uuid": {"authentication": "raw_id", "api_activity": "raw_id"},
        "published": {"authentication": "time", "api_activity": "time"},
    },
    entities={
        "user": {"authentication": '"user"', "api_activity": _KEY.format(x="principal")},
        "src_ip": {"authentication": "src_ip", "api_activity": "src_ip"},
    },
)

CLOUDTRAIL = LogSource(
    key="cloudtrail",
    label="AWS CloudTrail",
    product="aws",
    services=("cloudtrail",),
    tables={"api_activity": "source = 'cloudtrail'"},
    fields={
        "eventName": {"api_activity": "api_operation"},
        "eventSource": {"api_activity": "api_service"},
        "awsRegion": {"api_activity": "region"},
        "sourceIPAddress": {"api_activity": "src_ip"},
        "userAgent": {"api_activity": "user_agent"},
        "errorCode": {"api_activity": "error_code"},
        "userIdentity.arn": {"api_activity": "principal"},
        "userIdentity.type": {"api_activity": "principal_type"},
        "userIdentity.accountId": {"api_activity": "principal_account"},
        "recipientAccountId": {"api_activity": "account"},
        "additionalEventData.AuthenticationMethod": {"api_activity": "auth_method"},
        "additionalEventData.bytesTransferredOut": {"api_activity": "bytes_out"},
        "additionalEventData.bytesTransferredIn": {"api_activity": "bytes_in"},
        "requestParameters": {"api_activity": "request_parameters"},
        "eventID": {"api_activity": "raw_id"},
        "eventTime": {"api_activity": "time"},
    },
    json_objects=("requestParameters",),
    entities={
        "principal": {"api_activity": "principal"},
        "src_ip": {"api_activity": "src_ip"},
    },
)

SIGNINLOGS = LogSource(
    key="signinlogs",
    label="Microsoft Entra ID sign-in logs",
    product="azure",
    services=("signinlogs",),
    tables={"authentication": "source = 'entra'"},
    fields={
        "UserPrincipalName": {"authentication": "user_raw"},
        "UserId": {"authentication": "user_uid"},
        "IPAddress": {"authentication": "src_ip"},
        "Location": {"authentication": "src_country"},
        "LocationDetails.countryOrRegion": {"authentication": "src_country"},
        "LocationDetails.city": {"authentication": "src_city"},
        "AutonomousSystemNumber": {"authentication": "src_asn"},
        "UserAgent": {"authentication": "user_agent"},
        "AppDisplayName": {"authentication": "service"},
        "ResultType": {"authentication": "status_code"},
        "Status.errorCode": {"authentication": "status_code"},
        "ResultDescription": {"authentication": "status_detail"},
        "Status.failureReason": {"authentication": "status_detail"},
        "AuthenticationProtocol": {"authentication": "auth_protocol"},
        "ClientAppUsed": {"authentication": "auth_protocol"},
        "Id": {"authentication": "raw_id"},
        "CreatedDateTime": {"authentication": "time"},
    },
    entities={"user": {"authentication": '"user"'}, "src_ip": {"authentication": "src_ip"}},
)

WINDOWS_SECURITY = LogSource(
    key="windows_security",
    label="Windows Security event log",
    product="windows",
    services=("security",),
    tables={"authentication": "source = 'windows'"},
    fields={
        "EventID": {
            "authentication": "try_cast(regexp_extract(status_detail, '^event=([0-9]+)', 1) "
            "AS INTEGER)"
        },
        "TargetUserName": {"authentication": "user_raw"},
        "TargetDomainName": {"authentication": "user_domain"},
        "TargetUserSid": {"authentication": "user_uid"},
        "IpAddress": {"authentication": "src_ip"},
        "WorkstationName": {"authentication": "src_host"},
        "Workstation": {"authentication": "src_host"},
        "LogonType": {"authentication": "logon_type"},
        "Status": {"authentication": "nullif(split_part(status_code, '/', 1), '')"},
        "SubStatus": {"authentication": "nullif(split_part(status_code, '/', 2), '')"},
        "AuthenticationPackageName": {"authentication": "auth_protocol"},
        "Computer": {"authentication": f"coalesce({_win('computer')}, service)"},
        "SubjectUserName": {"authentication": _win("subject")},
        "TargetServerName": {"authentication": _win("target_server")},
        "ServiceName": {"authentication": _win("service_name")},
        "ProcessName": {"authentication": f"nullif({_WIN_PROCESS}, '')"},
        "TargetLogonId": {"authentication": "session_uid"},
        "EventRecordID": {"authentication": "raw_id"},
    },
    entities={
        "user": {"authentication": '"user"'},
        "src_ip": {"authentication": "src_ip"},
        "host": {"authentication": f"lower(coalesce({_win('computer')}, service))"},
    },
)

LINUX = LogSource(
    key="linux",
    label="Linux sshd (auth.log, journald)",
    product="linux",
    services=("sshd", "auth"),
    tables={"authentication": "source IN ('sshd', 'journald')"},
    fields={"message": {"authentication": "status_detail"}},
    keywords="message",
    entities={
        "user": {"authentication": '"user"'},
        "src_ip": {"authentication": "src_ip"},
        "host": {"authentication": "lower(service)"},
    },
)

SOURCES: tuple[LogSource, ...] = (OKTA, CLOUDTRAIL, SIGNINLOGS, WINDOWS_SECURITY, LINUX)

#: where a field holds crownwatch's form of the vendor's value (README, "Sigma")
NOTES = {
    "okta": "outcome.result/outcome.reason of sign-ins are kept; of other events only "
    "SUCCESS/FAILURE and the reason; actor.alternateId of other events is lower-cased",
    "cloudtrail": "sourceIPAddress only when it is an address (a service name such as "
    "ec2.amazonaws.com is not kept); errorCode of a failed ConsoleLogin is its errorMessage",
    "signinlogs": "Location is the country; AuthenticationProtocol and ClientAppUsed are "
    "one lower-cased column (the protocol, else the client app)",
    "windows_security": "TargetDomainName and AuthenticationPackageName are lower-cased; "
    "Status/SubStatus are both kept only for 0xC000006D/0xC000006E; SubjectUserName, "
    "TargetServerName, ServiceName and Computer of 4648 are read back from the event's "
    "summary",
    "linux": "only sshd's lines are kept (of auth.log: no sudo, su or cron): keyword "
    "search reads sshd's message",
}


def find(logsource: Mapping[str, str | None]) -> LogSource | None:
    """The log source a rule's ``logsource`` names (product and service, as the Sigma
    taxonomy writes them); None when crownwatch does not read it."""
    product = (logsource.get("product") or "").lower()
    service = (logsource.get("service") or "").lower()
    if logsource.get("category"):
        return None  # categories (process_creation…) are endpoint telemetry, never read here
    for src in SOURCES:
        if product == src.product and (
            service in src.services or (not service and src.key == "okta")
        ):
            return src
    return None


def supported() -> str:
    """The log sources as a rule would name them, for messages."""
    return ", ".join(f"{s.product}/{srv}" for s in SOURCES for srv in s.services)
