"""Archives of logs — zip, tar (plain, gzip, bzip2, xz) and 7z — read member by member.

Exports arrive as archives: an Okta or Entra export zipped by hand, ``/var/log`` as a
``.tar.gz`` from an incident responder, a 7z from a vendor. This module is not a log
format (it is not in ``SOURCE_MODULES``): it opens an archive and hands the lake each
member as a file of its own, which the lake then sniffs and ingests like any input
file — a gzip member, a member in a format no source reads, a member that is itself
an archive (opened in turn, up to the depth limit) all fare as they would on disk.

The rules:

* **Content decides.** zip is recognised by its local-header (or empty-archive)
  signature, 7z by its signature, tar by a ``ustar`` header with a valid checksum in
  the first 512 bytes — plain, or inside gzip, bzip2 or xz. The file name is never
  looked at.
* **Provenance.** A member is known as ``<archive>!<member name as stored>``
  (``/exports/okta-2026-03.zip!logs/okta/day1.jsonl``; nested:
  ``a.zip!inner.tar.gz!auth.log``). That is the ``raw_source`` of its rows and
  quarantine records, its ``path`` in the lake's per-file results and manifest, so a
  finding cites ``a.zip!logs/okta/day1.jsonl#12``.
* **Refused members** are not read; the lake quarantines one record per refused
  member (``raw_source`` is the member, ``reason`` says why) and reads the rest of the
  archive. A member is refused when
    - its name is absolute, carries a drive letter or climbs out with ``..``
      (``crownwatch.scan.archives.check_member_name``, the scanner's rule);
    - it is a symbolic or hard link, a device, a FIFO or a socket (never followed);
    - it is encrypted, or compressed with a method not read here (zip: stored,
      deflate, deflate64, bzip2, lzma are read);
    - it would decompress to more than :attr:`Limits.member` bytes;
    - its compression ratio passes :attr:`Limits.ratio` beyond
      :attr:`Limits.ratio_floor` bytes (a zip member, whose packed size is known);
    - it does not fit in what is left of the archive's **budget**: everything
      decompressed from one archive — its members, nested archives and theirs, the
      plain text of gzip members, tar data skipped over — at most
      ``min(Limits.budget, max(Limits.ratio_floor, Limits.ratio × archive size))``
      bytes, so a bomb of any shape (one member, many overlapping members, nested
      layers) stops early and a large honest export is not mistaken for one;
    - it is an archive nested deeper than :attr:`Limits.depth` (the lake checks);
    - it is cut short or corrupt (CRC mismatch, broken compressed data);
    - another member of the same name was read (``archive!name`` must cite one thing).
  Past :attr:`Limits.members` entries the rest of an archive is not read (one record).
  An archive that cannot be opened at all is one quarantined record.
* **Truncated archives keep every complete member.** tar is read as a stream up to the
  break; a zip without its central directory (a cut download) is read by walking its
  local headers (``crownwatch.scan.archives.ZipReader``, the scanner's tolerant
  reader); the member the archive ends in is refused as truncated. A 7z keeps its
  index at the end: cut short, it cannot be opened.
* **Hidden members** (a path component starting with ``.``, macOS ``__MACOSX/``) are
  skipped as a directory walk skips dotfiles, and counted; directories are skipped.
* **Disk.** DuckDB reads files, so a member is written to
  ``<lake>/.spill/archive-<pid>-<random>/m<n>`` — names made here, never the
  archive's — removed as soon as the lake is done with it, the folder removed when the
  archive is done, errors included, and by the next ingest if the process was killed.
  tar and zip members go one at a time; a 7z's members are decoded together (a solid
  block decodes in one pass), within the budget, then handed over one by one.
* **Idempotence** is the lake's: the archive's content key is recorded once all its
  members are, a member's content key is that of the same bytes as a loose file.
* **Libraries.** zip: :mod:`zipfile` for the central directory, the scanner's
  tolerant reader without one, the data decoded here in bounded chunks (zipfile
  decodes a bzip2/lzma read whole); tar: :mod:`tarfile` as a stream; 7z: py7zr
  (the scanner's own 7z reader holds the whole archive in memory), told to stop at
  the budget (``max_extract_size``).

Not read as archives: bzip2/xz/zstd-compressed single logs (``auth.log.xz``) and
zstd-compressed tar — quarantined as unrecognised, as before. The limits are the
lake's ``archive_limits``.
"""

