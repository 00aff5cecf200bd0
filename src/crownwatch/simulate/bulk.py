"""``generate_identity_bulk`` — millions of sign-in records of one format, fast, for
benchmarks.

The records are the same layout :mod:`crownwatch.simulate.formats` writes (each
template is rendered once by the real writer, then its per-event slots — time,
ids, actor, client, network — are filled by plain string formatting), so a parser
that reads the ``generate_identity`` output reads these. Background is a steady
stream of successes with a few per cent of failures — people mistyping a password or
their login and getting it right from the same place a few seconds to two minutes
later (1 % of them give up on their phone and come back another time); into it one single-source
password spray is planted (one hosting IP, 60 accounts, one or two tries each within
half an hour, T1110.003), and the returned truth says where.

Supported formats: ``okta`` (JSON lines) and ``linux_auth``.
"""

from __future__ import annotations

import gzip
import heapq
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crownwatch.simulate.events import SignIn
from crownwatch.simulate.formats import okta
from crownwatch.simulate.population import build_org

FORMATS = ("okta", "linux_auth")
START = datetime(2026, 3, 2, tzinfo=UTC)
SPRAY_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CHUNK = 20_000


def _sentinel(name: str) -> str:
    return f"\x00{name}\x00"


OKTA_SLOTS = ("actor", "client", "t", "sec", "rid", "rid", "uuid", "req")


def _okta_template(outcome: str, dt_hash: str) -> list[str]:
    """One ``user.session.start`` record cut into the static pieces around its
    per-event slots (:data:`OKTA_SLOTS`, in order)."""
    ev = SignIn(time=START, system="okta", user="x", outcome=outcome, src_ip="192.0.2.1")
    rec = okta.records(ev, random.Random(0))[0]
    rec["actor"] = _sentinel("actor")
    rec["client"] = _sentinel("client")
    rec["securityContext"] = _sentinel("sec")
    rec["request"] = _sentinel("req")
    rec["published"] = _sentinel("t")
    rec["uuid"] = _sentinel("uuid")
    rec["authenticationContext"]["rootSessionId"] = rec["authenticationContext"][
        "externalSessionId"
    ] = "unknown"
    dd = rec["debugContext"]["debugData"]
    dd["requestId"] = rec["transaction"]["id"] = _sentinel("rid")
    dd["dtHash"] = dt_hash
    text = json.dumps(rec, separators=(",", ":")) + "\n"
    for name in ("actor", "client", "sec", "req"):
        text = text.replace(json.dumps(_sentinel(name)), "\x01" + name + "\x01")
    for name in ("t", "uuid", "rid"):
        text = text.replace(json.dumps(_sentinel(name))[1:-1], "\x01" + name + "\x01")
    parts = text.split("\x01")
    assert tuple(parts[1::2]) == OKTA_SLOTS, parts[1::2]
    return parts[0::2]


def _place_fragments(ev: SignIn) -> tuple[str, str, str]:
    rec = okta.records(ev, random.Random(0))[0]
    dumps = json.dumps
    return (
        dumps(rec["client"], separators=(",", ":")),
        dumps(rec["securityContext"], separators=(",", ":")),
        dumps(rec["request"], separators=(",", ":")),
    )


def _signin_for(u, net, ua: str, outcome: str = "success") -> SignIn:
    return SignIn(
        time=START,
        system="okta",
        user=u.login if u else "x",
        outcome=outcome,
        src_ip=net.ip,
        display_name=u.display if u else "",
        user_uid=u.okta_id if u else "",
        asn=net.asn,
        as_org=net.as_org,
        isp_domain=net.isp_domain,
        country=net.country,
        region=net.region,
        city=net.city,
        lat=net.lat,
        lon=net.lon,
        is_proxy=net.is_proxy,
        user_agent=ua,
    )


