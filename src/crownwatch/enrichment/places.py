"""Where a sign-in or an API call came from, in the terms the "new place" detections
share: one rule for "that is our own network".

``[organisation]`` in crownwatch.toml names the organisation's egress::

    own_asns = [64500]                              # office ISP, VPN provider, cloud NAT
    own_cidrs = ["198.51.100.0/24", "2001:db8:5::/48"]   # VPN/office egress ranges

A row is **from our own network** (:func:`own_network`) when its address is private
(RFC 1918, loopback, link-local, CGNAT, IPv6 ULA/link-local — the traffic never left
a network of ours), its ASN is one of ``own_asns``, or its address lies in one of
``own_cidrs``. Such a row is never "a new place": not a new ASN, not a new country
(a VPN exit abroad), not a link used from outside. Reserved ranges (documentation,
benchmarking, multicast) are *not* own: nothing legitimate signs in from them.
"""

from __future__ import annotations

import ibis

from crownwatch.enrichment.ip import PRIVATE_RX, cidr_match_expr


def private_expr(ip: ibis.StringValue) -> ibis.BooleanValue:
    """True where the address text is in a private range (False for NULL)."""
    return ip.lower().re_search(PRIVATE_RX).fill_null(False)


def own_network(t: ibis.Table, registry) -> ibis.BooleanValue:
    """True where the row of ``t`` came from the organisation's own network: a
    private address, an ASN in ``[organisation] own_asns`` or an address in
    ``[organisation] own_cidrs``. Never NULL (a row with neither address nor ASN is
    not ours).

    ``t`` needs ``src_ip`` and/or ``src_asn`` (either may be absent); where it has the
    enrichment view's ``src_network``, that column decides "private" instead of the
    regex. ``registry`` is a :class:`crownwatch.assets.Registry`
    (``registry_for(t, p)`` in a detection)."""
    org = registry.organisation
    cols = set(t.columns)
    cond = ibis.literal(False)
    if "src_network" in cols:
        cond = cond | (t.src_network == "private").fill_null(False)
    elif "src_ip" in cols:
        cond = cond | private_expr(t.src_ip)
    if "src_asn" in cols and org.own_asns:
        cond = cond | t.src_asn.isin(list(org.own_asns)).fill_null(False)
    cidrs = list(getattr(org, "own_cidrs", []) or [])
    if "src_ip" in cols and cidrs:
        cond = cond | cidr_match_expr(t.src_ip, cidrs)
    return cond
