"""Places from one source of truth: countries as ISO codes (:mod:`.countries`)."""

from crownwatch.enrichment.countries import country_code, country_code_sql, iso_country

__all__ = ["country_code", "country_code_sql", "iso_country"]
