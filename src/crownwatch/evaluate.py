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
    "dst_ips": "dst_ip",
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


def _hits(findings: list[dict], item: dict, slack: timedelta) -> list[str]:
    """Ids of the findings that match one truth item: its detection, an entity in
    common and an overlapping time span."""
    wanted = _item_entities(item)
    return [
        f["id"]
        for f in findings
        if f["detection"] == item["detection"]
        and wanted & _finding_entities(f)
        and _overlaps(f, item, slack)
    ]


def score(findings: list[dict], truth, slack: timedelta = timedelta(hours=1)) -> list[Score]:
    results = []
    for item in _normalise(truth):
        malicious = item["malicious"]
        hits = _hits(findings, item, slack)
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


# ---- precision: how much of what was raised is the attack ---------------------------
#
# ``score`` asks "was each planted item found, and did each look-alike stay quiet?".
# A week with one campaign in it (``crownwatch.simulate.org_wide_spray``) asks the
# responder's question instead: of everything crownwatch raised, how much is the
# attack? That needs a rule for when a finding *belongs to the attack*, strict enough
# that a finding about an ordinary sprayed employee never counts — an org-wide spray
# names every employee, and a success-after-spray or new-geo finding about one of them
# carries the spray's addresses in its entities.
#
# The rule (``truth["exclusive"]`` lists what only the attack has: the campaign's
# addresses nobody else used that week, and the compromised users and principals with
# the moment the password was known, ``since``). A finding is *about*
#
# * **one account** when it names exactly one user (the after-spray detections, brute
#   force, crown-jewel access after identity). It belongs when that account is a
#   compromised one and the finding reaches the compromise (``last_seen`` at or after
#   ``since`` − ``slack``), or when every one of its addresses (at least one) is the
#   attack's alone — all it saw came from the attacker. A finding about anyone else that
#   also names an address of their own (their home, the office, a hotel) never belongs,
#   however many spray addresses it lists;
# * **principals** when it names no user but principals (bulk read, first access,
#   transfer out). It belongs when one of them is a compromised principal and the
#   finding reaches the compromise;
# * **its sources** otherwise — a spray, stuffing or cluster finding that names many
#   accounts (every employee, here). It belongs when at least half of its addresses,
#   and at least one, are the attack's alone.
#
# A finding with none of these entities does not belong. An attack item counts as
# *found* (recall) when a finding that belongs to the attack has the item's detection
# (``detection``/``detections``), shares an entity with the item and overlaps it in time
# (``slack`` either side) — so recall cannot be satisfied by a finding about someone else.


@dataclass
class Attribution:
    finding: str
    detection: str
    title: str
    belongs: bool
    why: str


def _since(entries, kind: str) -> dict[str, datetime | None]:
    """``{entity: since}`` from ``exclusive["users"]`` / ``["principals"]`` (dicts with
    the entity under ``kind`` and an ISO ``since``, or bare names: since always)."""
    out: dict[str, datetime | None] = {}
    for e in entries or []:
        value, since = (e.get(kind), e.get("since")) if isinstance(e, dict) else (e, None)
        key = _entity(kind, value)[1]
        if key:
            out[key] = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    return out


def _reaches(f: dict, since: datetime | None, slack: timedelta) -> bool:
    span = _span(f, "first_seen", "last_seen")
    return since is None or span is None or span[1] >= since - slack