def users_for(events: int) -> int:
    """Organisation size for a week of ``events``: about 70 sign-in events per user
    per day (SSO into a dozen apps, a phone re-authenticating), as a large Okta
    tenant shows — 2,000 users at 1M events, 20,000 at 10M; at 100M the tenant stops
    growing at 60,000 users (about 240 events each a day; the simulated address
    space holds no more). A fixed small
    population would make every user sign in every few seconds around the clock,
    which no detection should be tuned to."""
    return min(60_000, max(300, events // 500))


def generate_identity_bulk(out_path: Path, events: int, seed: int, fmt: str = "okta") -> dict:
    """Stream ``events`` records of ``fmt`` to ``out_path``; return the truth for the
    planted spray. Deterministic for a given ``seed``."""
    if fmt not in FORMATS:
        raise ValueError(f"bulk supports {FORMATS}, not {fmt!r}")
    if events < 100:
        raise ValueError("events must be at least 100")
    rng = random.Random(seed)
    org = build_org(random.Random(seed * 7919 + 1), users_for(events))
    users = org.users
    spray_net = org.book.take("doc3", 135377, "hongkong")
    targets = rng.sample(users, 60)
    spray_count = len(targets) + len(targets) // 2
    background = events - spray_count
    # one event every `gap` ms on average, spread over a week
    span_ms = 7 * 86_400_000
    gap = span_ms / background * 0.995
    spray_start = int(span_ms * 0.41)
    spray: list[tuple[int, object]] = []
    t = spray_start
    for rnd in range(2):
        for u in targets if rnd == 0 else targets[: len(targets) // 2]:
            t += rng.randrange(8_000, 14_000)
            spray.append((t, u))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = _write_okta if fmt == "okta" else _write_linux
    n = writer(out_path, rng, org, users, background, gap, spray, spray_net)
    first = START + timedelta(milliseconds=spray[0][0])
    last = START + timedelta(milliseconds=spray[-1][0])
    user_fmt = (lambda u: f"{u.login}@{org.domain}") if fmt == "okta" else (lambda u: u.sam)
    return {
        "generator": "crownwatch.simulate.bulk",
        "format": fmt,
        "path": str(out_path),
        "seed": seed,
        "records": n,
        "events": background + len(spray),
        "start": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (START + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attacks": [
            {
                "id": "bulk-spray",
                "kind": "password_spray",
                "technique": ["T1110.003"],
                "detection": "identity.password_spray",
                "src_ips": [spray_net.ip],
                "users": sorted({user_fmt(u) for _t, u in spray}),
                "first_seen": first.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "last_seen": last.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "events": len(spray),
                "outcomes": {"bad_password": len(spray)},
            }
        ],
    }


def _write_okta(
    path: Path, rng: random.Random, org, users, background: int, gap: float, spray, spray_net
) -> int:
    dt_hash = f"{rng.getrandbits(256):064x}"
    tpls = [_okta_template(o, dt_hash) for o in ("success", "bad_password", "unknown_user")]
    days = [(START + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(9)]

    # Everything that does not change per event is joined ahead of time: for each
    # user x place x outcome, the text up to the timestamp (head) and between the
    # timestamp and the request id (mid); after the uuid comes the place's ipChain.
    def actor(u) -> str:
        return json.dumps(
            {
                "id": u.okta_id,
                "type": "User",
                "alternateId": f"{u.login}@{org.domain}",
                "displayName": u.display,
                "detailEntry": None,
            },
            separators=(",", ":"),
        )

    def ghost(u) -> str:
        return json.dumps(
            {
                "id": "unknown",
                "type": "User",
                "alternateId": f"{u.login.replace('.', '_')}@{org.domain}",
                "displayName": "unknown",
                "detailEntry": None,
            },
            separators=(",", ":"),
        )

    def cut(tpl, act, place):
        client, sec, req = place
        return (
            tpl[0] + act + tpl[1] + client + tpl[2],
            tpl[3] + sec + tpl[4],
            tpl[5],
            tpl[6],
            tpl[7] + req + tpl[8],
        )

    table = []  # [user][place][outcome] -> pieces
    for u in users:
        places = [
            _place_fragments(_signin_for(u, u.office.nat, u.ua_desktop)),
            _place_fragments(_signin_for(u, u.home, u.ua_desktop)),
            _place_fragments(_signin_for(u, u.mobile, u.ua_mobile)),
        ]
        table.append(
            [
                [cut(tpls[0], actor(u), p), cut(tpls[1], actor(u), p), cut(tpls[2], ghost(u), p)]
                for p in places
            ]
        )
    spray_place = _place_fragments(_signin_for(None, spray_net, SPRAY_UA))
    spray_pieces = {id(u): cut(tpls[1], actor(u), spray_place) for _t, u in spray}
    nu = len(users)
    uuid_prefix = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-"
    rid_prefix = "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(15)
    )
    # bytes from here on: the loop only picks pieces, it never formats
    enc = [
        [[tuple(p.encode() for p in pieces) for pieces in per_place] for per_place in row]
        for row in table
    ]
    spray_enc = {k: tuple(p.encode() for p in v) for k, v in spray_pieces.items()}
    secs = [b"%02d." % i for i in range(60)]
    millis = [b"%03dZ" % i for i in range(1000)]
    hex3 = [b"%03x" % i for i in range(4096)]
    rnd = rng.random
    minute_cache: dict[int, bytes] = {}

    def minute(mi: int) -> bytes:
        pre = minute_cache.get(mi)
        if pre is None:
            d, mm = divmod(mi, 1440)
            pre = minute_cache[mi] = f"{days[d]}T{mm // 60:02d}:{mm % 60:02d}:".encode()
        return pre

    t = 0.0
    si = 0
    n = 0
    # (ms, seq, user, place) of the successful retry that follows a typo
    retries: list[tuple[int, int, int, int]] = []
    seq = 0
    with _open_out(path) as fh:
        buf: list[bytes] = []
        ext = buf.extend
        hi = -1
        rid_hi = uuid_hi = b""
        i = 0  # background records written
        t += gap * 2 * rnd()  # when the next fresh sign-in happens
        while True:
            fresh = i + len(retries) < background
            if retries and (not fresh or retries[0][0] <= int(t)):
                ms, _s, k, pl = heapq.heappop(retries)
                pieces = enc[k][pl][0]
            elif fresh:
                ms = int(t)
                t += gap * 2 * rnd()
                x = rnd() * nu
                k = int(x)
                f = x - k
                y = rnd()
                pl = 0 if y < 0.5 else 1 if y < 0.9 else 2
                outcome = 0 if f < 0.94 else 1 if f < 0.99 else 2
                pieces = enc[k][pl][outcome]
                if outcome and (pl != 2 or rnd() < 0.9):
                    seq += 1
                    heapq.heappush(retries, (ms + 5_000 + int(rnd() * 115_000), seq, k, pl))
            else:
                ms = None
            while si < len(spray) and (ms is None or spray[si][0] <= ms):
                sms, u = spray[si]
                head, mid, p5, p6, tail = spray_enc[id(u)]
                mi, r = divmod(sms, 60_000)
                rid = f"{rid_prefix}S{si:011x}".encode()
                ext(
                    (
                        head,
                        minute(mi),
                        secs[r // 1000],
                        millis[r % 1000],
                        mid,
                        rid,
                        p5,
                        rid,
                        p6,
                        f"{uuid_prefix}{(1 << 44) + si:012x}".encode(),
                        tail,
                    )
                )
                si += 1
                n += 1
            if ms is None:
                break
            if i >> 12 != hi:
                hi = i >> 12
                rid_hi = f"{rid_prefix}{hi:09x}".encode()
                uuid_hi = f"{uuid_prefix}{hi:09x}".encode()
            head, mid, p5, p6, tail = pieces
            mi, r = divmod(ms, 60_000)
            lo = hex3[i & 4095]
            ext(
                (
                    head,
                    minute_cache.get(mi) or minute(mi),
                    secs[r // 1000],
                    millis[r % 1000],
                    mid,
                    rid_hi,
                    lo,
                    p5,
                    rid_hi,
                    lo,
                    p6,
                    uuid_hi,
                    lo,
                    tail,
                )
            )
            i += 1
            n += 1
            if len(buf) >= 28_000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))
    return n


def _open_out(path: Path):
    """The output file, gzipped when its name ends in ``.gz``: at 100M events the plain
    file would be 175 GB. Level 1: the generator must not be the slow part."""
    if path.suffix == ".gz":
        return gzip.open(path, "wb", compresslevel=1)
    return open(path, "wb", buffering=1 << 20)


def _syslog(ms: int, days: list[str]) -> str:
    d, r = divmod(ms, 86_400_000)
    h, r = divmod(r, 3_600_000)
    m, r = divmod(r, 60_000)
    s = r // 1000
    return f"{days[d]} {h:02d}:{m:02d}:{s:02d}"


def _write_linux(
    path: Path, rng: random.Random, org, users, background: int, gap: float, spray, spray_net
) -> int:
    days = [
        f"{_MONTHS[(START + timedelta(days=i)).month - 1]} {(START + timedelta(days=i)).day:2d}"
        for i in range(9)
    ]
    hosts = [f"gpu-train-{i:02d}" for i in range(1, 17)] + ["bastion-01"]
    names = [u.sam for u in users]
    ips = [u.ip_internal for u in users]
    rnd = rng.random
    ri = rng.randrange
    t = 0.0
    si = 0
    n = 0
    pid = 4000
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as fh:
        buf: list[str] = []
        for _i in range(background):
            t += gap * 2 * rnd()
            ms = int(t)
            while si < len(spray):
                sms, u = spray[si]
                if sms > ms:
                    break
                pid += 7
                ts = _syslog(sms, days)
                port = 40000 + (si * 37) % 20000
                buf.append(
                    f"{ts} bastion-01 sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={spray_net.ip}  user={u.sam}\n"
                    f"{ts} bastion-01 sshd[{pid}]: Failed password for {u.sam} from {spray_net.ip} port {port} ssh2\n"
                    f"{ts} bastion-01 sshd[{pid}]: Connection closed by authenticating user {u.sam} {spray_net.ip} port {port} [preauth]\n"
                )
                si += 1
                n += 3
            k = ri(len(names))
            pid += 1 + ri(40)
            if pid > 4_000_000:
                pid = 4000
            ts = _syslog(ms, days)
            host = hosts[k % len(hosts)]
            user, ip, port = names[k], ips[k], 32768 + ri(28000)
            y = rnd()
            if y < 0.95:
                buf.append(
                    f"{ts} {host} sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{(k * 0x9E3779B97F4A7C15) & ((1 << 172) - 1):043x}\n"
                    f"{ts} {host} sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid={1001 + k}) by (uid=0)\n"
                )
                n += 2
            elif y < 0.99:
                buf.append(
                    f"{ts} {host} sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2\n"
                )
                n += 1
            else:
                buf.append(
                    f"{ts} {host} sshd[{pid}]: Invalid user {user}x from {ip} port {port}\n"
                    f"{ts} {host} sshd[{pid}]: Failed password for invalid user {user}x from {ip} port {port} ssh2\n"
                )
                n += 2
            if len(buf) >= CHUNK:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    return n
