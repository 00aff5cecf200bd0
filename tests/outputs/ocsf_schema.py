"""Check OCSF events against the official OCSF 1.8.0 schema.

The schema is the one schema.ocsf.io serves as ``/1.8.0/export/v2/schema`` (the OCSF
server's compiled form of the ocsf/ocsf-schema repository at v1.8.0, Apache-2.0), as the
``ocsf-json-schema`` package ships it (a dev dependency, pinned; its file is pinned here
by SHA-256 too, so a different file fails every test instead of passing quietly). Spot
checks against the repository's own files (the Incident Finding's status enum and its
assignee constraint, the dictionary's observable types) agree with it. ``ocsf-lib``
compiles and compares schemas but validates no events, so it is not used here.

Two layers, both read from the schema, none from our reading of it:

* structure — the class's JSON Schema, generated from the schema by ``ocsf-json-schema``
  and applied with ``jsonschema`` (Draft 2020-12): required attributes, no attribute the
  class or object does not define (profiles honoured from ``metadata.profiles``), types,
  the schema's regexes and ranges, enum values, ``at_least_one``/``just_one``.
* meaning — what a JSON Schema cannot say and OCSF's own validator checks: every
  ``*_id`` enum's sibling holds the schema's caption (``status`` for ``status_id``…,
  ``type_name`` for ``type_uid``), no deprecated attribute, ``metadata.version`` is the
  schema's, and each observable's ``name`` is the path of an attribute in the event
  holding its ``value``, with the ``type_id`` the schema gives that attribute.

``check(event)`` returns (errors, warnings); warnings are the recommended top-level
attributes the event leaves out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ocsf_json_schema
from ocsf_json_schema import OcsfJsonSchemaEmbedded

if TYPE_CHECKING:
    import jsonschema

VERSION = "1.8.0"
# the packaged copy of schema.ocsf.io/1.8.0/export/v2/schema we validate against
SHA256 = "221b43d05787aa68d03233589f0eabdab192531d3e4740b856b2e0a4d6d91f82"


def schema_path() -> Path:
    return Path(ocsf_json_schema.__file__).parent / "ocsf" / f"{VERSION}.json"


@cache
def schema() -> dict:
    raw = schema_path().read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == SHA256, f"the OCSF {VERSION} schema file changed: {digest}"
    return json.loads(raw)


@cache
def _validator(class_name: str, profiles: tuple[str, ...]) -> jsonschema.Draft202012Validator:
    import jsonschema  # here: importing it costs ~2 s (RFC 3987 grammars), see test_sarif

    js = OcsfJsonSchemaEmbedded(schema()).get_class_schema(class_name, list(profiles))
    jsonschema.Draft202012Validator.check_schema(js)
    return jsonschema.Draft202012Validator(js)


def class_of(event: dict) -> dict:
    for cls in schema()["classes"].values():
        if cls["uid"] == event.get("class_uid"):
            return cls
    raise AssertionError(f"no OCSF class {event.get('class_uid')!r}")


def check(event: dict) -> tuple[list[str], list[str]]:
    cls = class_of(event)
    profiles = tuple(sorted((event.get("metadata") or {}).get("profiles") or []))
    errors = [
        f"{'.'.join(map(str, e.absolute_path)) or '<event>'}: {e.validator} {_short(e)}"
        for e in _validator(cls["name"], profiles).iter_errors(event)
    ]
    _meaning(event, cls, "", errors)
    if (event.get("metadata") or {}).get("version") != VERSION:
        errors.append(f"metadata.version is not {VERSION}")
    for i, obs in enumerate(event.get("observables") or []):
        errors += [f"observables[{i}]: {m}" for m in _observable_errors(event, cls, obs)]
    warnings = [
        f"recommended attribute {name} missing"
        for name, attr in cls["attributes"].items()
        if attr.get("requirement") == "recommended"
        and _in_profiles(attr, profiles)
        and name not in event
    ]
    return errors, warnings


def _short(e: jsonschema.ValidationError) -> str:
    """The failure without the whole instance (an event-wide ``anyOf`` would print it all)."""
    if e.validator in ("anyOf", "oneOf"):
        return json.dumps(e.validator_value)
    return e.message[:300]


def _in_profiles(attr: dict, profiles: tuple[str, ...]) -> bool:
    return not attr.get("profiles") or bool(set(attr["profiles"]) & set(profiles))


def _meaning(value: dict, node: dict, path: str, errors: list[str]) -> None:
    """Sibling captions and deprecation, walking the event alongside the schema."""
    attrs = node.get("attributes") or {}
    for key, val in value.items():
        attr = attrs.get(key)
        if attr is None:
            continue  # structure's business (or an untyped ``object``)
        where = f"{path}{key}"
        if "@deprecated" in attr:
            errors.append(f"{where} is deprecated: {attr['@deprecated'].get('message')}")
        enum, sibling = attr.get("enum"), attr.get("sibling")
        if enum and sibling and str(val) in enum and int(val) != 99:
            caption = enum[str(val)]["caption"]
            if value.get(sibling) != caption:
                errors.append(f"{path}{sibling} is {value.get(sibling)!r}, not {caption!r}")
        if attr.get("type") == "object_t":
            obj = schema()["objects"].get(attr["object_type"], {})
            items = val if attr.get("is_array") and isinstance(val, list) else [val]
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    sub = f"{where}[{i}]." if attr.get("is_array") else f"{where}."
                    _meaning(item, obj, sub, errors)


_SEGMENT = re.compile(r"^([a-z_0-9]+)(?:\[(\d+)\])?$")


def _observable_errors(event: dict, cls: dict, obs: dict) -> list[str]:
    """The observable points at an attribute of the event that holds its value, and its
    type_id is the one the schema gives that attribute (its own ``observable``, else its
    data type's, else its object's)."""
    value: Any = event
    node: dict | None = cls
    expected: int | None = None
    for seg in obs["name"].split("."):
        m = _SEGMENT.match(seg)
        if not m or not isinstance(value, dict) or m.group(1) not in value:
            return [f"{obs['name']!r} is not a path in the event"]
        key, index = m.group(1), m.group(2)
        value = value[key]
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return [f"{obs['name']!r}: no element {index} in {key}"]
            value = value[int(index)]
        attr = (node or {}).get("attributes", {}).get(key) if node is not None else None
        if attr is None:
            node = None  # below an untyped object (``unmapped``): no schema to follow
            continue
        expected = attr.get("observable")
        if expected is None:
            types = schema()["dictionary"]["types"]["attributes"]
            expected = types.get(attr["type"], {}).get("observable")
        if attr.get("type") == "object_t":
            node = schema()["objects"].get(attr["object_type"])
            if expected is None:
                expected = (node or {}).get("observable")
    problems = []
    if value != obs.get("value"):
        problems.append(f"{obs['name']} holds {value!r}, not {obs.get('value')!r}")
    if node is not None and expected != obs["type_id"]:
        problems.append(f"{obs['name']} has observable type {expected}, not {obs['type_id']}")
    if node is None and obs["type_id"] == 2:  # an address in untyped data: is it one?
        try:
            ipaddress.ip_address(str(value))
        except ValueError:
            problems.append(f"{obs['name']} is not an IP address")
    return problems
