"""The step after the way in: the sprayed account that got in makes itself a credential
that outlives the password reset — and the engineer doing the same thing on schedule.

=================================  ==========  ===========================================
id                                 technique   what
=================================  ==========  ===========================================
persistence-key-after-spray        T1098.001   40 minutes after the MFA-fatigue sign-in,
                                               the victim's AWS SSO session, from the same
                                               hosting address, creates an access key for
                                               the ``terraform-ci`` IAM user
benign-scheduled-key-rotation      —           an engineer nobody attacked rotates the
                                               ``eval-harness`` key from their office:
                                               ``CreateAccessKey`` then ``DeleteAccessKey``
=================================  ==========  ===========================================

Both are CloudTrail management events of the identity week (``iam.amazonaws.com``),
rendered by :mod:`crownwatch.simulate.formats.cloudtrail` like every other call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crownwatch.simulate.attacks import SPRAY_UA, Foothold
from crownwatch.simulate.events import ApiCall
from crownwatch.simulate.formats._common import rand_alnum
from crownwatch.simulate.population import Net, User
from crownwatch.simulate.truth import Item
from crownwatch.simulate.world import World

ROLE = "AWSReservedSSO_PlatformAdmin_1a2b3c4d5e6f7a8b"
CLI_UA = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/iam.create-access-key"
KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _create_key(
    w: World, t: datetime, who: User, net: Net, ua: str, iam_user: str, tag: str
) -> ApiCall:
    """``iam:CreateAccessKey`` for ``iam_user`` by ``who``'s SSO session: the secret is
    never logged, the key id and its owner are."""
    key_id = "AKIA" + rand_alnum(w.rng, 16, KEY_CHARS)
    call = ApiCall(
        t,
        "iam.amazonaws.com",
        "CreateAccessKey",
        f"{who.login}@{w.org.domain}",
        "AssumedRole",
        net.ip,
        ua,
        role=ROLE,
        read_only=False,
        request={"userName": iam_user},
        response={
            "accessKey": {
                "userName": iam_user,
                "accessKeyId": key_id,
                "status": "Active",
                "createDate": t.strftime("%b %-d, %Y, %-I:%M:%S %p"),
            }
        },
        tag=tag,
    )
    w.call(call)
    return call


def _item(w: World, item: Item, who: User, net: Net) -> None:
    """Who and from where: the person behind the session (a call's principal is the
    session, not the person the truth names); times and files come from the calls
    (:meth:`Item.fill_calls`)."""
    item.users = [f"{who.login}@{w.org.domain}"]
    item.src_ips = [net.ip]
    item.asns = [net.asn] if net.asn else []
    item.countries = [net.country] if net.country else []
    w.item(item)


def _bystander(w: World, attacked: set[str]) -> User | None:
    """An engineer outside San Francisco (its NAT sprayed Okta this week) whom no planted
    attack touched — else anyone such; None in an organisation too small to have one
    (the sprays then reach nearly everybody)."""
    spared = [u for u in w.org.users if u.office.key != "sf" and u.login not in attacked]
    engineers = [u for u in spared if u.role in ("engineering", "infra")]
    return (engineers or spared or [None])[0]


def plant(w: World, foothold: Foothold) -> None:
    victim, net = foothold.user, foothold.net
    t = foothold.at + timedelta(minutes=40)
    _create_key(w, t, victim, net, SPRAY_UA, "terraform-ci", "persistence-key-after-spray")
    _item(
        w,
        Item(
            "persistence-key-after-spray",
            "persistence",
            ["T1098.001"],
            "persistence.credentials_minted",
            "Forty minutes after the MFA-fatigue sign-in, the victim's AWS SSO session — same hosting "
            "address, same browser — creates an access key for the terraform-ci IAM user: a "
            "credential that keeps working after the password is reset.",
            related=["success-after-spray-okta"],
            details={"iam_user": "terraform-ci"},
        ),
        victim,
        net,
    )

    attacked = {e.user.split("@")[0].lower() for e in w.signins if e.tag}
    eng = _bystander(w, attacked)
    if eng is None:
        return
    office = eng.office
    t = w.at(w.day(3), 10.5, office.tz)
    ua = CLI_UA
    _create_key(w, t, eng, office.nat, ua, "eval-harness", "benign-scheduled-key-rotation")
    w.call(
        ApiCall(
            t + timedelta(minutes=6),
            "iam.amazonaws.com",
            "DeleteAccessKey",
            f"{eng.login}@{w.org.domain}",
            "AssumedRole",
            office.nat.ip,
            ua.replace("create-access-key", "delete-access-key"),
            role=ROLE,
            read_only=False,
            request={"userName": "eval-harness", "accessKeyId": "AKIA" + "Q" * 16},
            tag="benign-scheduled-key-rotation",
        )
    )
    _item(
        w,
        Item(
            "benign-scheduled-key-rotation",
            "persistence",
            ["T1098.001"],
            "persistence.credentials_minted",
            "An engineer nobody attacked rotates the eval-harness CI key from their office on the "
            "quarterly schedule: a new key, the old one deleted six minutes later.",
            malicious=False,
        ),
        eng,
        office.nat,
    )
