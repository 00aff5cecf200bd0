"""Sigma in and out.

* **Out** (:mod:`.export`): the crownwatch detections Sigma can express, written as Sigma
  rules (specification v2, correlation rules for the counting ones) so a SIEM team can
  run them where its logs already are; the rest are listed with the reason they cannot be.
* **In** (:mod:`.run`): a team's own Sigma rules run over crownwatch's lake — one view per
  Sigma log source that gives the lake's normalised columns back their vendor names
  (:mod:`.logsources`), rules turned into parameterised DuckDB SQL by pySigma and
  crownwatch's own backend (:mod:`.backend`), hits stored as findings beside crownwatch's.

``crownwatch sigma export`` and ``crownwatch sigma run`` are in :mod:`.cli`. Importing
this package loads nothing: the CLI must stay fast to start.
"""