from __future__ import annotations

import bz2
import lzma
import mmap
import os
import shutil
import stat
import struct
import tarfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import xxhash

from crownwatch.scan.archives import ZipReader, check_member_name
from crownwatch.sources.reader import GZIP_MAGIC
from crownwatch.tables.quarantine import RECORD_LIMIT

ZIP, TAR, SEVENZIP = "zip", "tar", "7z"

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_7Z_MAGIC = b"7z\xbc\xaf\x27\x1c"
_BZ2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_CHUNK = 1 << 20
_SCRATCH = "archive-"
# zip compression methods read here (zipfile itself reads 0, 8, 12, 14, but decodes a
# bzip2/lzma read whole: 4 KiB of bzip2 can hold gigabytes)
_ZIP_METHODS = {0: "stored", 8: "deflate", 9: "deflate64", 12: "bzip2", 14: "lzma"}
_7Z_AES = b"\x06\xf1\x07\x01"
_SAME_NAME = "a second member of the same name (its citation would be ambiguous): not read"


@dataclass(frozen=True)
class Limits:
    """How far one archive may make ingest go (see the module docstring). Real logs
    compress 7-20× with gzip, up to ~70× with xz (the simulated Okta log); a deflate
    bomb reaches ~1000×, bzip2 of zeros a million."""

    #: bytes one member may decompress to (the 10M-event benchmark log is 17.6 GB)
    member: int = 32 << 30
    #: bytes one archive may decompress to, nested archives included
    budget: int = 256 << 30
    #: decompressed : packed beyond ``ratio_floor`` bytes counts as a bomb
    ratio: int = 200
    ratio_floor: int = 64 << 20
    #: archives inside archives: a loose archive is level 1
    depth: int = 3
    #: entries read from one archive
    members: int = 100_000


class Budget:
    """Bytes one archive may still expand to, nested archives and their members included."""

    def __init__(self, limits: Limits, size: int):
        by_ratio = max(limits.ratio_floor, limits.ratio * size)
        self.left = min(limits.budget, by_ratio)
        if by_ratio < limits.budget:
            self.reason = (
                f"the archive would expand beyond {limits.ratio}× its {size:,} bytes "
                "(a decompression bomb)"
            )
        else:
            self.reason = f"the archive's budget of {_size(limits.budget)} decompressed is spent"

    def take(self, n: int) -> None:
        self.left -= n


@dataclass
class Member:
    """One entry of an archive as the lake receives it: a file to ingest (``path``,
    ``key``), a refusal (``refused``, and ``record`` to show in the quarantine), or a
    hidden file skipped. ``name`` is as stored in the archive; an empty name stands
    for the archive itself (it could not be opened, or the rest of it was not read)."""

    name: str
    path: Path | None = None
    key: str | None = None
    refused: str | None = None
    record: str | None = None
    hidden: bool = False


class _Refused(Exception):
    """A member is not read: the message says why."""


# -- recognising an archive -------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """``zip``, ``tar`` or ``7z`` when the file's content is such an archive, else None."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head[:4] in _ZIP_MAGICS:
        return ZIP
    if head[:6] == _7Z_MAGIC:
        return SEVENZIP
    if _is_tar_header(head):
        return TAR
    compressed = head[:2] == GZIP_MAGIC or head[:3] == _BZ2_MAGIC or head[:6] == _XZ_MAGIC
    if compressed and _is_tar_header(_decompressed_head(path, head, 512)):
        return TAR
    return None


