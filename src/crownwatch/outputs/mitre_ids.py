"""MITRE's published STIX ids for the ATT&CK and ATLAS techniques crownwatch uses.

The table is ``mitre_ids.toml`` beside this file; its header says which ATT&CK and ATLAS
releases every row was read from. Exports look techniques up here so the ids they emit
are MITRE's own and a receiving platform merges them with MITRE's objects.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: what an ATT&CK or ATLAS technique id looks like (T1110, T1110.003, AML.T0024.002)
TECHNIQUE_ID = re.compile(r"^(?:T\d{4}(?:\.\d{3})?|AML\.T\d{4}(?:\.\d{3})?)$")


@dataclass(frozen=True)
class Technique:
    tid: str
    stix_id: str
    name: str
    url: str
    created: str
    modified: str

    @property
    def source(self) -> str:
        """The ``source_name`` MITRE gives the technique's external reference."""
        return source_name(self.tid)


def source_name(tid: str) -> str:
    return "mitre-atlas" if tid.startswith("AML.") else "mitre-attack"


@cache
def _table() -> dict:
    text = resources.files("crownwatch.outputs").joinpath("mitre_ids.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def techniques() -> dict[str, Technique]:
    return {
        tid: Technique(tid, row["id"], row["name"], row["url"], row["created"], row["modified"])
        for tid, row in _table()["techniques"].items()
    }


def technique(tid: str) -> Technique | None:
    """MITRE's published object for ``tid``; None when the table does not have it."""
    return techniques().get(tid)


def sources() -> dict:
    """Where the table's rows were read from (repository, commit, release), per source."""
    return _table()["sources"]


def attack_identity() -> dict:
    """The identity MITRE's ATT&CK objects name as their creator, as published."""
    return dict(sources()["attack"]["identity"])
