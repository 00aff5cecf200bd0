"""Building blocks the identity detections share (Ibis expressions, both engines)."""

from __future__ import annotations

import ibis
from ibis import _

# Failures that mean "this credential was wrong" — what spraying and guessing produce.
# 'locked' is included: a spray that trips lockout still tried a password.
CREDENTIAL_FAILURES = ("bad_password", "unknown_user", "locked")


def raw_ref(t: ibis.Table) -> ibis.Value:
    """``file#offset`` (or ``file#id``) that cites the raw record behind a row."""
    where = t.raw_offset.cast("string").fill_null(t.raw_id.fill_null("?"))
    return t.raw_source.concat("#", where)


def with_recovery(auth: ibis.Table, recovery_seconds: int) -> ibis.Table:
    """Credential failures, each flagged ``recovered`` when the same user signed in
    successfully within ``recovery_seconds`` afterwards (from any address).

    A typo, a password rotation, a stale saved password on a phone: the person
    behind the account fixes it and gets in. A sprayed account mostly does not —
    which is what lets the spray detectors ignore an office NAT full of people
    mistyping their new password without going blind to a spray from that NAT.
    """
    ev = auth.filter((auth.status == "success") | auth.reason.isin(CREDENTIAL_FAILURES))
    ev = ev.mutate(
        ts=ev.time.epoch_seconds(),
        succ_ts=ibis.ifelse(ev.status == "success", ev.time.epoch_seconds(), ibis.null("int64")),
    )
    w = ibis.window(group_by=ev.user, order_by=[ev.ts, ev.status.desc()], preceding=0, following=None)
    ev = ev.mutate(next_success=ev.succ_ts.min().over(w))
    fails = ev.filter(ev.status == "failure")
    return fails.mutate(
        recovered=fails.next_success.notnull()
        & ((fails.next_success - fails.ts) <= recovery_seconds)
    )


def runs(t: ibis.Table, by: str | list[str], gap_seconds: int, ts: str = "ts") -> ibis.Table:
    """Split each ``by`` group's events into runs separated by quiet gaps longer than
    ``gap_seconds`` (gaps-and-islands); adds ``run`` (0, 1, 2… per group)."""
    by = [by] if isinstance(by, str) else by
    w = ibis.window(group_by=[t[c] for c in by], order_by=[t[ts], t.raw_source, t.raw_offset])
    t = t.mutate(_prev=t[ts].lag().over(w))
    t = t.mutate(_new=ibis.ifelse(t._prev.isnull() | ((t[ts] - t._prev) > gap_seconds), 1, 0))
    w2 = ibis.window(
        group_by=[t[c] for c in by], order_by=[t[ts], t.raw_source, t.raw_offset],
        preceding=None, following=0,
    )
    return t.mutate(run=t._new.sum().over(w2)).drop("_prev", "_new")


__all__ = ["CREDENTIAL_FAILURES", "raw_ref", "runs", "with_recovery", "_"]
