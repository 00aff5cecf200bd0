"""Microsoft Entra ID sign-in logs, two ways:

* ``entra/signins_graph.json`` — what ``GET https://graph.microsoft.com/beta/auditLogs/signIns``
  returns: ``{"@odata.context": …, "value": [signIn, …]}``, newest first, camelCase,
  ``status.errorCode`` an integer, ``location.countryOrRegion`` an ISO code, plus the
  beta properties (``autonomousSystemNumber``, ``authenticationRequirement``,
  ``userAgent``, ``signInEventTypes``…).
* ``entra/SigninLogs.json`` — the same sign-ins as Log Analytics keeps them in the
  ``SigninLogs`` table, exported as a JSON array of rows: PascalCase columns,
  ``ResultType`` a string, ``LocationDetails``/``Status``/``DeviceDetail`` dynamic
  objects, ``AuthenticationDetails`` a JSON string, ``Type`` ``SigninLogs``.

When both are written the Graph pull covers the first half of the period and the Log
Analytics export the rest (the tenant moved to diagnostic settings mid-week), so no
sign-in is in both and a multi-day attack crosses the two files.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from crownwatch.simulate.events import SignIn
from crownwatch.simulate.formats._common import iso_ms, iso_s, ua_parts, uuid_from

ERRORS = {
    "success": (0, None),
    "bad_password": (50126, "Error validating credentials due to invalid username or password."),
    "unknown_user": (
        50034,
        "The user account does not exist in the {domain} directory. To sign into this application, the account must be added to the directory.",
    ),
    "locked": (
        50053,
        "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
    ),
    "disabled": (
        50057,
        "User account is disabled. The account has been disabled by an administrator.",
    ),
    "expired": (50055, "The password is expired."),
    "mfa_required": (
        50076,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource}'.",
    ),
    "mfa_required_50074": (50074, "Strong Authentication is required."),
    "ca_blocked": (
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    ),
}

APPS = {
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Microsoft Teams": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "OfficeHome": "4765445b-32c6-49b0-83e6-1d93765276ca",
    "Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
    "Microsoft Azure PowerShell": "1950a258-227b-4e31-a9cf-717495945fc2",
    "Azure Active Directory PowerShell": "1b730954-1685-4b74-9bfd-dac224a7b894",
    "Microsoft Authentication Broker": "29d9ed98-a469-4536-ade2-f981bc1d605e",
    "Azure Portal": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
}
RESOURCES = {
    "Office 365 Exchange Online": (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    "Microsoft Teams": ("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"),
    "OfficeHome": ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"),
    "Office 365 SharePoint Online": (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
}
GRAPH_RESOURCE = ("Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000")
CA_POLICIES = (
    ("Require MFA for all users", "8d3f2c1e-7a55-4d0f-9b0e-3c2d6f1a4e21"),
    ("Block legacy authentication", "2b9e7f41-0c6d-4a3e-8f15-6d7c9e0a1b32"),
    ("Block sign-ins from unapproved countries", "f0c1a2b3-4d5e-4f60-8a7b-9c0d1e2f3a43"),
)


def _status(ev: SignIn, domain: str, resource: str) -> tuple[int, str | None]:
    key = ev.outcome
    if key == "mfa_required" and ev.extra.get("entra_code") == 50074:
        key = "mfa_required_50074"
    code, text = ERRORS[key]
    return code, (text.format(domain=domain, resource=resource) if text else None)


def _ca(ev: SignIn) -> tuple[str, list[dict]]:
    """conditionalAccessStatus and appliedConditionalAccessPolicies."""
    if ev.outcome in ("bad_password", "unknown_user", "locked", "disabled", "expired"):
        return "notApplied", []
    if ev.outcome == "ca_blocked":
        res = ["success", "failure", "notApplied"]
        return "failure", [_pol(i, r) for i, r in enumerate(res)]
    if ev.outcome == "mfa_required":
        return "notApplied", [_pol(0, "notApplied"), _pol(1, "notApplied"), _pol(2, "notApplied")]
    return "success", [_pol(0, "success"), _pol(1, "notApplied"), _pol(2, "notApplied")]


def _pol(i: int, result: str) -> dict:
    name, pid = CA_POLICIES[i]
    return {
        "id": pid,
        "displayName": name,
        "enforcedGrantControls": ["Mfa"] if i == 0 else ["Block"],
        "enforcedSessionControls": [],
        "result": result,
    }


def graph_record(ev: SignIn, rng: random.Random, org) -> dict:
    """One ``signIn`` resource (Graph beta), camelCase."""
    app = ev.app or "OfficeHome"
    res_name, res_id = RESOURCES.get(app, GRAPH_RESOURCE)
    code, reason = _status(ev, org.domain, res_name)
    ca_status, policies = _ca(ev)
    os_, browser, _device = ua_parts(ev.user_agent)
    mfa = ev.outcome == "success" and ev.mfa
    upn = ev.user if "@" in ev.user else f"{ev.user}@{ev.domain}"
    known = ev.outcome != "unknown_user"
    corr = ev.extra.get("correlation") or uuid_from(rng)
    auth_details = [
        {
            "authenticationStepDateTime": iso_s(ev.time),
            "authenticationMethod": "Password",
            "authenticationMethodDetail": "Password in the cloud",
            "succeeded": ev.outcome in ("success", "mfa_required", "ca_blocked"),
            "authenticationStepResultDetail": "Correct password"
            if ev.outcome in ("success", "mfa_required", "ca_blocked")
            else "Invalid username or password or Invalid on-premise username or password.",
            "authenticationStepRequirement": "Primary authentication",
        }
    ]
    if mfa:
        auth_details.append(
            {
                "authenticationStepDateTime": iso_s(ev.time + timedelta(seconds=6)),
                "authenticationMethod": "Mobile app notification",
                "authenticationMethodDetail": None,
                "succeeded": True,
                "authenticationStepResultDetail": "MFA successfully completed",
                "authenticationStepRequirement": "Multi-factor authentication",
            }
        )
    return {
        "id": uuid_from(rng),
        "createdDateTime": iso_s(ev.time),
        "userDisplayName": ev.display_name if known else None,
        "userPrincipalName": upn,
        "userId": ev.user_uid if known else "00000000-0000-0000-0000-000000000000",
        "appId": APPS.get(app, "4765445b-32c6-49b0-83e6-1d93765276ca"),
        "appDisplayName": app,
        "ipAddress": ev.src_ip,
        "ipAddressFromResourceProvider": None,
        "clientAppUsed": ev.extra.get("client_app", "Browser"),
        "userAgent": ev.user_agent,
        "correlationId": corr,
        "conditionalAccessStatus": ca_status,
        "originalRequestId": uuid_from(rng),
        "isInteractive": ev.interactive,
        "tokenIssuerName": "",
        "tokenIssuerType": "AzureAD",
        "processingTimeInMilliseconds": rng.randrange(40, 400),
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes": [],
        "riskEventTypes_v2": [],
        "resourceDisplayName": res_name,
        "resourceId": res_id,
        "resourceTenantId": org.tenant_id,
        "homeTenantId": org.tenant_id,
        "authenticationRequirement": "multiFactorAuthentication"
        if mfa or ev.outcome == "mfa_required"
        else "singleFactorAuthentication",
        "signInIdentifier": upn,
        "signInIdentifierType": None,
        "autonomousSystemNumber": ev.asn,
        "userType": "member",
        "crossTenantAccessType": "none",
        "incomingTokenType": "none",
        "authenticationProtocol": "none",
        "signInEventTypes": ["interactiveUser" if ev.interactive else "nonInteractiveUser"],
        "flaggedForReview": False,
        "isTenantRestricted": False,
        "status": {
            "errorCode": code,
            "failureReason": reason if code else "Other.",
            "additionalDetails": "MFA requirement satisfied by claim in the token" if mfa else None,
        },
        "deviceDetail": {
            "deviceId": ev.extra.get("device_id", ""),
            "displayName": ev.src_host,
            "operatingSystem": os_.replace("Mac OS X", "MacOs"),
            "browser": browser.title() + " " + ev.extra.get("browser_ver", "133.0.0"),
            "isCompliant": bool(ev.extra.get("device_id")),
            "isManaged": bool(ev.extra.get("device_id")),
            "trustType": "Azure AD joined" if ev.extra.get("device_id") else "",
        },
        "location": {
            "city": ev.city,
            "state": ev.region,
            "countryOrRegion": ev.country,
            "geoCoordinates": {"altitude": None, "latitude": ev.lat, "longitude": ev.lon},
        },
        "appliedConditionalAccessPolicies": policies,
        "authenticationDetails": auth_details,
        "authenticationMethodsUsed": ["Password", "Mobile app notification"]
        if mfa
        else ["Password"]
        if ev.outcome != "unknown_user"
        else [],
        "networkLocationDetails": [
            {"networkType": "namedNetwork", "networkNames": ["Corporate offices"]}
        ]
        if ev.extra.get("office")
        else [],
        "mfaDetail": {"authMethod": "Mobile app notification", "authDetail": None} if mfa else None,
    }


def loganalytics_row(g: dict, org) -> dict:
    """The ``SigninLogs`` row for a Graph sign-in: same facts, Log Analytics typing."""
    code = g["status"]["errorCode"]
    return {
        "TenantId": org.tenant_id,
        "SourceSystem": "Azure AD",
        "TimeGenerated": g["createdDateTime"],
        "ResourceId": f"/tenants/{org.tenant_id}/providers/Microsoft.aadiam",
        "OperationName": "Sign-in activity",
        "OperationVersion": "1.0",
        "Category": "SignInLogs",
        "ResultType": str(code),
        "ResultSignature": "SUCCESS" if code == 0 else "None",
        "ResultDescription": g["status"]["failureReason"] if code else "",
        "DurationMs": 0,
        "CorrelationId": g["correlationId"],
        "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam",
        "ResourceProvider": "",
        "Identity": g["userDisplayName"] or "",
        "Level": "4",
        "Location": g["location"]["countryOrRegion"],
        "AlternateSignInName": g["userPrincipalName"],
        "AppDisplayName": g["appDisplayName"],
        "AppId": g["appId"],
        "AuthenticationContextClassReferences": "[]",
        "AuthenticationDetails": json.dumps(g["authenticationDetails"]),
        "AuthenticationMethodsUsed": ", ".join(g["authenticationMethodsUsed"]),
        "AuthenticationProcessingDetails": "[]",
        "AuthenticationProtocol": g["authenticationProtocol"],
        "AuthenticationRequirement": g["authenticationRequirement"],
        "AuthenticationRequirementPolicies": "[]",
        "AutonomousSystemNumber": g["autonomousSystemNumber"],
        "ClientAppUsed": g["clientAppUsed"],
        "ConditionalAccessPolicies": g["appliedConditionalAccessPolicies"],
        "ConditionalAccessStatus": g["conditionalAccessStatus"],
        "CreatedDateTime": g["createdDateTime"],
        "CrossTenantAccessType": g["crossTenantAccessType"],
        "DeviceDetail": dict(g["deviceDetail"]),
        "FlaggedForReview": g["flaggedForReview"],
        "HomeTenantId": g["homeTenantId"],
        "IPAddress": g["ipAddress"],
        "IPAddressFromResourceProvider": "",
        "Id": g["id"],
        "IncomingTokenType": g["incomingTokenType"],
        "IsInteractive": g["isInteractive"],
        "IsRisky": False,
        "IsTenantRestricted": False,
        "LocationDetails": g["location"],
        "MfaDetail": g["mfaDetail"] or {},
        "NetworkLocationDetails": json.dumps(g["networkLocationDetails"]),
        "OriginalRequestId": g["originalRequestId"],
        "ProcessingTimeInMilliseconds": str(g["processingTimeInMilliseconds"]),
        "ResourceDisplayName": g["resourceDisplayName"],
        "ResourceIdentity": g["resourceId"],
        "ResourceServicePrincipalId": "",
        "ResourceTenantId": g["resourceTenantId"],
        "RiskDetail": g["riskDetail"],
        "RiskEventTypes": "[]",
        "RiskEventTypes_V2": "[]",
        "RiskLevelAggregated": g["riskLevelAggregated"],
        "RiskLevelDuringSignIn": g["riskLevelDuringSignIn"],
        "RiskState": g["riskState"],
        "ServicePrincipalId": "",
        "SessionLifetimePolicies": "[]",
        "SignInIdentifier": g["signInIdentifier"],
        "SignInIdentifierType": "",
        "Status": {k: v for k, v in g["status"].items() if v is not None},
        "TokenIssuerName": "",
        "TokenIssuerType": "AzureAD",
        "UniqueTokenIdentifier": g["id"].replace("-", "")[:22],
        "UserAgent": g["userAgent"],
        "UserDisplayName": g["userDisplayName"] or "",
        "UserId": g["userId"],
        "UserPrincipalName": g["userPrincipalName"],
        "UserType": "Member",
        "Type": "SigninLogs",
    }


def write(
    out_dir: Path,
    events: list[SignIn],
    rng: random.Random,
    org,
    *,
    graph: bool = True,
    loganalytics: bool = True,
    split_at=None,
) -> dict[str, tuple[list[SignIn], int]]:
    d = out_dir / "entra"
    d.mkdir(parents=True, exist_ok=True)
    recs = [(ev, graph_record(ev, rng, org)) for ev in events]
    if graph and loganalytics:
        g_part = [(ev, r) for ev, r in recs if ev.time < split_at]
        la_part = [(ev, r) for ev, r in recs if ev.time >= split_at]
    else:
        g_part = recs if graph else []
        la_part = recs if loganalytics else []
    out: dict[str, tuple[list[SignIn], int]] = {}
    if graph:
        body = {
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
            "value": [r for _ev, r in sorted(g_part, key=lambda p: p[0].time, reverse=True)],
        }
        (d / "signins_graph.json").write_text(
            json.dumps(body, separators=(",", ":")), encoding="utf-8"
        )
        out["entra/signins_graph.json"] = ([ev for ev, _ in g_part], len(g_part))
    if loganalytics:
        rows = []
        for ev, r in la_part:
            row = loganalytics_row(r, org)
            row["TimeGenerated"] = iso_ms(ev.time)[:-1] + "0000Z"
            rows.append(row)
        (d / "SigninLogs.json").write_text(
            json.dumps(rows, separators=(",", ":")), encoding="utf-8"
        )
        out["entra/SigninLogs.json"] = ([ev for ev, _ in la_part], len(rows))
    return out