def _is_tar_header(block: bytes) -> bool:
    if len(block) < 512 or block[257:262] != b"ustar":
        return False
    try:
        tarfile.TarInfo.frombuf(block[:512], "utf-8", "surrogateescape")  # checks the checksum
    except tarfile.HeaderError:
        return False
    return True


def _decompressed_head(path: Path, magic: bytes, size: int) -> bytes:
    out = b""
    try:
        with open(path, "rb") as fh:
            if magic[:2] == GZIP_MAGIC:
                z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                while len(out) < size and not z.eof and (chunk := fh.read(65536)):
                    out += z.decompress(chunk, size - len(out))
            else:
                d = bz2.BZ2Decompressor() if magic[:3] == _BZ2_MAGIC else lzma.LZMADecompressor()
                while len(out) < size and not d.eof and (chunk := fh.read(65536)):
                    out += d.decompress(chunk, max_length=size - len(out))
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        pass
    return out


# -- reading one --------------------------------------------------------------------------


@contextmanager
def members(
    path: Path, kind: str, scratch: Path, limits: Limits, budget: Budget
) -> Iterator[Iterator[Member]]:
    """The members of the archive at ``path``, one at a time.

    A member's file exists until the iterator is advanced past it; everything written
    under ``scratch`` for this archive is gone when the ``with`` block ends.
    ``OSError`` (the disk, not the archive: no space left, permissions) propagates."""
    work = scratch / f"{_SCRATCH}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    work.mkdir(parents=True)
    out = _Out(work, limits, budget)
    reader = {ZIP: _zip, TAR: _tar, SEVENZIP: _7z}[kind]
    gen = reader(path, out)
    try:
        yield gen
    finally:
        gen.close()
        shutil.rmtree(work, ignore_errors=True)


