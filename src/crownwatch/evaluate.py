"""Score findings against a simulator's ground truth (``truth.json``).

An attack item counts as *found* when a finding of the expected detection shares at
least one entity (user, source IP, account, principal, asset) with it and overlaps
it in time (with ``slack`` either side, since a detection may join a spray to the
sign-in that follows it). A benign look-alike counts as *quiet* when no finding of
that detection touches its entities during its time range — so a real spray from the
office NAT on another day does not count against the password-rotation morning.
Used by ``crownwatch demo``, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crownwatch.tables.authentication import user_key

_ENTITY_KEYS = {
    "users": "user",
    "src_ips": "src_ip",
    "accounts": "account",
    "principals": "principal",
    "assets": "asset",
    "api_keys": "api_key",
}


@dataclass
class Score:
    item: str
    kind: str
    detection: str
    malicious: bool
    ok: bool
    findings: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.malicious:
            return "found" if self.ok else "MISSED"
        return "quiet" if self.ok else "FALSE POSITIVE"


def _entity(kind: str, value) -> tuple[str, str]:
    # users compare by identity key: truth may say alice@corp.example where the
    # finding, joining Windows and Okta, says alice
    if kind == "user":
        return kind, user_key(str(value)) or ""
    return kind, str(value).lower()


def _item_entities(item: dict) -> set[tuple[str, str]]:
    out = set()
    for key, kind in _ENTITY_KEYS.items():
        for v in item.get(key) or []:
            out.add(_entity(kind, v))
    return out


def _finding_entities(f: dict) -> set[tuple[str, str]]:
    return {_entity(k, v) for k, vs in f["entities"].items() for v in vs}


_SINGULAR = {
    "principal": "principals",
    "src_ip": "src_ips",
    "asset": "assets",
    "target_account": "accounts",
    "account": "accounts",
    "user": "users",
}
_INFERENCE = {"distiller": "inference.distillation_account", "hydra": "inference.hydra_cluster"}


def _expand(item: dict, malicious: bool) -> list[dict]:
    """One item per expected detection, with entity lists under the plural keys."""
    item = dict(item)
    for one, many in _SINGULAR.items():
        if isinstance(item.get(one), str):
            item[many] = [*item.get(many, []), item[one]]
    dets = item.get("detections") or [item.get("detection")]
    base_id = str(item.get("id") or item.get("attack") or item.get("kind") or "item")
    out = []
    for d in dets:
        if d:
            out.append(
                {
                    **item,
                    "id": base_id if len(dets) == 1 else f"{base_id} [{d}]",
                    "detection": d,
                    "malicious": malicious,
                }
            )
    return out


def _normalise(truth) -> list[dict]:
    """The simulators' manifests in one shape. Three are understood: identity's
    ``{"attacks": [Item], "benign": [Item]}``, storage's list of attack dicts with
    ``detections``, and inference's ``{"attacks": {name: {accounts…}},
    "benign_lookalikes": {name: [accounts]}}``."""
    if isinstance(truth, list):
        return [x for it in truth if isinstance(it, dict) for x in _expand(it, True)]
    items: list[dict] = []
    attacks = truth.get("attacks") or []
    if isinstance(attacks, dict):  # inference
        for name, v in attacks.items():
            det = _INFERENCE.get(name)
            if det and isinstance(v, dict):
                items.append(
                    {
                        "id": name,
                        "kind": name,
                        "detection": det,
                        "malicious": True,
                        "accounts": v.get("accounts", []),
                    }
                )
        for name, accounts in (truth.get("benign_lookalikes") or {}).items():
            for det in _INFERENCE.values():
                items.append(
                    {
                        "id": f"benign-{name}",
                        "kind": name,
                        "detection": det,
                        "malicious": False,
                        "accounts": list(accounts),
                    }
                )
        return items
    for it in attacks:
        items += _expand(it, it.get("malicious", True))
    for it in truth.get("benign") or []:
        if isinstance(it, dict):
            items += _expand(it, False)
    return items


def _span(obj: dict, first: str, last: str) -> tuple[datetime, datetime] | None:
    if not obj.get(first) or not obj.get(last):
        return None
    parse = lambda v: datetime.fromisoformat(str(v).replace("Z", "+00:00"))  # noqa: E731
    return parse(obj[first]), parse(obj[last])


def _overlaps(f: dict, item: dict, slack: timedelta) -> bool:
    a, b = _span(f, "first_seen", "last_seen"), _span(item, "first_seen", "last_seen")
    if a is None or b is None:
        return True
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def score(findings: list[dict], truth, slack: timedelta = timedelta(hours=1)) -> list[Score]:
    results = []
    for item in _normalise(truth):
        malicious = item["malicious"]
        wanted = _item_entities(item)
        hits = [
            f["id"]
            for f in findings
            if f["detection"] == item["detection"]
            and wanted & _finding_entities(f)
            and _overlaps(f, item, slack)
        ]
        ok = bool(hits) if malicious else not hits
        kind = item.get("kind") or item.get("technique") or ""
        results.append(
            Score(str(item.get("id")), str(kind), item["detection"], malicious, ok, hits)
        )
    return results


def account_rates(findings: list[dict], truth: dict) -> dict:
    """Account-level rates against the inference simulator's truth: the share of
    planted attack accounts that any inference finding names (the detection rate),
    and the share of benign accounts — ordinary customers and the look-alikes — that
    any names (the false-positive rate), overall and per attack / look-alike kind."""
    flagged = {
        a
        for f in findings
        if f["detection"].startswith("inference.")
        for a in f["entities"].get("account", [])
    }
    attack = {name: set(v["accounts"]) for name, v in truth["attacks"].items()}
    benign = {
        "ordinary": set(truth["benign"]),
        **{name: set(v) for name, v in truth["benign_lookalikes"].items()},
    }
    all_attack = set().union(*attack.values()) if attack else set()
    all_benign = set().union(*benign.values())

    def rate(xs: set[str]) -> dict:
        hit = len(xs & flagged)
        return {"accounts": len(xs), "flagged": hit, "rate": hit / len(xs) if xs else 0.0}

    return {
        "attack": rate(all_attack),
        "benign": rate(all_benign),
        "attack_kinds": {k: rate(v) for k, v in attack.items()},
        "benign_kinds": {k: rate(v) for k, v in benign.items()},
        "false_positive_accounts": sorted(all_benign & flagged),
    }
