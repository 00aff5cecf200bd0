"""NumPy ``.npy`` (and, through the container module, ``.npz``).

A ``.npy`` header is a Python dict literal; arrays with an object dtype store their data as a
pickle after the header, which ``np.load(allow_pickle=True)`` unpickles. The header is parsed
with :func:`ast.literal_eval` (literals only, bounded length); object arrays have their pickle
walked like any other. Headers larger than NumPy's own limit are reported.
"""

from __future__ import annotations

import ast
import struct

from .pickle_scan import scan_pickle_stream
from .result import ScanResult

MAX_HEADER = 1 << 20
NUMPY_DEFAULT_MAX_HEADER = 10000


def _parse_header(data) -> tuple[dict | None, int, str | None]:
    head = bytes(data[:12])
    if len(head) < 10 or not head.startswith(b"\x93NUMPY"):
        return None, 0, "not a .npy file"
    major = head[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(head) < 12:
            return None, 0, "truncated header"
        (hlen,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        return None, 0, f"unknown .npy version {major}"
    if hlen > MAX_HEADER:
        return None, start + hlen, f"header of {hlen} bytes"
    raw = bytes(data[start : start + hlen])
    if len(raw) < hlen:
        return None, start + hlen, "truncated header"
    try:
        hdr = ast.literal_eval(raw.decode("latin-1").strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        return None, start + hlen, f"header is not a literal dict: {type(exc).__name__}"
    if not isinstance(hdr, dict):
        return None, start + hlen, "header is not a dict"
    return hdr, start + hlen, None


def _has_object(descr) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_has_object(x) for x in descr)
    return False


def npy_needs_body(head: bytes) -> bool:
    hdr, _, err = _parse_header(head)
    return err is not None or (hdr is not None and _has_object(hdr.get("descr")))


def scan_npy(data, res: ScanResult, where: str = "", header_only: bool = False) -> None:
    res.format = "numpy"
    prefix = f"{where}: " if where else ""
    hdr, body, err = _parse_header(data)
    if err:
        sev = "medium" if "header of" in err else "low"
        if sev == "low":
            res.error = True  # the header cannot be read: the array cannot be judged
        res.add(sev, "numpy.bad_header", f"{prefix}{err}")
        return
    if body - 10 > NUMPY_DEFAULT_MAX_HEADER:
        res.add("low", "numpy.large_header", f"{prefix}header larger than NumPy's default limit")
    if not {"descr", "fortran_order", "shape"} <= set(hdr):
        res.add("low", "numpy.bad_header", f"{prefix}header lacks descr/fortran_order/shape")
    if _has_object(hdr.get("descr")):
        res.add(
            "low",
            "numpy.object_array",
            f"{prefix}object array: its data is a pickle and loading needs allow_pickle=True",
        )
        if not header_only:
            summ = scan_pickle_stream(
                data, res, start=body, where=f"{prefix}object-array pickle".strip(": ")
            )
            if summ.not_pickle:
                res.add(
                    "low", "numpy.bad_object_data", f"{prefix}object array data is not a pickle"
                )
