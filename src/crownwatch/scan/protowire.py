"""Minimal, bounds-checked protobuf wire-format reader (no protobuf dependency).

Used by the ONNX and SavedModel scanners to pull out the few fields that matter (operator
names and domains, external-data locations) without generated classes. Length-delimited
fields are returned as (start, end) spans into the original buffer, so large tensors are
skipped, never copied.
"""

from __future__ import annotations


class ProtoError(ValueError):
    pass


def varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtoError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ProtoError("varint too long")


def fields(buf, start: int = 0, end: int | None = None):
    """Yield (field_number, wire_type, value) where value is an int or a (start, end) span."""
    if end is None:
        end = len(buf)
    pos = start
    while pos < end:
        key, pos = varint(buf, pos, end)
        fno, wt = key >> 3, key & 7
        if fno == 0:
            raise ProtoError("field number 0")
        if wt == 0:
            v, pos = varint(buf, pos, end)
            yield fno, wt, v
        elif wt == 2:
            n, pos = varint(buf, pos, end)
            if pos + n > end:
                raise ProtoError("length-delimited field runs past its message")
            yield fno, wt, (pos, pos + n)
            pos += n
        elif wt == 1:
            if pos + 8 > end:
                raise ProtoError("truncated fixed64")
            yield fno, wt, int.from_bytes(bytes(buf[pos : pos + 8]), "little")
            pos += 8
        elif wt == 5:
            if pos + 4 > end:
                raise ProtoError("truncated fixed32")
            yield fno, wt, int.from_bytes(bytes(buf[pos : pos + 4]), "little")
            pos += 4
        else:
            raise ProtoError(f"unsupported wire type {wt}")


def text(buf, span) -> str:
    return bytes(buf[span[0] : span[1]]).decode("utf-8", "replace")
