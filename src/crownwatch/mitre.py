"""MITRE ATT&CK and MITRE ATLAS: which framework an id belongs to, and the names,
tactics and links of the techniques crownwatch's detections and scanner raise.

Exports that want more than a bare id (OCSF's ``attacks``) read this. Names are those
of the framework versions below (ATT&CK Enterprise v18.1; ATLAS 5.2.0, the release that
still names these techniques as 4.9.0 renamed them, "ML" → "AI"). An id not listed
here is still exported, by id alone: a name we are not sure of is worse than none.
"""

from __future__ import annotations

import re

ATTACK_VERSION = "18.1"
ATLAS_VERSION = "5.2.0"

_ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_ATLAS_ID = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")

TACTICS = {
    "TA0001": "Initial Access",
    "TA0006": "Credential Access",
    "TA0009": "Collection",
    "TA0010": "Exfiltration",
    "TA0040": "Impact",
    "AML.TA0001": "AI Attack Staging",
    "AML.TA0004": "Initial Access",
    "AML.TA0005": "Execution",
    "AML.TA0010": "Exfiltration",
    "AML.TA0011": "Impact",
}

# id -> (name, the tactic crownwatch sees it under). A technique under several tactics
# gets the one the detection observes: Valid Accounts (T1078) is also Persistence,
# Privilege Escalation and Defense Evasion in ATT&CK, but crownwatch raises it for the
# attacker signing in with a stolen credential — Initial Access.
TECHNIQUES: dict[str, tuple[str, str]] = {
    "T1078": ("Valid Accounts", "TA0001"),
    "T1078.004": ("Cloud Accounts", "TA0001"),
    "T1110": ("Brute Force", "TA0006"),
    "T1110.001": ("Password Guessing", "TA0006"),
    "T1110.003": ("Password Spraying", "TA0006"),
    "T1110.004": ("Credential Stuffing", "TA0006"),
    "T1195": ("Supply Chain Compromise", "TA0001"),
    "T1195.002": ("Compromise Software Supply Chain", "TA0001"),
    "T1485": ("Data Destruction", "TA0040"),
    "T1530": ("Data from Cloud Storage", "TA0009"),
    "T1537": ("Transfer Data to Cloud Account", "TA0010"),
    "T1552": ("Unsecured Credentials", "TA0006"),
    "T1552.005": ("Cloud Instance Metadata API", "TA0006"),
    "T1567": ("Exfiltration Over Web Service", "TA0010"),
    "AML.T0005": ("Create Proxy AI Model", "AML.TA0001"),
    "AML.T0010": ("AI Supply Chain Compromise", "AML.TA0004"),
    "AML.T0011": ("User Execution", "AML.TA0005"),
    "AML.T0011.000": ("Unsafe AI Artifacts", "AML.TA0005"),
    "AML.T0024": ("Exfiltration via AI Inference API", "AML.TA0010"),
    "AML.T0024.002": ("Extract AI Model", "AML.TA0010"),
    "AML.T0048": ("External Harms", "AML.TA0011"),
    "AML.T0048.004": ("AI Intellectual Property Theft", "AML.TA0011"),
}


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
