"""Container formats built on archives: PyTorch zip / TorchScript / npz / Keras and generic
zip, tar and 7z.

A PyTorch checkpoint is a zip whose ``data.pkl`` is a pickle, but ``torch.load`` and other
tools can be pointed at any member, and attackers hide payloads in members scanners skip
(``.data/``, ``extra/``, a second ``*.pkl``). So *every* member is sniffed from its first
bytes: pickles are walked wherever they sit, nested archives are recursed into, tensor bytes
are left alone. TorchScript archives also carry ``code/`` (TorchScript source, checked for
custom-op namespaces and file-touching ops) and ``constants.pkl``. Keras ``.keras`` archives
carry ``config.json`` (Lambda layers, custom objects, dangerous module references).

Generic archives report each member as its own result (``a.zip!member``); model containers
are one artifact whose issues name the member.
"""

from __future__ import annotations

import io
import os
import zlib

from . import archives
from .pickle_scan import is_torch_legacy, looks_like_pickle, scan_pickle_stream
from .result import ScanResult
from .sniff import sniff

MODEL_CONTAINERS = ("pytorch-zip", "torchscript", "npz", "keras")


def classify_zip(names: list[str]) -> str:
    files = [n for n in names if not n.endswith("/")]
    base = {n.rsplit("/", 1)[-1] for n in files}
    if any(n.endswith("data.pkl") or n.endswith("constants.pkl") for n in files) and (
        "version" in base or ".format_version" in base or "byteorder" in base or "data.pkl" in base
    ):
        if any("/code/" in n or n.startswith("code/") for n in files) or "constants.pkl" in base:
            return "torchscript"
        return "pytorch-zip"
    if files and all(n.endswith(".npy") for n in files):
        return "npz"
    if "config.json" in files and ("metadata.json" in files or "model.weights.h5" in files):
        return "keras"
    return "zip"


def _read(zr, e, ctx, target: ScanResult, where: str = ""):
    """Read a zip member within the file's budget, reporting truncation and CRC trouble;
    None (and an ``error`` on ``target``) when its compressed data is broken."""
    limit, by_budget = ctx.read_limit()
    try:
        content, truncated, consumed = zr.read(e, limit)
    except Exception as exc:  # zlib.error, lzma.LZMAError, OSError, EOFError, ValueError
        target.error = True
        target.add(
            "low",
            "archive.unreadable",
            f"{where}member {e.name!r} could not be decompressed: {type(exc).__name__}: {exc}",
        )
        return None
    ctx.spend(len(content), truncated, by_budget)
    _check_read(e, content, truncated, consumed, target, where)
    return content


def scan_zip(data, vpath: str, ctx, res: ScanResult, depth: int) -> None:
    from .scanner import MAX_DEPTH, _unrecognised, scan_data

    zr = archives.ZipReader(data)
    res.format = "zip"
    for sev, kind, detail in zr.issues:
        res.add(sev, kind, detail)
    if zr.error and not zr.entries:
        res.error = True
        res.add("low", "archive.unreadable", zr.error)
        return
    kind = classify_zip([e.name for e in zr.entries])
    res.format = kind
    container = kind in MODEL_CONTAINERS
    if depth >= MAX_DEPTH:
        res.add(
            "medium",
            "archive.too_deep",
            f"archives nested deeper than {MAX_DEPTH} levels; not opened",
        )
        return
    for e in zr.entries:
        if e.name.endswith("/") and not e.csize:
            for sev, k, detail in e.issues:
                res.add(sev, k, detail)
            continue
        ctx.member()
        target = res if container else ctx.add_result(ScanResult.member_of(vpath, e.name))
        for sev, k, detail in e.issues:
            target.add(sev, k, detail)
        if e.method not in (0, 8, 12, 14, 9) or e.data_offset < 0:
            if not container:
                target.error = True
            continue
        head = zr.head(e)
        mkind = sniff(head, e.name, e.usize)
        lname = e.name.lower()
        if container:
            _scan_container_member(zr, e, head, mkind, lname, kind, vpath, ctx, res, depth)
            continue
        if mkind == "unknown":
            target.add(
                "info", "format.not_model", "not a recognised model artifact (content sniffed)"
            )
            _unrecognised(target, e.name)
            continue
        content = _read(zr, e, ctx, target)
        if content is not None:
            scan_data(content, target.path, ctx, target, depth + 1, e.name)


def _read_quiet(zr, e, res: ScanResult, limit: int):
    try:
        return zr.read(e, limit)
    except Exception as exc:
        res.error = True
        res.add("low", "archive.unreadable", f"member {e.name!r} could not be decompressed: {exc}")
        return b"", False, 0


