"""Build Okta System Log events (``GET /api/v1/logs`` LogEvent objects, one per line
as Okta's log streaming and SIEM forwarders store them) for identity detection
scenarios and tests.

Field for field as Okta writes them: the LogEvent object reference
(https://developer.okta.com/docs/reference/api/system-log/#logevent-object) and the
event types ``user.session.start`` (SUCCESS / FAILURE with ``INVALID_CREDENTIALS``,
``VERIFICATION_ERROR`` for a name Okta could not resolve — actor ``id`` "unknown" —
``LOCKED_OUT``), ``user.account.lock``, ``user.authentication.sso`` and
``policy.evaluate_sign_on`` (CHALLENGE / DENY). Nothing here is simplified for the
parser: nulls, ``debugContext``, ``request.ipChain`` and ``transaction`` are as Okta
emits them, so a test that passes here passes on a real export.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

DOMAIN = "northwind-ai.com"
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.3 Safari/605.1.15"
)
SPRAY_UA = "python-requests/2.32.3"
JAVA_UA = "Java/17.0.10"
# An old Chrome build hard-coded in a spray kit: a browser string, but not one any
# employee's auto-updating browser still sends.
KIT_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/96.0.4664.110 Safari/537.36"
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Net:
    """Where a request comes from, as Okta's client/securityContext describe it."""

    ip: str
    asn: int | None = 7922
    as_org: str | None = "comcast cable communications llc"
    country: str | None = "United States"
    state: str | None = "California"
    city: str | None = "San Francisco"
    ua: str = CHROME
    is_proxy: bool = False
    domain: str | None = "comcast.net"

    def with_ua(self, ua: str) -> Net:
        return replace(self, ua=ua)


OFFICE = Net("198.51.100.10", 7018, "at&t services inc.", domain="att.net")
INTERNAL = Net("10.20.4.17", None, None, None, None, None, JAVA_UA, domain=None)


def hosting(i: int, ua: str = SPRAY_UA, country: str = "Netherlands") -> Net:
    """A rotating cloud/VPS address of the kind distributed sprays come from."""
    orgs = [
        (14061, "digitalocean llc"),
        (16509, "amazon.com inc."),
        (63949, "akamai connected cloud"),
        (20473, "the constant company llc"),
        (24940, "hetzner online gmbh"),
    ]
    asn, org = orgs[i % len(orgs)]
    return Net(
        f"203.0.{113 + (i // 250) % 3}.{i % 250 + 1}", asn, org, country, None, None, ua, True, None
    )


def _hash(*parts) -> str:
    return hashlib.sha1("\x00".join(map(str, parts)).encode()).hexdigest()


def user_id(login: str) -> str:
    h = _hash("uid", login)
    return "00u" + "".join(c for c in h if c.isalnum())[:17]


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _login(user: str) -> str:
    return user if "@" in user else f"{user}@{DOMAIN}"


def event(
    when: datetime,
    event_type: str,
    user: str,
    net: Net,
    result: str,
    reason: str | None = None,
    *,
    unknown: bool = False,
    display: str = "User login to Okta",
    legacy: str | None = None,
    severity: str = "INFO",
    target: list | None = None,
    uri: str = "/idp/idx/identify",
) -> dict:
    login = _login(user)
    uid = "unknown" if unknown else user_id(login)
    seed = _hash(when.isoformat(), event_type, login, net.ip, result)
    geo = {
        "city": net.city,
        "state": net.state,
        "country": net.country,
        "postalCode": None,
        "geolocation": {"lat": 37.7749, "lon": -122.4194} if net.country else None,
    }
    req = seed[:27]
    return {
        "actor": {
            "id": uid,
            "type": "User",
            "alternateId": login,
            "displayName": "unknown" if unknown else login.split("@")[0].replace(".", " ").title(),
            "detailEntry": None,
        },
        "client": {
            "userAgent": {"rawUserAgent": net.ua, "os": "Unknown", "browser": "UNKNOWN"},
            "zone": "null",
            "device": "Computer",
            "id": None,
            "ipAddress": net.ip,
            "geographicalContext": geo,
        },
        "device": None,
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "rootSessionId": "unknown",
            "externalSessionId": "unknown" if result != "SUCCESS" else "102" + seed[27:44],
        },
        "displayMessage": display,
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": _ts(when),
        "securityContext": {
            "asNumber": net.asn,
            "asOrg": net.as_org,
            "isp": net.as_org,
            "domain": net.domain,
            "isProxy": net.is_proxy,
        },
        "severity": severity,
        "debugContext": {
            "debugData": {
                "requestId": req,
                "requestUri": uri,
                "url": uri + "?",
                "threatSuspected": "false",
            }
        },
        "legacyEventType": legacy,
        "transaction": {"type": "WEB", "id": req, "detail": {}},
        "uuid": f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-a{seed[17:20]}-{seed[20:32]}",
        "version": "0",
        "request": {
            "ipChain": [
                {
                    "ip": net.ip,
                    "geographicalContext": geo,
                    "version": "V6" if ":" in net.ip else "V4",
                    "source": None,
                }
            ]
        },
        "target": target,
    }


