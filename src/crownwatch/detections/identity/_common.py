"""Building blocks the identity detections share (Ibis expressions, both engines)."""

from __future__ import annotations

import ibis
from ibis import _

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import shared
from crownwatch.enrichment.places import private_expr

# Failures that mean "this credential was wrong" — what spraying and guessing produce.
# 'locked' is included: a spray that trips lockout still tried a password.
CREDENTIAL_FAILURES = ("bad_password", "unknown_user", "locked")

#: The spray and the two detections that say it worked (the sprayed password was right;
#: new ground after the spray): what the scenarios of a detection that follows a
#: compromise (persistence, crown-jewel access) run beside it (``Scenario.also``). The
#: other identity detections neither feed those detections nor fire on their scenarios'
#: logs, and the shared-lake test — every detection over every scenario — would name
#: one that did.
SPRAY_CHAIN = (
    "identity.password_spray",
    "identity.success_after_spray",
    "identity.new_geo_after_spray",
)


def raw_ref(t: ibis.Table) -> ibis.Value:
    """``file#offset`` (or ``file#id``) that cites the raw record behind a row."""
    where = t.raw_offset.cast("string").fill_null(t.raw_id.fill_null("?"))
    return t.raw_source.concat("#", where)


# What the identity detections read of a failure. Reading every column of the table
# to keep a few per cent of its rows cost more than all the detections' own work.
FAILURE_COLUMNS = (
    "time",
    "source",
    "user",
    "user_domain",
    "src_ip",
    "src_host",
    "src_asn",
    "src_as_org",
    "src_country",
    "user_agent",
    "service",
    "status",
    "reason",
    "raw_source",
    "raw_offset",
    "raw_id",
)


def credential_failures(auth: ibis.Table) -> ibis.Table:
    """Every credential failure (:data:`CREDENTIAL_FAILURES`) with its ``ts``, taken
    out of the table once per run: a few per cent of the rows, and every identity
    detection starts from them."""

    def build() -> ibis.Table:
        f = auth.filter(auth.reason.isin(CREDENTIAL_FAILURES)).select(*FAILURE_COLUMNS)
        return f.mutate(ts=epoch_s(f.time), origin=origin(f))

    return shared("identity.credential_failures", build)


def origin(t: ibis.Table) -> ibis.Value:
    """Where an attempt came from: its address, else ``host:<name>`` for attempts that
    name the client but carry no address (NTLM validation on a domain controller, a
    local logon: Windows' Workstation), else NULL. One key for "one source", so an
    address-less burst from one machine is a burst like any other."""
    return t.src_ip.fill_null(ibis.literal("host:").concat(t.src_host.lower()))


def success_places(auth: ibis.Table) -> ibis.Table:
    """``(user, src_ip, src_host, src_asn, user_agent, first_ts)``: the places and
    clients each user has signed in successfully from, and since when — every
    successful sign-in folded into one row per distinct place, in one pass.

    "Is this address, network or browser *theirs*, and since when?" is
    what four detections ask of the successes; answering it from this summary
    (tens of thousands of rows where the table holds millions) is what keeps the
    identity detections at seconds over ten million events."""

    def build() -> ibis.Table:
        ok = auth.filter((auth.status == "success") & auth.user.notnull())
        return ok.group_by(["user", "src_ip", "src_host", "src_asn", "user_agent"]).aggregate(
            first_ts=epoch_s(ok.time.min())
        )

    return shared("identity.success_places", build)


