"""Archive containers: zip (own tolerant reader), tar, 7z, and single-stream compression.

Why a hand-written zip reader: scanners that use :mod:`zipfile` give up on archives that
PyTorch's own reader (miniz) loads happily - a local header whose file name differs from the
central directory, odd general-purpose flag bits (the "encrypted" bit on a member that is not
encrypted), a bad CRC. Those are documented picklescan bypasses. This reader follows the
central directory the way loaders do, takes the data offset from the local header, ignores
flags and CRCs for reading, and reports every such anomaly as an issue. Without a central
directory (truncated download, stripped tail) it falls back to walking local headers.

Defences: members are never written to disk; names with ``..``, absolute paths, drive
letters or links escaping the root are reported (path traversal on extraction); overlapping
members (the classic non-recursive zip bomb), extreme compression ratios and decompressed
sizes beyond the scan budget stop decompression and are reported; nesting depth is capped.
"""

from __future__ import annotations

import re
import stat
import struct
import zlib

MEMBER_LIMIT = 512 << 20  # most bytes decompressed for one member
BOMB_RATIO = 200  # compression ratio that counts as a bomb beyond BOMB_MIN
BOMB_MIN = 64 << 20
MAX_ENTRIES = 200_000
HEAD = 4096


class ZipEntry:
    __slots__ = (
        "name",
        "flags",
        "method",
        "crc",
        "csize",
        "usize",
        "local_offset",
        "ext_attr",
        "local_name",
        "data_offset",
        "issues",
    )

    def __init__(
        self,
        name: str,
        flags: int,
        method: int,
        crc: int,
        csize: int,
        usize: int,
        local_offset: int,
        ext_attr: int = 0,
        local_name: str | None = None,
        data_offset: int = -1,
    ):
        self.name = name
        self.flags = flags
        self.method = method
        self.crc = crc
        self.csize = csize
        self.usize = usize
        self.local_offset = local_offset
        self.ext_attr = ext_attr
        self.local_name = local_name
        self.data_offset = data_offset
        self.issues: list[tuple[str, str, str]] = []


