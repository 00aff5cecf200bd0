"""A sprayed account gets in (ATT&CK T1078, after T1110.003/.004).

**What it looks for.** An account that received failures from a spray — single
source, distributed or stuffing, exactly as the three spray detectors define it
(``_spray.spray_exposures``) — and then got the password right: a successful
sign-in (*critical*), or an MFA challenge or a conditional-access block (*high*:
the password was right, only the second factor or the policy stood in the way —
reset it now, the next push may be accepted).

**Keyed by user, not by address.** Sentinel's spray rule reports "successes from the
spraying IP"; a distributed spray never succeeds from the address that failed, and
attackers routinely validate a guessed password from one host and use it from
another. Here the success may come from anywhere.

**How it stays quiet when the account's owner signs in.** Being sprayed is common;
the owner signing in the next morning is not an incident — a MURKY-PANDA-size spray
tries the whole directory, and everyone then signs in from home, the office or a
phone. A password-correct outcome within ``max_gap_hours`` of a spray attempt on the
account fires only when it carries the attacker's marks:

* **the spray's infrastructure**: an address that took part in any spray, unless it
  was already the user's own or the organisation's (``org_ip_min_users`` colleagues
  had signed in from it before): a spray from the office NAT makes the NAT a spray
  address, and the people who work there still sign in from it. The price: an
  attacker who succeeds from the office NAT itself is left to other detections;
* **a rented or anonymising network** the user had not signed in from before: a
  hosting provider's AS or an identity provider's proxy verdict
  (:mod:`crownwatch.enrichment.hosting`);
* **new ground**: an address, a network (ASN) and a client (user agent) that the user
  had all never signed in with before the spray, on a network nobody in the
  organisation had signed in from either, and not the organisation's own egress
  (``own_asns``, ``own_cidrs``, private addresses: the rule every "new place"
  detection shares, :func:`crownwatch.enrichment.places.own_network`) — judged only for users with history
  before it (on a log's first day nobody has a usual place yet), and only where the
  network is known (sources without ASN cannot tell; enrich them, see
  ``[enrichment]``);
* **the spray's own client** (user agent) on an address new to the user;
* **the second factor failing**: the password was right (MFA challenge,
  conditional-access block) but no success followed from that address within
  ``second_factor_minutes``, on an address and network new to a user with history —
  the owner approves the prompt; the attacker holding only the password cannot.

So a sprayed user's next sign-in from their own home network, office or phone —
even from a new address on their usual ISP, or with a browser that updated itself —
raises nothing; neither does the office NAT morning after a password rotation.

**Evidence.** The spray's addresses, kinds and time span for this account, the
outcomes, their time and addresses, and the gap from the last spray attempt to the
first password-correct outcome.

**False positives.** A sprayed user who, within ``max_gap_hours``, happens to sign
in from a network nobody in the organisation used before (a hotel, a foreign carrier). Raise the
signal by checking the success's device and MFA method; lower ``max_gap_hours`` if
your users travel a lot.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables
from crownwatch.detections.identity._common import (
    earliest,
    first_success_at,
    success_places,
)
from crownwatch.detections.identity._spray import exposed_outcomes, run_exposures
from crownwatch.enrichment.hosting import hosting_or_proxy
from crownwatch.enrichment.places import own_network

META = Meta(
    id="identity.success_after_spray",
    title="Sprayed account signed in (password was right)",
    severity="critical",
    attack=("T1078", "T1110.003"),
    tables=("authentication",),
    description=(
        "An account hit by a password spray or stuffing run then signs in, or reaches MFA or "
        "conditional access, from somewhere that is not its owner as usual."
    ),
    false_positives="A sprayed user signing in from a brand-new network within max_gap_hours.",
    references=(
        "https://attack.mitre.org/techniques/T1078/",
        "https://attack.mitre.org/techniques/T1110/003/",
        "https://github.com/Azure/Azure-Sentinel/blob/master/Solutions/Microsoft%20Entra%20ID/Analytic%20Rules/SigninPasswordSpray.yaml",
    ),
    params={"max_gap_hours": 72, "org_ip_min_users": 3, "second_factor_minutes": 10},
    runbook=(
        (
            "Reset the account's password, revoke all its sessions and refresh tokens, and "
            "require MFA re-registration: the attacker knows the password."
        ),
        (
            "Remove MFA methods registered since the spray, and block the spray's addresses and "
            "the outcome's address from the evidence."
        ),
        (
            "Review what the account did after the outcome: mailbox rules, cloud API calls, "
            "crown-jewel access (exfiltration.jewel_access_after_identity)."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    auth = t.authentication
    expo = run_exposures(t)
    ok = exposed_outcomes(t)
    ok = ok.filter(ok.ok_ts > ok.expo_first)
    ok = ok.select(
        "user",
        "src_ip",
        "src_asn",
        "src_as_org",
        "is_proxy",
        "user_agent",
        "reason",
        "time",
        "ok_ts",
        "ref",
        "expo_first",
    )

    # What the owner looked like before the spray began.
    places = success_places(auth)
    pairs_ok = first_success_at(auth)
    seen_ip = pairs_ok.select("user", "src_ip", ip_first=pairs_ok.first_ok)
    seen_asn = (
        places.filter(places.src_asn.notnull())
        .group_by(["user", "src_asn"])
        .aggregate(asn_first=places.first_ts.min())
    )
    seen_ua = places.group_by(["user", "user_agent"]).aggregate(ua_first=places.first_ts.min())
    org_asn = (
        places.filter(places.src_asn.notnull())
        .group_by("src_asn")
        .aggregate(org_asn_first=places.first_ts.min())
    )
    since = places.group_by("user").aggregate(user_first=places.first_ts.min())
    spray_ips = expo.select(spray_ip=expo.src_ip).distinct()
    spray_uas = expo.select(ua_user=expo.user, spray_ua=expo.user_agent).distinct()
    # Did a success follow each outcome from the same address? (second factor passed)
    after = auth.filter(
        (auth.status == "success") & auth.user.notnull() & auth.src_ip.notnull()
    ).select(a_user="user", a_ip="src_ip", a_ts=epoch_s(auth.time))

    o = ok.left_join(seen_ip, ["user", "src_ip"]).drop("user_right", "src_ip_right")
    o = o.left_join(seen_asn, ["user", "src_asn"]).drop("user_right", "src_asn_right")
    o = o.left_join(seen_ua, ["user", "user_agent"]).drop("user_right", "user_agent_right")
    o = o.left_join(org_asn, "src_asn").drop("src_asn_right")
    o = o.left_join(since, "user").drop("user_right")
    o = o.left_join(spray_ips, o.src_ip == spray_ips.spray_ip)
    o = o.left_join(spray_uas, (o.user == spray_uas.ua_user) & (o.user_agent == spray_uas.spray_ua))
    passed = o.filter(o.reason != "success").select("user", "src_ip", "ok_ts")
    passed = passed.join(
        after,
        (passed.user == after.a_user)
        & (passed.src_ip == after.a_ip)
        & (after.a_ts >= passed.ok_ts)
        & (after.a_ts - passed.ok_ts <= p.second_factor_minutes * 60),
    )
    passed = passed.select(p_user="user", p_ip="src_ip", p_ts="ok_ts").distinct()
    o = o.left_join(
        passed, (o.user == passed.p_user) & (o.src_ip == passed.p_ip) & (o.ok_ts == passed.p_ts)
    )
    # An address several colleagues had already signed in from (office NAT, VPN) is
    # the organisation's, whoever first uses it.
    # (Counted per address and spray start, not per outcome, and against each
    # address's first org_ip_min_users users only: an office NAT's thousands of users
    # would otherwise be joined to every sign-in, or every spray start, through it.)
    shared = o.select("src_ip", "expo_first").distinct()
    shared = shared.join(earliest(pairs_ok, "src_ip", "first_ok", p.org_ip_min_users), "src_ip")
    shared = shared.filter(shared.first_ok < shared.expo_first)
    # first_ok is one row per (user, address): the row count is the user count (up to
    # org_ip_min_users, all the test below needs)
    shared = shared.group_by(["src_ip", "expo_first"]).aggregate(ip_users_before=shared.count())
    o = o.left_join(shared, ["src_ip", "expo_first"]).drop("src_ip_right", "expo_first_right")
    before = o.expo_first
    known_ip = (o.ip_first.notnull() & (o.ip_first < before)) | (
        o.ip_users_before.fill_null(0) >= p.org_ip_min_users
    )
    known_net = o.asn_first.notnull() & (o.asn_first < before)
    # a network anyone in the organisation signed in from before the spray (a home
    # ISP, a mobile carrier) is where people work from; NULL: nobody can tell
    org_net = o.src_asn.isnull() | (o.org_asn_first.notnull() & (o.org_asn_first < before))
    # our own egress (own_asns, own_cidrs, private addresses) is never new ground
    org_net = org_net | own_network(o, registry_for(t, p))
    known_ua = o.ua_first.notnull() & (o.ua_first < before)
    history = o.user_first.notnull() & (o.user_first < before)
    infra = hosting_or_proxy(o.src_as_org, o.is_proxy)
    o = o.mutate(
        from_spray_ip=o.spray_ip.notnull() & ~known_ip,
        from_infrastructure=infra & ~known_ip & ~known_net,
        new_ground=history & ~known_ip & ~known_net & ~org_net & ~known_ua,
        spray_client=o.spray_ua.notnull() & ~known_ua & ~known_ip,
        second_factor_failed=(o.reason != "success")
        & o.p_user.isnull()
        & history
        & ~known_ip
        & ~known_net,
    )
    o = o.mutate(
        unusual=o.from_spray_ip
        | o.from_infrastructure
        | o.new_ground
        | o.spray_client
        | o.second_factor_failed
    )
    o = o.filter(o.unusual)

    # Each outcome's nearest spray attempt before it on this account.
    e = expo.select(e_user=expo.user, e_ts=expo.ts, e_ip=expo.src_ip, e_kind=expo.kind)
    pairs = o.join(
        e, (o.user == e.e_user) & (e.e_ts < o.ok_ts) & (o.ok_ts - e.e_ts <= p.max_gap_hours * 3600)
    )
    per_outcome = pairs.group_by(
        [
            "user",
            "ref",
            "ok_ts",
            "time",
            "src_ip",
            "reason",
            "from_spray_ip",
            "from_infrastructure",
            "new_ground",
            "spray_client",
            "second_factor_failed",
        ]
    ).aggregate(last_spray_ts=pairs.e_ts.max())
    per_outcome = per_outcome.mutate(gap=per_outcome.ok_ts - per_outcome.last_spray_ts)

    per_user = per_outcome.group_by("user").aggregate(
        first_outcome_ts=per_outcome.ok_ts.min(),
        first_outcome_time=per_outcome.time.min(),
        last_seen=per_outcome.time.max(),
        outcomes=per_outcome.reason.collect(),
        successes=(per_outcome.reason == "success").sum(),
        outcome_src_ips=per_outcome.src_ip.collect(),
        from_spray_ip=per_outcome.from_spray_ip.sum(),
        infrastructure=per_outcome.from_infrastructure.any(),
        new_ground=per_outcome.new_ground.any(),
        spray_client=per_outcome.spray_client.any(),
        second_factor_failed=per_outcome.second_factor_failed.any(),
        min_gap=per_outcome.gap.min(),
        outcome_refs=per_outcome.ref.collect(),
    )
    first = per_outcome.join(per_user.select("user", "first_outcome_ts"), "user")
    first = first.filter(first.ok_ts == first.first_outcome_ts)
    first = first.group_by("user").aggregate(first_outcome_src_ips=first.src_ip.collect())

    ex = expo.semi_join(per_user, "user")
    spray = ex.group_by("user").aggregate(
        spray_first=ex.time.min(),
        spray_last=ex.time.max(),
        spray_attempts=ex.count(),
        spray_src_ips=ex.src_ip.collect(),
        spray_kinds=ex.kind.collect(),
    )

    out = per_user.join(spray, "user").join(first, "user")
    return out.select(
        key=out.user.concat("@", out.first_outcome_ts.cast("string")),
        first_seen=out.spray_first,
        last_seen=out.last_seen,
        entity_user=out.user,
        entity_src_ip=out.spray_src_ips.concat(out.outcome_src_ips),
        severity=ibis.ifelse(out.successes > 0, "critical", "high"),
        outcomes=out.outcomes,
        successes=out.successes,
        first_outcome_time=out.first_outcome_time,
        first_outcome_src_ips=out.first_outcome_src_ips,
        outcome_src_ips=out.outcome_src_ips,
        outcomes_from_spray_ips=out.from_spray_ip,
        from_infrastructure=out.infrastructure,
        from_new_ground=out.new_ground,
        with_spray_client=out.spray_client,
        second_factor_failed=out.second_factor_failed,
        gap_minutes=rounded(out.min_gap / 60, 1),
        spray_first_seen=out.spray_first,
        spray_last_seen=out.spray_last,
        spray_attempts=out.spray_attempts,
        spray_src_ips=out.spray_src_ips,
        spray_kinds=out.spray_kinds,
        raw_refs=out.outcome_refs,
    )


def title(row: dict, p: Params) -> str:
    what = (
        "signed in"
        if row["successes"]
        else "got the password right (" + "/".join(sorted(set(row["outcomes"] or []))) + ")"
    )
    return (
        f"Sprayed account {row['entity_user']} {what} from "
        f"{', '.join(sorted(set(row['first_outcome_src_ips'] or [])))}, {row['gap_minutes']:.0f} min after the spray"
    )
