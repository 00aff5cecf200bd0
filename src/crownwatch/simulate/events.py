"""Neutral events: what happened, before any vendor decides how to write it down.

The scenario code (``population``, ``identity``) produces :class:`SignIn` and
:class:`ApiCall` objects; the modules under ``formats/`` render each one as the
records a given product would have logged. Keeping the two apart is what lets one
planted attack show up, consistently, in Okta, Entra, CloudTrail, sshd and Windows
files at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The outcomes a sign-in can have; the same vocabulary as the ``reason`` column of the
# normalised ``authentication`` table (crownwatch.tables.authentication).
OUTCOMES = (
    "success",
    "bad_password",
    "unknown_user",
    "locked",
    "disabled",
    "expired",
    "mfa_required",
    "ca_blocked",
)

# Which product (and so which vendor files) logs a sign-in.
SYSTEMS = ("okta", "entra", "aws", "linux", "windows")


@dataclass(slots=True)
class SignIn:
    """One sign-in attempt against one system.

    ``user`` is the login as typed (local part for SSO, sAMAccountName on Windows,
    the Unix name for sshd, the IAM user name for AWS); for ``unknown_user`` it is
    the name the attacker tried. ``tag`` names the planted attack or benign
    look-alike this event belongs to ("" for ordinary background activity).
    """

    time: datetime
    system: str
    user: str
    outcome: str
    src_ip: str
    domain: str = "northwind-ai.com"
    display_name: str = ""
    user_uid: str = ""  # Okta 00u…, Entra object id, AWS principal id, Windows SID
    asn: int = 0
    as_org: str = ""
    isp_domain: str = ""
    country: str = "US"  # ISO 3166-1 alpha-2
    region: str = ""
    city: str = ""
    lat: float = 0.0
    lon: float = 0.0
    is_proxy: bool = False
    user_agent: str = ""
    app: str = ""
    host: str = ""  # target host (sshd / Windows) or client host name
    src_host: str = ""  # client workstation name (Windows)
    protocol: str = "password"  # password | publickey | kerberos | ntlm | explicit | rdp
    mfa: bool = False  # a second factor was completed (success only)
    interactive: bool = True
    tag: str = ""
    user_type: str = "human"  # human | service | root | admin | federated
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class ApiCall:
    """One cloud control-plane or data call (rendered by CloudTrail only)."""

    time: datetime
    event_source: str  # s3.amazonaws.com
    event_name: str  # GetObject
    principal: str  # user or role session name
    principal_type: str  # IAMUser | AssumedRole | Root
    src_ip: str
    user_agent: str
    region: str = "us-east-1"
    role: str = ""  # role name for AssumedRole
    read_only: bool = True
    request: dict | None = None
    response: dict | None = None
    resources: list | None = None
    error_code: str = ""
    error_message: str = ""
    category: str = "Management"  # Management | Data
    bytes_out: int = 0
    tag: str = ""


def s3_get_object(
    t: datetime,
    bucket: str,
    key: str,
    session: str,
    role: str,
    account: str,
    ip: str,
    ua: str,
    nbytes: int,
    *,
    tag: str = "",
) -> ApiCall:
    """An assumed-role session's S3 ``GetObject`` as a CloudTrail data event: the
    request parameters and the object and bucket resources AWS records for it."""
    return ApiCall(
        t,
        "s3.amazonaws.com",
        "GetObject",
        session,
        "AssumedRole",
        ip,
        ua,
        role=role,
        request={
            "bucketName": bucket,
            "Host": f"{bucket}.s3.us-east-1.amazonaws.com",
            "key": key,
        },
        resources=[
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        category="Data",
        bytes_out=nbytes,
        tag=tag,
    )