def with_recovery(auth: ibis.Table, recovery_seconds: int) -> ibis.Table:
    """Credential failures (:func:`credential_failures`), each flagged ``recovered``
    when the same user signed in successfully **from the same address** within
    ``recovery_seconds`` afterwards (strictly after, at most that much later).

    A typo, a password rotation, a stale saved password on a phone: the person
    behind the account fixes it and gets in. A sprayed account mostly does not —
    which is what lets the spray detectors ignore an office NAT full of people
    mistyping their new password without going blind to a spray from that NAT.
    The success must come from the address that failed (its :func:`origin`: the
    client's host name for address-less attempts): where SSO makes people sign
    in every few minutes, a sprayed user's own routine sign-in from home would
    otherwise "recover" every sprayed account (seen on the 1M-event benchmark).
    A failure with no user or no origin cannot be matched, so never recovers.

    How: an equi-join, not a window over every sign-in. Time is cut into buckets of
    ``recovery_seconds``; a success that recovers a failure lies in the failure's
    bucket or the next, so each distinct ``(user, origin, ts)`` failure is offered
    under both bucket numbers and joined to the successes on
    ``(user, origin, bucket)`` — a hash join whose build side is the failures.
    """

    def build() -> ibis.Table:
        fails = credential_failures(auth)
        keys = fails.filter(fails.user.notnull() & fails.origin.notnull())
        keys = keys.select("user", "origin", "ts").distinct()
        bucket = (keys.ts // recovery_seconds).cast("int64")
        offered = ibis.union(keys.mutate(b=bucket), keys.mutate(b=bucket + 1))
        ok = auth.filter((auth.status == "success") & auth.user.notnull())
        ok = ok.select(s_user=ok.user, s_origin=origin(ok), s_ts=epoch_s(ok.time))
        ok = ok.filter(ok.s_origin.notnull())
        ok = ok.mutate(s_b=(ok.s_ts // recovery_seconds).cast("int64"))
        hit = offered.join(
            ok,
            (offered.user == ok.s_user) & (offered.origin == ok.s_origin) & (offered.b == ok.s_b),
        )
        hit = hit.filter((hit.s_ts > hit.ts) & (hit.s_ts - hit.ts <= recovery_seconds))
        hit = hit.select(r_user=hit.user, r_origin=hit.origin, r_ts=hit.ts).distinct()
        out = fails.left_join(
            hit,
            (fails.user == hit.r_user) & (fails.origin == hit.r_origin) & (fails.ts == hit.r_ts),
        )
        return out.mutate(recovered=out.r_ts.notnull()).drop("r_user", "r_origin", "r_ts")

    return shared(f"identity.with_recovery:{recovery_seconds}", build)


def run_keys(t: ibis.Table, by: str | list[str], gap_seconds: int, ts: str = "ts") -> ibis.Table:
    """The distinct ``(*by, ts)`` of ``t`` cut into runs separated by quiet gaps longer
    than ``gap_seconds`` (gaps-and-islands): adds ``run`` (0, 1, 2… per group).

    The windows sort only the keys, not whole rows: equal timestamps always share a
    run, so the distinct keys decide every row's run, and sorting narrow keys then
    joining the run back (:func:`runs`) is half the cost of sorting the failures
    with all their columns — the windows were most of the identity detections'
    time at 10M events. No tie-breaker is needed for a deterministic result."""
    by = [by] if isinstance(by, str) else by
    k = t.select(*by, ts).distinct()
    w = ibis.window(group_by=[k[c] for c in by], order_by=k[ts])
    k = k.mutate(_gap=k[ts] - k[ts].lag().over(w))
    k = k.mutate(_new=ibis.ifelse(k._gap.isnull() | (k._gap > gap_seconds), 1, 0))
    w2 = ibis.window(group_by=[k[c] for c in by], order_by=k[ts], preceding=None, following=0)
    k = k.mutate(run=k._new.sum().over(w2))
    return k.drop("_gap", "_new")


def runs(t: ibis.Table, by: str | list[str], gap_seconds: int, ts: str = "ts") -> ibis.Table:
    """``t`` with ``run``: each ``by`` group's events split into runs separated by
    quiet gaps longer than ``gap_seconds`` (see :func:`run_keys`). NULL is a group of
    its own, as in a window's PARTITION BY (a cluster signature may lack a user agent)."""
    by = [by] if isinstance(by, str) else by
    k = run_keys(t, by, gap_seconds, ts)
    k = k.rename({f"_k_{c}": c for c in [*by, ts]})
    cond = [t[c].identical_to(k[f"_k_{c}"]) for c in [*by, ts]]
    return t.join(k, cond).drop(*[f"_k_{c}" for c in [*by, ts]])


# RFC 1918, loopback, link-local, IPv6 unique-local / link-local / loopback: addresses
# that only ever mean "a host inside the organisation". Prefix tests only, so the
# pattern behaves the same under DuckDB (RE2) and Spark (Java regex).
def is_private_ip(ip: ibis.Value) -> ibis.Value:
    """True where the address is private (the one rule:
    :func:`crownwatch.enrichment.places.private_expr`; False for NULL)."""
    return private_expr(ip)


def first_success_at(auth: ibis.Table) -> ibis.Table:
    """``(user, src_ip, first_ok)``: when each user first signed in successfully from
    each address — what makes an address *theirs* from then on."""
    places = success_places(auth)
    places = places.filter(places.src_ip.notnull())
    return places.group_by(["user", "src_ip"]).aggregate(first_ok=places.first_ts.min())


def earliest(t: ibis.Table, by: str, ts: str, k: int) -> ibis.Table:
    """The ``k`` rows of ``t`` with the smallest ``ts`` in each ``by`` group (ties
    broken either way).

    For the question "were at least k of them there before time T?", asked of every
    row of another table: joining all of a group's rows to each asking row is
    quadratic — an office NAT or a home ISP is thousands of users' place, and in an
    org-wide spray every user asks with a spray start of their own (at 100M events
    that join ran out of memory). The k earliest rows answer it exactly: if k rows
    are before T, the k earliest are. (k + 1 when the asking row's own user must not
    count: with it among the earliest, the k others still are.)"""
    rank = ibis.row_number().over(group_by=t[by], order_by=t[ts])
    return t.mutate(_rank=rank).filter(_._rank < k).drop("_rank")


def first_success_from(auth: ibis.Table) -> ibis.Table:
    """``(user, origin, first_ok)``: as :func:`first_success_at`, by :func:`origin` —
    the address, or the client's host name where the log gives no address."""
    places = success_places(auth)
    places = places.mutate(origin=origin(places))
    places = places.filter(places.origin.notnull())
    return places.group_by(["user", "origin"]).aggregate(first_ok=places.first_ts.min())


# How long a source's data must run before "the user never signed in from here" means
# anything (see stranger_failures).
WARMUP_SECONDS = 24 * 3600


def stranger_failures(
    auth: ibis.Table, recovery_seconds: int, warmup_seconds: int = WARMUP_SECONDS
) -> ibis.Table:
    """Credential failures (with ``ts`` and ``recovered`` as :func:`with_recovery` gives
    them) from an address the failing user had **never** signed in from before.

    The people who own the accounts fail from their own laptops, phones and offices —
    addresses they have succeeded from before. A spray or stuffing botnet fails from
    addresses that are new to every account it touches. Only *earlier* successes count,
    so an attacker who guesses right from a spray address does not turn that address
    into "theirs" retroactively.

    A name that does not exist has no addresses of its own; a mistyped login is told
    apart by someone signing in from that address before, or within
    ``recovery_seconds`` after.

    **Cold start.** In the first ``warmup_seconds`` of a source's data nothing has a
    history yet: every user's first failure from home would be a stranger's, and a
    big organisation's first day looks like a distributed spray (seen on the 10M
    benchmark: 3 false sprays and a thousand false "successes after spray"). So a
    failure inside the warm-up is also the user's own when the user signed in from
    that address at any time inside the warm-up (and a mistyped login, when anyone
    did). The price: during the warm-up only,
    an attacker who gets in from a spray address hides that one account's failures
    (the rest of the spray still counts, and ``success_after_spray`` still keys on
    the other victims).

    Computed once per detection run (four detections build on it).
    """

    def build() -> ibis.Table:
        fails = with_recovery(auth, recovery_seconds)
        fails = fails.filter(fails.user.notnull() & fails.src_ip.notnull())
        # a row per source, kept on its own: joined as a subquery, DuckDB guessed it
        # as long as the table it groups (100M rows at 100M events) and built its hash
        # table from the failures instead — 5.7M wide rows, past the memory bound
        starts = shared(
            f"identity.source_starts:{warmup_seconds}",
            lambda: auth.group_by(w_source=auth.source).aggregate(
                w_end=epoch_s(auth.time.min()) + warmup_seconds
            ),
        )
        fails = fails.left_join(starts, fails.source == starts.w_source).drop("w_source")
        pair = first_success_at(auth)
        addr = pair.group_by(a_ip=pair.src_ip).aggregate(ip_first_ok=pair.first_ok.min())
        pair = pair.select(p_user=pair.user, p_ip=pair.src_ip, pair_first_ok=pair.first_ok)
        f = fails.left_join(pair, (fails.user == pair.p_user) & (fails.src_ip == pair.p_ip))
        f = f.left_join(addr, f.src_ip == addr.a_ip)
        own = f.pair_first_ok.notnull() & (
            (f.pair_first_ok <= f.ts) | ((f.ts < f.w_end) & (f.pair_first_ok < f.w_end))
        )
        typo = (
            (f.reason == "unknown_user")
            & f.ip_first_ok.notnull()
            & (
                (f.ip_first_ok <= f.ts + recovery_seconds)
                | ((f.ts < f.w_end) & (f.ip_first_ok < f.w_end))
            )
        )
        return f.filter(~own & ~typo).drop(
            "p_user", "p_ip", "a_ip", "pair_first_ok", "ip_first_ok", "w_end"
        )

    return shared(f"identity.stranger_failures:{recovery_seconds}:{warmup_seconds}", build)


def clusters(
    fails: ibis.Table,
    by: list[str],
    gap_seconds: int,
    slice_seconds: int,
    max_attempts_per_user: int,
    max_users_per_ip: int,
) -> ibis.Table:
    """Group failures that share ``by`` (a failure signature) into time clusters and
    keep the rows that look like many hands on one list.

    A cluster is a run of the signature's failures with no quiet gap longer than
    ``gap_seconds`` (:func:`runs`), cut into consecutive slices of ``slice_seconds`` so
    a steady trickle of unrelated failures cannot accumulate into one cluster over
    weeks. Within a cluster, a user with more than ``max_attempts_per_user`` attempts
    is a stuck client (a phone with a stale password), not a sprayed account; an
    address with more than ``max_users_per_ip`` users is a single-source spray, which
    ``identity.password_spray`` reports. Both are dropped here.

    Adds ``cluster`` (a stable string: signature and the slice's start, epoch seconds).
    """
    fails = runs(fails, by, gap_seconds)
    wrun = ibis.window(group_by=[fails[c] for c in [*by, "run"]])
    fails = fails.mutate(_start=fails.ts.min().over(wrun))
    fails = fails.mutate(
        _slice_start=fails._start
        + ((fails.ts - fails._start) // slice_seconds).cast("int64") * slice_seconds
    )
    sig = fails[by[0]].cast("string").fill_null("-")
    for c in by[1:]:
        sig = sig.concat("|", fails[c].cast("string").fill_null("-"))
    fails = fails.mutate(cluster=sig.concat("@", fails._slice_start.cast("string")))
    fails = fails.drop("_start", "_slice_start")

    # Windows, not aggregate-and-join, keep the plan linear. Distinct users per address
    # is the highest dense rank (0-based in Ibis; Spark has no DISTINCT in windows).
    fails = fails.mutate(
        _ua=fails.count().over(ibis.window(group_by=[fails.cluster, fails.user])),
        _rk=ibis.dense_rank().over(
            ibis.window(group_by=[fails.cluster, fails.src_ip], order_by=fails.user)
        ),
    )
    fails = fails.mutate(
        _iu=fails._rk.max().over(ibis.window(group_by=[fails.cluster, fails.src_ip])) + 1
    )
    fails = fails.filter((fails._ua <= max_attempts_per_user) & (fails._iu <= max_users_per_ip))
    return fails.drop("_ua", "_rk", "_iu")


def cluster_stats(fails: ibis.Table) -> ibis.Table:
    """One row per ``cluster`` with the numbers the distributed detectors judge."""
    pair = fails.src_ip.concat("|", fails.user)
    s = fails.group_by("cluster").aggregate(
        first_seen=fails.time.min(),
        last_seen=fails.time.max(),
        attempts=fails.count(),
        users=fails.user.nunique(),
        unrecovered_users=fails.user.nunique(where=~fails.recovered),
        src_ips=fails.src_ip.nunique(),
        ip_user_pairs=pair.nunique(),
        unknown_user_attempts=(fails.reason == "unknown_user").sum(),
        bad_password_attempts=(fails.reason == "bad_password").sum(),
        locked_attempts=(fails.reason == "locked").sum(),
        reasons=fails.reason.nunique(),
        asns=fails.src_asn.nunique(),
        countries=fails.src_country.nunique(),
    )
    return s.mutate(
        unknown_user_share=rounded(s.unknown_user_attempts / s.attempts, 3),
        attempts_per_ip=rounded(s.attempts / s.src_ips, 2),
        users_per_ip=rounded(s.ip_user_pairs / s.src_ips, 2),
    )


def cluster_details(fails: ibis.Table, hits: ibis.Table) -> ibis.Table:
    """Entities and samples for the clusters in ``hits`` only (keeps collect() small),
    each list distinct and cut in the engine to what the finding keeps of it
    (:mod:`crownwatch.detections._evidence`): a low-and-slow spray of the whole
    organisation is a cluster of as many failures as there are accounts. The references
    come with their count, ``raw_refs_total``."""
    d = fails.semi_join(hits, "cluster")
    g = d.group_by("cluster").aggregate(
        entity_user=d.user.collect(distinct=True),
        entity_src_ip=d.src_ip.collect(distinct=True),
        # the domains the names were tried in: a breach list's gmail.com and
        # yahoo.com beside our own is what stuffing looks like (users are keys)
        user_domains=d.user_domain.collect(distinct=True),
        user_agents=d.user_agent.collect(distinct=True),
        services=d.service.collect(distinct=True),
        src_as_orgs=d.src_as_org.collect(distinct=True),
        src_countries=d.src_country.collect(distinct=True),
        sources=d.source.collect(distinct=True),
    )
    # the references as rows, not a list: the cluster is as long as the organisation
    g = with_ref_samples(g, d, ["cluster"], raw_ref(d))
    return g.select(
        "cluster",
        entity_user=entities(g.entity_user),
        entity_src_ip=entities(g.entity_src_ip),
        **{
            name: samples(g[name])
            for name in (
                "user_domains",
                "user_agents",
                "services",
                "src_as_orgs",
                "src_countries",
                "sources",
            )
        },
        raw_refs=g.raw_refs,
        raw_refs_total=g.raw_refs_total,
    )


def single_source_runs(fails: ibis.Table, gap_seconds: int) -> ibis.Table:
    """:func:`with_recovery` rows with an :func:`origin`, cut into runs (``run``): one
    source's failures with no gap longer than ``gap_seconds``."""
    fails = fails.filter(fails.origin.notnull())
    return runs(fails, "origin", gap_seconds)


def run_stats(fails: ibis.Table) -> ibis.Table:
    """One row per ``(origin, run)`` of :func:`single_source_runs`: how many attempts,
    accounts, and of those how many did not recover."""
    per_run = fails.group_by(["origin", "run"]).aggregate(
        src_ip=fails.src_ip.max(),
        src_host=fails.src_host.max(),
        first_seen=fails.time.min(),
        last_seen=fails.time.max(),
        start_ts=fails.ts.min(),
        end_ts=fails.ts.max(),
        attempts=fails.count(),
        users=fails.user.nunique(),
        unrecovered_users=fails.user.nunique(where=~fails.recovered),
        unrecovered_attempts=(~fails.recovered).sum(),
        unknown_user_attempts=(fails.reason == "unknown_user").sum(),
        locked_attempts=(fails.reason == "locked").sum(),
    )
    return per_run.mutate(attempts_per_user=per_run.attempts / per_run.users)


def burst_runs(fails: ibis.Table, by: str, gap_seconds: int, min_attempts: int) -> ibis.Table:
    """``(by, b_start, b_end, b_attempts)``: stretches of one ``by`` group's failures
    no more than ``gap_seconds`` apart (machine speed: nobody types a password a
    second) holding at least ``min_attempts`` failures."""
    b = runs(fails.select(by, "ts"), by, gap_seconds)
    b = b.group_by([by, "run"]).aggregate(
        b_start=b.ts.min(), b_end=b.ts.max(), b_attempts=b.count()
    )
    return b.filter(b.b_attempts >= min_attempts).drop("run")


__all__ = [
    "CREDENTIAL_FAILURES",
    "cluster_details",
    "cluster_stats",
    "clusters",
    "credential_failures",
    "first_success_at",
    "first_success_from",
    "burst_runs",
    "is_private_ip",
    "origin",
    "raw_ref",
    "run_stats",
    "run_keys",
    "runs",
    "single_source_runs",
    "stranger_failures",
    "success_places",
    "with_recovery",
    "_",
]
