"""Dispatch: read a file (mmap, never executed), sniff its format, hand it to the format
module, recurse into containers.

Reads only what matters: a 10 GB checkpoint is memory-mapped and only its pickles and
headers are touched; zip members are sniffed from their first bytes and read in full only
when they are pickles, nested archives or headers a format module needs. Every file gets one
:class:`ScanResult`; generic archive members get their own (``a.zip!inner.tar!x.pkl``).
Model containers (PyTorch zip, TorchScript, npz, Keras) are one artifact: issues from their
members land in the container's result with the member named in the detail.

A budget caps the bytes decompressed per top-level file (zip bombs) and the nesting depth.
Nothing here raises on hostile input: unexpected exceptions become an ``error`` result.
"""

from __future__ import annotations

import mmap
import os
import posixpath

from . import archives
from .pickle_scan import (
    _P0_OPENERS,
    is_torch_legacy,
    looks_like_pickle,
    scan_pickle_stream,
    scan_raw_references,
)
from .result import ScanResult
from .sniff import sniff

MAX_DEPTH = 5
SMALL_FILE = 32 << 20  # read into memory below this size, memory-map above
TOTAL_BUDGET = 2 << 30
WEAK_MAGIC = ("zlib", "lzma")
_OPENERS = {bytes([b]) for b in _P0_OPENERS}
COMPRESSED = ("gzip", "bz2", "xz", "lzma", "zlib", "zlib-zf", "lz4", "zstd")

EXT_HINTS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".npy": "numpy",
    ".npz": "npz",
    ".h5": "h5",
    ".hdf5": "h5",
    ".keras": "keras",
    ".pkl": "pickle",
    ".pickle": "pickle",
}


class Ctx:
    def __init__(self, fs_dir: str | None = None):
        self.budget = TOTAL_BUDGET
        self.results: list[ScanResult] = []
        self.fs_dir = fs_dir

    def spend(self, n: int) -> bool:
        self.budget -= n
        return self.budget >= 0