def _check_read(
    e, content, truncated: bool, consumed: int, target: ScanResult, where: str = ""
) -> None:
    if truncated:
        archives.report_oversize(target, f"{where}member {e.name!r}", len(content), consumed)
    elif e.crc and zlib.crc32(content) != e.crc and len(content) == e.usize:
        target.add(
            "medium",
            "zip.bad_crc",
            f"member {e.name!r}: CRC mismatch; zipfile-based tools refuse it while other loaders "
            "read it (scanner evasion)",
        )


def _scan_container_member(zr, e, head, mkind, lname, kind, vpath, ctx, res, depth) -> None:
    from .scanner import scan_data

    ctx_kind = "torchscript" if kind == "torchscript" else ""
    if mkind in ("pickle", "pytorch-legacy") or lname.endswith((".pkl", ".pickle")):
        if mkind == "unknown" and not looks_like_pickle(head, whole=e.usize <= len(head)):
            res.add(
                "info",
                "torch.odd_member",
                f"member {e.name!r} is named like a pickle but is not one",
            )
            return
        content = _read(zr, e, ctx, res)
        if content is None:
            return
        if is_torch_legacy(bytes(content[:32])):
            scan_pickle_stream(
                content, res, where=e.name, max_pickles=5, context=ctx_kind, note_stacked=False
            )
        else:
            summ = scan_pickle_stream(content, res, where=e.name, context=ctx_kind)
            if (
                not summ.not_pickle
                and not lname.endswith(("data.pkl", "constants.pkl"))
                and kind != "torchscript"
            ):
                res.add(
                    "info",
                    "torch.extra_pickle",
                    f"member {e.name!r} is a pickle besides data.pkl (loaders pointed at it run it)",
                )
        return
    if (
        kind == "torchscript"
        and lname.endswith(".py")
        and ("/code/" in lname or lname.startswith("code/"))
    ):
        from .torch import check_torchscript_code

        limit, _ = ctx.read_limit()
        content, _, _ = _read_quiet(zr, e, res, min(limit, 16 << 20))
        ctx.spend(len(content))
        check_torchscript_code(bytes(content), e.name, res)
        return
    if kind == "npz" and mkind == "numpy":
        from .numpy_fmt import npy_needs_body, scan_npy

        if npy_needs_body(head):
            content = _read(zr, e, ctx, res)
            if content is None:
                return
        else:
            content = head
        scan_npy(content, res, where=e.name, header_only=not npy_needs_body(head))
        res.format = "npz"
        return
    if kind == "keras" and lname in ("config.json", "metadata.json"):
        from .keras import check_keras_json

        limit, _ = ctx.read_limit()
        content, _, _ = _read_quiet(zr, e, res, min(limit, 64 << 20))
        ctx.spend(len(content))
        check_keras_json(bytes(content), e.name, res)
        return
    if mkind in ("unknown", "h5") or (kind == "keras" and lname.endswith(".h5")):
        return  # tensor bytes / weights
    # anything else that is a format of its own: a nested artifact, reported separately
    mark = len(ctx.results)
    sub = ctx.add_result(ScanResult.member_of(vpath, e.name))
    content = _read(zr, e, ctx, sub)
    if content is None:
        return
    scan_data(content, sub.path, ctx, sub, depth + 1, e.name)
    if sub.format == "unknown" and not sub.issues_above("low"):
        del ctx.results[mark:]  # tensor bytes that merely start like a magic number
        return
    res.add(
        "info", "archive.nested", f"member {e.name!r} is a {mkind} artifact, reported separately"
    )