def attribute(
    findings: list[dict], truth: dict, slack: timedelta = timedelta(hours=1)
) -> list[Attribution]:
    """Each finding with whether it belongs to the attack in ``truth`` (see the rule
    above) and why, in words."""
    excl = truth.get("exclusive") or {}
    attack_ips = {_entity("src_ip", ip)[1] for ip in excl.get("src_ips") or []}
    users = _since(excl.get("users"), "user")
    principals = _since(excl.get("principals"), "principal")
    out = []
    for f in findings:
        ents = f.get("entities") or {}
        f_users = {_entity("user", u)[1] for u in ents.get("user") or []} - {""}
        f_principals = {_entity("principal", p)[1] for p in ents.get("principal") or []}
        f_ips = {_entity("src_ip", ip)[1] for ip in ents.get("src_ip") or []}
        hit, n = len(f_ips & attack_ips), len(f_ips)
        mostly_attack = hit > 0 and 2 * hit >= n
        if len(f_users) == 1:
            (u,) = f_users
            if u in users and _reaches(f, users[u], slack):
                belongs, why = True, f"compromised user {u}"
            elif hit and hit == n:
                belongs, why = True, f"{u}: all {n} addresses are the attack's"
            elif u in users:
                belongs, why = False, f"compromised user {u}, before the compromise"
            else:
                belongs, why = False, f"about {u}, not a compromised account"
        elif not f_users and f_principals:
            mine = sorted(p for p in f_principals if p in principals)
            if mine and any(_reaches(f, principals[p], slack) for p in mine):
                belongs, why = True, f"compromised principal {mine[0]}"
            else:
                belongs, why = (
                    False,
                    f"about {sorted(f_principals)[0]}, not a compromised principal",
                )
        elif f_ips:
            belongs = mostly_attack
            why = f"{hit} of {n} addresses are the attack's"
        else:
            belongs, why = False, "names no user, principal or address"
        out.append(Attribution(f["id"], f["detection"], f.get("title", ""), belongs, why))
    return out


@dataclass
class Precision:
    findings: int
    attack_findings: int
    items: list[Score]
    by_detection: dict[str, dict[str, int]]
    attributions: list[Attribution]

    @property
    def precision(self) -> float | None:
        """Findings that belong to the attack / all findings (None when nothing fired)."""
        return self.attack_findings / self.findings if self.findings else None

    @property
    def recall(self) -> float | None:
        """Attack items (one per expected detection) found / planted."""
        return sum(s.ok for s in self.items) / len(self.items) if self.items else None


def attack_precision(
    findings: list[dict], truth: dict, slack: timedelta = timedelta(hours=1)
) -> Precision:
    """Precision and recall of ``findings`` against one attack (``truth`` with
    ``attacks`` and ``exclusive``, as ``simulate.org_wide_spray`` writes it): which
    findings belong to the attack, which attack items were found by a finding that
    belongs, and the count per detection."""
    attr = attribute(findings, truth, slack)
    belongs = {a.finding for a in attr if a.belongs}
    mine = [f for f in findings if f["id"] in belongs]
    items = []
    for it in truth.get("attacks") or []:
        for item in _expand(it, True):
            hits = _hits(mine, item, slack)
            items.append(
                Score(
                    str(item["id"]),
                    str(item.get("kind", "")),
                    item["detection"],
                    True,
                    bool(hits),
                    hits,
                )
            )
    by_det: dict[str, dict[str, int]] = {}
    for a in attr:
        d = by_det.setdefault(a.detection, {"findings": 0, "attack": 0})
        d["findings"] += 1
        d["attack"] += a.belongs
    return Precision(len(findings), len(belongs), items, dict(sorted(by_det.items())), attr)


# ---- incidents: is each planted intrusion one incident? ------------------------------
#
# A simulator's truth lists attack *items* (one per expected detection); an intrusion
# is what a responder would call one case. The items of one intrusion:
#
# * identity: items joined through ``related`` (the success after a spray follows the
#   spray it names) — links to benign look-alikes do not count;
# * storage: items with the same principal (a stolen session reads the weights, then
#   shares a snapshot);
# * inference: each distiller account on its own — the simulator plants them as
#   independent accounts that share no key, card, address or client, so nothing in the
#   logs says they are one actor — and the hydra network as one.
#
# An intrusion is *one incident* when every finding that matches one of its items
# (``_hits``) sits in the same incident and that incident holds no finding of another
# intrusion. A benign look-alike is *in no incident* when no incident holds a finding
# that touches it (an entity in common, overlapping in time) other than the findings of
# planted attacks (a spray that also tried a departed employee's name is the attack).


