"""The ground-truth manifest written beside the simulated logs as ``truth.json``.

Shape (all times ISO 8601 UTC)::

    {
      "generator": "crownwatch.simulate.identity", "version": 1,
      "seed": 7, "users": 400, "days": 7, "start": "…", "end": "…",
      "org": {"name", "domain", "ad_domain", "aws_account", "tenant_id",
              "offices": [{"key", "name", "nat_ip", "country", "tz"}], "vpn_ip"},
      "files": {"okta/system_log.jsonl": {"format": "okta", "records": 1234,
                                          "signins": 600}, …},
      "counts": {"signins": N, "api_calls": N,
                 "by_outcome": {"success": …}, "by_system": {"okta": …}},
      "attacks": [Item, …],          # planted malicious activity
      "benign": [Item, …]            # look-alikes a detector must NOT flag
    }

Each ``Item`` (see :class:`Item`) names the technique, the detection expected to
raise it, the source IPs, the targeted users (as the normalised ``authentication.user``
column will hold them: ``first.last@domain`` for Okta/Entra, the account name for
Windows, sshd and AWS), the time range, the outcomes and which files carry it —
all computed from the events actually written, so the manifest cannot drift from
the logs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crownwatch.simulate.formats._common import iso_s


@dataclass
class Item:
    id: str
    kind: str  # password_spray, credential_stuffing, brute_force, valid_account, …
    technique: list[str]  # MITRE ATT&CK ids
    detection: str  # the crownwatch detection expected to fire (or stay quiet)
    description: str
    malicious: bool = True
    related: list[str] = field(default_factory=list)  # ids of items this one follows from
    src_ips: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None
    events: int = 0  # sign-in attempts, or API calls for an item made of calls
    outcomes: dict[str, int] = field(default_factory=dict)
    asns: list[int] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def fill(self, events: list, files_of: dict[int, str]) -> None:
        """Compute the observed fields from the tagged events."""
        if not events:
            return
        ts = sorted(e.time for e in events)
        self.first_seen, self.last_seen = iso_s(ts[0]), iso_s(ts[-1])
        self.events = len(events)
        self.src_ips = sorted({e.src_ip for e in events})
        self.users = sorted({truth_user(e) for e in events})
        self.systems = sorted({e.system for e in events})
        self.files = sorted({files_of[id(e)] for e in events if id(e) in files_of})
        self.outcomes = dict(sorted(Counter(e.outcome for e in events).items()))
        self.asns = sorted({e.asn for e in events if e.asn})
        self.countries = sorted({e.country for e in events if e.country})

    def fill_calls(self, calls: list, files_of: dict[int, str]) -> None:
        """The observed fields of an item made of API calls (CloudTrail) rather than
        sign-ins; who and from where are set where the item is planted (a call's
        principal is a session or IAM user, not the person the truth names)."""
        if not calls:
            return
        ts = sorted(c.time for c in calls)
        self.first_seen, self.last_seen = iso_s(ts[0]), iso_s(ts[-1])
        self.events = len(calls)
        self.systems = ["aws"]
        self.files = sorted({files_of[id(c)] for c in calls if id(c) in files_of})


def truth_user(ev) -> str:
    """The user as the normalised ``authentication.user`` column holds it."""
    u = ev.user.lower()
    if ev.system in ("okta", "entra") and "@" not in u:
        return f"{u}@{ev.domain}"
    return u


def write(out_dir: Path, truth: dict) -> Path:
    path = out_dir / "truth.json"
    path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def as_dict(item: Item) -> dict:
    return asdict(item)
