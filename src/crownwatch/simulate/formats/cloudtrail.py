"""AWS CloudTrail, as the trail delivers it to S3: gzip files of ``{"Records": [...]}``
under ``AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/`` named
``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 random chars>.json.gz``.

Console sign-ins are ``signin.amazonaws.com`` ``ConsoleLogin`` events:
``responseElements.ConsoleLogin`` is ``Success`` or ``Failure``, a failure carries
``errorMessage`` ``Failed authentication``, ``additionalEventData.MFAUsed`` says
whether a second factor was used, and a name that is not an IAM user is logged as
``HIDDEN_DUE_TO_SECURITY_REASONS``. Ordinary API calls (``ListBuckets``,
``GetObject``…) fill the files around them.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from crownwatch.simulate.events import ApiCall, SignIn
from crownwatch.simulate.formats._common import iso_s, rand_alnum, uuid_from

SIGNIN_FAILED = ("bad_password", "unknown_user", "locked", "disabled", "expired")


def _principal_id(rng: random.Random, prefix: str) -> str:
    return prefix + rand_alnum(rng, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def signin_record(ev: SignIn, rng: random.Random, acct: str, ids: dict[str, str]) -> dict:
    failed = ev.outcome in SIGNIN_FAILED
    if ev.user_type == "root":
        ident = {
            "type": "Root",
            "principalId": acct,
            "arn": f"arn:aws:iam::{acct}:root",
            "accountId": acct,
            "accessKeyId": "",
        }
    elif ev.user_type == "federated":
        role = ev.extra.get("role", "AWSReservedSSO_Engineer_3f1a2b4c5d6e7f80")
        pid = ids.setdefault("role:" + role, _principal_id(rng, "AROA"))
        ident = {
            "type": "AssumedRole",
            "principalId": f"{pid}:{ev.user}@{ev.domain}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{ev.user}@{ev.domain}",
            "accountId": acct,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": pid,
                    "arn": f"arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/{role}",
                    "accountId": acct,
                    "userName": role,
                },
                "attributes": {"creationDate": iso_s(ev.time), "mfaAuthenticated": "false"},
            },
        }
    elif ev.outcome == "unknown_user":
        ident = {
            "type": "IAMUser",
            "principalId": acct,
            "accountId": acct,
            "accessKeyId": "",
            "userName": "HIDDEN_DUE_TO_SECURITY_REASONS",
        }
    else:
        pid = ids.setdefault("user:" + ev.user, _principal_id(rng, "AIDA"))
        ident = {
            "type": "IAMUser",
            "principalId": pid,
            "arn": f"arn:aws:iam::{acct}:user/{ev.user}",
            "accountId": acct,
            "userName": ev.user,
        }
    rec = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": iso_s(ev.time),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ev.src_ip,
        "userAgent": ev.user_agent,
    }
    if failed:
        rec["errorMessage"] = "Failed authentication"
    rec.update(
        {
            "requestParameters": None,
            "responseElements": {"ConsoleLogin": "Failure" if failed else "Success"},
            "additionalEventData": {
                "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"
                + rand_alnum(rng, 16, "0123456789abcdef"),
                "MobileVersion": "No",
                "MFAIdentifier": f"arn:aws:iam::{acct}:mfa/{ev.user}"
                if ev.mfa and not failed
                else None,
                "MFAUsed": "Yes" if ev.mfa and not failed else "No",
            },
            "eventID": uuid_from(rng),
            "readOnly": False,
            "eventType": "AwsConsoleSignIn",
            "managementEvent": True,
            "recipientAccountId": acct,
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": "signin.aws.amazon.com",
            },
        }
    )
    if rec["additionalEventData"]["MFAIdentifier"] is None:
        del rec["additionalEventData"]["MFAIdentifier"]
    if ev.user_type == "federated":
        rec["additionalEventData"] = {
            "MobileVersion": "No",
            "MFAUsed": "No",
            "SamlProviderArn": f"arn:aws:iam::{acct}:saml-provider/AWSSSO_5c1d2e3f4a5b6c7d_DO_NOT_DELETE",
        }
    return rec


def api_record(c: ApiCall, rng: random.Random, acct: str, ids: dict[str, str]) -> dict:
    if c.principal_type == "AssumedRole":
        pid = ids.setdefault("role:" + c.role, _principal_id(rng, "AROA"))
        ident = {
            "type": "AssumedRole",
            "principalId": f"{pid}:{c.principal}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{c.role}/{c.principal}",
            "accountId": acct,
            "accessKeyId": "ASIA" + rand_alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": pid,
                    "arn": f"arn:aws:iam::{acct}:role/{c.role}",
                    "accountId": acct,
                    "userName": c.role,
                },
                "attributes": {
                    "creationDate": iso_s(c.time - timedelta(minutes=20)),
                    "mfaAuthenticated": "false",
                },
            },
        }
    else:
        pid = ids.setdefault("user:" + c.principal, _principal_id(rng, "AIDA"))
        ident = {
            "type": "IAMUser",
            "principalId": pid,
            "arn": f"arn:aws:iam::{acct}:user/{c.principal}",
            "accountId": acct,
            "accessKeyId": "AKIA" + rand_alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            "userName": c.principal,
        }
    rec = {
        "eventVersion": "1.10" if c.category == "Data" else "1.09",
        "userIdentity": ident,
        "eventTime": iso_s(c.time),
        "eventSource": c.event_source,
        "eventName": c.event_name,
        "awsRegion": c.region,
        "sourceIPAddress": c.src_ip,
        "userAgent": c.user_agent,
    }
    if c.error_code:
        rec["errorCode"] = c.error_code
        rec["errorMessage"] = c.error_message
    rec.update(
        {
            "requestParameters": c.request,
            "responseElements": c.response,
            "requestID": rand_alnum(rng, 16, "0123456789ABCDEF"),
            "eventID": uuid_from(rng),
            "readOnly": c.read_only,
        }
    )
    if c.resources:
        rec["resources"] = c.resources
    rec.update(
        {
            "eventType": "AwsApiCall",
            "managementEvent": c.category == "Management",
            "recipientAccountId": acct,
            "eventCategory": c.category,
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": c.event_source.replace(".amazonaws.com", "")
                + f".{c.region}.amazonaws.com",
            },
        }
    )
    if c.category == "Data":
        rec["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "bytesTransferredOut": c.bytes_out,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": rand_alnum(rng, 76),
        }
    return rec


def write(
    out_dir: Path,
    signins: list[SignIn],
    calls: list[ApiCall],
    rng: random.Random,
    acct: str,
    *,
    compress: bool = True,
    call_files: dict[int, str] | None = None,
) -> dict[str, tuple[list[SignIn], int]]:
    """One file per hour that has events (a real trail delivers every ~5 minutes).
    ``call_files``, when given, receives each call's file (by ``id``) for the truth."""
    ids: dict[str, str] = {}
    hours: dict = defaultdict(list)
    for ev in signins:
        hours[ev.time.replace(minute=0, second=0, microsecond=0)].append(
            (ev.time, ev, signin_record(ev, rng, acct, ids))
        )
    for c in calls:
        hours[c.time.replace(minute=0, second=0, microsecond=0)].append(
            (c.time, c, api_record(c, rng, acct, ids))
        )
    out: dict[str, tuple[list[SignIn], int]] = {}
    for hour in sorted(hours):
        items = sorted(hours[hour], key=lambda x: x[0])
        deliver = hour + timedelta(hours=1, minutes=rng.randrange(0, 5))
        rel = (
            f"cloudtrail/AWSLogs/{acct}/CloudTrail/us-east-1/{hour:%Y/%m/%d}/"
            f"{acct}_CloudTrail_us-east-1_{hour:%Y%m%dT%H%M}Z_{rand_alnum(rng, 16)}.json"
            + (".gz" if compress else "")
        )
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"Records": [r for _t, _e, r in items]}, separators=(",", ":")).encode()
        if compress:
            path.write_bytes(gzip.compress(data, compresslevel=6, mtime=deliver.timestamp()))
        else:
            path.write_bytes(data)
        out[rel] = ([e for _t, e, _r in items if isinstance(e, SignIn)], len(items))
        if call_files is not None:
            call_files.update((id(e), rel) for _t, e, _r in items if isinstance(e, ApiCall))
    return out
