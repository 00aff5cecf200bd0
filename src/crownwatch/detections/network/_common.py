"""What the network detections share: lists of hosts that are CIDRs or DNS names
(``[organisation] known_services``, ``[[assets]] hosts``, a detection's ``allow``),
matched in the engine."""

from __future__ import annotations

import ipaddress

import ibis

from crownwatch.enrichment.ip import cidr_match_expr


def split_hosts(entries: list[str]) -> tuple[list[str], list[str]]:
    """(CIDRs, DNS names, lower case) of a list of either."""
    cidrs, names = [], []
    for e in entries:
        e = str(e).strip()
        try:
            cidrs.append(str(ipaddress.ip_network(e, strict=False)))
        except ValueError:
            if e:
                names.append(e.lower().rstrip("."))
    return cidrs, names


def name_in(name: ibis.Value, names: list[str]) -> ibis.Value:
    """True where ``name`` is one of ``names`` or a subdomain of one (False for NULL)."""
    if not names:
        return ibis.literal(False)
    cond = name.isin(names)
    for n in names:
        cond = cond | name.endswith("." + n)
    return cond.fill_null(False)


def ip_in(ip: ibis.Value, cidrs: list[str]) -> ibis.Value:
    """True where the address text ``ip`` lies in one of ``cidrs``."""
    return cidr_match_expr(ip, cidrs) if cidrs else ibis.literal(False)