class ZipReader:
    """Tolerant zip reader over bytes or an mmap."""

    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self.entries: list[ZipEntry] = []
        self.issues: list[tuple[str, str, str]] = []
        self.error: str | None = None
        try:
            if not self._read_central():
                self._read_local_headers()
        except (struct.error, ValueError, IndexError) as exc:
            self.error = f"unreadable zip structure: {exc}"
        self._check()

    # -- structure --------------------------------------------------------------------------
    def _read_central(self) -> bool:
        d = self.data
        lo = max(0, self.size - 65557 - 22)
        eocd = d.rfind(b"PK\x05\x06", lo)
        if eocd < 0 or eocd + 22 > self.size:
            self.issues.append(
                (
                    "low",
                    "zip.no_central_directory",
                    "no end-of-central-directory record; members were found by walking local headers",
                )
            )
            return False
        (_, _, _, _, total, cd_size, cd_off, _) = struct.unpack("<4sHHHHIIH", d[eocd : eocd + 22])
        if (
            (total == 0xFFFF or cd_off == 0xFFFFFFFF or cd_size == 0xFFFFFFFF)
            and eocd >= 20
            and d[eocd - 20 : eocd - 16] == b"PK\x06\x07"
        ):
            (z64_off,) = struct.unpack("<Q", d[eocd - 12 : eocd - 4])
            if z64_off + 56 <= self.size and d[z64_off : z64_off + 4] == b"PK\x06\x06":
                total, cd_size, cd_off = struct.unpack("<QQQ", d[z64_off + 32 : z64_off + 56])
        # prepended data (self-extractors, polyglots): central directory sits right before EOCD
        delta = 0
        if (
            cd_off + cd_size != eocd
            and cd_off < self.size
            and d[cd_off : cd_off + 4] != b"PK\x01\x02"
        ):
            guess = eocd - cd_size
            if 0 <= guess < self.size and d[guess : guess + 4] == b"PK\x01\x02":
                delta = guess - cd_off
                self.issues.append(
                    (
                        "low",
                        "zip.prepended_data",
                        f"{delta} bytes precede the archive (polyglot or self-extractor)",
                    )
                )
        pos = cd_off + delta
        seen = 0
        while (
            seen < min(total, MAX_ENTRIES)
            and pos + 46 <= self.size
            and d[pos : pos + 4] == b"PK\x01\x02"
        ):
            (
                flags,
                method,
                _t,
                _dt,
                crc,
                csize,
                usize,
                nlen,
                elen,
                clen,
                _disk,
                _ia,
                ext_attr,
                loff,
            ) = struct.unpack("<HHHHIIIHHHHHII", d[pos + 8 : pos + 46])
            name_b = bytes(d[pos + 46 : pos + 46 + nlen])
            extra = bytes(d[pos + 46 + nlen : pos + 46 + nlen + elen])
            if 0xFFFFFFFF in (csize, usize, loff):
                usize, csize, loff = _zip64_extra(extra, usize, csize, loff)
            self.entries.append(
                ZipEntry(
                    _decode_name(name_b, flags),
                    flags,
                    method,
                    crc,
                    csize,
                    usize,
                    loff + delta,
                    ext_attr,
                )
            )
            pos += 46 + nlen + elen + clen
            seen += 1
        if seen < total and seen < MAX_ENTRIES:
            self.issues.append(
                (
                    "medium",
                    "zip.central_directory_mismatch",
                    f"end record announces {total} members, central directory holds {seen}",
                )
            )
        if not self.entries and total:
            return False
        for e in self.entries:
            self._locate(e)
        return True

    def _locate(self, e: ZipEntry) -> None:
        d = self.data
        lo = e.local_offset
        if lo < 0 or lo + 30 > self.size or d[lo : lo + 4] != b"PK\x03\x04":
            e.issues.append(
                (
                    "medium",
                    "zip.bad_local_header",
                    f"member {e.name!r}: no local header at offset {lo}",
                )
            )
            return
        (_, _ver, lflags, _lmethod, _, _, _, _, _, nlen, elen) = struct.unpack(
            "<IHHHHHIIIHH", d[lo : lo + 30]
        )
        lname = _decode_name(bytes(d[lo + 30 : lo + 30 + nlen]), lflags)
        e.local_name = lname
        e.data_offset = lo + 30 + nlen + elen
        if lname != e.name:
            e.issues.append(
                (
                    "medium",
                    "zip.name_mismatch",
                    f"member {e.name!r}: local header names it {lname!r}; parsers disagree on "
                    "what this member is (documented scanner-evasion trick)",
                )
            )
        if lflags != e.flags and (lflags ^ e.flags) & ~0x0808:
            e.issues.append(
                (
                    "low",
                    "zip.flags",
                    f"member {e.name!r}: local and central flags differ (0x{lflags:04x} vs 0x{e.flags:04x})",
                )
            )

    def _read_local_headers(self) -> None:
        d = self.data
        pos = d.find(b"PK\x03\x04")
        count = 0
        while pos >= 0 and pos + 30 <= self.size and count < MAX_ENTRIES:
            (_, _ver, flags, method, _, _, crc, csize, usize, nlen, elen) = struct.unpack(
                "<IHHHHHIIIHH", d[pos : pos + 30]
            )
            name = _decode_name(bytes(d[pos + 30 : pos + 30 + nlen]), flags)
            start = pos + 30 + nlen + elen
            e = ZipEntry(name, flags, method, crc, csize, usize, pos, 0, name, start)
            if flags & 0x08 or csize == 0 or start + csize > self.size:
                nxt = d.find(b"PK\x03\x04", start)
                e.csize = (nxt if nxt >= 0 else self.size) - start
                if method == 0:
                    e.usize = e.csize
            self.entries.append(e)
            count += 1
            pos = d.find(b"PK\x03\x04", start + max(e.csize, 0))
        if not self.entries:
            self.error = "no zip members found"

    def _check(self) -> None:
        names: dict[str, int] = {}
        spans = []
        for e in self.entries:
            names[e.name] = names.get(e.name, 0) + 1
            if e.flags & 0x1:
                e.issues.append(
                    (
                        "medium",
                        "zip.flags",
                        f"member {e.name!r}: encryption flag set; loaders such as PyTorch's ignore it "
                        "while zipfile-based scanners refuse the member (scanner evasion)",
                    )
                )
            odd = e.flags & ~(0x1 | 0x2 | 0x4 | 0x8 | 0x800)
            if odd:
                e.issues.append(
                    ("low", "zip.flags", f"member {e.name!r}: unusual flag bits 0x{odd:04x}")
                )
            if e.method not in (0, 8, 12, 14, 9):
                e.issues.append(
                    (
                        "low",
                        "archive.unsupported_method",
                        f"member {e.name!r}: compression method {e.method} not supported; not scanned",
                    )
                )
            if e.csize and e.usize / max(e.csize, 1) > BOMB_RATIO and e.usize > BOMB_MIN:
                e.issues.append(
                    (
                        "medium",
                        "archive.bomb",
                        f"member {e.name!r}: {e.csize} bytes expand to {e.usize} (ratio "
                        f"{e.usize // max(e.csize, 1)}); decompression is capped",
                    )
                )
            if e.data_offset >= 0:
                spans.append((e.local_offset, e.data_offset + e.csize, e.name))
            for sev, kind, detail in check_member_name(e.name):
                e.issues.append((sev, kind, detail))
            if stat.S_ISLNK(e.ext_attr >> 16):
                e.issues.append(
                    ("medium", "archive.symlink", f"member {e.name!r} is a symbolic link")
                )
        dups = [n for n, c in names.items() if c > 1]
        if dups:
            self.issues.append(
                (
                    "medium",
                    "zip.duplicate_name",
                    f"names stored more than once (tools pick different copies): {dups[:5]}",
                )
            )
        spans.sort()
        overlaps = sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1])
        if overlaps:
            self.issues.append(
                (
                    "medium",
                    "archive.bomb",
                    f"{overlaps} members overlap in the file (overlapping-entry zip bomb or "
                    "parser confusion)",
                )
            )

    # -- data -------------------------------------------------------------------------------
    def raw(self, e: ZipEntry, n: int | None = None) -> bytes:
        if e.data_offset < 0:
            return b""
        end = e.data_offset + e.csize if n is None else e.data_offset + min(e.csize, n)
        return bytes(self.data[e.data_offset : min(end, self.size)])

    def head(self, e: ZipEntry, n: int = HEAD) -> bytes:
        try:
            if e.method == 0:
                return self.raw(e, n)
            data, _, _ = decompress_member(e.method, self.raw(e, max(n * 4, 65536)), n)
            return bytes(data)
        except Exception:
            return b""

    def read(self, e: ZipEntry, limit: int = MEMBER_LIMIT) -> tuple[bytes, bool, int]:
        """Decompressed member, capped at ``limit``: (data, truncated, compressed bytes
        consumed). The compressed bytes are read in chunks, never copied whole."""
        if e.data_offset < 0:
            return b"", False, 0
        if e.method == 0:
            data = self.raw(e, limit)
            return data, e.csize > limit, len(data)
        end = min(e.data_offset + max(e.csize, 0), self.size)
        with memoryview(self.data) as mv, mv[e.data_offset : max(end, e.data_offset)] as sub:
            return decompress_member(e.method, sub, limit)


