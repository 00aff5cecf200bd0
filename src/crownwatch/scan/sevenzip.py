"""A small, bounds-checked 7z reader for the common cases (no py7zr import).

py7zr is complete but costs ~0.2 s of imports (crypto, brotli, zstd, ppmd backends), more
than scanning hundreds of pickles. Most model archives use the 7-Zip defaults: LZMA or LZMA2,
optionally behind a BCJ/Delta filter, with an LZMA-compressed ("encoded") header - all of
which the standard library's :mod:`lzma` decodes in raw mode. This module parses the 7z
header by hand (signature header, encoded header, pack/unpack/substreams info, file names)
and decodes such folders with caps on every count and size. Anything else (AES encryption,
PPMd, BZip2, Deflate, complex coder graphs, malformed headers) raises :class:`Unsupported`,
and the caller falls back to py7zr.
"""

from __future__ import annotations

import lzma
import struct

SIGNATURE = b"7z\xbc\xaf\x27\x1c"
MAX_ITEMS = 100_000


class Unsupported(Exception):
    pass


class _R:
    def __init__(self, buf: bytes):
        self.b = buf
        self.p = 0

    def byte(self) -> int:
        if self.p >= len(self.b):
            raise Unsupported("truncated header")
        v = self.b[self.p]
        self.p += 1
        return v

    def take(self, n: int) -> bytes:
        if n < 0 or self.p + n > len(self.b):
            raise Unsupported("truncated header")
        v = self.b[self.p : self.p + n]
        self.p += n
        return v

    def num(self) -> int:
        first = self.byte()
        mask = 0x80
        value = 0
        for i in range(8):
            if not first & mask:
                return value | ((first & (mask - 1)) << (8 * i))
            value |= self.byte() << (8 * i)
            mask >>= 1
        return value

    def count(self) -> int:
        n = self.num()
        if n > MAX_ITEMS:
            raise Unsupported("too many items")
        return n

    def bits(self, n: int) -> list[bool]:
        out, mask, cur = [], 0, 0
        for _ in range(n):
            if mask == 0:
                cur, mask = self.byte(), 0x80
            out.append(bool(cur & mask))
            mask >>= 1
        return out

    def digests(self, n: int) -> None:
        defined = [True] * n if self.byte() else self.bits(n)
        self.take(4 * sum(defined))


class Folder:
    __slots__ = ("coders", "unpack_sizes")

    def __init__(self):
        self.coders: list[tuple[bytes, bytes]] = []
        self.unpack_sizes: list[int] = []


def _folder(r: _R) -> Folder:
    f = Folder()
    n = r.count()
    if not 1 <= n <= 4:
        raise Unsupported(f"{n} coders")
    for _ in range(n):
        flags = r.byte()
        cid = r.take(flags & 0x0F)
        if flags & 0x10:
            n_in, n_out = r.num(), r.num()
            if n_in != 1 or n_out != 1:
                raise Unsupported("complex coder")
        props = r.take(r.num()) if flags & 0x20 else b""
        if flags & 0x80:
            raise Unsupported("alternative methods")
        f.coders.append((cid, props))
    for _ in range(n - 1):  # bind pairs: a simple chain is all we take
        r.num()
        r.num()
    return f


def _streams(r: _R) -> tuple[int, list[int], list[Folder], list[list[int]]]:
    pack_pos, pack_sizes, folders, sub = 0, [], [], []
    while True:
        pid = r.byte()
        if pid == 0x00:
            break
        if pid == 0x06:  # PackInfo
            pack_pos = r.num()
            npack = r.count()
            while True:
                t = r.byte()
                if t == 0x00:
                    break
                if t == 0x09:
                    pack_sizes = [r.num() for _ in range(npack)]
                elif t == 0x0A:
                    r.digests(npack)
                else:
                    raise Unsupported("pack info")
        elif pid == 0x07:  # UnpackInfo
            if r.byte() != 0x0B:
                raise Unsupported("unpack info")
            nf = r.count()
            if r.byte() != 0:
                raise Unsupported("external folders")
            folders = [_folder(r) for _ in range(nf)]
            if r.byte() != 0x0C:
                raise Unsupported("unpack sizes")
            for f in folders:
                f.unpack_sizes = [r.num() for _ in f.coders]
            while True:
                t = r.byte()
                if t == 0x00:
                    break
                if t == 0x0A:
                    r.digests(len(folders))
                else:
                    raise Unsupported("unpack info")
        elif pid == 0x08:  # SubStreamsInfo
            counts = [1] * len(folders)
            t = r.byte()
            if t == 0x0D:
                counts = [r.count() for _ in folders]
                t = r.byte()
            sizes: list[list[int]] = []
            if t == 0x09:
                for f, c in zip(folders, counts, strict=True):
                    part = [r.num() for _ in range(max(c - 1, 0))]
                    if c:
                        part.append(f.unpack_sizes[0] - sum(part))
                    sizes.append(part)
                t = r.byte()
            else:
                sizes = [
                    [f.unpack_sizes[0]] if c else [] for f, c in zip(folders, counts, strict=True)
                ]
            while t != 0x00:
                if t == 0x0A:
                    r.digests(sum(1 for c in counts for _ in range(c)))
                else:
                    raise Unsupported("substreams info")
                t = r.byte()
            sub = sizes
        else:
            raise Unsupported(f"streams property {pid}")
    if not sub:
        sub = [[f.unpack_sizes[0]] for f in folders]
    return pack_pos, pack_sizes, folders, sub


