"""safetensors: header validation.

safetensors cannot carry code, which is why it is the safe choice - as long as loaders
agree on what the header says. This module checks the 8-byte length and the JSON header:
size within the file and below the reference implementation's 100 MB limit (oversized
headers are a denial-of-service vector), every tensor with a known dtype, a shape of
non-negative integers, ``data_offsets`` that match ``prod(shape) * itemsize``, stay inside
the data section, do not overlap, and leave no gaps (hidden bytes); ``__metadata__`` must map
strings to strings. Structural violations are suspicious: a conforming writer never makes
them and parsers have had bugs on exactly these. A file shorter than its own header says (the
header, or the tensors it lists, run past the end) is an ``error``: truncated, it cannot be
scanned, and it is not "no model" either.
"""

from __future__ import annotations

import json
import struct

from .result import ScanResult

MAX_HEADER = 100_000_000
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "E8M0": 8,
}


def scan_safetensors(data, res: ScanResult) -> None:
    res.format = "safetensors"
    size = len(data)
    (n,) = struct.unpack("<Q", bytes(data[:8]))
    if n > MAX_HEADER:
        res.add(
            "high",
            "safetensors.oversized_header",
            f"header claims {n} bytes (limit {MAX_HEADER}); loaders allocate it before parsing",
        )
        return
    if 8 + n > size:
        res.error = True
        res.add(
            "low",
            "safetensors.truncated",
            f"the header claims {n} bytes but the file has {size - 8} after the length field: "
            "truncated or not a safetensors file; it could not be scanned",
        )
        return
    try:
        hdr = json.loads(bytes(data[8 : 8 + n]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        res.add("medium", "safetensors.bad_header", f"header is not valid JSON: {exc}")
        return
    if not isinstance(hdr, dict):
        res.add("medium", "safetensors.bad_header", "header is not a JSON object")
        return
    data_len = size - 8 - n
    spans = []
    for name, info in hdr.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in info.items()
            ):
                res.add(
                    "medium", "safetensors.bad_metadata", "__metadata__ must map strings to strings"
                )
            continue
        if not isinstance(info, dict):
            res.add("medium", "safetensors.bad_tensor", f"tensor {name!r}: entry is not an object")
            continue
        dtype, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPE_BITS:
            res.add("medium", "safetensors.bad_dtype", f"tensor {name!r}: unknown dtype {dtype!r}")
            continue
        if not isinstance(shape, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in shape
        ):
            res.add(
                "medium",
                "safetensors.bad_shape",
                f"tensor {name!r}: shape {shape!r} is not a list of non-negative integers",
            )
            continue
        if not (
            isinstance(offs, list)
            and len(offs) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in offs)
        ):
            res.add(
                "medium",
                "safetensors.bad_offsets",
                f"tensor {name!r}: data_offsets {offs!r} malformed",
            )
            continue
        b, e = offs
        count = 1
        for x in shape:
            count *= x
        nbytes = (count * DTYPE_BITS[dtype] + 7) // 8
        if 0 <= b <= e and e > data_len and e - b == nbytes:
            res.error = True
            res.add(
                "low",
                "safetensors.truncated",
                f"tensor {name!r}: its bytes [{b}, {e}] run past the end of the {data_len}-byte "
                "data section: the file is truncated; it could not be scanned completely",
            )
            continue
        if b < 0 or e < b or e > data_len:
            res.add(
                "medium",
                "safetensors.bad_offsets",
                f"tensor {name!r}: offsets [{b}, {e}] outside the {data_len}-byte data section",
            )
            continue
        if e - b != nbytes:
            res.add(
                "medium",
                "safetensors.bad_offsets",
                f"tensor {name!r}: {e - b} bytes stored for shape {shape} {dtype} ({nbytes} expected)",
            )
        spans.append((b, e, name))
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b < pos:
            res.add(
                "medium",
                "safetensors.overlap",
                f"tensor {name!r} overlaps the previous tensor's bytes",
            )
        elif b > pos:
            res.add(
                "low", "safetensors.gap", f"{b - pos} unreferenced bytes before tensor {name!r}"
            )
        pos = max(pos, e)
    if spans and pos < data_len:
        res.add(
            "low",
            "safetensors.trailing",
            f"{data_len - pos} unreferenced bytes after the last tensor",
        )
