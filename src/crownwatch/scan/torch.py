"""PyTorch formats beyond the zip container: the legacy stream and TorchScript code.

Legacy ``torch.save(..., _use_new_zipfile_serialization=False)`` files are a run of pickles -
magic number, protocol version, system info, the object, the storage keys - followed by raw
storage bytes. ``torch.load`` unpickles all five, so all five are judged; the raw bytes after
them are tensor data, not code.

TorchScript archives carry ``code/**.py``: TorchScript, compiled (not imported) by the
loader. It cannot import modules, but it can call registered operators: a custom op
namespace means a native library must be loaded for the model to run, and a few ``aten``
ops touch the file system (``aten::from_file``, ``aten::save``).
"""

from __future__ import annotations

import re

from .pickle_scan import TORCH_LEGACY_MAGIC, scan_pickle_stream
from .result import ScanResult

STD_OP_NAMESPACES = {
    "aten",
    "prim",
    "quantized",
    "_quantized",
    "profiler",
    "_caffe2",
    "quantized_decomposed",
    "prepacked",
    "_test",
    "mkldnn",
    "mkl",
    "cuda",
    "_c10d_functional",
    "c10d",
    "torchvision",
    "image",
    "fbgemm",
    "onednn",
    "xnnpack",
    "vulkan",
    "metal",
    "sparse",
    "rngprims",
    "higher_order",
}

_OPS = re.compile(rb"\bops\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)")
_FILE_OPS = re.compile(rb"\b(?:torch|ops\.aten)\.(from_file|save|load)\b")
_CLASSES = re.compile(rb"\btorch\.classes\.([A-Za-z_][A-Za-z0-9_]*)")


def scan_legacy(data, res: ScanResult) -> None:
    res.format = "pytorch-legacy"
    summ = scan_pickle_stream(data, res, max_pickles=5, note_stacked=False)
    if summ.complete < 5 and not summ.broken:
        res.error = True
        res.add(
            "low",
            "torch.legacy_incomplete",
            f"legacy checkpoint holds {summ.complete} of the 5 expected pickles",
        )
    if (
        summ.walks
        and summ.walks[0].end - summ.walks[0].start > 0
        and TORCH_LEGACY_MAGIC not in bytes(data[:32])
    ):
        res.add("info", "torch.legacy", "legacy stream without the usual magic number")


def check_torchscript_code(src: bytes, member: str, res: ScanResult) -> None:
    for m in set(_OPS.findall(src)):
        ns = m[0].decode()
        if ns not in STD_OP_NAMESPACES:
            res.add(
                "medium",
                "torchscript.custom_op",
                f"{member}: calls operator {ns}::{m[1].decode()} from a non-standard namespace; a native "
                "library must be loaded for it",
            )
    for m in set(_FILE_OPS.findall(src)):
        res.add(
            "high",
            "torchscript.file_op",
            f"{member}: TorchScript code calls {m.decode()}, which touches the file system",
        )
    for m in set(_CLASSES.findall(src)):
        res.add(
            "medium",
            "torchscript.custom_class",
            f"{member}: uses custom TorchScript class namespace torch.classes.{m.decode()}",
        )