def _filters(f: Folder) -> list[dict]:
    """lzma raw filter chain: BCJ/Delta filters first, the one compressor last."""
    chain = []
    comp = []
    for cid, props in f.coders:
        if cid == b"\x21":
            comp.append(lzma._decode_filter_properties(lzma.FILTER_LZMA2, props))  # noqa: SLF001
        elif cid == b"\x03\x01\x01":
            comp.append(lzma._decode_filter_properties(lzma.FILTER_LZMA1, props))  # noqa: SLF001
        elif cid == b"\x03\x03\x01\x03":
            chain.append({"id": lzma.FILTER_X86})
        elif cid == b"\x03":
            chain.append({"id": lzma.FILTER_DELTA, "dist": (props[0] + 1) if props else 1})
        elif cid == b"\x00":
            continue
        else:
            raise Unsupported(f"coder {cid.hex()}")
    if len(comp) > 1 or len(chain) > 2:
        raise Unsupported("coder chain")
    return chain + comp


def _decode(data, start: int, size: int, f: Folder, limit: int) -> bytes:
    if start < 0 or size < 0 or start + size > len(data):
        raise Unsupported("packed stream outside the file")
    raw = bytes(data[start : start + size])
    chain = _filters(f)
    out_size = f.unpack_sizes[0]
    if out_size > limit:
        raise Unsupported("folder larger than the scan limit")
    if not chain:
        return raw[:out_size]
    try:
        d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=chain)
        return d.decompress(raw, max_length=out_size)
    except (lzma.LZMAError, ValueError) as exc:
        raise Unsupported(f"lzma: {exc}") from exc


def read_7z(data, limit: int) -> list[tuple[str, bytes]]:
    """(name, content) for every file in a 7z archive; raises Unsupported to fall back."""
    if bytes(data[:6]) != SIGNATURE or len(data) < 32:
        raise Unsupported("not 7z")
    off, size = struct.unpack("<QQ", bytes(data[12:28]))
    hstart = 32 + off
    if size == 0 or size > 64 << 20 or hstart + size > len(data):
        raise Unsupported("header outside the file")
    header = bytes(data[hstart : hstart + size])
    for _ in range(4):
        r = _R(header)
        pid = r.byte()
        if pid == 0x17:  # encoded header
            pack_pos, pack_sizes, folders, _ = _streams(r)
            if not folders or not pack_sizes:
                raise Unsupported("empty encoded header")
            header = _decode(data, 32 + pack_pos, pack_sizes[0], folders[0], 64 << 20)
            continue
        if pid != 0x01:
            raise Unsupported("no header")
        break
    else:
        raise Unsupported("header nesting")
    pack_pos, pack_sizes, folders, sub = 0, [], [], []
    names: list[str] = []
    empty_stream: list[bool] = []
    empty_file: list[bool] = []
    nfiles = 0
    while True:
        pid = r.byte()
        if pid == 0x00:
            break
        if pid == 0x04:
            pack_pos, pack_sizes, folders, sub = _streams(r)
        elif pid == 0x05:
            nfiles = r.count()
            while True:
                t = r.byte()
                if t == 0x00:
                    break
                n = r.num()
                body = _R(r.take(n))
                if t == 0x0E:
                    empty_stream = body.bits(nfiles)
                elif t == 0x0F:
                    empty_file = body.bits(sum(empty_stream))
                elif t == 0x11:
                    if body.byte() != 0:
                        raise Unsupported("external names")
                    names = body.b[1:].decode("utf-16-le", "replace").split("\x00")[:nfiles]
        elif pid in (0x02, 0x03):
            raise Unsupported("archive properties")
        else:
            raise Unsupported(f"header property {pid}")
    if not empty_stream:
        empty_stream = [False] * nfiles
    if len(names) < nfiles:
        names += [f"<unnamed {i}>" for i in range(len(names), nfiles)]
    # stream contents, in folder order
    contents: list[bytes] = []
    pos = 32 + pack_pos
    total = 0
    for i, f in enumerate(folders):
        psize = pack_sizes[i] if i < len(pack_sizes) else 0
        blob = _decode(data, pos, psize, f, limit - total)
        total += len(blob)
        pos += psize
        q = 0
        for s in sub[i] if i < len(sub) else [len(blob)]:
            if s < 0 or q + s > len(blob):
                raise Unsupported("substream sizes")
            contents.append(blob[q : q + s])
            q += s
    out = []
    k = 0
    ei = 0
    for i in range(nfiles):
        if empty_stream[i]:
            is_dir = not (ei < len(empty_file) and empty_file[ei])
            ei += 1
            if not is_dir:
                out.append((names[i], b""))
            continue
        if k >= len(contents):
            raise Unsupported("fewer streams than files")
        out.append((names[i], contents[k]))
        k += 1
    return out


def list_names(data) -> list[str]:
    return [n for n, _ in read_7z(data, 0)]
