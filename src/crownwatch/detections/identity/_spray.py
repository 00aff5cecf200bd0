"""Spray exposure: which accounts were on the receiving end of a spray, and when.

The after-spray detections (``success_after_spray``, ``new_geo_after_spray``) key on
the *user*, so they need the attempts themselves, not the spray findings: an account
touched by a distributed spray has no single spray address to join on. Exposure is
every failure inside a run or cluster that one of the three spray detectors would
fire on, computed with those detectors' own code and default thresholds — one
definition of "looks like a spray", never two that drift apart.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Tables, params_for, shared
from crownwatch.detections.identity._common import raw_ref
from crownwatch.tables.authentication import PASSWORD_CORRECT

KINDS = ("password_spray", "distributed_spray", "credential_stuffing")


def spray_exposures(auth: ibis.Table) -> ibis.Table:
    """``(user, src_ip, ts, time, user_agent, kind)``: one row per failure that belongs to a
    firing spray run (single-source), spray cluster (distributed) or stuffing cluster."""
    from crownwatch.detections.identity import (
        credential_stuffing,
        distributed_spray,
        password_spray,
    )

    parts = []
    for kind, mod in zip(
        KINDS, (password_spray, distributed_spray, credential_stuffing), strict=True
    ):
        rows = mod.firing_attempts(auth, params_for(mod.META, None))
        parts.append(
            rows.select(
                user=rows.user,
                src_ip=rows.src_ip,
                ts=rows.ts,
                time=rows.time,
                user_agent=rows.user_agent,
                kind=ibis.literal(kind),
            )
        )
    return ibis.union(*parts, distinct=True)


def run_exposures(t: Tables) -> ibis.Table:
    """:func:`spray_exposures` of this run's ``authentication`` table, computed once
    per run (two detections need it)."""
    return shared("identity.spray_exposures", lambda: spray_exposures(t.authentication))


def exposed_outcomes(t: Tables) -> ibis.Table:
    """Every password-correct outcome (success, MFA challenge, conditional-access
    block) of an account exposed to a spray, at any time, with ``ok_ts`` (epoch
    seconds), ``ref`` (the raw record) and ``expo_first`` (the account's first spray
    attempt): what both after-spray detections look at, taken out of the table in
    one scan per run — reading the sign-ins of a few sprayed accounts out of ten
    million rows costs a full scan each time."""

    def build() -> ibis.Table:
        auth = t.authentication
        expo = run_exposures(t)
        first = expo.group_by("user").aggregate(expo_first=expo.ts.min())
        ok = auth.filter(auth.reason.isin(PASSWORD_CORRECT) & auth.user.notnull())
        ok = ok.select(
            "user",
            "src_ip",
            "src_asn",
            "src_as_org",
            "src_country",
            "is_proxy",
            "user_agent",
            "status",
            "reason",
            "time",
            ok_ts=epoch_s(ok.time),
            ref=raw_ref(ok),
        )
        return ok.join(first, "user")

    return shared("identity.exposed_outcomes", build)