def clean_scratch(scratch: Path) -> None:
    """Remove the member folders a killed ingest left behind (its process is gone)."""
    if not scratch.is_dir():
        return
    for d in scratch.glob(f"{_SCRATCH}*-*"):
        pid = d.name[len(_SCRATCH) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    if os.name != "posix":  # signal 0 probes only on POSIX (on Windows os.kill terminates)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Spill:
    """One member's bytes on their way to disk: hashed (the lake's content key), CRC'd,
    counted against the member limit, the budget and, when the packed size is known,
    the compression ratio."""

    def __init__(self, out: _Out, packed: int | None):
        self.out = out
        out.n += 1
        self.path = out.work / f"m{out.n}"
        self.fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self.hash = xxhash.xxh3_128()
        self.crc = 0
        self.size = 0
        self.packed = packed
        limits = out.limits
        if out.budget.left < limits.member:
            self.cap, self.over = out.budget.left, out.budget.reason
        else:
            self.cap, self.over = limits.member, _member_limit(limits)
        self.head = b""

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.cap:
            raise _Refused(self.over)
        limits = self.out.limits
        if self.packed is not None and _bomb(self.size, self.packed, limits):
            raise _Refused(_bomb_reason(self.packed, limits))
        if len(self.head) < RECORD_LIMIT:
            self.head += chunk[: RECORD_LIMIT - len(self.head)]
        self.hash.update(chunk)
        self.crc = zlib.crc32(chunk, self.crc)
        self.fh.write(chunk)

    def close(self) -> None:
        """Done writing (or given up): what was decompressed is spent from the budget."""
        if not self.fh.closed:
            self.fh.close()
            self.out.budget.take(self.size)

    def record(self) -> str | None:
        return _text(self.head) if self.head else None

    def discard(self) -> None:
        self.close()
        _unlink(self.path)

    def member(self, name: str) -> Member:
        """The finished member: a gzip member's plain text is measured against the same
        limits (the sources decompress it themselves, as they do a loose ``.gz``) —
        unless it is a ``.tar.gz``, which the tar reader measures as it reads."""
        self.close()
        path = self.path
        if self.head[:2] == GZIP_MAGIC:
            if not _is_tar_header(_decompressed_head(path, self.head, 512)):
                self._check_gzip()
            path = path.rename(path.with_name(path.name + ".gz"))  # DuckDB's 'auto' wants it
        key = f"{self.hash.hexdigest()}{self.size:012x}"
        return Member(name, path=path, key=key)

    def _check_gzip(self) -> None:
        limits, budget = self.out.limits, self.out.budget
        packed = self.packed if self.packed is not None else self.size
        if budget.left < limits.member:
            cap, over = budget.left, budget.reason
        else:
            cap, over = limits.member, _member_limit(limits)
        plain = 0
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    while chunk:
                        plain += len(d.decompress(chunk, _CHUNK))
                        chunk = d.unconsumed_tail
                        if d.eof:  # concatenated members (log rotation appends them)
                            chunk = d.unused_data + chunk
                            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        if plain > cap:
                            raise _Refused(f"gzip member: {over}")
                        if _bomb(plain, packed, limits):
                            raise _Refused(f"gzip member: {_bomb_reason(packed, limits)}")
        except (zlib.error, EOFError):
            pass  # a broken .gz is read as far as it goes, as on disk (the source says where)
        finally:
            budget.take(plain)


class _Out:
    def __init__(self, work: Path, limits: Limits, budget: Budget):
        self.work = work
        self.limits = limits
        self.budget = budget
        self.n = 0
        self.names: set[str] = set()

    def spill(self, packed: int | None = None) -> _Spill:
        return _Spill(self, packed)

    def same_name(self, name: str) -> str | None:
        """A second member of a name already read would make ``archive!name`` cite two
        things: it is refused (the same bytes twice would be a duplicate anyway)."""
        key = _norm(name)
        if key in self.names:
            return _SAME_NAME
        self.names.add(key)
        return None


def _declared_refusal(size: int, packed: int | None, out: _Out) -> str | None:
    """A member whose declared size already breaks a limit is not decompressed at all."""
    limits = out.limits
    if size > limits.member:
        return f"declares {size:,} bytes: {_member_limit(limits)}"
    if size > out.budget.left:
        return f"declares {size:,} bytes: {out.budget.reason}"
    if packed is not None and _bomb(size, packed, limits):
        return f"declares {size:,} bytes: {_bomb_reason(packed, limits)}"
    return None


def _bomb(size: int, packed: int, limits: Limits) -> bool:
    return size > limits.ratio_floor and size > limits.ratio * max(packed, 1)


def _bomb_reason(packed: int, limits: Limits) -> str:
    return f"a decompression bomb: it expands beyond {limits.ratio}× its {packed:,} packed bytes"


def _member_limit(limits: Limits) -> str:
    return f"larger than the per-member limit of {_size(limits.member)}"


def _size(n: int) -> str:
    value, unit = float(n), ""
    for u in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, u
    return f"{value:g} {unit}" if unit else f"{n:,} bytes"


def _name_refusal(name: str) -> str | None:
    for _sev, kind, detail in check_member_name(name):
        if kind == "archive.path_traversal":
            return f"unsafe name: {detail}; not read"
    return None


def _hidden(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return bool(parts) and (parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts))


def _text(raw: bytes) -> str:
    return raw[:RECORD_LIMIT].decode("utf-8", errors="replace")


def _unlink(path: Path | None) -> None:
    if path is not None:
        with suppress(FileNotFoundError):
            path.unlink()


def _too_many(total: int | None, limits: Limits) -> Member:
    more = f"{total - limits.members:,} more members" if total else "the members that follow"
    return Member("", refused=f"more than {limits.members:,} members: {more} not read")


# -- zip ----------------------------------------------------------------------------------

# Errors while decoding: the archive's fault, not the machine's — and OSError, which
# bz2 raises for bad data ("Invalid data stream"): _machine() tells the two apart.
_BROKEN = (zlib.error, lzma.LZMAError, EOFError, ValueError, struct.error, OSError)


def _machine(exc: BaseException) -> bool:
    """An OSError with an errno is the machine's (no space left, I/O error): it
    propagates, and the lake reports the archive failed and retries it next run."""
    return isinstance(exc, OSError) and exc.errno is not None


def _zip(path: Path, out: _Out) -> Iterator[Member]:
    """zip through :mod:`zipfile`'s central directory (zip64, name encodings, prepended
    data); without one — a cut download — through the scanner's tolerant reader, which
    walks the local headers. Either way the data is decoded here, chunk by bounded chunk."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, *_BROKEN, NotImplementedError) as exc:
        if _machine(exc):
            raise
        yield from _zip_tolerant(path, out)
        return
    with zf, open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        infos = zf.infolist()
        for n, info in enumerate(infos):
            if n >= out.limits.members:
                yield _too_many(len(infos), out.limits)
                return
            if info.is_dir():
                continue
            entry = _ZipEntry(
                info.filename,
                info.flag_bits,
                info.compress_type,
                info.external_attr,
                info.file_size,
                info.compress_size,
                info.CRC,
                _zip_data_offset(fh, info.header_offset, size),
            )
            yield from _zip_member(fh, size, entry, out)


def _zip_tolerant(path: Path, out: _Out) -> Iterator[Member]:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield Member("", refused="zip archive unreadable: the file is empty")
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            zr = ZipReader(mm)
            if not zr.entries:
                yield Member("", refused=f"zip archive unreadable: {zr.error or 'no members'}")
                return
            walked = any(kind == "zip.no_central_directory" for _, kind, _ in zr.issues)
            for n, e in enumerate(zr.entries):
                if n >= out.limits.members:
                    yield _too_many(len(zr.entries), out.limits)
                    return
                if e.name.endswith("/") and not e.csize:
                    continue
                entry = _ZipEntry(
                    e.name, e.flags, e.method, e.ext_attr, e.usize, e.csize, e.crc, e.data_offset
                )
                if walked and e.data_offset >= 0:
                    # found by its local header: sizes and CRC are known only when no
                    # data descriptor follows the data (flag 0x08), and ZipReader cut a
                    # size that runs past the end of the file to what is there
                    (flags,) = struct.unpack("<H", mm[e.local_offset + 6 : e.local_offset + 8])
                    if flags & 0x08:
                        entry.crc = entry.usize = None
                    else:
                        entry.csize, entry.usize = struct.unpack(
                            "<II", mm[e.local_offset + 18 : e.local_offset + 26]
                        )
                yield from _zip_member(fh, size, entry, out)


@dataclass
class _ZipEntry:
    name: str
    flags: int
    method: int
    ext_attr: int
    usize: int | None  # None: not known before decoding (a data descriptor follows)
    csize: int
    crc: int | None
    data_offset: int


def _zip_data_offset(fh, header_offset: int, size: int) -> int:
    if header_offset < 0 or header_offset + 30 > size:
        return -1
    fh.seek(header_offset)
    local = fh.read(30)
    if local[:4] != b"PK\x03\x04":
        return -1
    nlen, elen = struct.unpack("<HH", local[26:30])
    return header_offset + 30 + nlen + elen


def _zip_member(fh, size: int, e: _ZipEntry, out: _Out) -> Iterator[Member]:
    name = e.name
    reason = _name_refusal(name)
    if reason is None and _hidden(name):
        yield Member(name, hidden=True)
        return
    mode = e.ext_attr >> 16
    if reason is None and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        reason = f"{_file_type(mode)}: not followed; not read"
    if reason is None and (e.flags & 0x41 or e.method == 99):
        reason = "encrypted (password-protected): not read"
    if reason is None and e.method not in _ZIP_METHODS:
        reason = f"compression method {e.method} is not supported: not read"
    if reason is None and e.method == 9 and not _has_inflate64():
        reason = "deflate64 needs the inflate64 package: not read"
    if reason is None and e.data_offset < 0:
        reason = "corrupt: no local header where the central directory points; not read"
    if reason is None and e.usize is not None:
        reason = _declared_refusal(e.usize, e.csize if e.method else None, out)
    if reason is None:
        reason = out.same_name(name)
    if reason is not None:
        yield Member(name, refused=reason)
        return
    end = e.data_offset + e.csize
    spill = out.spill(packed=e.csize if e.method else None)
    try:
        ended = _decode(_file_chunks(fh, e.data_offset, min(end, size)), e.method, spill)
        if end > size or not (ended or spill.size == e.usize):
            raise _Refused(
                f"truncated: the archive ends inside this member ({spill.size:,} bytes "
                f"decoded{'' if e.usize is None else f' of {e.usize:,}'}); not read"
            )
        if e.crc is not None and spill.crc != e.crc:
            raise _Refused("corrupt: CRC mismatch; not read")
        m = spill.member(name)
    except _Refused as exc:
        record = spill.record()
        spill.discard()
        yield Member(name, refused=str(exc), record=record)
        return
    except _BROKEN as exc:
        if _machine(exc):
            spill.discard()
            raise
        record = spill.record()
        spill.discard()
        yield Member(name, refused=f"corrupt compressed data ({exc}); not read", record=record)
        return
    yield m
    _unlink(m.path)


def _file_chunks(fh, start: int, end: int) -> Iterator[bytes]:
    pos = start
    while pos < end:
        fh.seek(pos)
        chunk = fh.read(min(_CHUNK, end - pos))
        if not chunk:
            return
        pos += len(chunk)
        yield chunk


def _decode(chunks: Iterator[bytes], method: int, spill: _Spill) -> bool:
    """Decode a zip member's data into ``spill``, never more than a chunk at a time in
    memory; True when the compressed stream reached its end (stored: the data ran out)."""
    if method == 0:
        for chunk in chunks:
            spill.write(chunk)
        return True
    if method == 8:
        d = zlib.decompressobj(-15)
        for chunk in chunks:
            while chunk:
                spill.write(d.decompress(chunk, _CHUNK))
                chunk = d.unconsumed_tail
                if d.eof:
                    return True
        return d.eof
    if method == 9:
        import inflate64

        d64 = inflate64.Inflater()
        for chunk in chunks:
            for i in range(0, len(chunk), 4096):  # ≤ ~4 MiB out per call at deflate64's ratio
                spill.write(d64.inflate(chunk[i : i + 4096]))
                if d64.eof:
                    return True
        return d64.eof
    if method == 12:
        dec = bz2.BZ2Decompressor()
    else:  # 14: lzma, behind zip's own 4-byte header and the properties
        chunks = iter(chunks)
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= 4 and len(head) >= 4 + struct.unpack("<H", head[2:4])[0]:
                break
        if len(head) < 4:
            return False
        psize = struct.unpack("<H", head[2:4])[0]
        if len(head) < 4 + psize:
            return False
        props = head[4 : 4 + psize]
        filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # noqa: SLF001
        dec = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])
        chunks = _prepend(head[4 + psize :], chunks)
    for chunk in chunks:
        spill.write(dec.decompress(chunk, max_length=_CHUNK))
        while not dec.eof and not dec.needs_input:
            spill.write(dec.decompress(b"", max_length=_CHUNK))
        if dec.eof:
            return True
    return dec.eof  # an lzma member without an end marker: the caller checks its size


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _has_inflate64() -> bool:
    try:
        import inflate64  # noqa: F401
    except ImportError:
        return False
    return True


def _file_type(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return f"a special file (mode {mode:o})"


# -- tar ----------------------------------------------------------------------------------

_TAR_BROKEN = (tarfile.TarError, *_BROKEN)


def _tar(path: Path, out: _Out) -> Iterator[Member]:
    """tar read as one stream (``r|*``: plain, gzip, bzip2, xz), never seeking back.
    Data not read — a refused or hidden member — is still decompressed to get past
    it, so it is spent from the budget too."""
    limits, budget = out.limits, out.budget
    with open(path, "rb") as fh:
        try:
            tf = tarfile.open(fileobj=fh, mode="r|*")  # noqa: SIM115 - closed below
        except _TAR_BROKEN as exc:
            if _machine(exc):
                raise
            yield Member("", refused=f"tar archive unreadable: {exc}")
            return
        with tf:
            count = 0
            while True:
                try:
                    ti = tf.next()
                except _TAR_BROKEN as exc:
                    if _machine(exc):
                        raise
                    yield Member(
                        "",
                        refused=f"tar archive broken after {count} members ({exc}); the rest not read",
                    )
                    return
                if ti is None:
                    return
                count += 1
                if count > limits.members:
                    yield _too_many(None, limits)
                    return
                if ti.isdir():
                    continue
                name = ti.name
                reason = _name_refusal(name)
                if reason is None and (ti.issym() or ti.islnk()):
                    kind = "a symbolic link" if ti.issym() else "a hard link"
                    reason = f"{kind} to {ti.linkname!r}: not followed; not read"
                elif reason is None and (ti.ischr() or ti.isblk()):
                    reason = "a device: not read"
                elif reason is None and ti.isfifo():
                    reason = "a FIFO: not read"
                elif reason is None and not ti.isreg():
                    reason = f"tar entry type {ti.type!r} is not a file: not read"
                hidden = reason is None and _hidden(name)
                if reason is None and not hidden:
                    reason = _declared_refusal(ti.size, None, out) or out.same_name(name)
                if reason is not None or hidden:
                    yield Member(name, hidden=True) if hidden else Member(name, refused=reason)
                    if ti.size > budget.left:  # getting past it would break the budget
                        yield Member(
                            "", refused=f"the rest of the archive not read: {budget.reason}"
                        )
                        return
                    budget.take(ti.size)
                    continue
                spill = out.spill()
                try:
                    src = tf.extractfile(ti)
                    while chunk := src.read(_CHUNK):
                        spill.write(chunk)
                    if spill.size < ti.size:
                        raise EOFError("the member's data ends early")
                    m = spill.member(name)
                except _Refused as exc:
                    record = spill.record()
                    spill.discard()
                    yield Member(name, refused=str(exc), record=record)
                    # getting past the rest of it is decompression too
                    rest = ti.size - spill.size
                    if rest > budget.left:
                        yield Member(
                            "", refused=f"the rest of the archive not read: {budget.reason}"
                        )
                        return
                    budget.take(rest)
                    continue
                except _TAR_BROKEN as exc:
                    if _machine(exc):
                        spill.discard()
                        raise
                    record = spill.record()
                    got = spill.size
                    spill.discard()
                    yield Member(
                        name,
                        refused=f"truncated: the archive ends inside this member "
                        f"({got:,} of {ti.size:,} bytes; {exc}); not read",
                        record=record,
                    )
                    return
                yield m
                _unlink(m.path)


# -- 7z -----------------------------------------------------------------------------------


def _7z(path: Path, out: _Out) -> Iterator[Member]:
    """7z through py7zr, listing first: members are chosen (and refused) from the
    index, then the chosen ones decoded together into the scratch folder, their
    declared sizes within the limits (py7zr writes exactly the declared size)."""
    limits, budget = out.limits, out.budget
    try:
        import py7zr
        from py7zr.exceptions import CrcError, DecompressionBombError, PasswordRequired
        from py7zr.io import Py7zIO, WriterFactory
    except ImportError:
        yield Member("", refused="7z archives need the py7zr package: not read")
        return

    class Writer(Py7zIO):
        def __init__(self, spill: _Spill):
            self.spill = spill
            self.done = False

        def write(self, s) -> int:
            self.spill.write(bytes(s))
            return len(s)

        def read(self, size=None) -> bytes:
            return b""

        def seek(self, offset, whence=0) -> int:
            return 0

        def seekable(self) -> bool:
            return False

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.spill.size

        def close(self) -> None:
            self.spill.fh.flush()
            self.done = True

    class Factory(WriterFactory):
        def __init__(self):
            self.made: list[tuple[str, Writer]] = []

        def create(self, filename: str) -> Py7zIO:
            w = Writer(out.spill())
            self.made.append((filename, w))
            return w

    with open(path, "rb") as fh:  # a file object: py7zr decodes in this thread
        try:
            # max_extract_size also counts what py7zr decodes to get past members
            # not asked for (a solid block is one stream)
            z = py7zr.SevenZipFile(fh, mode="r", max_extract_size=max(budget.left, 0))
        except PasswordRequired:
            yield Member("", refused="7z archive encrypted (its index too): not read")
            return
        except Exception as exc:  # py7zr raises many types on hostile input
            if _machine(exc):
                raise
            yield Member("", refused=f"7z archive unreadable: {type(exc).__name__}: {exc}")
            return
        with z:
            infos = list(zip(z.list(), z.files, strict=True))
            wanted: dict[str, str] = {}  # py7zr's name for it -> name as stored
            reserved = 0
            for n, (info, f) in enumerate(infos):
                if n >= limits.members:
                    yield _too_many(len(infos), limits)
                    break
                if info.is_directory:
                    continue
                name = info.filename
                reason = _name_refusal(name)
                if reason is None and _hidden(name):
                    yield Member(name, hidden=True)
                    continue
                if reason is None and (info.is_symlink or getattr(f, "is_junction", False)):
                    reason = "a symbolic link: not followed; not read"
                elif reason is None and getattr(f, "is_socket", False):
                    reason = "a socket: not read"
                elif reason is None and _7z_encrypted(f):
                    reason = "encrypted (password-protected): not read"
                elif reason is None and _norm(name) in wanted:
                    reason = _SAME_NAME
                size = info.uncompressed or 0
                if reason is None and size > limits.member:
                    reason = f"declares {size:,} bytes: {_member_limit(limits)}"
                elif reason is None and reserved + size > budget.left:
                    reason = f"declares {size:,} bytes: {budget.reason}"
                if reason is not None:
                    yield Member(name, refused=reason)
                    continue
                wanted[_norm(name)] = name
                reserved += size
            if not wanted:
                return
            factory = Factory()
            broken = None
            try:
                z.extract(targets=list(dict.fromkeys(wanted.values())), factory=factory)
            except _Refused as exc:
                broken = str(exc)
            except DecompressionBombError:
                broken = budget.reason
            except CrcError:
                broken = "corrupt: CRC mismatch; not read"
                if factory.made:  # py7zr checks a member's CRC once it is written
                    factory.made[-1][1].done = False
            except Exception as exc:
                if _machine(exc):
                    raise
                broken = f"corrupt: {type(exc).__name__}: {exc}; not read"
            for _, w in factory.made:
                w.spill.close()
            # what was decoded only to get past other members is spent too
            decoded = getattr(getattr(z, "worker", None), "_total_extracted", 0)
            budget.take(max(0, decoded - sum(w.spill.size for _, w in factory.made)))
        seen: set[str] = set()
        for fname, w in factory.made:
            name = wanted.get(_norm(fname))
            if name is None or name in seen:  # a same-named copy py7zr wrote as name_0
                w.spill.discard()
                continue
            seen.add(name)
            if not w.done:
                record = w.spill.record()
                w.spill.discard()
                yield Member(name, refused=broken or "corrupt: not read", record=record)
                continue
            try:
                m = w.spill.member(name)
            except _Refused as exc:
                w.spill.discard()
                yield Member(name, refused=str(exc))
                continue
            yield m
            _unlink(m.path)
        for name in wanted.values():
            if name not in seen:
                why = broken or "py7zr did not decode it"
                yield Member(name, refused=f"not read: the 7z stream broke before it ({why})")


def _7z_encrypted(f) -> bool:
    folder = getattr(f, "folder", None)
    return folder is not None and any(c.get("method") == _7Z_AES for c in folder.coders)


def _norm(name: str) -> str:
    """A member name as py7zr hands it to a writer factory: separators made ``/``,
    ``.`` components and leading slashes dropped."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