@dataclass
class IncidentScore:
    intrusion: str
    items: list[str]
    malicious: bool
    ok: bool
    incidents: list[str] = field(default_factory=list)
    why: str = ""

    @property
    def verdict(self) -> str:
        if self.malicious:
            return "one incident" if self.ok else "SPLIT OR MERGED"
        return "in none" if self.ok else "IN AN INCIDENT"


def intrusions(truth) -> list[tuple[str, list[dict]]]:
    """``[(name, items)]`` of one simulator's truth, grouped as described above."""
    items = [i for i in _normalise(truth) if i["malicious"]]
    if isinstance(truth, dict) and isinstance(truth.get("attacks"), dict):  # inference
        out = []
        for it in items:
            if it["kind"] == "distiller":
                for acct in it.get("accounts", []):
                    out.append((f"distiller {acct}", [{**it, "accounts": [acct]}]))
            else:
                out.append((it["id"], [it]))
        return out
    parent: dict[str, str] = {}

    def base(it: dict) -> str:
        return str(it.get("id")).split(" [", 1)[0]

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    names = {base(i) for i in items}
    by_principal: dict[str, str] = {}
    for it in items:
        find(base(it))
        for r in it.get("related") or []:
            if r in names:
                union(base(it), r)
        for p in it.get("principals") or []:
            if p in by_principal:
                union(base(it), by_principal[p])
            by_principal.setdefault(p, base(it))
    groups: dict[str, list[dict]] = {}
    for it in items:
        groups.setdefault(find(base(it)), []).append(it)
    # named after the item that started it (the spray before the sign-in it enabled)
    named = {
        base(min(its, key=lambda i: (str(i.get("first_seen") or ""), base(i)))): its
        for its in groups.values()
    }
    return sorted(named.items())


def score_incidents(
    incidents: list[dict],
    findings: list[dict],
    truths: list,
    slack: timedelta = timedelta(hours=1),
) -> list[IncidentScore]:
    """Each planted intrusion: one incident? Each benign look-alike: in none?"""
    where = {fid: inc["id"] for inc in incidents for fid in inc["findings"]}
    planted = [(name, its) for t in truths for name, its in intrusions(t)]
    owner: dict[str, str] = {}
    for name, its in planted:
        for it in its:
            for fid in _hits(findings, it, slack):
                owner.setdefault(fid, name)
    out = []
    for name, its in planted:
        mine = {fid for it in its for fid in _hits(findings, it, slack)}
        incs = sorted({where[f] for f in mine if f in where})
        others = {
            owner[f] for inc in incs for f in _members(incidents, inc) if owner.get(f, name) != name
        }
        ok = len(incs) == 1 and not others
        why = (
            "no finding"
            if not mine
            else f"spread over {len(incs)} incidents"
            if len(incs) != 1
            else f"merged with {', '.join(sorted(others))}"
            if others
            else ""
        )
        out.append(IncidentScore(name, sorted({str(i["id"]) for i in its}), True, ok, incs, why))
    attack_findings = set(owner)
    seen: set[str] = set()
    for t in truths:
        for it in _normalise(t):
            if it["malicious"] or str(it.get("id")) in seen:
                continue
            seen.add(str(it.get("id")))
            wanted = _item_entities(it)
            touching = {
                f["id"]
                for f in findings
                if f["id"] not in attack_findings
                and wanted & _finding_entities(f)
                and _overlaps(f, it, slack)
            }
            incs = sorted({where[f] for f in touching if f in where})
            out.append(
                IncidentScore(
                    str(it["id"]), [str(it["id"])], False, not incs, incs, ", ".join(incs)
                )
            )
    return out


def _members(incidents: list[dict], incident_id: str) -> list[str]:
    return next((i["findings"] for i in incidents if i["id"] == incident_id), [])
