"""MITRE ATT&CK and MITRE ATLAS: which framework an id belongs to, and each technique
crownwatch raises as MITRE publishes it — name, tactic, page and STIX object id.

The table is ``mitre.toml`` beside this module; its header says which ATT&CK and ATLAS
releases every row was read from. OCSF's ``attacks`` take names and tactics from it; a
STIX export takes MITRE's own attack-pattern ids, so a platform merges crownwatch's
sightings into the objects it already holds from MITRE's feeds. An id not listed is
still exported, by id alone: a name we are not sure of is worse than none.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# The releases the table was read from (mitre.toml, [sources]): ATT&CK's ids and names
# from Enterprise v17; ATLAS's from its data of November 2025 (release 5.2.0, the one
# whose names say "AI" where 4.8 said "ML").
ATTACK_VERSION = "17"
ATLAS_VERSION = "5.2.0"

_ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_ATLAS_ID = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")
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
    #: the tactic crownwatch raises it under (a technique under several tactics gets the
    #: one the detection observes: Valid Accounts is Initial Access here), or None
    tactic: str | None = None

    @property
    def source(self) -> str:
        """The ``source_name`` MITRE gives the technique's external reference."""
        return source_name(self.tid)


@cache
def _table() -> dict:
    return tomllib.loads(resources.files("crownwatch").joinpath("mitre.toml").read_text("utf-8"))


@cache
def techniques() -> dict[str, Technique]:
    return {
        tid: Technique(
            tid,
            row["id"],
            row["name"],
            row["url"],
            row["created"],
            row["modified"],
            row.get("tactic"),
        )
        for tid, row in _table()["techniques"].items()
    }


def technique(tid: str) -> Technique | None:
    """MITRE's published technique ``tid``; None when the table does not have it."""
    return techniques().get(tid)


def tactic_name(tactic: str) -> str | None:
    return _table()["tactics"].get(tactic)


def sources() -> dict:
    """Where the table's rows were read from (repository, commit, release), per source."""
    return _table()["sources"]


def attack_identity() -> dict:
    """The identity MITRE's ATT&CK objects name as their creator, as published."""
    return dict(sources()["attack"]["identity"])


def source_name(tid: str) -> str:
    return "mitre-atlas" if tid.startswith("AML.") else "mitre-attack"


def framework(tid: str) -> str | None:
    """``"atlas"`` for an ATLAS technique id (``AML.T0024.002``), ``"attack"`` for an
    ATT&CK one (``T1110.003``), None for anything else."""
    if _ATLAS_ID.match(tid):
        return "atlas"
    if _ATTACK_ID.match(tid):
        return "attack"
    return None


def version(tid: str) -> str | None:
    return {"atlas": ATLAS_VERSION, "attack": ATTACK_VERSION}.get(framework(tid) or "")


def parent(tid: str) -> str | None:
    """The technique a sub-technique belongs to (``T1110.003`` → ``T1110``); None for a
    technique."""
    head, _, tail = tid.rpartition(".")
    return head if framework(tid) and len(tail) == 3 and tail.isdigit() and head else None


def url(mitre_id: str) -> str:
    """The page of a technique, sub-technique or tactic: versioned for ATT&CK (ATLAS
    publishes no versioned pages)."""
    if mitre_id.startswith("AML."):
        kind = "tactics" if mitre_id.startswith("AML.TA") else "techniques"
        return f"https://atlas.mitre.org/{kind}/{mitre_id}"
    major = ATTACK_VERSION.split(".")[0]
    kind = "tactics" if mitre_id.startswith("TA") else "techniques"
    return f"https://attack.mitre.org/versions/v{major}/{kind}/{mitre_id.replace('.', '/')}/"