def scan_tar(data, vpath: str, ctx, res: ScanResult, depth: int) -> None:
    import tarfile

    from .scanner import MAX_DEPTH, _unrecognised, scan_data

    res.format = "tar"
    if depth >= MAX_DEPTH:
        res.add(
            "medium",
            "archive.too_deep",
            f"archives nested deeper than {MAX_DEPTH} levels; not opened",
        )
        return
    fobj = _BufReader(data)
    count = 0
    try:
        with tarfile.open(fileobj=fobj, mode="r:") as tf:
            for ti in tf:
                count += 1
                ctx.member()
                if count > archives.MAX_ENTRIES:
                    res.add(
                        "medium", "archive.too_many_members", "more members than the scan limit"
                    )
                    break
                sub = ScanResult.member_of(vpath, ti.name)
                for sev, kind, detail in archives.check_member_name(ti.name):
                    sub.add(sev, kind, detail)
                if ti.issym() or ti.islnk():
                    link = ti.linkname.replace("\\", "/")
                    target = (
                        os.path.normpath(os.path.join(os.path.dirname(ti.name), link))
                        if ti.issym()
                        else link
                    )
                    if link.startswith("/") or target.startswith("..") or ".." in link.split("/"):
                        sub.add(
                            "high",
                            "archive.link_escape",
                            f"{'symlink' if ti.issym() else 'hard link'} {ti.name!r} points outside the archive: {ti.linkname!r}",
                        )
                    else:
                        sub.add("low", "archive.symlink", f"link {ti.name!r} -> {ti.linkname!r}")
                    ctx.add_result(sub)
                    continue
                if ti.ischr() or ti.isblk() or ti.isfifo():
                    sub.add(
                        "medium", "archive.special_file", f"{ti.name!r} is a device or FIFO entry"
                    )
                    ctx.add_result(sub)
                    continue
                if not ti.isfile():
                    if sub.issues:
                        ctx.add_result(sub)
                    continue
                ctx.add_result(sub)
                f = tf.extractfile(ti)
                if f is None:
                    continue
                head = f.read(4096)
                if sniff(head, ti.name, ti.size) == "unknown":
                    sub.add(
                        "info",
                        "format.not_model",
                        "not a recognised model artifact (content sniffed)",
                    )
                    _unrecognised(sub, ti.name)
                    continue
                f.seek(0)
                limit, by_budget = ctx.read_limit()
                content = f.read(limit)
                ctx.spend(len(content), ti.size > limit, by_budget)
                if ti.size > limit:
                    archives.report_oversize(
                        sub, f"tar member {ti.name!r}", len(content), len(content)
                    )
                scan_data(content, sub.path, ctx, sub, depth + 1, ti.name)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        res.add("low", "archive.unreadable", f"tar stream broken after {count} members: {exc}")
        if count == 0:
            res.error = True
    finally:
        fobj.close()


def scan_7z(data, vpath: str, ctx, res: ScanResult, depth: int) -> None:
    from .scanner import MAX_DEPTH, scan_data

    res.format = "7z"
    if depth >= MAX_DEPTH:
        res.add(
            "medium",
            "archive.too_deep",
            f"archives nested deeper than {MAX_DEPTH} levels; not opened",
        )
        return
    from .sevenzip import Unsupported, read_7z

    limit, by_budget = ctx.read_limit()
    try:
        members = read_7z(data, limit)
    except Unsupported as exc:
        if by_budget and "scan limit" in str(exc):
            ctx.budget._exceeded_bytes()  # noqa: SLF001
        members = None
    if members is not None:
        for fname, content in members:
            ctx.member()
            for sev, kind, detail in archives.check_member_name(fname):
                res.add(sev, kind, detail)
            ctx.spend(len(content))
            sub = ctx.add_result(ScanResult.member_of(vpath, fname))
            scan_data(content, sub.path, ctx, sub, depth + 1, fname)
        return
    try:
        import py7zr
        import py7zr.io
    except ImportError:
        res.error = True
        res.add("low", "archive.unsupported", "py7zr is not installed; 7z archive not scanned")
        return
    import shutil
    import tempfile

    tmp = tempfile.mkdtemp(prefix="cw7z-")
    fobj = _BufReader(data)
    try:
        with py7zr.SevenZipFile(fobj, mode="r") as z:
            if z.needs_password():
                res.error = True
                res.add("low", "archive.encrypted", "7z archive is encrypted; members not scanned")
                return
            infos = z.list()
            total = 0
            for info in infos:
                for sev, kind, detail in archives.check_member_name(info.filename):
                    res.add(sev, kind, detail)
                if not info.is_directory:
                    total += info.uncompressed or 0
            if total > limit:
                if by_budget:
                    ctx.budget._exceeded_bytes()  # noqa: SLF001
                archives.report_oversize(res, "7z archive", total, len(data))
                return
            factory = py7zr.io.BytesIOFactory(limit + 1)
            z.extractall(path=tmp, factory=factory)
            for fname, bio in factory.products.items():
                if fname.startswith(tmp):
                    fname = os.path.relpath(fname, tmp)
                ctx.member()
                bio.seek(0)
                content = bio.read()
                ctx.spend(len(content))
                sub = ctx.add_result(ScanResult.member_of(vpath, fname))
                scan_data(content, sub.path, ctx, sub, depth + 1, fname)
    except Exception as exc:  # py7zr raises many types on hostile input
        res.error = True
        res.add(
            "low",
            "archive.unreadable",
            f"7z archive could not be read: {type(exc).__name__}: {exc}",
        )
    finally:
        fobj.close()
        shutil.rmtree(tmp, ignore_errors=True)


class _BufReader(io.RawIOBase):
    """A read-only file over any buffer (bytes, bytearray, mmap) without copying it."""

    def __init__(self, data):
        self._mv = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._mv))[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = len(self._mv) if n is None or n < 0 else min(len(self._mv), self._pos + n)
        out = bytes(self._mv[self._pos : end]) if end > self._pos else b""
        self._pos = max(self._pos, end)
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._mv.release()
        super().close()
