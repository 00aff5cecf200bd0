"""Dispatch: read a file (mmap, never executed), sniff its format, hand it to the format
module, recurse into containers.

Reads only what matters: a 10 GB checkpoint is memory-mapped and only its pickles and
headers are touched; zip members are sniffed from their first bytes and read in full only
when they are pickles, nested archives or headers a format module needs. Every file gets one
:class:`ScanResult`; generic archive members get their own (``a.zip!inner.tar!x.pkl``).
Model containers (PyTorch zip, TorchScript, npz, Keras) are one artifact: issues from their
members land in the container's result with the member named in the detail.

One :class:`~crownwatch.scan.budget.Budget` per top-level file bounds the bytes unpacked
across all nesting, the members examined, the results emitted and the wall time; nesting
depth is capped too. Exceeding the budget stops that file's scan with an ``error`` issue
(``scan.budget_exceeded``), keeping what was found before. Nothing here raises on hostile
input: unexpected exceptions become an ``error`` result.

A file whose name promises a model format (``.pkl``, ``.safetensors``, ``.gguf``...) but whose
content is no recognised format is an ``error`` (it cannot be scanned), not a clean file.
"""

from __future__ import annotations

import mmap
import os
import posixpath

from . import archives
from .budget import Budget, BudgetExceeded, active
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
    """Per top-level file: its budget and the extra results (archive members)."""

    def __init__(self, fs_dir: str | None = None, budget: Budget | None = None):
        self.budget = budget or Budget()
        self.results: list[ScanResult] = []
        self.fs_dir = fs_dir

    def read_limit(self) -> tuple[int, bool]:
        """(most bytes the next unpack may produce, whether the per-file total limits it)."""
        return self.budget.read_limit(archives.MEMBER_LIMIT)

    def spend(self, n: int, truncated: bool = False, by_budget: bool = False) -> None:
        """Account for ``n`` bytes unpacked; a read cut short by the per-file total (not by
        the per-object cap) ends the scan."""
        self.budget.spend(n)
        if truncated and by_budget:
            self.budget._exceeded_bytes()  # noqa: SLF001

    def member(self) -> None:
        self.budget.member()

    def add_result(self, r: ScanResult) -> ScanResult:
        self.budget.result()
        self.results.append(r)
        return r


def _stopped(res: ScanResult, exc: BudgetExceeded) -> None:
    res.error = True
    res.add("low", "scan.budget_exceeded", exc.detail)


def scan_file(path: str, budget: Budget | None = None) -> list[ScanResult]:
    """Scan one file on disk; never raises."""
    ctx = Ctx(os.path.dirname(os.path.abspath(path)), budget)
    res = ScanResult(path)
    with active(ctx.budget):
        try:
            ctx.budget.result()
            size = os.path.getsize(path)
            with open(path, "rb") as fh:
                if size == 0:
                    _empty(res, path)
                    return [res]
                if size <= SMALL_FILE:
                    data = fh.read()
                    _scan_top(data, path, ctx, res, fs_path=path)
                    return [res, *ctx.results]
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    _scan_top(mm, path, ctx, res, fs_path=path)
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


def _empty(res: ScanResult, name: str) -> None:
    res.add("info", "format.not_model", "empty file")
    _unrecognised(res, name)


def _scan_top(data, path: str, ctx: Ctx, res: ScanResult, fs_path: str | None = None) -> None:
    try:
        scan_data(data, path, ctx, res, depth=0, name=os.path.basename(path), fs_path=fs_path)
    except BudgetExceeded as exc:
        _stopped(res, exc)


def scan_bytes(
    data: bytes, vpath: str = "<bytes>", budget: Budget | None = None
) -> list[ScanResult]:
    """Scan bytes as if they were the file ``vpath``; never raises. Pass a :class:`Budget` to
    choose the limits or to read what the scan spent afterwards."""
    ctx = Ctx(budget=budget)
    res = ScanResult(vpath)
    with active(ctx.budget):
        try:
            ctx.budget.result()
            if not len(data):
                _empty(res, vpath)
            else:
                _scan_top(data, vpath, ctx, res)
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
    ctx.budget.tick()
    size = len(data)
    head = bytes(data[:4096])
    kind = sniff(head, name, size)
    try:
        _dispatch(kind, data, vpath, ctx, res, depth, name, fs_path, head)
    except Exception as exc:  # BudgetExceeded is a BaseException and passes through
        res.error = True
        res.add("low", "scan.internal_error", f"{type(exc).__name__}: {exc}")
    if res.format == "unknown":
        _unrecognised(res, name)
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


def _unrecognised(res: ScanResult, name: str) -> None:
    """A name that promises a model format, content that is none: unscannable, not clean."""
    hint = EXT_HINTS.get(os.path.splitext(name.lower())[1])
    if hint and not res.issues_above("low"):
        res.error = True
        res.add(
            "low",
            "format.unrecognised",
            f"named like a {hint} file, but the content is not {hint} nor any other recognised "
            "format (corrupt, truncated, or not what it claims); it could not be scanned",
        )


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
    ctx.member()
    limit, by_budget = ctx.read_limit()
    try:
        inner, truncated, consumed, complete = archives.decompress_stream(kind, data, limit)
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
    ctx.spend(len(inner), truncated, by_budget)
    if truncated:
        archives.report_oversize(res, f"{kind} stream", len(inner), consumed)
    elif not complete:
        res.error = True
        res.add(
            "low",
            "archive.truncated",
            f"{kind} stream ends before its end marker (truncated file); what it held was scanned",
        )
    base = name[: -len(posixpath.splitext(name)[1])] if "." in name else name
    scan_data(inner, vpath, ctx, res, depth + 1, base)
    res.sha256 = None  # the file's hash, not the decompressed stream's
    res.add(
        "info", "format.compressed", f"{kind}-compressed; decompressed {len(inner)} bytes in memory"
    )


def _polyglot_zip(data, vpath, ctx, res, depth) -> None:
    tail = bytes(data[max(0, len(data) - 65557) :])
    if b"PK\x05\x06" in tail and data.find(b"PK\x01\x02") >= 0:
        res.add(
            "medium",
            "format.polyglot",
            "the file is a pickle and also carries a zip archive at its end; different loaders "
            "see different content",
        )
        from .containers import scan_zip

        ctx.member()
        sub = ctx.add_result(ScanResult.member_of(vpath, "<zip>"))
        scan_zip(data, sub.path, ctx, sub, depth + 1)


def looks_like_model_member(head: bytes) -> bool:
    return looks_like_pickle(head) or is_torch_legacy(head)