def fail(when: datetime, user: str, net: Net, reason: str = "INVALID_CREDENTIALS") -> list[dict]:
    """``user.session.start`` FAILURE. ``VERIFICATION_ERROR`` makes it an unknown name."""
    return [
        event(
            when,
            "user.session.start",
            user,
            net,
            "FAILURE",
            reason,
            unknown=reason == "VERIFICATION_ERROR",
            legacy="core.user_auth.login_failed",
            severity="WARN",
        )
    ]


def unknown(when: datetime, name: str, net: Net) -> list[dict]:
    return fail(when, name, net, "VERIFICATION_ERROR")


def lock(when: datetime, user: str, net: Net) -> list[dict]:
    login = _login(user)
    tgt = [
        {
            "id": user_id(login),
            "type": "User",
            "alternateId": login,
            "displayName": None,
            "detailEntry": None,
        }
    ]
    return [
        event(
            when,
            "user.account.lock",
            user,
            net,
            "SUCCESS",
            None,
            display="Max sign in attempts exceeded",
            legacy="core.user_auth.account_locked",
            severity="WARN",
            target=tgt,
        )
    ]


def success(when: datetime, user: str, net: Net, app: str = "Slack") -> list[dict]:
    """A completed sign-in: ``user.session.start`` SUCCESS, then SSO into ``app``."""
    tgt = [
        {
            "id": "0oa" + _hash("app", app)[:17],
            "type": "AppInstance",
            "alternateId": app,
            "displayName": app,
            "detailEntry": {"signOnModeType": "SAML_2_0"},
        }
    ]
    return [
        event(
            when,
            "user.session.start",
            user,
            net,
            "SUCCESS",
            None,
            legacy="core.user_auth.login_success",
        ),
        event(
            when + timedelta(seconds=21),
            "user.authentication.sso",
            user,
            net,
            "SUCCESS",
            None,
            display="User single sign on to app",
            legacy="app.auth.sso",
            target=tgt,
            uri=f"/app/{app.lower()}/sso/saml",
        ),
    ]


def mfa_challenge(when: datetime, user: str, net: Net) -> list[dict]:
    """Password accepted, sign-on policy demands a factor that never comes."""
    return [
        event(
            when,
            "policy.evaluate_sign_on",
            user,
            net,
            "CHALLENGE",
            "Sign-on policy evaluation resulted in CHALLENGE",
            display="Evaluation of sign-on policy",
        )
    ]


def ca_deny(when: datetime, user: str, net: Net) -> list[dict]:
    return [
        event(
            when,
            "policy.evaluate_sign_on",
            user,
            net,
            "DENY",
            "Sign-on policy evaluation resulted in DENY",
            display="Evaluation of sign-on policy",
        )
    ]


def jsonl(events: list[dict]) -> str:
    """JSON lines in time order, the way an export or a forwarder writes them."""
    events = sorted(events, key=lambda e: (e["published"], e["uuid"]))
    return "".join(json.dumps(e) + "\n" for e in events)


def write(path: Path, events: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(events))
    return path


def staff(n: int, prefix: str = "emp") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def history(users: list[str], start: datetime, days: int = 5, net: Net | None = None) -> list[dict]:
    """Each user's ordinary morning sign-in from the office for ``days`` days before
    ``start`` — the baseline the own-address and new-geography tests compare with."""
    out: list[dict] = []
    for d in range(days, 0, -1):
        for i, u in enumerate(users):
            out += success(start - timedelta(days=d) + timedelta(minutes=i % 50), u, net or OFFICE)
    return out


def system_log(name: str, build: Callable[[], list[dict]]) -> Callable[[], dict[str, str]]:
    """A scenario's ``logs``: the events ``build()`` returns as one System Log export,
    ``okta/<name>.jsonl``."""
    return lambda: {f"okta/{name}.jsonl": jsonl(build())}


# Okta's factor lifecycle events (the System Log event-type catalogue): the person whose
# factors changed is the ``User`` target; the actor is that person enrolling, or an
# admin resetting on their behalf. The factor rides in debugData.
FACTOR_EVENTS = {
    "user.mfa.factor.activate": ("Activate factor or authenticator", "core.user.factor.activate"),
    "user.mfa.factor.update": ("Update factor or authenticator", None),
    "user.mfa.factor.reset_all": ("Reset all factors for user", "core.user.factor.reset_all"),
}


def factor_change(
    when: datetime,
    user: str,
    net: Net,
    event_type: str = "user.mfa.factor.activate",
    *,
    actor: str | None = None,
    factor: str = "OKTA_VERIFY_PUSH",
) -> list[dict]:
    """A factor enrolled, updated or reset for ``user``, by ``actor`` (the user)."""
    display, legacy = FACTOR_EVENTS[event_type]
    login = _login(user)
    ev = event(
        when,
        event_type,
        actor or user,
        net,
        "SUCCESS",
        None,
        display=display,
        legacy=legacy,
        target=[
            {
                "id": user_id(login),
                "type": "User",
                "alternateId": login,
                "displayName": login.split("@")[0].replace(".", " ").title(),
                "detailEntry": None,
            }
        ],
        uri="/api/v1/users/" + user_id(login) + "/factors",
    )
    ev["debugContext"]["debugData"]["factor"] = factor
    ev["authenticationContext"]["externalSessionId"] = "102" + _hash("sess", login, net.ip)[:17]
    return [ev]
