"""Identity resolution: which cloud principals are which person, learned from the data
and ``[organisation] identity_map``, joined **by equality** only.

A chain from "this person was attacked" to "this principal read the model weights"
is only as good as the link between the two. Matching by substring (a principal that
*contains* the login) links everyone to the short names Internet sprayers try —
``ml``, ``ai``, ``admin``, ``dev`` are inside half the role names of an AI lab. Here a
principal is linked to a person only when a name the cloud log carries *is* that
person's identity key (:func:`crownwatch.tables.authentication.user_key`):

======================  =====================================================  ==========
principal               the name compared with identity keys                   ``how``
======================  =====================================================  ==========
``arn:aws:sts::…:assumed-role/<role>/<session>``  the role session name: SSO   role_session
                        and SAML federation name the session after the person
                        (``alice@corp.example``)
``arn:aws:iam::…:user/<path>/<name>``  the IAM user name                       iam_user
``alice@corp.example``  a person's e-mail as GCP and Azure log the caller      email
                        (not ``…iam.gserviceaccount.com`` service accounts)
anything                a glob of ``[organisation] identity_map`` for the      identity_map
                        person
======================  =====================================================  ==========

A name that is not an e-mail (a session called ``deploy``, an IAM user ``admin``)
links only to a key that is somebody's: a user with a password-correct sign-in in
``authentication`` (success, MFA challenge, conditional-access block). A sprayer's
guess at ``admin`` is not a person.

The links are computed once per detection run (``shared``) and written to
``<lake>/derived/identity_links.parquet`` so a responder can see why two names were
taken for one person: ``user``, ``principal``, ``cloud``, ``how``, ``first_seen``,
``last_seen``, ``events``.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import Registry, glob_to_regex
from crownwatch.tables.authentication import PASSWORD_CORRECT

# The identity-key rule (tables.authentication.user_key) as a regex both engines run.
_KEY = r"^(?s:.*\\)?([^@\\]*)"
_SESSION = r"^arn:aws[a-z-]*:sts::\d+:assumed-role/[^/]+/(.+)$"
_IAM_USER = r"^arn:aws[a-z-]*:iam::\d+:user/(?:.*/)?([^/]+)$"
_EMAIL = r"^[^@/:\s]+@[^@/:\s]+\.[a-z]{2,}$"
_SERVICE_ACCOUNT = r"\.gserviceaccount\.com$"


def _key(name: ibis.Value) -> ibis.Value:
    k = name.re_extract(_KEY, 1).lower()
    return ibis.ifelse(k == "", ibis.null("string"), k)


def identity_links(t, reg: Registry) -> ibis.Table:
    """``(user, principal, cloud, how, first_seen, last_seen, events)``, one row per
    link, for this run's lake (computed once per run)."""
    from crownwatch.detections.contract import shared

    return shared("enrichment.identity_links:" + reg.model_dump_json(), lambda: _links(t, reg))


def _links(t, reg: Registry) -> ibis.Table:
    api = t.api_activity
    api = api.filter(api.principal.notnull())
    pr = api.group_by(["principal", "cloud"]).aggregate(
        first_seen=api.time.min(), last_seen=api.time.max(), events=api.count()
    )
    lp = pr.principal.lower()
    session = lp.re_extract(_SESSION, 1)
    iam_user = lp.re_extract(_IAM_USER, 1)
    is_email = lp.re_search(_EMAIL) & ~lp.re_search(_SERVICE_ACCOUNT)
    pr = pr.mutate(
        how=ibis.cases(
            (session != "", "role_session"),
            (iam_user != "", "iam_user"),
            (is_email, "email"),
            else_=ibis.null("string"),
        ),
        name=ibis.cases(
            (session != "", session),
            (iam_user != "", iam_user),
            (is_email, lp),
            else_=ibis.null("string"),
        ),
    )
    pr = pr.mutate(user=_key(pr.name), email_like=pr.name.contains("@"))

    auth = t.authentication
    people = (
        auth.filter(auth.reason.isin(PASSWORD_CORRECT) & auth.user.notnull())
        .select(person=auth.user)
        .distinct()
    )
    named = pr.filter(pr.user.notnull())
    named = named.left_join(people, named.user == people.person)
    named = named.filter(named.email_like | named.person.notnull())
    cols = ["user", "principal", "cloud", "how", "first_seen", "last_seen", "events"]
    links = named.select(*cols)

    mapped = [
        (user, "|".join("(" + glob_to_regex(g.lower()) + ")" for g in globs))
        for user, globs in reg.organisation.identity_map.items()
        if globs
    ]
    if mapped:
        by_map = [
            pr.filter(pr.principal.lower().re_search(pattern)).mutate(
                user=ibis.literal(user), how=ibis.literal("identity_map")
            )
            for user, pattern in mapped
        ]
        links = ibis.union(links, *[m.select(*cols) for m in by_map], distinct=True)
    return links


def store_links(engine, links: ibis.Table) -> None:
    """Write this run's links to ``<lake>/derived/identity_links.parquet`` (replaced
    each run, written beside and renamed so a reader never sees half a file)."""
    import pyarrow.parquet as pq

    out = engine.lake.root / "derived"
    out.mkdir(parents=True, exist_ok=True)
    table = engine.backend.to_pyarrow(links.order_by(["user", "principal", "how"]))
    tmp = out / ".identity_links.parquet.tmp"
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(out / "identity_links.parquet")
