"""IP addresses in the engine: one sortable text form for IPv4 and IPv6, and the
private and reserved ranges every deployment knows without a file.

**One form for both families.** An address becomes 32 lower-case hex digits — the
128-bit IPv6 value, IPv4 as its IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) — so
one range test ``start <= ip AND ip <= end`` over fixed-width strings works on
DuckDB and Spark alike (both compare strings byte by byte). Ranges are joined on a
*bucket* first — the /16 of an IPv4 address, the /32 of an IPv6 one — so the join is
an equi-join plus a filter on both engines, not a nested loop
(:func:`bucket_rows` writes one row per bucket a range covers).

:func:`with_ip_hex` computes the form in the engine (for the distinct addresses of a
table, not per row); :func:`ip_hex` is the same in Python, for building range tables.

**Private and reserved.** :func:`network_class_expr` labels an address ``private``
(RFC 1918, loopback, link-local, CGNAT 100.64/10, IPv6 ULA fc00::/7, link-local,
site-local) or ``reserved`` (``0/8``, IETF protocol assignments, the documentation
ranges, benchmarking, multicast, 240/4, broadcast; IPv6 unspecified, multicast and
documentation), NULL for anything else. It is a regex per row over the text,
cheap enough to run on every row with no join; IPv6 is judged on its first groups, so
it holds for every textual form of the ranges listed (the tests compare it with
Python's ``ipaddress`` over each range's edges). IPv4-mapped IPv6 text
(``::ffff:10.0.0.1``) is judged as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

import ibis

MAPPED_PREFIX = "0" * 20 + "ffff"  # ::ffff:0:0/96, IPv4-mapped IPv6
_MAPPED_LO = 0xFFFF << 32
_MAPPED_HI = _MAPPED_LO | 0xFFFFFFFF
V4_BUCKET_BITS = 16  # buckets: /16 of IPv4 …
V6_BUCKET_BITS = 32  # … and /32 of IPv6
MAX_BUCKETS = 1 << 16  # a range wider than this many buckets is not joinable (see bucket_rows)

PRIVATE_V4 = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",  # shared address space (carrier-grade NAT, also Tailscale)
    "127.0.0.0/8",
    "169.254.0.0/16",
)
RESERVED_V4 = (
    "0.0.0.0/8",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # TEST-NET-1
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, with 255.255.255.255
)
PRIVATE_V6 = ("fc00::/7", "fe80::/10", "fec0::/10", "::1/128")
RESERVED_V6 = ("::/128", "ff00::/8", "2001:db8::/32", "3fff::/20")

# The IPv6 ranges above as regexes over lower-case text: each is decided by the first
# group(s), written with or without leading zeros.
_PRIVATE_V6_RX = (
    r"^f[cd][0-9a-f]{2}:",  # fc00::/7
    r"^fe[89ab][0-9a-f]:",  # fe80::/10
    r"^fe[c-f][0-9a-f]:",  # fec0::/10
    r"^[0:]*:0*1$",  # ::1 in any spelling
)
_RESERVED_V6_RX = (
    r"^[0:]*::[0:]*$|^0{1,4}(:0{1,4}){7}$",  # ::
    r"^ff[0-9a-f]{2}:",  # ff00::/8
    r"^2001:0?db8:",  # 2001:db8::/32
    r"^3fff:0?[0-9a-f]{0,3}:",  # 3fff::/20
)


def ip_int(ip: str) -> int | None:
    """The 128-bit value of ``ip`` (IPv4 as IPv4-mapped IPv6), None if it is no address."""
    try:
        a = ipaddress.ip_address(ip.strip().split("%", 1)[0])
    except ValueError:
        return None
    return _MAPPED_LO | int(a) if a.version == 4 else int(a)


def ip_hex(ip: str | None) -> str | None:
    """``ip`` as 32 hex digits (see the module notes), None if it is no address."""
    n = ip_int(ip) if ip is not None else None
    return None if n is None else format(n, "032x")


def network_int_range(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return _MAPPED_LO | lo, _MAPPED_LO | hi
    return lo, hi


def _bucket_of(n: int) -> tuple[int, int]:
    """(family, bucket number): family 4 for the IPv4-mapped block, else 6."""
    if _MAPPED_LO <= n <= _MAPPED_HI:
        return 4, (n & 0xFFFFFFFF) >> (32 - V4_BUCKET_BITS)
    return 6, n >> (128 - V6_BUCKET_BITS)


def _bucket_str(family: int, b: int) -> str:
    if family == 4:
        return MAPPED_PREFIX + format(b, "04x")
    return format(b, "08x")


def bucket(hex_ip: str) -> str:
    """The join bucket of an address in hex form (what :func:`bucket_expr` computes)."""
    return hex_ip[:28] if hex_ip.startswith(MAPPED_PREFIX) else hex_ip[:8]


def bucket_rows(lo: int, hi: int) -> Iterator[tuple[str, str, str]]:
    """``(bucket, start, end)`` rows for the range ``lo..hi``: one per bucket it
    covers, cut at the IPv4-mapped block's edges. A piece that would need more than
    :data:`MAX_BUCKETS` rows (an IPv6 range wider than a /16) is skipped — no geo
    database or cloud feed has one, and the join could not use it."""
    pieces = []
    if hi < _MAPPED_LO or lo > _MAPPED_HI:
        pieces.append((lo, hi))
    else:
        if lo < _MAPPED_LO:
            pieces.append((lo, _MAPPED_LO - 1))
        pieces.append((max(lo, _MAPPED_LO), min(hi, _MAPPED_HI)))
        if hi > _MAPPED_HI:
            pieces.append((_MAPPED_HI + 1, hi))
    for a, b in pieces:
        fam, b0 = _bucket_of(a)
        _, b1 = _bucket_of(b)
        if b1 - b0 + 1 > MAX_BUCKETS:
            continue
        s, e = format(a, "032x"), format(b, "032x")
        for k in range(b0, b1 + 1):
            yield _bucket_str(fam, k), s, e


def bucket_count(lo: int, hi: int) -> int:
    fa, b0 = _bucket_of(lo)
    fb, b1 = _bucket_of(hi)
    return b1 - b0 + 1 if fa == fb else MAX_BUCKETS + 1


# -- classification -------------------------------------------------------------------------


def _v4_cidr_regex(net: ipaddress.IPv4Network) -> str:
    """A regex (no anchors) for the dotted-decimal text of every address in ``net``."""
    octets = str(net.network_address).split(".")
    full, rest = divmod(net.prefixlen, 8)
    fixed = octets[:full]
    head = "".join(o + r"\." for o in fixed)
    if full == 4:
        return head[: -len(r"\.")] + "$"
    if rest == 0:
        return head if fixed else r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"
    first = int(octets[full])
    values = "|".join(str(v) for v in range(first, first + (1 << (8 - rest))))
    tail = r"\." if full < 3 else "$"
    return f"{head}(?:{values}){tail}"


def v4_regex(cidrs: Iterable[str]) -> str | None:
    """One anchored regex for the text of the IPv4 addresses in ``cidrs`` (also in
    IPv4-mapped IPv6 text, ``::ffff:a.b.c.d``); None when there is none."""
    parts = [_v4_cidr_regex(ipaddress.IPv4Network(c, strict=False)) for c in cidrs]
    if not parts:
        return None
    return r"^(?:::ffff:)?(?:" + "|".join(parts) + ")"


PRIVATE_RX = v4_regex(PRIVATE_V4) + "|" + "|".join(_PRIVATE_V6_RX)
RESERVED_RX = v4_regex(RESERVED_V4) + "|" + "|".join(_RESERVED_V6_RX)

_PRIVATE_NETS = [ipaddress.ip_network(c) for c in PRIVATE_V4 + PRIVATE_V6]
_RESERVED_NETS = [ipaddress.ip_network(c) for c in RESERVED_V4 + RESERVED_V6]


def network_class(ip: str | None) -> str | None:
    """``private``, ``reserved`` or None (public or not an address) — Python's view,
    by ``ipaddress`` over the same ranges as :func:`network_class_expr`."""
    if ip is None:
        return None
    try:
        a = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    if any(a in n for n in _PRIVATE_NETS if n.version == a.version):
        return "private"
    if any(a in n for n in _RESERVED_NETS if n.version == a.version):
        return "reserved"
    return None


def network_class_expr(ip: ibis.StringValue) -> ibis.StringValue:
    """``private`` / ``reserved`` / NULL for the address text ``ip``, per row, no join."""
    low = ip.lower()
    return ibis.cases(
        (low.re_search(PRIVATE_RX), "private"),
        (low.re_search(RESERVED_RX), "reserved"),
        else_=ibis.null("string"),
    )


# -- the hex form in the engine --------------------------------------------------------------

_HEX256 = "".join(f"{i:02x}" for i in range(256))
_V4 = r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})"
_V4_TAIL = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$"
_V6_FULL = r"^([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}$"


def _v4_hex_expr(s: ibis.StringValue) -> ibis.StringValue:
    """8 hex digits of dotted-decimal ``s``; NULL unless it is exactly one address."""
    octs = [s.re_extract(f"^{_V4}$", i).try_cast("int64") for i in range(1, 5)]
    table = ibis.literal(_HEX256)
    valid = octs[0] <= 255
    for o in octs[1:]:
        valid = valid & (o <= 255)
    hexes = [table.substr(o * 2, 2) for o in octs]
    return ibis.ifelse(
        valid.fill_null(False), hexes[0] + hexes[1] + hexes[2] + hexes[3], ibis.null("string")
    )


def _groups(x: ibis.StringValue) -> ibis.IntegerValue:
    return ibis.ifelse(x == "", 0, x.length() - x.replace(":", "").length() + 1)


def with_ip_hex(t: ibis.Table, column: str, out: str) -> ibis.Table:
    """``t`` with ``out``: :func:`ip_hex` of the address text in ``column``, computed in
    the engine (DuckDB and Spark), NULL for text that is no address.

    Written as a chain of small projections, each naming what the next reuses: as one
    expression the SQL text repeats every shared part at each use (24 MB of SQL for
    this conversion). A dozen string operations per address — meant for a table's
    *distinct* addresses, joined back, not for every row."""
    cols = list(t.columns)
    t = t.mutate(_x_s=t[column].strip().lower().re_replace("%.*$", ""))
    t = t.mutate(_x_tail=t._x_s.re_extract(f"({_V4_TAIL})", 1), _x_is4=t._x_s.re_search(f"^{_V4}$"))
    t = t.mutate(_x_v4=_v4_hex_expr(t._x_s), _x_th=_v4_hex_expr(t._x_tail))
    # an IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hex groups
    t = t.mutate(
        _x_s6=ibis.ifelse(
            t._x_tail == "",
            t._x_s,
            t._x_s.re_replace(_V4_TAIL, "") + t._x_th.substr(0, 4) + ":" + t._x_th.substr(4, 4),
        )
    )
    t = t.mutate(_x_full=_expand_v6(t._x_s6))
    t = t.mutate(_x_g=_concat(_v6_groups(t._x_full, 8)), _x_ok=t._x_full.re_search(_V6_FULL))
    t = t.mutate(
        **{
            out: ibis.ifelse(
                t._x_is4,
                ibis.literal(MAPPED_PREFIX) + t._x_v4,
                ibis.ifelse(t._x_ok, t._x_g, ibis.null("string")),
            )
        }
    )
    return t.select(*cols, out)


def _expand_v6(s: ibis.StringValue) -> ibis.StringValue:
    """IPv6 text with ``::`` written out as zero groups (``1::2`` → ``1:0:0:0:0:0:0:2``)."""
    left = s.re_extract("^(.*?)::", 1)
    right = s.re_extract("::(.*)$", 1)
    missing = ibis.greatest(8 - _groups(left) - _groups(right), 0)
    expanded = (
        ibis.ifelse(left == "", "", left + ":") + ibis.literal("0:").repeat(missing) + right
    ).re_replace(":$", "")
    return ibis.ifelse(s.contains("::"), expanded, s)


def _v6_groups(full: ibis.StringValue, n: int) -> list[ibis.StringValue]:
    """The first ``n`` groups of expanded IPv6 text, each as 4 hex digits."""
    return [
        full.re_extract(f"^(?:[0-9a-f]{{1,4}}:){{{i}}}([0-9a-f]{{1,4}})", 1).lpad(4, "0")
        for i in range(n)
    ]


def _concat(parts: list[ibis.StringValue]) -> ibis.StringValue:
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def bucket_expr(hex_ip: ibis.StringValue) -> ibis.StringValue:
    """:func:`bucket` in the engine."""
    return ibis.ifelse(hex_ip.startswith(MAPPED_PREFIX), hex_ip.substr(0, 28), hex_ip.substr(0, 8))


def cidr_match_expr(ip: ibis.StringValue, cidrs: Iterable[str]) -> ibis.BooleanValue:
    """True where the address text ``ip`` lies in one of ``cidrs`` (False for NULL),
    per row, no join.

    IPv4 networks are one regex over the text (exact: the octet values are listed;
    IPv4-mapped IPv6 text included). IPv6 networks compare the leading groups the
    prefix covers, written out, for rows whose text has a colon."""
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    v4 = [str(n) for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    low = ip.lower()
    cond = ibis.literal(False)
    rx = v4_regex(v4)
    if rx:
        cond = cond | low.re_search(rx)
    if v6:
        n = max(1, max((x.prefixlen + 15) // 16 for x in v6))
        full = _expand_v6(low)
        head = _concat(_v6_groups(full, n))
        inside = ibis.literal(False)
        for x in v6:
            lo, hi = network_int_range(x)
            shift = 128 - 16 * n
            width = 4 * n
            inside = inside | head.between(
                format(lo >> shift, f"0{width}x"), format(hi >> shift, f"0{width}x")
            )
        ok = full.re_search(_V6_FULL)
        cond = cond | ibis.ifelse(low.contains(":"), inside & ok, False)
    return cond.fill_null(False)
