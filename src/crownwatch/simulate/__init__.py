"""Realistic simulated logs with planted attacks and a ground-truth manifest.

* :func:`generate_identity` — a week of identity logs for a simulated AI lab in the
  native layouts of Okta, Entra ID, CloudTrail, sshd and Windows, with planted
  password sprays, stuffing, brute force and post-spray logins, benign look-alikes,
  and ``truth.json``;
* :func:`generate_identity_bulk` — millions of records of one format, streamed fast,
  with the same kind of spray embedded, for benchmarks;
* :func:`generate_org_wide_spray` — the same ordinary week with the crown jewels read
  as usual and one campaign: every account sprayed, one compromised, the weights
  copied (how much of what is raised is the attack: ``evaluate.attack_precision``);
* ``simulate.storage``, ``simulate.inference``, ``simulate.network`` — the crown
  jewels' storage logs, the inference API's gateway and a day of Zeek logs at the
  egress, each with its planted attacks, look-alikes, ``truth.json`` and its part of
  the organisation's ``crownwatch.toml``.
"""

from crownwatch.simulate.bulk import generate_identity_bulk
from crownwatch.simulate.identity import generate_identity
from crownwatch.simulate.org_wide_spray import generate_org_wide_spray

__all__ = ["generate_identity", "generate_identity_bulk", "generate_org_wide_spray"]
