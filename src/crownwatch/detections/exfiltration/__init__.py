"""Exfiltration of crown jewels: bulk reads, first access, transfer out, deletion after
copy, and crown-jewel access by an identity that was just attacked.

Every detection here reads the asset registry (``[[assets]]``, ``[organisation]`` in
crownwatch.toml) through :func:`crownwatch.assets.registry_for`.
"""
