"""Enrichment: what the lake's rows mean beyond what the log wrote.

* :mod:`.identities` — who a principal is: identity links learned from the data;
* :mod:`.hosting` — whether an AS organisation is a hosting or proxy network;
* :mod:`.countries` — any country spelling → ISO 3166-1 alpha-2
  (:func:`country_code` in Python, :func:`iso_country` in Ibis);
* :mod:`.ip` — addresses as 32 hex digits in the engine, private/reserved ranges;
* :mod:`.mmdb` — MaxMind-format databases (MaxMind, DB-IP, IPinfo) walked once
  into range tables in the lake;
* :mod:`.feeds` — AWS/Google Cloud/Azure published ranges, ``crownwatch feeds``;
* :mod:`.view` — the enriched tables detections read (``detect.Tables``);
* :mod:`.places` — :func:`own_network`, the one rule for "our own network".
"""

from crownwatch.enrichment.countries import country_code, iso_country
from crownwatch.enrichment.places import own_network
from crownwatch.enrichment.view import ENRICHED_TABLES, Enrichment, EnrichmentError

__all__ = [
    "ENRICHED_TABLES",
    "Enrichment",
    "EnrichmentError",
    "country_code",
    "iso_country",
    "own_network",
]
