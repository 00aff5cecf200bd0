"""Small helpers shared by the vendor writers."""

from __future__ import annotations

import random
from datetime import UTC, datetime


def iso_ms(t: datetime) -> str:
    """2026-03-02T10:00:01.123Z"""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def iso_s(t: datetime) -> str:
    """2026-03-02T10:00:01Z"""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_7(t: datetime) -> str:
    """Windows SystemTime: 2026-03-02T10:00:01.1234560Z"""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


def syslog_ts(t: datetime) -> str:
    """Mar  2 10:00:01 (RFC 3164: day padded with a space, no year)."""
    return t.strftime("%b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S")


def rand_hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


_TABLES: dict[str, bytes] = {}


def rand_alnum(
    rng: random.Random,
    n: int,
    alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
) -> str:
    """``n`` characters drawn from ``alphabet`` (deterministic for the rng's seed)."""
    table = _TABLES.get(alphabet)
    if table is None:
        table = _TABLES[alphabet] = bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))
    return rng.randbytes(n).translate(table).decode("ascii")


def uuid_from(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def ua_parts(ua: str) -> tuple[str, str, str]:
    """(os, browser, device) the way Okta and Entra summarise a user agent."""
    low = ua.lower()
    if "iphone" in low or "ios" in low:
        os_, device = "iOS", "Mobile"
    elif "android" in low:
        os_, device = "Android", "Mobile"
    elif "mac os x" in low or "macintosh" in low:
        os_, device = "Mac OS X", "Computer"
    elif "windows" in low:
        os_, device = "Windows 10", "Computer"
    elif "linux" in low:
        os_, device = "Linux", "Computer"
    else:
        os_, device = "Unknown", "Unknown"
    if "okta verify" in low:
        browser = "UNKNOWN"
    elif "edg/" in low:
        browser = "EDGE"
    elif "firefox" in low:
        browser = "FIREFOX"
    elif "chrome" in low:
        browser = "CHROME"
    elif "safari" in low:
        browser = "SAFARI"
    else:
        browser = "UNKNOWN"
    return os_, browser, device
