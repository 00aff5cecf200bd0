"""Format sniffing from content, never from the extension alone.

Model files are routinely renamed (``pytorch_model.bin`` is a zip, a ``.pt`` may be a
legacy pickle stream, an attacker's ``weights.safetensors`` may be a pickle), so the
scanner decides what a file is from its first bytes. The file name is only a tie-breaker
for formats without a magic number (protobuf-based SavedModel / ONNX) and for notes when
name and content disagree.
"""

from __future__ import annotations

import struct

from .pickle_scan import looks_like_pickle

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
SEVENZ_MAGIC = b"7z\xbc\xaf\x27\x1c"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
NUMPY_MAGIC = b"\x93NUMPY"

COMPRESSIONS = {
    b"\x1f\x8b\x08": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"\x04\x22\x4d\x18": "lz4",
    b"\x28\xb5\x2f\xfd": "zstd",
}


def sniff(head: bytes, name: str = "", size: int | None = None) -> str:
    """Return a format tag: zip | 7z | tar | gzip/bz2/xz/lzma/zlib/lz4/zstd | numpy | gguf | h5 |
    safetensors | pickle | pytorch-legacy | onnx | savedmodel | unknown."""
    lname = name.lower()
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(SEVENZ_MAGIC):
        return "7z"
    if head.startswith(NUMPY_MAGIC):
        return "numpy"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(HDF5_MAGIC):
        return "h5"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    for magic, kind in COMPRESSIONS.items():
        if head.startswith(magic):
            return kind
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    if head.startswith(b"ZF0x"):  # joblib < 0.10 zlib container
        return "zlib-zf"
    if (
        len(head) >= 2
        and head[0] == 0x78
        and head[1] in (0x01, 0x5E, 0x9C, 0xDA)
        and (head[0] * 256 + head[1]) % 31 == 0
    ):
        return "zlib"
    if is_safetensors(head, size):
        return "safetensors"
    if looks_like_pickle(head, whole=size is None or len(head) >= size):
        from .pickle_scan import is_torch_legacy

        return "pytorch-legacy" if is_torch_legacy(head) else "pickle"
    if len(head) >= 13 and head[0] == 0x5D:
        (usize,) = struct.unpack("<Q", head[5:13])
        if usize == 0xFFFFFFFFFFFFFFFF or usize < (1 << 40):
            return "lzma"
    for off in (512, 1024, 2048):  # HDF5 user block
        if head[off : off + 8] == HDF5_MAGIC:
            return "h5"
    if lname.endswith((".pb",)) or lname in ("saved_model.pb", "keras_metadata.pb"):
        return "savedmodel"
    if looks_like_onnx(head):
        return "onnx"
    return "unknown"


def is_safetensors(head: bytes, size: int | None) -> bool:
    """An 8-byte little-endian header length, then a JSON object. A length that runs past the
    end of the file still counts: the file is a broken safetensors file (truncated download,
    or crafted to make parsers over-read), which the safetensors module reports, not "no
    model"."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if n < 2:
        return False
    return head[8:9] == b"{" and (head[9:10] in (b'"', b"}", b" ", b"\n", b"\r", b"\t"))


def looks_like_onnx(head: bytes) -> bool:
    """ModelProto starts with ir_version (field 1, varint) followed by known fields."""
    if len(head) < 4 or head[0] != 0x08 or not (1 <= head[1] <= 20):
        return False
    tag = head[2]
    return tag in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72)
