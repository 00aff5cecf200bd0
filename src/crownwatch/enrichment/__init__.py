"""Enrichment: what the lake's rows mean beyond what the log wrote — who a principal
is (:mod:`.identities`), what kind of network an address belongs to (:mod:`.hosting`)."""
