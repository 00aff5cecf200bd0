"""Okta System Log (``GET /api/v1/logs``, and the same objects one per line as most
log shippers store them).

How each neutral outcome shows up:

==============  ===============================================================
outcome         records
==============  ===============================================================
success         ``user.session.start`` SUCCESS, then ``user.authentication.
                auth_via_mfa`` SUCCESS when a factor was used, then
                ``user.authentication.sso`` SUCCESS into the app
bad_password    ``user.session.start`` FAILURE, reason ``INVALID_CREDENTIALS``
                (plus ``user.account.lock`` when this attempt tripped the lockout)
unknown_user    ``user.session.start`` FAILURE, reason ``VERIFICATION_ERROR``,
                ``actor.id`` ``unknown``, ``actor.alternateId`` = the name typed
locked          ``user.session.start`` FAILURE, reason ``LOCKED_OUT``
disabled        ``user.session.start`` FAILURE, reason ``USER_SUSPENDED``
expired         ``user.session.start`` FAILURE, reason ``PASSWORD_EXPIRED``
mfa_required    ``policy.evaluate_sign_on`` CHALLENGE, then
                ``user.mfa.okta_verify.deny_push`` FAILURE (factor not completed)
ca_blocked      ``policy.evaluate_sign_on`` DENY
==============  ===============================================================
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from crownwatch.simulate.events import SignIn
from crownwatch.simulate.formats._common import iso_ms, rand_alnum, ua_parts, uuid_from
from crownwatch.simulate.population import COUNTRY_NAMES

FAILURE_REASON = {
    "bad_password": "INVALID_CREDENTIALS",
    "unknown_user": "VERIFICATION_ERROR",
    "locked": "LOCKED_OUT",
    "disabled": "USER_SUSPENDED",
    "expired": "PASSWORD_EXPIRED",
}

API_PAGE_LIMIT = 1000  # the largest page GET /api/v1/logs returns


def _client(ev: SignIn) -> dict:
    os_, browser, device = ua_parts(ev.user_agent)
    return {
        "userAgent": {"rawUserAgent": ev.user_agent, "os": os_, "browser": browser},
        "zone": ev.extra.get("okta_zone", "null"),
        "device": device,
        "id": None,
        "ipAddress": ev.src_ip,
        "geographicalContext": _geo(ev),
    }


def _geo(ev: SignIn) -> dict:
    return {
        "city": ev.city or None,
        "state": ev.region or None,
        "country": COUNTRY_NAMES.get(ev.country, ev.country),
        "postalCode": None,
        "geolocation": {"lat": ev.lat, "lon": ev.lon},
    }


def _actor(ev: SignIn, alternate: str) -> dict:
    if ev.outcome == "unknown_user":
        return {
            "id": "unknown",
            "type": "User",
            "alternateId": alternate,
            "displayName": "unknown",
            "detailEntry": None,
        }
    return {
        "id": ev.user_uid,
        "type": "User",
        "alternateId": alternate,
        "displayName": ev.display_name,
        "detailEntry": None,
    }


def _base(
    ev: SignIn,
    rng: random.Random,
    event_type: str,
    display: str,
    result: str,
    reason: str | None,
    legacy: str | None,
    severity: str,
    when,
    uri: str,
) -> dict:
    alternate = ev.user if "@" in ev.user else f"{ev.user}@{ev.domain}"
    rid = rand_alnum(rng, 27)
    return {
        "actor": _actor(ev, alternate),
        "client": _client(ev),
        "device": None,
        "authenticationContext": {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "rootSessionId": ev.extra.get("okta_session", "unknown"),
            "externalSessionId": ev.extra.get("okta_session", "unknown"),
        },
        "displayMessage": display,
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": iso_ms(when),
        "securityContext": {
            "asNumber": ev.asn or None,
            "asOrg": ev.as_org.lower() or None,
            "isp": ev.as_org.lower() or None,
            "domain": ev.isp_domain or None,
            "isProxy": ev.is_proxy,
        },
        "severity": severity,
        "debugContext": {
            "debugData": {
                "requestId": rid,
                "requestUri": uri,
                "url": uri + "?",
                "threatSuspected": "true" if ev.extra.get("threat") else "false",
                "dtHash": rand_alnum(rng, 64, "0123456789abcdef"),
            }
        },
        "legacyEventType": legacy,
        "transaction": {"type": "WEB", "id": rid, "detail": {}},
        "uuid": uuid_from(rng),
        "version": "0",
        "request": {
            "ipChain": [
                {
                    "ip": ev.src_ip,
                    "geographicalContext": _geo(ev),
                    "version": "V6" if ":" in ev.src_ip else "V4",
                    "source": None,
                }
            ]
        },
        "target": None,
    }


def records(ev: SignIn, rng: random.Random) -> list[dict]:
    """The System Log events Okta writes for one sign-in attempt."""
    t = ev.time
    out: list[dict] = []
    if ev.outcome == "success":
        out.append(
            _base(
                ev,
                rng,
                "user.session.start",
                "User login to Okta",
                "SUCCESS",
                None,
                "core.user_auth.login_success",
                "INFO",
                t,
                "/idp/idx/identify",
            )
        )
        if ev.mfa:
            rec = _base(
                ev,
                rng,
                "user.authentication.auth_via_mfa",
                "Authentication of user via MFA",
                "SUCCESS",
                None,
                "core.user.factor.attempt_success",
                "INFO",
                t + timedelta(seconds=3 + rng.random() * 9),
                "/idp/idx/challenge/answer",
            )
            rec["authenticationContext"]["credentialProvider"] = "OKTA_CREDENTIAL_PROVIDER"
            rec["authenticationContext"]["credentialType"] = "OTP" if rng.random() < 0.2 else "PUSH"
            out.append(rec)
        rec = _base(
            ev,
            rng,
            "user.authentication.sso",
            "User single sign on to app",
            "SUCCESS",
            None,
            "app.auth.sso",
            "INFO",
            t + timedelta(seconds=15 + rng.random() * 20),
            "/app/" + ev.app.lower().replace(" ", "") + "/sso/saml",
        )
        rec["target"] = [
            {
                "id": "0oa" + rand_alnum(rng, 17),
                "type": "AppInstance",
                "alternateId": ev.app,
                "displayName": ev.app,
                "detailEntry": {"signOnModeType": "SAML_2_0"},
            }
        ]
        out.append(rec)
    elif ev.outcome in FAILURE_REASON:
        out.append(
            _base(
                ev,
                rng,
                "user.session.start",
                "User login to Okta",
                "FAILURE",
                FAILURE_REASON[ev.outcome],
                "core.user_auth.login_failed",
                "WARN",
                t,
                "/idp/idx/identify",
            )
        )
        if ev.extra.get("lock_event"):
            lock = _base(
                ev,
                rng,
                "user.account.lock",
                "Max sign in attempts exceeded",
                "SUCCESS",
                None,
                "core.user_auth.account_locked",
                "WARN",
                t + timedelta(milliseconds=40),
                "/idp/idx/identify",
            )
            lock["target"] = [
                {
                    "id": ev.user_uid,
                    "type": "User",
                    "alternateId": f"{ev.user}@{ev.domain}",
                    "displayName": ev.display_name,
                    "detailEntry": None,
                }
            ]
            out.append(lock)
    elif ev.outcome == "mfa_required":
        out.append(
            _base(
                ev,
                rng,
                "policy.evaluate_sign_on",
                "Evaluation of sign-on policy",
                "CHALLENGE",
                "Sign-on policy evaluation resulted in CHALLENGE",
                None,
                "INFO",
                t,
                "/idp/idx/identify",
            )
        )
        out.append(
            _base(
                ev,
                rng,
                "user.mfa.okta_verify.deny_push",
                "User rejected Okta push verify",
                "FAILURE",
                "User rejected Okta push verify",
                "core.user.factor.push_deny",
                "WARN",
                t + timedelta(seconds=10 + rng.random() * 20),
                "/idp/idx/authenticators/poll",
            )
        )
    elif ev.outcome == "ca_blocked":
        out.append(
            _base(
                ev,
                rng,
                "policy.evaluate_sign_on",
                "Evaluation of sign-on policy",
                "DENY",
                "Sign-on policy evaluation resulted in DENY",
                None,
                "WARN",
                t,
                "/idp/idx/identify",
            )
        )
    return out


def write(
    out_dir: Path, events: list[SignIn], rng: random.Random
) -> dict[str, tuple[list[SignIn], int]]:
    """Write ``okta/system_log.jsonl`` and ``okta/api_page.json``.

    The newest sign-ins (at most one page, :data:`API_PAGE_LIMIT` records) go to the
    API page, everything before them to the JSON-lines file: together they are the
    whole stream, with no event in both. Returns ``{file: (events, records)}``."""
    rendered = [(ev, records(ev, rng)) for ev in events]
    split = len(rendered)
    n = 0
    while split > 0 and n + len(rendered[split - 1][1]) <= API_PAGE_LIMIT // 2:
        split -= 1
        n += len(rendered[split][1])
    d = out_dir / "okta"
    d.mkdir(parents=True, exist_ok=True)
    lines, page = [], []
    for _ev, recs in rendered[:split]:
        lines.extend(recs)
    for _ev, recs in rendered[split:]:
        page.extend(recs)
    lines.sort(key=lambda r: r["published"])
    page.sort(key=lambda r: r["published"])
    with open(d / "system_log.jsonl", "w", encoding="utf-8") as fh:
        for rec in lines:
            fh.write(json.dumps(rec, separators=(",", ":")))
            fh.write("\n")
    (d / "api_page.json").write_text(json.dumps(page, separators=(",", ":")), encoding="utf-8")
    return {
        "okta/system_log.jsonl": ([ev for ev, _ in rendered[:split]], len(lines)),
        "okta/api_page.json": ([ev for ev, _ in rendered[split:]], len(page)),
    }
