"""Findings and incidents as STIX 2.1 bundles, for threat-intel platforms (OpenCTI, MISP).

A finding becomes one ``sighting`` per ATT&CK/ATLAS technique it maps to: crownwatch's
``identity`` is the sighter (``where_sighted_refs``), the technique's ``attack-pattern``
is what was sighted (``sighting_of_ref``), and ``observed-data`` over the entities
involved (``ipv4-addr``/``ipv6-addr``, ``user-account``) backs it. An incident becomes a
``grouping`` (context ``suspicious-activity``) over its findings' objects.

What STIX has no property for (severity, detection, triage, kill-chain stages, actor
resemblance) travels in one property-extension, defined by the ``extension-definition``
every bundle carries; its JSON Schema is ``stix_extension.schema.json`` beside this file.

Ids are deterministic, so re-exporting updates objects instead of duplicating them:
attack patterns carry MITRE's published ids (``crownwatch/mitre.toml``); crownwatch's own
objects carry a UUIDv5 of the finding/incident id, stamped with the version bits of the
UUIDv4 the spec recommends for these objects. ``created`` is when crownwatch first stored
the finding or incident, ``modified`` when its content or triage last changed (the
lake's stores keep both, see :meth:`crownwatch.findings.FindingStore.versions`), so two
exports of an unchanged lake carry the same timestamps and a receiver keeps the newest
version. Findings exported without a lake fall back to their own first_seen/last_seen.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import stix2

from crownwatch import mitre

Versions = Mapping[str, tuple[datetime, datetime]]

# The namespace of crownwatch's deterministic ids (unchanged since the first STIX export).
_NS = uuid.UUID("6f1c4a52-1d5e-4e5b-9a51-2f6a3c1b7e10")

#: when crownwatch's own definitions below were written; bump it with their content
DEFINED = "2026-12-05T00:00:00.000Z"

IDENTITY_ID = "identity--7c7dc97a-beff-43aa-b1af-db1f74b6f921"
EXTENSION_ID = "extension-definition--a3afde51-7c39-451d-8eb8-26680df65f84"
EXTENSION_SCHEMA = "stix_extension.schema.json"

IDENTITY = stix2.Identity(
    id=IDENTITY_ID,
    created=DEFINED,
    modified=DEFINED,
    name="crownwatch",
    description="crownwatch: finds and explains attacks on an organisation's AI crown jewels.",
    identity_class="system",
)

EXTENSION = stix2.ExtensionDefinition(
    id=EXTENSION_ID,
    created_by_ref=IDENTITY_ID,
    created=DEFINED,
    modified=DEFINED,
    name="crownwatch finding context",
    description=(
        "What crownwatch knows about a sighting (one finding) or a grouping (one incident) "
        "that STIX has no property for: the finding or incident id, the detection, the "
        "severity, the analyst's triage status and note, and for an incident its kill-chain "
        "stages and the public intrusion sets it resembles (a resemblance, not an attribution)."
    ),
    schema=(
        "JSON Schema (draft 2020-12) of the extension's properties, shipped with crownwatch as "
        f"crownwatch/outputs/{EXTENSION_SCHEMA}"
    ),
    version="1.0.0",
    extension_types=["property-extension"],
)


def findings_bundle(findings: list[dict], versions: Versions | None = None) -> str:
    """A STIX 2.1 bundle of ``findings``; ``versions`` maps a finding id to its (first
    stored, last changed) time, as :meth:`FindingStore.versions` gives it."""
    out = _Objects()
    for f in findings:
        out.finding(f, versions or {})
    return out.bundle()


def incidents_bundle(
    incidents: list[dict],
    findings: list[dict],
    versions: Versions | None = None,
    finding_versions: Versions | None = None,
) -> str:
    """A STIX 2.1 bundle with one ``grouping`` per incident over the objects of its
    findings (the same objects, and ids, :func:`findings_bundle` makes for them)."""
    by_id = {f["id"]: f for f in findings}
    out = _Objects()
    for inc in incidents:
        refs = sorted(
            {
                ref
                for fid in inc["findings"]
                if fid in by_id
                for ref in out.finding(by_id[fid], finding_versions or {})
            }
        )
        if refs:
            out.grouping(inc, refs, versions or {})
    return out.bundle()


def sdo_id(kind: str, *key: str) -> str:
    """The deterministic id of crownwatch's ``kind`` object for ``key``: a UUIDv5, with
    the version bits of the UUIDv4 that STIX 2.1 recommends for domain objects."""
    raw = bytearray(uuid.uuid5(_NS, "\x1f".join((kind, *key))).bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    return f"{kind}--{uuid.UUID(bytes=bytes(raw))}"


class _Objects:
    """The objects of one bundle, by id, in the order first added."""

    def __init__(self) -> None:
        self._by_id: dict[str, object] = {IDENTITY.id: IDENTITY, EXTENSION.id: EXTENSION}

    def add(self, obj) -> str:
        self._by_id.setdefault(obj.id, obj)
        return obj.id

    def finding(self, f: dict, versions: Versions) -> list[str]:
        """Add the finding's objects; returns the ids an incident groups."""
        created, modified = _version(versions.get(f["id"]), f)
        first, last = _when(f)
        scos = [self.add(o) for o in _observables(f.get("entities") or {})]
        observed = None
        if scos and first:
            observed = self.add(
                stix2.ObservedData(
                    id=sdo_id("observed-data", f["id"]),
                    created_by_ref=IDENTITY_ID,
                    created=created,
                    modified=modified,
                    first_observed=first,
                    last_observed=last,
                    number_observed=_count((f.get("evidence") or {}).get("attempts")),
                    object_refs=scos,
                )
            )
        refs = [observed] if observed else []
        for tid in _techniques(f.get("attack") or []):
            pattern = self.attack_pattern(tid)
            refs.append(pattern)
            refs.append(
                self.add(
                    stix2.Sighting(
                        id=sdo_id("sighting", f["id"], tid),
                        created_by_ref=IDENTITY_ID,
                        created=created,
                        modified=modified,
                        sighting_of_ref=pattern,
                        where_sighted_refs=[IDENTITY_ID],
                        observed_data_refs=[observed] if observed else None,
                        first_seen=first,
                        last_seen=last,
                        description=f["title"],
                        external_references=[
                            {
                                "source_name": "crownwatch",
                                "external_id": f["id"],
                                "description": f["detection"],
                            }
                        ],
                        extensions={EXTENSION_ID: _finding_context(f)},
                    )
                )
            )
        return refs

    def attack_pattern(self, tid: str) -> str:
        known = mitre.technique(tid)
        if known is None:
            return self._unlisted_pattern(tid)
        creator = {}
        if known.source == "mitre-attack":
            # ATT&CK objects name MITRE as their creator; ATLAS's published objects do not
            creator = {"created_by_ref": self.add(stix2.Identity(**mitre.attack_identity()))}
        return self.add(
            stix2.AttackPattern(
                id=known.stix_id,
                created=known.created,
                modified=known.modified,
                name=known.name,
                # source_name + external_id is what OpenCTI and MISP merge on; MITRE's
                # page URL is left out because STIX wants a hash beside any URL, and a
                # hash of a living web page is wrong after its next edit
                external_references=[{"source_name": known.source, "external_id": tid}],
                **creator,
            )
        )

    def _unlisted_pattern(self, tid: str) -> str:
        """A technique the MITRE table lacks: crownwatch's own deterministic id, and a
        note on it saying so, so nobody takes it for MITRE's object."""
        source = mitre.source_name(tid) if mitre.TECHNIQUE_ID.match(tid) else "crownwatch"
        pattern = self.add(
            stix2.AttackPattern(
                id=sdo_id("attack-pattern", tid),
                created_by_ref=IDENTITY_ID,
                created=DEFINED,
                modified=DEFINED,
                name=tid,
                external_references=[{"source_name": source, "external_id": tid}],
            )
        )
        self.add(
            stix2.Note(
                id=sdo_id("note", tid),
                created_by_ref=IDENTITY_ID,
                created=DEFINED,
                modified=DEFINED,
                abstract=f"{tid}: not MITRE's published attack-pattern id",
                content=(
                    f"crownwatch's table of MITRE's published STIX ids has no entry for {tid}, "
                    f"so {pattern} is an id crownwatch made, not MITRE's. Merge it with MITRE's "
                    "object by its external_id."
                ),
                object_refs=[pattern],
            )
        )
        return pattern

    def grouping(self, inc: dict, refs: list[str], versions: Versions) -> str:
        created, modified = _version(versions.get(inc["id"]), inc)
        context = {
            "extension_type": "property-extension",
            "incident_id": inc["id"],
            "severity": inc["severity"],
            "triage_status": inc.get("status") or "new",
            "stages": list(inc.get("stages") or []),
            "resembles": [
                {"name": r["name"], "confidence": r["confidence"]}
                for r in inc.get("resembles") or []
            ],
            "triage_note": inc.get("note"),
        }
        # STIX forbids empty lists and strings: leave out what the incident lacks
        context = {k: v for k, v in context.items() if v not in (None, "", [])}
        return self.add(
            stix2.Grouping(
                id=sdo_id("grouping", inc["id"]),
                created_by_ref=IDENTITY_ID,
                created=created,
                modified=modified,
                name=inc["title"],
                description=inc["summary"],
                context="suspicious-activity",
                object_refs=refs,
                external_references=[{"source_name": "crownwatch", "external_id": inc["id"]}],
                extensions={EXTENSION_ID: context},
            )
        )

    def bundle(self) -> str:
        objects = list(self._by_id.values())
        # the bundle's id follows from what it holds, so an unchanged lake exports the
        # same bytes
        digest = hashlib.sha256()
        for o in objects:
            digest.update(f"{o.id}\x1f{o.get('modified', '')}\x1e".encode())
        bundle = {
            "type": "bundle",
            "id": sdo_id("bundle", digest.hexdigest()),
            # each object serialised by stix2 (which checked it when it was made); not the
            # Bundle's own pretty printer, whose property sort is quadratic in the objects
            "objects": [json.loads(o.serialize()) for o in objects],
        }
        return json.dumps(bundle, indent=4)


