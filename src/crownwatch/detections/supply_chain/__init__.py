"""Trusted outsiders: development firms, vendors and outside collaborators who hold keys
to the code — their accounts are valid, granted on purpose, and used from places the
organisation does not run. What gives them away is behaviour beyond the contract:
pulling crown-jewel repositories the firm never needed, from ground the firm was never
seen on; credentials minted and used from new addresses; activity before a contract
starts or after it ends.

Who is an outsider, and on what terms, is :mod:`crownwatch.detections.supply_chain._common`:
``[supply_chain] vendors`` in crownwatch.toml, the GitHub audit log's own
outside-collaborator grants, and the HR roster's contractors and vendors. This family
runs after ``workforce`` (``crownwatch.detect.FAMILY_ORDER``).
"""
