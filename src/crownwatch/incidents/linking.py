"""Which findings are one intrusion: links through shared entities, judged.

Two findings belong together when the same actor's traces are in both. The traces are
the *actor* keys a finding names — a person (a user, or a cloud principal mapped to its
person through the identity links), a principal, a source address, an inference API
account, key or billing instrument. Assets and the cloud account that logged an event
are *targets and context*: two strangers reading the same bucket, in the same AWS
account, are not one intrusion, so those keys can corroborate a link but never make one.

Sharing a key is not enough. Three rules keep unrelated findings apart:

* **Popular keys do not link.** An address that five or more people sign in from or
  call the cloud from (an office NAT, a VPN egress, a campus proxy) is shared
  infrastructure, and so is a key that findings about five or more different people
  name. Popularity comes from the lake — who used the address all run, not only who is
  in a finding — and from the findings themselves.
* **A key must be pinpoint, or corroborated.** A key is *pinpoint* in a finding that
  names at most three values of its kind (one sprayed user, the one address a session
  came from). A spray names fifty users and thirty addresses: any one of them is a weak
  trace. Two findings link when they share an actor key that is pinpoint in both, or
  when they share keys of two different kinds, one an actor key (the sprayed user *and*
  the spray's address reappear in the sign-in that followed).
* **Time.** Linked findings lie within ``window_hours`` of each other, and a link that
  leans on a broad finding (a campaign) needs the campaign to have started before the
  narrow finding ended — a spray cannot explain a sign-in that happened before it.

Findings linked directly or through others form one incident (connected components).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crownwatch.tables.authentication import user_key

PINPOINT_MAX = 3  # at most this many values of a kind make each one a pinpoint trace
POPULAR_PEOPLE = 5  # an address/account used by this many people is shared infrastructure
WINDOW_HOURS = 72.0

ACTOR_KINDS = ("person", "principal", "src_ip", "api_account", "api_key", "billing")
CONTEXT_KINDS = ("asset", "cloud_account")

# The identity rules of crownwatch.enrichment.identities, for names that say who they
# are on their own: an SSO/SAML role session named after a person's e-mail, an e-mail
# caller (GCP, Azure). A bare session or IAM user name ("deploy", "admin") maps only
# through the run's stored identity links, never by itself.
_SESSION = re.compile(r"^arn:aws[a-z-]*:sts::\d+:assumed-role/[^/]+/(.+)$")
_EMAIL = re.compile(r"^[^@/:\s]+@[^@/:\s]+\.[a-z]{2,}$", re.IGNORECASE)
_SERVICE_ACCOUNT = re.compile(r"\.gserviceaccount\.com$", re.IGNORECASE)


@dataclass(frozen=True)
class Params:
    pinpoint_max: int = PINPOINT_MAX
    popular_people: int = POPULAR_PEOPLE
    window_hours: float = WINDOW_HOURS

    @classmethod
    def from_config(cls, config: Mapping | None) -> Params:
        conf = dict((config or {}).get("incidents") or {})
        return cls(
            pinpoint_max=int(conf.get("pinpoint_max", PINPOINT_MAX)),
            popular_people=int(conf.get("popular_people", POPULAR_PEOPLE)),
            window_hours=float(conf.get("link_window_hours", WINDOW_HOURS)),
        )


Key = tuple[str, str]


def person_of_principal(principal: str, links: Mapping[str, str] | None = None) -> str | None:
    """The person (identity key) a cloud principal is, or None when nothing says so."""
    if links and principal in links:
        return links[principal]
    m = _SESSION.match(principal)
    name = m.group(1) if m else principal
    if _EMAIL.match(name) and not _SERVICE_ACCOUNT.search(name):
        return user_key(name)
    return None


def finding_keys(f: dict, links: Mapping[str, str] | None = None) -> dict[str, set[str]]:
    """``{kind: values}`` of a finding's traces, normalised so that the same actor
    compares equal across sources (``CORP\\alice`` and ``alice@corp.example``)."""
    ents = f.get("entities") or {}
    inference = str(f.get("detection", "")).startswith("inference.")
    out: dict[str, set[str]] = defaultdict(set)
    for u in ents.get("user") or []:
        if k := user_key(str(u)):
            out["person"].add(k)
    for p in ents.get("principal") or []:
        out["principal"].add(str(p))
        if person := person_of_principal(str(p), links):
            out["person"].add(person)
    for ip in ents.get("src_ip") or []:
        out["src_ip"].add(str(ip).lower())
    for a in ents.get("asset") or []:
        out["asset"].add(str(a))
    # `account` is the API account in an inference finding, the cloud account elsewhere
    for a in ents.get("account") or []:
        out["api_account" if inference else "cloud_account"].add(str(a))
    for k in ents.get("api_key") or []:
        out["api_key"].add(str(k))
    for b in ents.get("billing") or []:
        out["billing"].add(str(b))
    return dict(out)


@dataclass
class Link:
    a: str
    b: str
    keys: list[Key]
    why: str


@dataclass
class Grouping:
    groups: list[list[str]]  # finding ids, one list per incident
    links: list[Link]
    popular: dict[Key, str] = field(default_factory=dict)  # key → why it does not link


def _span(f: dict) -> tuple[datetime, datetime]:
    def parse(v):
        return datetime.fromisoformat(str(v).replace("Z", "+00:00"))

    first = parse(f["first_seen"]) if f.get("first_seen") else None
    last = parse(f["last_seen"]) if f.get("last_seen") else first
    first = first or last
    if first is None:
        first = last = datetime.min.replace(tzinfo=None)
    return first, max(first, last)


def _gap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> timedelta:
    if a[0] <= b[1] and b[0] <= a[1]:
        return timedelta(0)
    return b[0] - a[1] if a[1] < b[0] else a[0] - b[1]


def _popular(
    keys: dict[str, dict[str, set[str]]],
    lake_people: Mapping[Key, int],
    p: Params,
) -> dict[Key, str]:
    """Keys that are shared infrastructure: used by ``popular_people`` or more people in
    the lake, or named by findings about that many different people."""
    out: dict[Key, str] = {}
    for key, n in lake_people.items():
        if n >= p.popular_people:
            out[key] = f"{n} people used it in the logs"
    subjects: dict[Key, set[str]] = defaultdict(set)
    for fid, ks in keys.items():
        people = ks.get("person") or ks.get("principal") or ks.get("api_account") or {fid}
        # a campaign's finding is one subject, whatever the number of people it names
        subject = next(iter(people)) if len(people) <= p.pinpoint_max else f"finding:{fid}"
        for kind, values in ks.items():
            if kind == "person":
                continue
            for v in values:
                subjects[(kind, v)].add(subject)
    for key, who in subjects.items():
        if len(who) >= p.popular_people and key not in out:
            out[key] = f"named in findings about {len(who)} different subjects"
    return out


def group(
    findings: list[dict],
    lake_people: Mapping[Key, int] | None = None,
    identity_links: Mapping[str, str] | None = None,
    params: Params | None = None,
) -> Grouping:
    """Findings → incidents (lists of finding ids) and the links that joined them."""
    p = params or Params()
    by_id = {f["id"]: f for f in findings}
    keys = {fid: finding_keys(f, identity_links) for fid, f in by_id.items()}
    spans = {fid: _span(f) for fid, f in by_id.items()}
    popular = _popular(keys, lake_people or {}, p)

    # candidate pairs: findings that share any key that is not popular
    holders: dict[Key, list[str]] = defaultdict(list)
    for fid, ks in keys.items():
        for kind, values in ks.items():
            for v in values:
                if (kind, v) not in popular:
                    holders[(kind, v)].append(fid)
    shared: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for key, fids in holders.items():
        if len(fids) < 2:
            continue
        for i, a in enumerate(sorted(fids)):
            for b in sorted(fids)[i + 1 :]:
                shared[(a, b)].append(key)

    window = timedelta(hours=p.window_hours)
    links = []
    for (a, b), ks in sorted(shared.items()):
        if _gap(spans[a], spans[b]) > window:
            continue
        why = _judge(a, b, ks, keys, spans, p)
        if why:
            links.append(Link(a, b, sorted(ks), why))

    parent = {fid: fid for fid in by_id}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ln in links:
        ra, rb = find(ln.a), find(ln.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[str, list[str]] = defaultdict(list)
    for fid in by_id:
        comps[find(fid)].append(fid)
    groups = sorted(
        (sorted(c, key=lambda i: (spans[i][0], i)) for c in comps.values()),
        key=lambda c: (spans[c[0]][0], c[0]),
    )
    return Grouping(groups, links, popular)


def _pinpoint(fid: str, kind: str, keys: dict, p: Params) -> bool:
    return len(keys[fid].get(kind, ())) <= p.pinpoint_max


def _judge(a: str, b: str, ks: Iterable[Key], keys: dict, spans: dict, p: Params) -> str:
    """Why ``a`` and ``b`` are one intrusion, or "" when the shared keys do not say so."""
    ks = list(ks)
    actor = [k for k in ks if k[0] in ACTOR_KINDS]
    if not actor:
        return ""  # only targets/context in common: the same bucket, the same account
    for kind, value in actor:
        if _pinpoint(a, kind, keys, p) and _pinpoint(b, kind, keys, p):
            return f"same {kind} {value}"
    kinds = {k[0] for k in ks}
    if len(kinds) < 2:
        return ""
    # corroborated through a broad finding: it must have begun before the narrow one ended
    broad_a = any(not _pinpoint(a, k, keys, p) for k, _ in actor)
    broad_b = any(not _pinpoint(b, k, keys, p) for k, _ in actor)
    if broad_a and not broad_b and spans[a][0] > spans[b][1]:
        return ""
    if broad_b and not broad_a and spans[b][0] > spans[a][1]:
        return ""
    return "shared " + " and ".join(sorted(kinds))