def _finding_context(f: dict) -> dict:
    context = {
        "extension_type": "property-extension",
        "finding_id": f["id"],
        "detection": f["detection"],
        "severity": f["severity"],
        "triage_status": f.get("status") or "new",
    }
    if f.get("note"):
        context["triage_note"] = f["note"]
    return context


def _techniques(attack: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tid in attack:
        tid = str(tid).strip()
        if tid and tid not in out:
            out.append(tid)
    return out


def stix_time(value: datetime) -> str:
    """A STIX timestamp, UTC, to the millisecond (the precision STIX requires of
    ``created``/``modified`` and that platforms keep)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _when(rec: dict) -> tuple[str | None, str | None]:
    """The record's first/last seen as STIX timestamps (last never before first)."""
    first, last = _parse(rec.get("first_seen")), _parse(rec.get("last_seen"))
    if first is None:
        return None, None
    first_s = stix_time(first)
    last_s = stix_time(last) if last else first_s
    return first_s, max(first_s, last_s)


def _version(stored: tuple[datetime, datetime] | None, rec: dict) -> tuple[str, str]:
    """(created, modified): the store's when there is one, else the record's own time
    range, else the date crownwatch's definitions were written."""
    if stored:
        created, modified = stix_time(stored[0]), stix_time(stored[1])
    else:
        first, last = _when(rec)
        created, modified = first or DEFINED, last or first or DEFINED
    return created, max(created, modified)


def _count(attempts) -> int:
    try:
        n = int(attempts or 1)
    except (TypeError, ValueError):
        n = 1
    return min(max(n, 1), 999_999_999)


def _observables(entities: dict) -> list:
    out = []
    for ip in entities.get("src_ip", []):
        try:
            addr = ipaddress.ip_address(str(ip).strip())
        except ValueError:
            continue
        cls = stix2.IPv4Address if addr.version == 4 else stix2.IPv6Address
        out.append(cls(value=str(addr)))
    for kind in ("user", "account", "principal"):
        for name in entities.get(kind, []):
            if str(name):
                out.append(stix2.UserAccount(account_login=str(name), user_id=str(name)))
    return out