def scan_file(path: str) -> list[ScanResult]:
    """Scan one file on disk; never raises."""
    ctx = Ctx(os.path.dirname(os.path.abspath(path)))
    res = ScanResult(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size == 0:
                res.add("info", "format.not_model", "empty file")
                return [res]
            if size <= SMALL_FILE:
                data = fh.read()
                scan_data(data, path, ctx, res, depth=0, name=os.path.basename(path), fs_path=path)
                return [res, *ctx.results]
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                scan_data(mm, path, ctx, res, depth=0, name=os.path.basename(path), fs_path=path)
                out = [res, *ctx.results]
                for r in out:
                    if r.path == path and r.verdict != "clean" and r.sha256 is None:
                        r.sha256 = _sha256(mm)
                return out
    except OSError as exc:
        res.error = True
        res.add("info", "io.error", f"could not read: {exc.strerror or exc}")
    except Exception as exc:  # defensive: never let one file kill the scan
        res.error = True
        res.add("low", "scan.internal_error", f"{type(exc).__name__}: {exc}")
    return [res, *ctx.results]


def scan_bytes(data: bytes, vpath: str = "<bytes>") -> list[ScanResult]:
    ctx = Ctx()
    res = ScanResult(vpath)
    try:
        scan_data(data, vpath, ctx, res, depth=0, name=vpath)
    except Exception as exc:
        res.error = True
        res.add("low", "scan.internal_error", f"{type(exc).__name__}: {exc}")
    return [res, *ctx.results]


def _sha256(data) -> str:
    import hashlib

    h = hashlib.sha256()
    mv = memoryview(data)
    try:
        for i in range(0, len(mv), 1 << 22):
            h.update(mv[i : i + (1 << 22)])
    finally:
        mv.release()
    return h.hexdigest()


def scan_data(
    data, vpath: str, ctx: Ctx, res: ScanResult, depth: int, name: str, fs_path: str | None = None
) -> None:
    size = len(data)
    head = bytes(data[:4096])
    kind = sniff(head, name, size)
    try:
        _dispatch(kind, data, vpath, ctx, res, depth, name, fs_path, head)
    except Exception as exc:
        res.error = True
        res.add("low", "scan.internal_error", f"{type(exc).__name__}: {exc}")
    hint = EXT_HINTS.get(os.path.splitext(name.lower())[1])
    if (
        hint
        and res.format not in ("unknown",)
        and hint != res.format
        and not (hint == "pickle" and res.format in ("joblib", "pytorch-legacy"))
        and not (hint == "h5" and res.format == "h5")
        and not (hint == "npz" and res.format == "zip")
    ):
        res.add(
            "low",
            "format.mismatch",
            f"the name says {hint} but the content is {res.format}; formats are sniffed from content",
        )
    if (
        res.verdict not in ("clean", "error")
        and res.sha256 is None
        and not isinstance(data, mmap.mmap)
    ):
        res.sha256 = _sha256(data)


def _dispatch(kind, data, vpath, ctx, res, depth, name, fs_path, head) -> None:
    if kind == "zip":
        from .containers import scan_zip

        scan_zip(data, vpath, ctx, res, depth)
    elif kind == "pickle":
        summ = scan_pickle_stream(data, res)
        res.format = "joblib" if summ.joblib else "pickle"
        if summ.not_pickle:
            res.format = "unknown"
            res.add("info", "format.not_model", "starts like a pickle but is not one")
        _polyglot_zip(data, vpath, ctx, res, depth)
    elif kind == "pytorch-legacy":
        from .torch import scan_legacy

        scan_legacy(data, res)
    elif kind == "numpy":
        from .numpy_fmt import scan_npy

        scan_npy(data, res)
    elif kind == "safetensors":
        from .safetensors import scan_safetensors

        scan_safetensors(data, res)
    elif kind == "gguf":
        from .gguf import scan_gguf

        scan_gguf(data, res)
    elif kind == "h5":
        from .h5 import scan_h5

        scan_h5(data, res)
    elif kind == "onnx":
        from .onnx import scan_onnx

        scan_onnx(data, res, fs_path)
    elif kind == "savedmodel":
        from .savedmodel import scan_savedmodel

        if not scan_savedmodel(data, res, name):
            res.format = "unknown"
            res.add(
                "info", "format.not_model", "named like a protobuf model but does not parse as one"
            )
    elif kind == "tar":
        from .containers import scan_tar

        scan_tar(data, vpath, ctx, res, depth)
    elif kind == "7z":
        from .containers import scan_7z

        scan_7z(data, vpath, ctx, res, depth)
    elif kind in COMPRESSED:
        _scan_compressed(kind, data, vpath, ctx, res, depth, name)
    else:
        res.format = "unknown"
        if head[:1] in _OPENERS and scan_raw_references(
            data, res
        ):  # e.g. truncated protocol-0 pickle
            res.format = "pickle"
        else:
            res.add("info", "format.not_model", "not a recognised model artifact (content sniffed)")


def _scan_compressed(kind, data, vpath, ctx, res, depth, name) -> None:
    if depth >= MAX_DEPTH:
        res.add("medium", "archive.too_deep", f"compression nested deeper than {MAX_DEPTH} levels")
        return
    try:
        limit = max(0, min(archives.MEMBER_LIMIT, ctx.budget))
        inner, truncated, consumed = archives.decompress_stream(kind, data, limit)
    except Exception as exc:  # zlib.error, lzma.LZMAError, OSError, EOFError ...
        res.format = "unknown"
        if kind in WEAK_MAGIC:  # two or three bytes of magic: most likely not compressed at all
            res.add(
                "info",
                "format.not_model",
                f"not a recognised model artifact (starts like a {kind} stream but is not one)",
            )
            return
        res.error = True
        res.add("low", "archive.unreadable", f"{kind} stream could not be decompressed: {exc}")
        return
    ctx.spend(len(inner))
    if truncated:
        archives.report_oversize(res, f"{kind} stream", len(inner), consumed)
    base = name[: -len(posixpath.splitext(name)[1])] if "." in name else name
    scan_data(inner, vpath, ctx, res, depth + 1, base)
    res.sha256 = None  # the file's hash, not the decompressed stream's
    res.add(
        "info", "format.compressed", f"{kind}-compressed; decompressed {len(inner)} bytes in memory"
    )


def _polyglot_zip(data, vpath, ctx, res, depth) -> None:
    tail = bytes(data[max(0, len(data) - 65557) :])
    if b"PK\x05\x06" in tail and b"PK\x01\x02" in bytes(data):
        res.add(
            "medium",
            "format.polyglot",
            "the file is a pickle and also carries a zip archive at its end; different loaders "
            "see different content",
        )
        from .containers import scan_zip

        sub = ScanResult(vpath + "!<zip>")
        scan_zip(data, sub.path, ctx, sub, depth + 1)
        ctx.results.append(sub)


def looks_like_model_member(head: bytes) -> bool:
    return looks_like_pickle(head) or is_torch_legacy(head)