def report_oversize(target, what: str, produced: int, packed: int) -> None:
    """Content beyond the scan limit: a bomb when the compression ratio is extreme, otherwise
    simply too large to scan completely (an ``error``: part of it was not looked at)."""
    ratio = produced // max(packed, 1)
    if ratio > BOMB_RATIO:
        target.add(
            "medium",
            "archive.bomb",
            f"{what} expands beyond {produced} bytes from {packed} (ratio {ratio}+); decompression "
            "stopped at the scan limit",
        )
    else:
        target.error = True
        target.add(
            "low",
            "archive.too_large",
            f"{what} is larger than the scan limit; only the first {produced} bytes were scanned",
        )


def _zip64_extra(extra: bytes, usize: int, csize: int, loff: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        hid, size = struct.unpack("<HH", extra[pos : pos + 4])
        body = extra[pos + 4 : pos + 4 + size]
        if hid == 1:
            vals = [struct.unpack("<Q", body[i : i + 8])[0] for i in range(0, len(body) - 7, 8)]
            it = iter(vals)
            if usize == 0xFFFFFFFF:
                usize = next(it, usize)
            if csize == 0xFFFFFFFF:
                csize = next(it, csize)
            if loff == 0xFFFFFFFF:
                loff = next(it, loff)
            break
        pos += 4 + size
    return usize, csize, loff


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & 0x800:
        return raw.decode("utf-8", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


_DRIVE = re.compile(r"^[A-Za-z]:")


def check_member_name(name: str) -> list[tuple[str, str, str]]:
    out = []
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        out.append(
            (
                "high",
                "archive.path_traversal",
                f"member {name!r} has an absolute path; extraction writes outside the target folder",
            )
        )
    elif ".." in norm.split("/"):
        out.append(
            (
                "high",
                "archive.path_traversal",
                f"member {name!r} climbs out of the extraction folder with '..'",
            )
        )
    if not name.isprintable() and any(ord(c) < 32 for c in name):
        out.append(
            ("medium", "archive.odd_name", f"member name {name!r} contains control characters")
        )
    return out


def decompress_member(method: int, raw, limit: int) -> tuple[bytearray, bool, int]:
    """Decompress one zip member's bytes: (data, truncated, compressed bytes consumed)."""
    if method == 8:
        return _pump(zlib.decompressobj(-15), True, raw, limit)[:3]
    if method == 12:
        import bz2

        return _pump(bz2.BZ2Decompressor(), False, raw, limit)[:3]
    if method == 14:
        import lzma

        if len(raw) < 9:
            raise ValueError("short lzma member")
        head = bytes(raw[:4])
        psize = struct.unpack("<H", head[2:4])[0]
        props = bytes(raw[4 : 4 + psize])
        filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # noqa: SLF001
        d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])
        with memoryview(raw) as mv, mv[4 + psize :] as body:
            return _pump(d, False, body, limit)[:3]
    if method == 9:
        try:
            import inflate64
        except ImportError as exc:
            raise ValueError("deflate64 needs inflate64") from exc
        # Inflater.inflate returns all the output of its input at once: feed it small pieces
        inf = inflate64.Inflater()
        out = bytearray()
        with memoryview(raw) as mv:
            pos = 0
            while pos < len(mv) and len(out) <= limit:
                piece = bytes(mv[pos : pos + 4096])
                pos += len(piece)
                out += inf.inflate(piece)
                if len(out) >= BOMB_MIN and len(out) > BOMB_RATIO * pos:
                    return out, True, pos
        truncated = len(out) > limit
        del out[limit:]
        return out, truncated, pos
    if method == 0:
        data = bytearray(raw[:limit])
        return data, len(raw) > limit, len(data)
    raise ValueError(f"compression method {method} not supported")


