"""Findings as a STIX 2.1 bundle, for threat-intel platforms (OpenCTI, MISP).

Each finding becomes a ``sighting`` of the ATT&CK/ATLAS ``attack-pattern`` it maps to,
backed by ``observed-data`` over the entities involved (``ipv4-addr``/``ipv6-addr``,
``user-account``). Ids are deterministic (UUIDv5 of the finding id) so re-exporting
updates objects instead of duplicating them in the receiving platform.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime

import stix2

_NS = uuid.UUID("6f1c4a52-1d5e-4e5b-9a51-2f6a3c1b7e10")
_IDENTITY = stix2.Identity(
    id="identity--" + str(uuid.uuid5(_NS, "crownwatch")), name="crownwatch", identity_class="system"
)


def _ts(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _attack_pattern(tid: str) -> stix2.AttackPattern:
    source = "mitre-atlas" if tid.startswith("AML.") else "mitre-attack"
    url = (
        f"https://atlas.mitre.org/techniques/{tid}"
        if source == "mitre-atlas"
        else f"https://attack.mitre.org/techniques/{tid.replace('.', '/')}/"
    )
    return stix2.AttackPattern(
        id="attack-pattern--" + str(uuid.uuid5(_NS, tid)),
        name=tid,
        external_references=[{"source_name": source, "external_id": tid, "url": url}],
    )


def _observables(f: dict) -> list:
    out = []
    for ip in f["entities"].get("src_ip", []):
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        cls = stix2.IPv4Address if addr.version == 4 else stix2.IPv6Address
        out.append(cls(value=str(addr)))
    for kind in ("user", "account", "principal"):
        for name in f["entities"].get(kind, []):
            out.append(stix2.UserAccount(account_login=name, user_id=name))
    return out


def to_stix_bundle(findings: list[dict]) -> str:
    objects: dict[str, object] = {_IDENTITY.id: _IDENTITY}
    for f in findings:
        first, last = _ts(f["first_seen"]), _ts(f["last_seen"])
        if last < first:
            last = first
        scos = _observables(f)
        for o in scos:
            objects[o.id] = o
        observed = None
        if scos:
            observed = stix2.ObservedData(
                id="observed-data--" + str(uuid.uuid5(_NS, f["id"])),
                created_by_ref=_IDENTITY.id,
                first_observed=first,
                last_observed=last,
                number_observed=max(1, int(f["evidence"].get("attempts", 1) or 1)),
                object_refs=[o.id for o in scos],
            )
            objects[observed.id] = observed
        for tid in f["attack"]:
            ap = _attack_pattern(tid)
            objects[ap.id] = ap
            sighting = stix2.Sighting(
                id="sighting--" + str(uuid.uuid5(_NS, f["id"] + tid)),
                created_by_ref=_IDENTITY.id,
                sighting_of_ref=ap.id,
                first_seen=first,
                last_seen=last,
                observed_data_refs=[observed.id] if observed else None,
                description=f["title"],
                external_references=[
                    {
                        "source_name": "crownwatch",
                        "external_id": f["id"],
                        "description": f["detection"],
                    }
                ],
                custom_properties={
                    "x_crownwatch_severity": f["severity"],
                    "x_crownwatch_detection": f["detection"],
                },
            )
            objects[sighting.id] = sighting
    bundle = stix2.Bundle(objects=list(objects.values()), allow_custom=True)
    return bundle.serialize(pretty=True)
