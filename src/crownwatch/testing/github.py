"""Build GitHub Enterprise audit-log events (Git events included) in the layout
audit-log streaming writes them — one flat JSON object per line in the gzip'd objects
it puts in S3 / Azure Blob / GCS — and as the REST API
(``GET /enterprises/{enterprise}/audit-log``) returns them, for tests and simulators.

Field for field as GitHub writes them (the streamed samples in
``tests/fixtures/github/README.md``): ``@timestamp`` and ``created_at`` in epoch
milliseconds, a 22-character ``_document_id``, numeric ``actor_id`` / ``org_id`` /
``repo_id`` / ``business_id``; Git events (``git.clone``, ``git.fetch``, ``git.push``)
carry ``repository`` and ``repository_public`` (a boolean) with
``transport_protocol`` / ``transport_protocol_name`` and an empty ``user`` /
``user_id`` 0, other repository events ``visibility`` and ``public_repo``; a token's
use shows as ``programmatic_access_type``, ``hashed_token`` (base64 SHA-256) and
``token_id`` (0 where the credential has no id).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

ORG = "northwind-ai"
BUSINESS = "northwind"

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.0.0 Safari/537.36"
)
GIT_UA = "git/2.47.1"

PAT_CLASSIC = "Personal access token (classic)"
PAT_FINE_GRAINED = "Fine-grained personal access token"
OAUTH = "OAuth access token"
APP_TOKEN = "GitHub App server-to-server token"
SSH_KEY = "SSH key"
DEPLOY_KEY = "Deploy key"
_KEYS = (SSH_KEY, DEPLOY_KEY)


def _num(*parts: str, digits: int = 8) -> int:
    h = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(h[:8], "big") % 10**digits + 10 ** (digits - 1)


def document_id(*parts: str) -> str:
    """A streamed ``_document_id``: 16 bytes, URL-safe base64 without padding."""
    h = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return base64.urlsafe_b64encode(h).decode().rstrip("=")


def token_hash(secret: str) -> str:
    """``hashed_token`` as GitHub logs it: the SHA-256 of the token, base64."""
    return base64.b64encode(hashlib.sha256(secret.encode()).digest()).decode()


def _operation(action: str) -> str:
    verb = action.rsplit(".", 1)[-1]
    if verb.startswith(("create", "add", "invite", "access_granted")):
        return "create"
    if verb.startswith(("destroy", "delete", "remove", "revoke")):
        return "remove"
    if verb in ("download_zip", "access"):
        return "access"
    return "modify"


def event(
    ts: datetime,
    action: str,
    actor: str,
    *,
    repo: str | None = None,
    ip: str | None = None,
    country: str | None = "US",
    ua: str | None = None,
    access_type: str | None = None,
    token_id: str | None = None,
    hashed_token: str | None = None,
    transport: str | None = None,
    user: str | None = None,
    org: str = ORG,
    visibility: str = "private",
    sso_identity: str | None = None,
) -> dict:
    """One streamed audit event.

    ``repo`` is ``"name"`` or ``"org/name"``. ``ip`` None leaves ``actor_ip`` out (as
    GitHub does unless the enterprise discloses IPs); ``country`` None leaves
    ``actor_location`` out. ``ua`` None gives the agent such an event has (``git/…``
    over HTTP, a browser on the web; none over SSH); ``""`` writes an empty one.
    ``access_type`` is ``programmatic_access_type`` (:data:`PAT_CLASSIC`,
    :data:`SSH_KEY` …); with it, ``hashed_token`` defaults to a hash stable per actor
    and credential type and ``token_id`` to 0. ``transport`` defaults, for Git events,
    to ``ssh`` with a key and ``http`` otherwise. ``sso_identity`` is the SAML/SCIM
    identity (an e-mail) GitHub writes as ``external_identity_nameid`` for an
    organisation with SSO."""
    ms = int(ts.astimezone(UTC).timestamp() * 1000)
    is_git = action.startswith("git.")
    full_repo = None
    if repo is not None:
        full_repo = repo if "/" in repo else f"{org}/{repo}"
    if is_git and transport is None:
        transport = "ssh" if access_type in _KEYS else "http"
    if ua is None:
        ua = (None if transport == "ssh" else GIT_UA) if is_git else CHROME
    out: dict = {
        "@timestamp": ms,
        "_document_id": document_id(str(ms), action, actor, full_repo or "", ip or ""),
        "action": action,
        "actor": actor,
        "actor_id": _num("user", actor.lower()),
    }
    if ip is not None:
        out["actor_ip"] = ip
    out["actor_is_bot"] = actor.endswith("[bot]")
    if country is not None:
        out["actor_location"] = {"country_code": country}
    out["business"] = BUSINESS
    out["business_id"] = _num("business", BUSINESS, digits=5)
    out["created_at"] = ms
    if is_git:
        out["external_id"] = ""
    if sso_identity is not None:
        out["external_identity_nameid"] = sso_identity
        out["external_identity_username"] = sso_identity
    if access_type is not None:
        out["hashed_token"] = hashed_token or token_hash(f"{actor}:{access_type}")
    elif hashed_token is not None:
        out["hashed_token"] = hashed_token
    if not is_git:
        out["operation_type"] = _operation(action)
    out["org"] = org
    out["org_id"] = _num("org", org.lower())
    if access_type is not None:
        out["programmatic_access_type"] = access_type
    if full_repo is not None:
        out["repo"] = full_repo
        out["repo_id"] = _num("repo", full_repo.lower(), digits=9)
        if is_git:
            out["repository"] = full_repo
            out["repository_public"] = visibility == "public"
        else:
            out["public_repo"] = visibility == "public"
    if access_type is not None or token_id is not None:
        out["token_id"] = int(token_id) if token_id and token_id.isdigit() else (token_id or 0)
    if is_git:
        out["transport_protocol"] = 2 if transport == "ssh" else 1
        out["transport_protocol_name"] = transport
    elif transport is not None:
        out["transport_protocol_name"] = transport
    if user is not None:
        out["user"] = user
        out["user_id"] = _num("user", user.lower())
    elif is_git:
        out["user"] = ""
        out["user_id"] = 0
    if ua is not None:
        out["user_agent"] = ua
    if full_repo is not None and not is_git:
        out["visibility"] = visibility
    return out


def jsonl(events: list[dict]) -> str:
    """Events as a streamed object holds them: one compact JSON object per line."""
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)


def api_page(events: list[dict]) -> str:
    """Events as one page of the REST API's answer: a JSON array."""
    return json.dumps(events, separators=(",", ":"))
