"""Kept so ``from crownwatch.stix import to_stix_bundle`` still works; the STIX export
lives in :mod:`crownwatch.outputs.stix`."""

from crownwatch.outputs.stix import findings_bundle as to_stix_bundle

__all__ = ["to_stix_bundle"]
