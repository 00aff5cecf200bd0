"""Where a finding sits on the path from "looking for a way in" to "the prize is gone".

An incident's findings are ordered along these stages, and the report draws its
timeline with them on one axis. A finding is placed at the *furthest* stage any of its
techniques reaches: a success after a spray (T1110.003 + T1078) is the account in use,
not the guessing that led to it.

The stages follow the issue's reading order for an AI lab: how intruders get in
(reconnaissance, initial access, valid accounts, persistence), what they do with the
crown jewels (collection, exfiltration, impact), and the two routes that need no
foothold at all (extraction through the inference API, the model supply chain).
"""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "reconnaissance",
    "initial_access",
    "valid_accounts",
    "persistence",
    "collection",
    "exfiltration",
    "impact",
    "api_extraction",
    "supply_chain",
)

LABELS = {
    "reconnaissance": "Reconnaissance",
    "initial_access": "Initial access attempts",
    "valid_accounts": "Valid accounts",
    "persistence": "Persistence",
    "collection": "Collection",
    "exfiltration": "Exfiltration",
    "impact": "Impact",
    "api_extraction": "Extraction through the API",
    "supply_chain": "Supply chain",
}

# Technique id (or its parent) → stage. Parents cover sub-techniques: T1110.003 → T1110.
_BY_TECHNIQUE = {
    # reconnaissance: gathering names, addresses and code before trying them
    "T1589": "reconnaissance",
    "T1590": "reconnaissance",
    "T1593": "reconnaissance",
    "T1595": "reconnaissance",
    "AML.T0000": "reconnaissance",
    "AML.T0006": "reconnaissance",
    "T1585": "reconnaissance",  # personas built to be hired (closest stage: preparation)
    # getting in: guessing, replaying or exploiting
    "T1110": "initial_access",
    "T1190": "initial_access",
    "T1133": "initial_access",
    "T1566": "initial_access",
    "T1199": "initial_access",
    "T1200": "initial_access",  # a KVM plugged into the corporate laptop
    "T1621": "valid_accounts",
    # signed in as someone: a stolen password, a workload's credentials
    "T1078": "valid_accounts",
    "T1552": "valid_accounts",
    "T1528": "valid_accounts",
    # staying
    "T1098": "persistence",
    "T1136": "persistence",
    "T1505": "persistence",
    "T1556": "persistence",  # an MFA factor of the attacker's own (T1556.006)
    "T1484": "persistence",  # a trust to the attacker's identity provider (T1484.002)
    "T1219": "persistence",  # a remote-control tool that keeps the laptop reachable
    # reading the crown jewels
    "T1530": "collection",
    "T1213": "collection",
    "T1114": "collection",
    "T1005": "collection",
    # taking them away
    "T1537": "exfiltration",
    "T1567": "exfiltration",
    "T1041": "exfiltration",
    "T1048": "exfiltration",
    "AML.T0025": "exfiltration",
    "AML.T0048": "exfiltration",  # ATLAS "External Harms" (ML IP theft: AML.T0048.004)
    # destroying what was taken (cover tracks, deny the owner)
    "T1485": "impact",
    "T1486": "impact",
    "T1070": "impact",
    # harvesting the model through its own API
    "AML.T0024": "api_extraction",
    "AML.T0005": "api_extraction",
    "AML.T0040": "api_extraction",
    # poisoned model files
    "AML.T0010": "supply_chain",
    "AML.T0011": "supply_chain",
    "T1195": "supply_chain",
}


def technique_stage(tid: str) -> str | None:
    """The stage of one ATT&CK/ATLAS id, by the id or its parent; None if unknown."""
    tid = tid.strip()
    if tid in _BY_TECHNIQUE:
        return _BY_TECHNIQUE[tid]
    parent = (
        tid.rsplit(".", 1)[0] if tid.count(".") >= (2 if tid.startswith("AML.") else 1) else tid
    )
    return _BY_TECHNIQUE.get(parent)


def finding_stage(finding: dict) -> str:
    """The furthest stage any of the finding's techniques reaches. Supply-chain and API
    extraction findings keep their own stage even beside another technique (a
    malicious checkpoint is a supply-chain finding first)."""
    stages = {s for t in finding.get("attack") or [] if (s := technique_stage(t))}
    for own in ("supply_chain", "api_extraction"):
        if own in stages:
            return own
    ranked = [s for s in STAGES if s in stages]
    return ranked[-1] if ranked else "initial_access"


def stage_index(stage: str) -> int:
    return STAGES.index(stage)
