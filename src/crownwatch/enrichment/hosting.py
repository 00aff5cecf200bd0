"""Hosting and proxy networks: where an attacker's infrastructure lives.

A password sprayer's success, a distiller's account, a stolen key's first use come
from rented machines far more often than from anyone's home. Two signals say so
without any database: the identity provider's own proxy verdict (Okta
``securityContext.isProxy``: Tor, anonymisers, proxies Okta knows) and the AS
organisation's name matching a hosting provider. The list is of providers that rent
servers by the hour and appear in public spray and proxy-network reporting; it is a
name match on ``src_as_org`` (lower-cased), so it works with whatever ASN source
filled the column (Okta, Entra, or the offline database of ``[enrichment]``).

Not on the list on purpose: consumer ISPs and mobile carriers (residential proxies
exit there, but so does the whole workforce) and the big clouds' *consumer* networks.
"""

from __future__ import annotations

import ibis

HOSTING_AS_ORGS = (
    "amazon",
    "aws",
    "google cloud",
    "google llc",
    "microsoft",
    "azure",
    "digitalocean",
    "ovh",
    "hetzner",
    "linode",
    "akamai connected cloud",
    "vultr",
    "the constant company",
    "choopa",
    "m247",
    "leaseweb",
    "contabo",
    "alibaba",
    "tencent",
    "oracle",
    "scaleway",
    "online s.a.s",
    "hostinger",
    "datacamp",
    "cdn77",
    "g-core",
    "gcore",
    "psychz",
    "quadranet",
    "colocrossing",
    "hostwinds",
    "ionos",
    "netcup",
    "aeza",
    "stark industries",
    "pq hosting",
    "servers.com",
    "zenlayer",
    "hostroyale",
    "frantech",
    "buyvm",
    "cloudflare",
    "fastly",
    "worldstream",
    "serverius",
    "hostkey",
    "selectel",
    "timeweb",
    "kamatera",
    "upcloud",
    "ucloud",
    "huawei cloud",
)

_PATTERN = "(" + "|".join(o.replace(".", r"\.") for o in HOSTING_AS_ORGS) + ")"


def is_hosting(as_org: ibis.Value) -> ibis.Value:
    """True where the AS organisation is a hosting provider (NULL → False)."""
    return as_org.lower().re_search(_PATTERN).fill_null(False)


def hosting_or_proxy(as_org: ibis.Value, is_proxy: ibis.Value | None = None) -> ibis.Value:
    """A rented or anonymising network: a hosting AS, or the IdP said proxy."""
    hosted = is_hosting(as_org)
    return hosted if is_proxy is None else hosted | is_proxy.fill_null(False)