# output is produced in steps of at most this many bytes, so the ratio check runs in between
_STEP = 16 << 20


def _pump(d, is_zlib: bool, data, limit: int, chunk: int = 1 << 18):
    """Feed ``data`` to decompressor ``d`` in chunks; at most ``limit`` bytes out.

    Returns (output, truncated, compressed bytes consumed, end of stream reached); at the end
    of stream, "consumed" is where the input after the stream starts. Stops early, as truncated, once the output passes
    ``BOMB_MIN`` at a ratio above ``BOMB_RATIO``: a decompression bomb need not be expanded to
    the limit to be recognised, and memory stays bounded by what was produced."""
    out = bytearray()
    with memoryview(data) as mv:
        total = len(mv)
        pos = 0
        pending = b""
        consumed = 0
        truncated = False
        filled = False  # the last call stopped at its output cap: more output may be held
        while True:
            if pending:
                piece, pending = pending, b""
            elif pos < total:
                piece = bytes(mv[pos : pos + chunk])
                pos += len(piece)
            elif d.eof or not filled or (not is_zlib and d.needs_input):
                break
            else:
                piece = b""  # the decompressor holds more output for the input already given
            room = min(limit - len(out) + 1, _STEP)
            if is_zlib:
                got = d.decompress(piece, room)
                pending = d.unconsumed_tail
                consumed = pos - len(pending)
            else:
                got = d.decompress(piece, max_length=room)
                consumed = pos
            filled = len(got) >= room
            out += got
            del got
            if len(out) > limit:
                truncated = True
                break
            if len(out) >= BOMB_MIN and len(out) > BOMB_RATIO * max(consumed, 1):
                truncated = True
                break
            if d.eof:
                break
        if d.eof:  # input after the end of the stream starts here
            consumed = pos - len(d.unused_data)
    del out[limit:]
    return out, truncated, max(consumed, 1), d.eof


def decompress_stream(kind: str, data, limit: int) -> tuple[bytearray, bool, int, bool]:
    """Decompress a gzip/bz2/xz/lzma/zlib stream, at most ``limit`` bytes out.

    Returns (data, truncated, compressed bytes consumed, complete). ``complete`` is false when
    the input ends before the end of the stream (a truncated file). Concatenated gzip members
    are followed, as gzip readers (and joblib) do."""
    if kind == "zlib-zf":  # joblib < 0.10: b'ZF' + hex length padded to 19/20 bytes + zlib stream
        head = bytes(data[:48])
        start = head.find(b"x", 4)  # the zlib header byte; the hex digits after '0x' hold no 'x'
        with memoryview(data) as mv, mv[start if start > 0 else 21 :] as rest:
            return decompress_stream("zlib", rest, limit)
    import bz2
    import lzma

    def new():
        if kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if kind == "zlib":
            return zlib.decompressobj()
        if kind == "bz2":
            return bz2.BZ2Decompressor()
        if kind == "xz":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ)
        if kind == "lzma":
            return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
        raise ValueError(f"{kind} decompression is not available")

    is_zlib = kind in ("gzip", "zlib")
    with memoryview(data) as mv:
        out, truncated, used, eof = _pump(new(), is_zlib, mv, limit)
        # concatenated gzip members: gzip readers read on
        while (
            kind == "gzip" and eof and not truncated and bytes(mv[used : used + 2]) == b"\x1f\x8b"
        ):
            with mv[used:] as rest:
                more, truncated, consumed, eof = _pump(new(), True, rest, limit - len(out))
            out += more
            used += consumed
    return out, truncated, max(used, 1), eof
